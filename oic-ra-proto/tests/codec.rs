//! Stanzas, the XEP-0047 codec and XEP-0199 ping: vectors, error paths and
//! property round trips.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use oic_ra_proto::ibb::{DataStanza, IbbError, IbbPayload, MAX_SID_LEN};
use oic_ra_proto::identity::Jid;
use oic_ra_proto::ping::{is_ping, ping, pong};
use oic_ra_proto::stanza::{Stanza, StanzaKind};
use proptest::prelude::*;

#[test]
fn xep_0047_message_data_example_reads() {
    // XEP-0047 section 4 (data in message stanzas), the shape 7.3.1 uses.
    let xml = "<message from='romeo@montague.net/orchard' id='dsw71gj3' to='juliet@capulet.com/balcony'>\
        <data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='ck5ba1v9'>\
        qANQR1DBwU4DX7jmYZnncmUQB/9KuKBddzQH+tZ1ZywKK0yHKnq57kWq+RFtQdCJ\n\
        WpdWpR0uQsuJe7+vh3NWn59/gTc5MDlX8dS9p0ovStmNcyLhxVgmqS8ZKhsblVeu\
        </data></message>";
    let s = xml.parse::<Stanza>().unwrap();
    assert_eq!(s.kind, StanzaKind::Message);
    assert_eq!(
        s.from.as_ref().unwrap().as_str(),
        "romeo@montague.net/orchard"
    );
    assert_eq!(s.id.as_deref(), Some("dsw71gj3"));
    let IbbPayload::Data { sid, seq, data } = IbbPayload::from_stanza(&s).unwrap() else {
        panic!()
    };
    assert_eq!((sid.as_str(), seq, data.len()), ("ck5ba1v9", 0, 96));
    assert_eq!(&data[..3], &[0xa8, 0x03, 0x50]);
}

#[test]
fn open_and_close_as_built() {
    let to = Jid::new("juliet@capulet.com/balcony").unwrap();
    let open = IbbPayload::Open {
        sid: "i781hf64".into(),
        block_size: 65535,
        stanza: DataStanza::Message,
    };
    assert_eq!(
        open.to_stanza(to.clone(), "jn3h8g65").to_xml(),
        "<iq xmlns=\"jabber:client\" to=\"juliet@capulet.com/balcony\" type=\"set\" id=\"jn3h8g65\">\
         <open xmlns=\"http://jabber.org/protocol/ibb\" block-size=\"65535\" sid=\"i781hf64\" stanza=\"message\"/></iq>"
    );
    let close = IbbPayload::Close {
        sid: "i781hf64".into(),
    };
    assert_eq!(
        close.to_stanza(to, "us71g45j").to_xml(),
        "<iq xmlns=\"jabber:client\" to=\"juliet@capulet.com/balcony\" type=\"set\" id=\"us71g45j\">\
         <close xmlns=\"http://jabber.org/protocol/ibb\" sid=\"i781hf64\"/></iq>"
    );
}

#[test]
fn open_without_stanza_attribute_means_iq() {
    let s = "<iq type='set' id='1' from='a@b/c'><open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='x'/></iq>".parse::<Stanza>().unwrap();
    assert_eq!(
        IbbPayload::from_stanza(&s).unwrap(),
        IbbPayload::Open {
            sid: "x".into(),
            block_size: 4096,
            stanza: DataStanza::Iq
        }
    );
}

fn ibb(inner: &str) -> Result<IbbPayload, IbbError> {
    let s = (format!("<iq type='set' id='1'>{inner}</iq>"))
        .parse::<Stanza>()
        .unwrap();
    IbbPayload::from_stanza(&s)
}

