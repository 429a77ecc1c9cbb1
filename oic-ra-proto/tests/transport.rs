//! The XEP-0047 transport alone, two of them joined by the in-memory XMPP
//! server: sessions opened and accepted, messages cut into blocks and
//! reassembled, and the errors of XEP-0047.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_xmpp::testing::Server;
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::stanza::{DefinedCondition, Stanza};
use oic_ra_proto::transport::{Access, IbbConfig, IbbEvent, IbbTransport, SessionId};

const CONFIG: IbbConfig = IbbConfig {
    max_block_size: 64,
    max_sessions: 2,
    max_sessions_per_peer: 2,
    access: Access::SameAccount,
    max_message_len: 1000,
};

struct Two {
    a: IbbTransport,
    b: IbbTransport,
    a_jid: FullJid,
    b_jid: FullJid,
    xmpp: Server,
}

impl Two {
    fn new() -> Self {
        let a_jid = FullJid::new("alice@example.org/a").unwrap();
        let b_jid = FullJid::new("alice@example.org/b").unwrap();
        Self {
            a: IbbTransport::new(CONFIG),
            b: IbbTransport::new(CONFIG),
            xmpp: Server::new([a_jid.clone().into(), b_jid.clone().into()]),
            a_jid,
            b_jid,
        }
    }

    /// Carries everything both ways until quiet; returns the stanzas.
    fn run(&mut self) -> Vec<Stanza> {
        let mut carried = Vec::new();
        loop {
            let mut moved = false;
            while let Some(s) = self.a.poll_transmit() {
                if let Some((_, s)) = self.xmpp.route(0, s) {
                    self.b.handle(&s);
                    carried.push(s);
                }
                moved = true;
            }
            while let Some(s) = self.b.poll_transmit() {
                if let Some((_, s)) = self.xmpp.route(1, s) {
                    self.a.handle(&s);
                    carried.push(s);
                }
                moved = true;
            }
            if !moved {
                return carried;
            }
        }
    }

    fn key_to_b(&self, sid: &str) -> SessionId {
        (self.b_jid.clone(), sid.to_owned())
    }

    fn key_to_a(&self, sid: &str) -> SessionId {
        (self.a_jid.clone(), sid.to_owned())
    }
}

fn events(t: &mut IbbTransport) -> Vec<IbbEvent> {
    std::iter::from_fn(|| t.poll_event()).collect()
}

#[test]
fn a_message_crosses_in_blocks_and_is_reassembled() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(key.clone(), 16);
    let message: Vec<u8> = (0..40u8).collect();
    w.a.send(&key, message.clone());
    let carried = w.run();
    // open, its result, then 16 + 16 + 8 bytes in three message stanzas.
    let blocks: Vec<usize> = carried
        .iter()
        .filter_map(|s| match IbbPayload::from_stanza(s) {
            Ok(IbbPayload::Data { data, .. }) => Some(data.len()),
            _ => None,
        })
        .collect();
    assert_eq!(blocks, [16, 16, 8]);
    assert_eq!(events(&mut w.a), vec![IbbEvent::Opened(key.clone())]);
    assert_eq!(
        events(&mut w.b),
        vec![
            IbbEvent::Accepted(w.key_to_a("s1")),
            IbbEvent::Message(w.key_to_a("s1"), message)
        ]
    );
    // A document of whole blocks ends with its last full block, no
    // empty one after it: the receiver sees its root element close.
    let document = b"<a>xxxxxxxxxxxxxxxxxxxxxxxxx</a>".to_vec();
    assert_eq!(document.len(), 32);
    w.a.send(&key, document.clone());
    let blocks: Vec<usize> = w
        .run()
        .iter()
        .filter_map(|s| match IbbPayload::from_stanza(s) {
            Ok(IbbPayload::Data { data, .. }) => Some(data.len()),
            _ => None,
        })
        .collect();
    assert_eq!(blocks, [16, 16]);
    assert_eq!(
        events(&mut w.b),
        vec![IbbEvent::Message(w.key_to_a("s1"), document)]
    );
    // Closing: the peer learns, both forget.
    w.a.close(&key);
    w.run();
    assert_eq!(events(&mut w.b), vec![IbbEvent::Closed(w.key_to_a("s1"))]);
    assert!(w.a.is_empty() && w.b.is_empty());
}

