//! Interoperability with xmpp-parsers (xmpp-rs): our IBB and ping stanzas
//! parse into its XEP-0047 and XEP-0199 types, and stanzas it builds parse
//! with ours.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use minidom::Element as Dom;
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::identity::Jid;
use oic_ra_proto::ping;
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::stanza::{DefinedCondition, ErrorType, Stanza, StanzaKind};
use xmpp_parsers::ibb;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;

const PEER: &str = "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

fn peer() -> Jid {
    Jid::new(PEER).unwrap()
}

fn dom(xml: &str) -> Dom {
    xml.parse().unwrap()
}

fn ours(xml: &str) -> Stanza {
    Stanza::parse(xml, &Default::default()).unwrap()
}

fn iq_set_payload(xml: &str) -> (Iq, Dom) {
    let iq = Iq::try_from(dom(xml)).unwrap();
    let Iq::Set { ref payload, .. } = iq else {
        panic!("not a set: {iq:?}")
    };
    let payload = payload.clone();
    (iq, payload)
}

#[test]
fn our_open_and_close_are_xmpp_parsers_iqs() {
    let open = IbbPayload::Open {
        sid: "a1b2c3".into(),
        block_size: 65535,
        stanza: DataStanza::Message,
    };
    let (iq, payload) = iq_set_payload(&open.to_stanza(peer(), "o1").to_xml());
    assert_eq!(iq.id(), "o1");
    assert_eq!(iq.to().unwrap().as_str(), PEER);
    let theirs = ibb::Open::try_from(payload).unwrap();
    assert_eq!(theirs.block_size, 65535);
    assert_eq!(theirs.sid.0, "a1b2c3");
    assert_eq!(theirs.stanza, ibb::Stanza::Message);

    let close = IbbPayload::Close {
        sid: "a1b2c3".into(),
    };
    let (_, payload) = iq_set_payload(&close.to_stanza(peer(), "c1").to_xml());
    assert_eq!(ibb::Close::try_from(payload).unwrap().sid.0, "a1b2c3");
}

#[test]
fn our_data_blocks_are_xmpp_parsers_messages() {
    let doc = RestMessage::request(Method::Get, "coap://mydevice/mybinaryswitch")
        .with_header("Accept", "application/json")
        .to_xml();
    for seq in [0u16, 1, 65535] {
        let data = IbbPayload::Data {
            sid: "a1b2c3".into(),
            seq,
            data: doc.clone().into_bytes(),
        };
        let xml = data.to_stanza(peer(), "d1").to_xml();
        let message = Message::try_from(dom(&xml)).unwrap();
        assert_eq!(message.to.as_ref().unwrap().as_str(), PEER);
        let block = message
            .payloads
            .iter()
            .find(|p| p.is("data", "http://jabber.org/protocol/ibb"))
            .unwrap();
        let theirs = ibb::Data::try_from(block.clone()).unwrap();
        assert_eq!((theirs.seq, theirs.sid.0.as_str()), (seq, "a1b2c3"));
        assert_eq!(theirs.data, doc.as_bytes());
    }
    // The empty block that ends a message of whole blocks.
    let empty = IbbPayload::Data {
        sid: "s".into(),
        seq: 2,
        data: vec![],
    };
    let message = Message::try_from(dom(&empty.to_stanza(peer(), "d2").to_xml())).unwrap();
    let theirs = ibb::Data::try_from(message.payloads[0].clone()).unwrap();
    assert!(theirs.data.is_empty());
}

#[test]
fn our_ping_and_pong_are_xmpp_parsers_iqs() {
    let p = ping::ping(Some(Jid::new("example.org").unwrap()), "p1");
    let iq = Iq::try_from(dom(&p.to_xml())).unwrap();
    let Iq::Get { payload, .. } = iq else {
        panic!()
    };
    xmpp_parsers::ping::Ping::try_from(payload).unwrap();
    let mut received = p;
    received.from = Some(peer());
    let pong = ping::pong(&received).unwrap();
    let iq = Iq::try_from(dom(&pong.to_xml())).unwrap();
    assert!(matches!(iq, Iq::Result { payload: None, ref id, .. } if id == "p1"));
}

