//! The inputs of the benchmarks, and the peer crates' ways of doing the
//! same work.

use std::num::NonZeroU16;
use std::time::Duration;

use irsp_proto::{
    AccountAuth, AdditionalParams, DeviceAccount, DeviceName, Request, Secret, ServiceRoutes,
};
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::identity::Jid;
use oic_ra_proto::rest::{RestLimits, RestMessage};
use oic_ra_proto::stanza::{Stanza, StanzaLimits};
use oic_ra_proto::transport::{IbbTransport, IbbTransportConfig, PeerAccess};
use osap_proto::{Delivery, Packet, Publish, TopicName};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Deserialize;
use serde_json::Value;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::{OwnerEntry, ProvisioningService, Record, Registry, ThingEntry};
use siot_proto::stanza::{BareJid, Jid as SiotJid, Stanza as SiotStanza};
use siot_proto::{Input, Machine};

/// The topic of the PUBLISH benchmarks.
pub const TOPIC: &str = "dev/1234/attr/report";

/// A PUBLISH at QoS 1 (packet identifier 7) with `payload`.
#[must_use]
pub fn publish(payload: &[u8]) -> Packet<'_> {
    Packet::Publish(Publish {
        delivery: Delivery::AtLeastOnce {
            packet_id: NonZeroU16::new(7).unwrap(),
            dup: false,
        },
        retain: false,
        topic: TopicName::new(TOPIC).unwrap(),
        payload: payload.into(),
    })
}

/// The bytes of [`publish`] with a payload of `len` bytes of 0xa5.
#[must_use]
pub fn publish_wire(len: usize) -> Vec<u8> {
    let payload = vec![0xa5u8; len];
    let mut wire = Vec::new();
    publish(&payload).encode(&mut wire).unwrap();
    wire
}

/// The minimal MQTT 3.1.1 CONNECT: client identifier `c`, clean session,
/// keep-alive 60 s.
pub const CONNECT_WIRE: [u8; 15] = [
    0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, b'c',
];

/// Section 7.3.1 of OIC Remote Access, the Response example, as printed
/// (indentation kept).
pub const PRINTED_RESPONSE: &str = r#"<rest xmlns="rest.oic.org">
  <url method="Response">200 OK</url>
  <headers>
        <header name="Content-Encoding">Application/JSON</header>
        <header name="Accept-Charset">UTF-8</header>
        <header name="Date"> Fri, 14 Aug 2015 08:49:38 GMT</header>
  </headers>
   <body>
      <json xmlns="urn:xmpp:json:0">
               {
                   "rt":       "oic.r.switch.binary",
                   "id":       "unique_example_id",
                   "value":    false
                 }
      </json>
   </body>
</rest>"#;

/// The printed Response in an IBB data stanza, as it arrives.
#[must_use]
pub fn oic_response_stanza() -> String {
    let data = IbbPayload::Data {
        sid: "7e9e01f39e2b7277bf7dbd87".into(),
        seq: 0,
        data: PRINTED_RESPONSE.as_bytes().to_vec(),
    };
    let mut s = data.to_stanza(
        Jid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11").unwrap(),
        "d1",
    );
    s.from = Some(
        Jid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")
            .unwrap(),
    );
    s.to_xml()
}

/// A receiving IBB transport that has accepted session `s1` (message
/// stanzas, 4096-byte blocks) from another resource of its account, and
/// the `blocks` data stanzas, in order, of one message over it: a
/// document of `blocks` × 4096 bytes, whole once the last block is in.
#[must_use]
pub fn ibb_in_order(blocks: u16) -> (IbbTransport<Duration>, Vec<Stanza>) {
    let peer = Jid::new("alice@example.org/OIC/1.0/Client/6f0aac23").unwrap();
    let us = Jid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960").unwrap();
    let mut transport = IbbTransport::new(IbbTransportConfig {
        max_block_size: 4096,
        max_sessions: 8,
        max_sessions_per_peer: 8,
        access: PeerAccess::SameAccount,
        max_message_len: 1 << 20,
        timeout: Duration::from_secs(30),
    });
    let from = |mut s: Stanza| {
        s.from = Some(peer.clone());
        s
    };
    let open = IbbPayload::Open {
        sid: "s1".into(),
        block_size: 4096,
        stanza: DataStanza::Message,
    };
    assert!(transport.take(Duration::ZERO, &from(open.to_stanza(us.clone(), "o1"))));
    while transport.poll_transmit().is_some() {}
    while transport.poll_event().is_some() {}
    let len = usize::from(blocks) * 4096;
    let mut document = b"<rest>".to_vec();
    document.resize(len - b"</rest>".len(), b'x');
    document.extend_from_slice(b"</rest>");
    let stanzas = document
        .chunks(4096)
        .zip(0u16..)
        .map(|(block, seq)| {
            let data = IbbPayload::Data {
                sid: "s1".into(),
                seq,
                data: block.to_vec(),
            };
            from(data.to_stanza(us.clone(), &format!("d{seq}")))
        })
        .collect();
    (transport, stanzas)
}