#[test]
fn ibb_error_paths() {
    const NS: &str = "xmlns='http://jabber.org/protocol/ibb'";
    assert_eq!(
        ibb("<query xmlns='jabber:iq:roster'/>"),
        Err(IbbError::NotIbb)
    );
    assert_eq!(
        ibb(&format!("<other {NS} sid='a'/>")),
        Err(IbbError::NotIbb)
    );
    assert_eq!(
        ibb(&format!("<close {NS}/>")),
        Err(IbbError::MissingAttribute {
            element: "close",
            attribute: "sid"
        })
    );
    assert_eq!(
        ibb(&format!("<open {NS} sid='a'/>")),
        Err(IbbError::MissingAttribute {
            element: "open",
            attribute: "block-size"
        })
    );
    for bad in ["0", "65536", "-1", "+5", "4k", ""] {
        assert_eq!(
            ibb(&format!("<open {NS} sid='a' block-size='{bad}'/>")),
            Err(IbbError::BlockSize(bad.into())),
            "{bad}"
        );
    }
    assert_eq!(
        ibb(&format!(
            "<open {NS} sid='a' block-size='1' stanza='presence'/>"
        )),
        Err(IbbError::StanzaAttribute("presence".into()))
    );
    // IoTivity counted seq past 65535.
    for bad in ["65536", "-1", "+1", "x"] {
        assert_eq!(
            ibb(&format!("<data {NS} sid='a' seq='{bad}'>AA==</data>")),
            Err(IbbError::Seq(bad.into()))
        );
    }
    assert_eq!(
        ibb(&format!("<data {NS} sid='a'>AA==</data>")),
        Err(IbbError::MissingAttribute {
            element: "data",
            attribute: "seq"
        })
    );
    assert_eq!(
        ibb(&format!("<data {NS} sid='a' seq='0'>A!==</data>")),
        Err(IbbError::Base64)
    );
    let long = "s".repeat(MAX_SID_LEN + 1);
    for bad in ["", "a b", "a/b", long.as_str()] {
        assert_eq!(
            ibb(&format!("<close {NS} sid='{bad}'/>")),
            Err(IbbError::Sid(bad.into())),
            "{bad}"
        );
    }
    assert_eq!(
        ibb(&format!("<data {NS} sid='a' seq='65535'></data>")),
        Ok(IbbPayload::Data {
            sid: "a".into(),
            seq: 65535,
            data: vec![]
        })
    );
}

#[test]
fn xep_0199_ping_and_pong() {
    // XEP-0199 examples 1 and 2 (client to server).
    let p = "<iq from='juliet@capulet.lit/balcony' to='capulet.lit' id='c2s1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>".parse::<Stanza>().unwrap();
    assert!(is_ping(&p));
    assert_eq!(
        pong(&p).unwrap().to_xml(),
        "<iq xmlns=\"jabber:client\" to=\"juliet@capulet.lit/balcony\" type=\"result\" id=\"c2s1\"/>"
    );
    let built = ping(Some(Jid::new("capulet.lit").unwrap()), "c2s1");
    assert_eq!(
        built.to_xml(),
        "<iq xmlns=\"jabber:client\" to=\"capulet.lit\" type=\"get\" id=\"c2s1\"><ping xmlns=\"urn:xmpp:ping\"/></iq>"
    );
    for not_ping in [
        "<iq type='set'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq type='get'><ping xmlns='urn:xmpp:other'/></iq>",
        "<message><ping xmlns='urn:xmpp:ping'/></message>",
        "<iq type='get'/>",
    ] {
        let s = not_ping.parse::<Stanza>().unwrap();
        assert!(!is_ping(&s) && pong(&s).is_none(), "{not_ping}");
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._:-]{1,24}"
}

fn text() -> impl Strategy<Value = String> {
    // Characters XML must escape, and non-ASCII; no control characters.
    "[ -~\u{a0}-\u{2ff}<>&'\"]{0,40}"
}

fn jid() -> impl Strategy<Value = Option<Jid>> {
    prop::option::of(
        ("[a-z]{1,8}", "[a-z]{1,8}", "[A-Za-z0-9/._-]{0,12}").prop_map(|(n, d, r)| {
            let text = if r.is_empty() {
                format!("{n}@{d}.org")
            } else {
                format!("{n}@{d}.org/{r}")
            };
            Jid::new(&text).unwrap()
        }),
    )
}

proptest! {
    #[test]
    fn ibb_payloads_round_trip(
        sid in token(),
        which in 0u8..3,
        block_size in 1u16..,
        seq in any::<u16>(),
        data in prop::collection::vec(any::<u8>(), 0..300),
        message in any::<bool>(),
    ) {
        let p = match which {
            0 => IbbPayload::Open { sid, block_size, stanza: if message { DataStanza::Message } else { DataStanza::Iq } },
            1 => IbbPayload::Data { sid, seq, data },
            _ => IbbPayload::Close { sid },
        };
        let stanza = p.to_stanza(Jid::new("a@b.org/c").unwrap(), "id1");
        let back = (stanza.to_xml()).parse::<Stanza>().unwrap();
        prop_assert_eq!(IbbPayload::from_stanza(&back).unwrap(), p);
    }

    #[test]
    fn pings_round_trip(id in text(), to in jid()) {
        let p = ping(to, &id);
        let back = (p.to_xml()).parse::<Stanza>().unwrap();
        prop_assert!(is_ping(&back));
        prop_assert_eq!(&back, &p);
        let reply = (pong(&back).unwrap().to_xml()).parse::<Stanza>().unwrap();
        prop_assert_eq!(reply.id.as_deref(), Some(id.as_str()));
        prop_assert_eq!(reply.type_str(), "result");
    }

}