#[test]
fn our_error_replies_are_xmpp_parsers_errors() {
    let open = IbbPayload::Open {
        sid: "s".into(),
        block_size: 4096,
        stanza: DataStanza::Iq,
    };
    let mut received = open.to_stanza(peer(), "o9");
    received.from = Some(peer());
    let reply = received.error_reply(ErrorType::Cancel, DefinedCondition::NotAcceptable);
    let iq = Iq::try_from(dom(&reply.to_xml())).unwrap();
    let Iq::Error { error, .. } = iq else {
        panic!()
    };
    assert_eq!(error.type_, xmpp_parsers::stanza_error::ErrorType::Cancel);
    assert_eq!(
        error.defined_condition,
        xmpp_parsers::stanza_error::DefinedCondition::NotAcceptable
    );
}

#[test]
fn xmpp_parsers_stanzas_parse_with_ours() {
    let to: Jid = PEER.parse().unwrap();
    let open = Iq::from_set(
        "o1",
        ibb::Open {
            block_size: 4096,
            sid: ibb::StreamId("x1".into()),
            stanza: ibb::Stanza::Message,
        },
    )
    .with_to(to.clone());
    let xml = String::from(&Dom::from(open));
    let s = ours(&xml);
    assert_eq!(
        (s.kind, s.type_str(), s.id.as_deref()),
        (StanzaKind::Iq, "set", Some("o1"))
    );
    assert_eq!(
        IbbPayload::from_stanza(&s).unwrap(),
        IbbPayload::Open {
            sid: "x1".into(),
            block_size: 4096,
            stanza: DataStanza::Message
        }
    );

    let doc = RestMessage::response(200, "OK").to_xml().into_bytes();
    let data = ibb::Data {
        seq: 65535,
        sid: ibb::StreamId("x1".into()),
        data: doc.clone(),
    };
    let message = Message::new(Some(to.clone())).with_payloads(vec![Dom::from(data)]);
    let s = ours(&String::from(&Dom::from(message)));
    assert_eq!(s.kind, StanzaKind::Message);
    assert_eq!(
        IbbPayload::from_stanza(&s).unwrap(),
        IbbPayload::Data {
            sid: "x1".into(),
            seq: 65535,
            data: doc
        }
    );

    let close = Iq::from_set(
        "c1",
        ibb::Close {
            sid: ibb::StreamId("x1".into()),
        },
    )
    .with_to(to.clone());
    let s = ours(&String::from(&Dom::from(close)));
    assert_eq!(
        IbbPayload::from_stanza(&s).unwrap(),
        IbbPayload::Close { sid: "x1".into() }
    );

    let p = Iq::from_get("p1", xmpp_parsers::ping::Ping).with_to(to.clone());
    let s = ours(&String::from(&Dom::from(p)));
    assert!(ping::is_ping(&s));

    let result = Iq::empty_result(to, "p1");
    let s = ours(&String::from(&Dom::from(result)));
    assert_eq!((s.type_str(), s.id.as_deref()), ("result", Some("p1")));
}

proptest::proptest! {
    /// A conforming XML reader (minidom's) reads the text and attribute
    /// values we write exactly as we meant them, line breaks, tabs and
    /// markup characters included.
    #[test]
    fn a_conforming_reader_sees_our_values(
        text in "[\t\n\r -~\u{a0}-\u{17f}]{0,40}",
        value in "[\t\n\r -~\u{a0}-\u{17f}]{0,40}",
    ) {
        use oic_ra_proto::stanza::Element;
        let s = Stanza::new(StanzaKind::Message)
            .with_id(value.clone())
            .with_payload(Element::new("x", "urn:t").attr("v", value.clone()).with_text(text.clone()));
        let d = dom(&s.to_xml());
        proptest::prop_assert_eq!(d.attr("id"), Some(value.as_str()));
        let x = d.get_child("x", "urn:t").unwrap();
        proptest::prop_assert_eq!(x.attr("v"), Some(value.as_str()));
        proptest::prop_assert_eq!(x.text(), text);
        // And ours reads it back the same.
        proptest::prop_assert_eq!(ours(&s.to_xml()), s);
    }
}