/// This project: stanza, IBB data, base64, `<rest>`, JSON, each read in
/// place where it can be.
#[must_use]
pub fn oic_ours(xml: &str) -> Value {
    let s = Stanza::parse_ref(xml, &StanzaLimits::default()).unwrap();
    let IbbPayload::Data { data, .. } = IbbPayload::from_stanza(&s).unwrap() else {
        panic!("not data")
    };
    let doc = std::str::from_utf8(&data).unwrap();
    let m = RestMessage::parse_ref(doc, &RestLimits::default()).unwrap();
    m.json().unwrap().unwrap()
}

/// `minidom` + `xmpp-parsers` doing the same steps.
#[must_use]
pub fn oic_minidom(xml: &str) -> Value {
    use minidom::Element;
    use xmpp_parsers::ibb::Data;
    use xmpp_parsers::message::Message;
    let e: Element = xml.parse().unwrap();
    let m = Message::try_from(e).unwrap();
    let block = m
        .payloads
        .into_iter()
        .find(|p| p.is("data", "http://jabber.org/protocol/ibb"))
        .unwrap();
    let data = Data::try_from(block).unwrap();
    let doc: Element = std::str::from_utf8(&data.data).unwrap().parse().unwrap();
    let json = doc
        .get_child("body", "rest.oic.org")
        .and_then(|b| b.get_child("json", "urn:xmpp:json:0"))
        .unwrap();
    serde_json::from_str(json.text().trim()).unwrap()
}

/// The text inside the first element named `name`, read with quick-xml
/// events and no checks.
fn text_of(xml: &str, name: &[u8]) -> String {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut r = Reader::from_str(xml);
    let mut inside = false;
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == name => inside = true,
            Event::Text(t) if inside => return t.decode().unwrap().into_owned(),
            Event::Eof => panic!("no <{}>", String::from_utf8_lossy(name)),
            _ => {}
        }
    }
}

/// A plain quick-xml pipeline: events, take the text, base64, events, take
/// the text, `serde_json`.
#[must_use]
pub fn oic_quick_xml(xml: &str) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(text_of(xml, b"data"))
        .unwrap();
    let doc = std::str::from_utf8(&data).unwrap();
    serde_json::from_str(text_of(doc, b"json").trim()).unwrap()
}

/// IRSP Message 2 (8.2.1) with every optional parameter and one
/// additional one.
#[must_use]
pub fn message_2() -> Request {
    let mut additional = AdditionalParams::new();
    additional.push("location", "living room").unwrap();
    Request::RegisterDevice(DeviceAccount {
        auth: AccountAuth {
            appid: "account-server-1".into(),
            token: Secret::new("9f8e7d6c5b4a"),
        },
        name: DeviceName::new("#igrsdevice").unwrap(),
        password: Secret::new("p&ss w=rd"),
        verifycode: Some(Secret::new("482913")),
        device_type: Some("television".into()),
        vendor: Some("IGRS Lab".into()),
        model: Some("TV-55".into()),
        additional,
    })
}

/// Message 2 as the peers read it: every parameter a string.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // The fields are read to be measured, not used.
pub struct PeerMessage2 {
    version: String,
    appid: String,
    token: String,
    name: String,
    password: String,
    verifycode: Option<String>,
    #[serde(rename = "type")]
    device_type: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    location: Option<String>,
}

/// `url` + `serde_urlencoded` building Message 2.
#[must_use]
pub fn irsp_peer_build() -> String {
    let mut url = url::Url::parse("https://www.igrslab.com:8080/device/register").unwrap();
    url.query_pairs_mut()
        .append_pair("version", "1")
        .append_pair("appid", "account-server-1")
        .append_pair("token", "9f8e7d6c5b4a")
        .append_pair("name", "#igrsdevice")
        .append_pair("password", "p&ss w=rd")
        .append_pair("verifycode", "482913")
        .append_pair("type", "television")
        .append_pair("vendor", "IGRS Lab")
        .append_pair("model", "TV-55")
        .append_pair("location", "living room");
    url.into()
}

/// `url` + `serde_urlencoded` reading Message 2.
#[must_use]
pub fn irsp_peer_parse(text: &str) -> PeerMessage2 {
    let url = url::Url::parse(text).unwrap();
    assert_eq!(url.path(), "/device/register");
    serde_urlencoded::from_str(url.query().unwrap_or_default()).unwrap()
}

/// `serde_urlencoded` reading the query of Message 2 alone.
#[must_use]
pub fn irsp_peer_parse_query(query: &str) -> PeerMessage2 {
    serde_urlencoded::from_str(query).unwrap()
}