#[test]
fn a_lost_block_breaks_the_session_on_both_sides() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(key.clone(), 16);
    w.run();
    events(&mut w.a);
    events(&mut w.b);
    w.a.send(&key, vec![1; 40]);
    let first = w.a.poll_transmit().unwrap();
    let _lost = w.a.poll_transmit().unwrap();
    let third = w.a.poll_transmit().unwrap();
    for s in [first, third] {
        let (_, s) = w.xmpp.route(0, s).unwrap();
        w.b.handle(&s);
    }
    let b = events(&mut w.b);
    assert!(
        matches!(
            b.as_slice(),
            [
                IbbEvent::ProtocolError {
                    condition: DefinedCondition::UnexpectedRequest,
                    ..
                },
                IbbEvent::Broken(_, DefinedCondition::UnexpectedRequest)
            ]
        ),
        "{b:?}"
    );
    assert!(w.b.is_empty());
    // b's error and close reach a: its session is over too.
    w.run();
    let a = events(&mut w.a);
    assert!(
        a.iter().any(
            |e| matches!(e, IbbEvent::Failed(k, DefinedCondition::UnexpectedRequest) if *k == key)
        ),
        "{a:?}"
    );
    assert!(w.a.is_empty());
}

#[test]
fn opens_are_refused_by_the_rules() {
    let mut w = Two::new();
    // A block size above the maximum, and iq data stanzas.
    w.a.open(w.key_to_b("big"), 65);
    let iq_open = IbbPayload::Open {
        sid: "iq".into(),
        block_size: 16,
        stanza: DataStanza::Iq,
    }
    .to_stanza(w.b_jid.clone(), "o2");
    let (_, iq_open) = w.xmpp.route(0, iq_open).unwrap();
    w.b.handle(&iq_open);
    w.run();
    let a = events(&mut w.a);
    assert!(a.contains(&IbbEvent::Refused(
        w.key_to_b("big"),
        DefinedCondition::ResourceConstraint
    )));
    assert!(w.b.is_empty() && w.a.is_empty());
    // The session table is bounded.
    for sid in ["s1", "s2", "s3"] {
        w.a.open(w.key_to_b(sid), 16);
    }
    w.run();
    let a = events(&mut w.a);
    assert!(
        a.contains(&IbbEvent::Refused(
            w.key_to_b("s3"),
            DefinedCondition::ResourceConstraint
        )),
        "{a:?}"
    );
    assert_eq!(w.b.len(), 2);
}

#[test]
fn blocks_for_unknown_sessions_get_item_not_found() {
    let mut w = Two::new();
    let data = IbbPayload::Data {
        sid: "nope".into(),
        seq: 0,
        data: vec![1],
    }
    .to_stanza(w.b_jid.clone(), "d1");
    let (_, data) = w.xmpp.route(0, data).unwrap();
    assert!(w.b.handle(&data));
    let reply = w.b.poll_transmit().unwrap();
    assert_eq!(
        reply.error().unwrap().condition,
        DefinedCondition::ItemNotFound
    );
    // Stanzas of other protocols are not the transport's.
    let ping = Stanza::parse(
        "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
        &Default::default(),
    )
    .unwrap();
    assert!(!w.b.handle(&ping));
}

#[test]
fn a_message_over_the_limit_breaks_the_session() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(key.clone(), 64);
    w.a.send(&key, vec![0; 1001]);
    w.run();
    let b = events(&mut w.b);
    assert!(
        b.iter()
            .any(|e| matches!(e, IbbEvent::Broken(_, DefinedCondition::NotAcceptable))),
        "{b:?}"
    );
    assert!(!b.iter().any(|e| matches!(e, IbbEvent::Message(..))));
}
