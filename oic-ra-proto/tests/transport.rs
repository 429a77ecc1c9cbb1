//! The XEP-0047 transport alone, two of them joined by the in-memory XMPP
//! server: sessions opened and accepted, messages cut into blocks and
//! reassembled, and the errors of XEP-0047.

#![allow(clippy::unwrap_used, clippy::panic)]

use core::time::Duration;

use iot_sansio::testing::{Checked, events};
use iot_sansio::{Input, Machine};
use iot_xmpp::IqFailure;
use iot_xmpp::testing::Server;
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::stanza::{DefinedCondition, Stanza};
use oic_ra_proto::transport::{
    IbbTransport, IbbTransportConfig, IbbTransportEvent, PeerAccess, SessionId,
};

const CONFIG: IbbTransportConfig = IbbTransportConfig {
    max_block_size: 64,
    max_sessions: 2,
    max_sessions_per_peer: 2,
    access: PeerAccess::SameAccount,
    max_message_len: 1000,
    timeout: Duration::from_secs(30),
};

/// The instant every step of these tests happens at, unless a test moves
/// the clock.
const T0: Duration = Duration::ZERO;

type Transport = Checked<IbbTransport<Duration>>;

struct Two {
    a: Transport,
    b: Transport,
    a_jid: FullJid,
    b_jid: FullJid,
    xmpp: Server,
}