/// The instant the Simple IoT fixtures run at.
pub const SIOT_T0: Duration = Duration::ZERO;

fn siot_from(p: &SiotPayload, sender: &str) -> SiotStanza {
    let mut s = p.to_stanza(SiotJid::new("provisioning.example.org").unwrap(), "q");
    s.from = Some(SiotJid::new(sender).unwrap());
    s
}

/// The records a registration of thing `i` with `key` and a claim by
/// owner `i` store: the thing's and the owner's.
fn siot_records(i: usize, key: &Key) -> [Record; 2] {
    let (thing, owner) = (
        format!("thing{i}@example.org"),
        format!("owner{i}@example.com"),
    );
    [
        Record::Thing(ThingEntry {
            jid: thing.clone(),
            address: format!("{thing}/r"),
            names: vec![(None, format!("Thing {i}"))],
            key: Secret::new(key.expose().to_owned()),
            owner: Some(owner.clone()),
            friends: Vec::new(),
            refused: Vec::new(),
            subscribed: false,
        }),
        Record::Owner(OwnerEntry {
            jid: owner,
            things: vec![thing],
            pending: Vec::new(),
        }),
    ]
}

/// A provisioning service with `n` things, thing i owned by owner i. The
/// records are written into its registry directly (a store holding 100,000
/// things is what is measured, not the inputs that filled it); the first
/// thing is also registered and claimed through a service, whose records
/// must be the same.
#[must_use]
pub fn siot_service(n: usize) -> ProvisioningService<Duration> {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let mut registry = Registry::new();
    for i in 0..n {
        let key = Key::generate(&mut rng);
        if i == 0 {
            let mut ps = ProvisioningService::<Duration>::new(Default::default());
            let name = "Thing 0".to_owned();
            let names = vec![Name {
                lang: None,
                text: name.clone(),
            }];
            let register = SiotPayload::Register {
                key: key.clone(),
                names,
            };
            ps.handle_input(
                SIOT_T0,
                Input::Data(&siot_from(&register, "thing0@example.org/r")),
            );
            let claim = SiotPayload::Claim {
                name,
                key: key.clone(),
            };
            ps.handle_input(
                SIOT_T0,
                Input::Data(&siot_from(&claim, "owner0@example.com/o")),
            );
            let stored: Vec<Record> = ps
                .store()
                .records()
                .into_iter()
                .filter(|r| !matches!(r, Record::Claim(_)))
                .collect();
            let mut expected = siot_records(0, &key).to_vec();
            if let Some(Record::Thing(t)) = expected.first_mut() {
                // The test server has no roster: no subscription recorded.
                t.subscribed = false;
            }
            expected.sort_by_key(Record::key);
            assert_eq!(stored, expected, "the fixture's records are a service's");
        }
        for record in siot_records(i, &key) {
            registry.table_mut().put(record.key(), record);
        }
    }
    let ps = ProvisioningService::with_store(Default::default(), registry);
    assert_eq!(ps.store().thing_count(), n);
    ps
}

/// The is-friend query that thing `n / 2` of [`siot_service`] asks about
/// its owner.
#[must_use]
pub fn siot_is_friend_query(n: usize) -> SiotStanza {
    let k = n / 2;
    siot_from(
        &SiotPayload::IsFriendQuery {
            jid: BareJid::new(&format!("owner{k}@example.com")).unwrap(),
        },
        &format!("thing{k}@example.org/r"),
    )
}

/// The stanza of [`oic_response_stanza`] read into a [`Stanza`] (the JID
/// preparation of `from` and `to` included): how many payloads it has.
#[must_use]
pub fn stanza_ours(xml: &str) -> usize {
    Stanza::parse_ref(xml, &StanzaLimits::default())
        .unwrap()
        .payloads
        .len()
}

/// The same with `minidom` and `xmpp-parsers`' `Message` (which prepares
/// its JIDs with the `jid` crate).
#[must_use]
pub fn stanza_minidom(xml: &str) -> usize {
    let e: minidom::Element = xml.parse().unwrap();
    xmpp_parsers::message::Message::try_from(e)
        .unwrap()
        .payloads
        .len()
}

/// The IRSP service paths the benchmarks deploy.
#[must_use]
pub fn irsp_routes() -> ServiceRoutes {
    ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oic_ra_proto::transport::IbbTransportEvent;

    /// The IBB benchmark measures a message going through: its blocks are
    /// taken and the whole message comes out.
    #[test]
    fn the_ibb_blocks_make_one_message() {
        let (mut transport, stanzas) = ibb_in_order(16);
        assert_eq!(stanzas.len(), 16);
        for s in &stanzas {
            assert!(transport.take(Duration::ZERO, s));
        }
        match transport.poll_event() {
            Some(IbbTransportEvent::Message(_, bytes)) => assert_eq!(bytes.len(), 16 * 4096),
            other => panic!("{other:?}"),
        }
    }
}