impl Two {
    fn new() -> Self {
        let a_jid = FullJid::new("alice@example.org/a").unwrap();
        let b_jid = FullJid::new("alice@example.org/b").unwrap();
        Self {
            a: Checked::new(IbbTransport::new(CONFIG)),
            b: Checked::new(IbbTransport::new(CONFIG)),
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
                    self.b.handle_input(T0, Input::Data(&s));
                    carried.push(s);
                }
                moved = true;
            }
            while let Some(s) = self.b.poll_transmit() {
                if let Some((_, s)) = self.xmpp.route(1, s) {
                    self.a.handle_input(T0, Input::Data(&s));
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

#[test]
fn a_message_crosses_in_blocks_and_is_reassembled() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key.clone(), 16);
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
    assert_eq!(
        events(&mut w.a),
        vec![IbbTransportEvent::Opened(key.clone())]
    );
    assert_eq!(
        events(&mut w.b),
        vec![
            IbbTransportEvent::Accepted(w.key_to_a("s1")),
            IbbTransportEvent::Message(w.key_to_a("s1"), message)
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
        vec![IbbTransportEvent::Message(w.key_to_a("s1"), document)]
    );
    // Closing: the peer learns, both forget.
    w.a.close(T0, &key);
    w.run();
    assert_eq!(
        events(&mut w.b),
        vec![IbbTransportEvent::Closed(w.key_to_a("s1"))]
    );
    assert!(w.a.is_empty() && w.b.is_empty());
}

/// A lost block: the eight after it are held (they might only be late),
/// the ninth breaks the session.
#[test]
fn a_lost_block_breaks_the_session_on_both_sides() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key.clone(), 16);
    w.run();
    events(&mut w.a);
    events(&mut w.b);
    w.a.send(&key, vec![1; 200]);
    let blocks: Vec<_> = std::iter::from_fn(|| w.a.poll_transmit()).collect();
    assert_eq!(blocks.len(), 13);
    for (i, s) in blocks.into_iter().enumerate().take(11) {
        if i == 1 {
            continue; // lost
        }
        let (_, s) = w.xmpp.route(0, s).unwrap();
        w.b.handle_input(T0, Input::Data(&s));
        if i < 10 {
            assert!(events(&mut w.b).is_empty(), "block {i} held");
        }
    }
    let b = events(&mut w.b);
    assert!(
        matches!(
            b.as_slice(),
            [
                IbbTransportEvent::ProtocolError {
                    condition: DefinedCondition::UnexpectedRequest,
                    ..
                },
                IbbTransportEvent::Broken(_, DefinedCondition::UnexpectedRequest)
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
            |e| matches!(e, IbbTransportEvent::Failed(k, DefinedCondition::UnexpectedRequest) if *k == key)
        ),
        "{a:?}"
    );
    assert!(w.a.is_empty());
}

#[test]
fn opens_are_refused_by_the_rules() {
    let mut w = Two::new();
    // A block size above the maximum, and iq data stanzas.
    let key = w.key_to_b("big");
    w.a.open(T0, key, 65);
    let iq_open = IbbPayload::Open {
        sid: "iq".into(),
        block_size: 16,
        stanza: DataStanza::Iq,
    }
    .to_stanza(w.b_jid.clone(), "o2");
    let (_, iq_open) = w.xmpp.route(0, iq_open).unwrap();
    w.b.handle_input(T0, Input::Data(&iq_open));
    w.run();
    let a = events(&mut w.a);
    assert!(a.contains(&IbbTransportEvent::Refused(
        w.key_to_b("big"),
        IqFailure::Error(DefinedCondition::ResourceConstraint)
    )));
    assert!(w.b.is_empty() && w.a.is_empty());
    // The session table is bounded.
    for sid in ["s1", "s2", "s3"] {
        let key = w.key_to_b(sid);
        w.a.open(T0, key, 16);
    }
    w.run();
    let a = events(&mut w.a);
    assert!(
        a.contains(&IbbTransportEvent::Refused(
            w.key_to_b("s3"),
            IqFailure::Error(DefinedCondition::ResourceConstraint)
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
    assert!(w.b.take(T0, &data));
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
    assert!(!w.b.take(T0, &ping));
}

#[test]
fn a_message_over_the_limit_breaks_the_session() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key.clone(), 64);
    w.a.send(&key, vec![0; 1001]);
    w.run();
    let b = events(&mut w.b);
    assert!(
        b.iter().any(|e| matches!(
            e,
            IbbTransportEvent::Broken(_, DefinedCondition::NotAcceptable)
        )),
        "{b:?}"
    );
    assert!(
        !b.iter()
            .any(|e| matches!(e, IbbTransportEvent::Message(..)))
    );
}

#[test]
fn an_open_not_answered_in_time_fails_and_its_close_is_forgotten() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key.clone(), 16);
    w.a.send(&key, b"waits".to_vec());
    // The open is lost on its way: no answer comes.
    let _open = w.a.poll_transmit().unwrap();
    assert_eq!(w.a.poll_timeout(), Some(CONFIG.timeout));
    w.a.handle_timeout(CONFIG.timeout - Duration::from_millis(1));
    assert!(events(&mut w.a).is_empty());
    w.a.handle_timeout(CONFIG.timeout);
    assert_eq!(
        events(&mut w.a),
        [IbbTransportEvent::Refused(key.clone(), IqFailure::TimedOut)]
    );
    assert!(w.a.is_empty() && w.a.poll_transmit().is_none());
    // A close waits for its answer as long, then is forgotten quietly.
    let later = CONFIG.timeout + Duration::from_secs(1);
    w.a.open(later, key.clone(), 16);
    w.a.close(later, &key);
    assert_eq!(w.a.poll_timeout(), Some(later + CONFIG.timeout));
    w.a.handle_timeout(later + CONFIG.timeout);
    assert!(events(&mut w.a).is_empty());
    assert_eq!(w.a.poll_timeout(), None);
}

#[test]
fn the_connection_closing_ends_the_transport_once() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key, 16);
    w.run();
    events(&mut w.a);
    w.a.handle_input(T0, Input::PeerClosed);
    w.a.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        events(&mut w.a),
        [IbbTransportEvent::Ended(iot_sansio::End::PeerClosed)]
    );
    assert!(w.a.is_empty() && w.a.poll_timeout().is_none());
    // Nothing after the end: an open is not even queued.
    let key = w.key_to_b("s2");
    w.a.open(T0, key, 16);
    assert!(w.a.poll_transmit().is_none());
}

#[test]
fn only_the_addressee_answers_an_open() {
    let mut w = Two::new();
    let key = w.key_to_b("s1");
    w.a.open(T0, key.clone(), 16);
    let open = w.a.poll_transmit().unwrap();
    // Someone else answers with an error under the open's id.
    let forged = Stanza::parse(
        &format!(
            "<iq type='error' id='{}' from='mallory@example.org/x'><error type='cancel'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            open.id.as_deref().unwrap()
        ),
        &Default::default(),
    )
    .unwrap();
    assert!(!w.a.take(T0, &forged));
    assert!(events(&mut w.a).is_empty());
    assert!(w.a.contains(&key));
}
