//! Drives the XEP-0047 transport alone: a transport that opened sessions to
//! a peer and accepted sessions from it, fed arbitrary stanzas (raw text,
//! and data, open and close elements aimed at its sessions), opens, sends
//! and closes, time passing and the connection closing. Checks, with the
//! family's contract checker around it, that nothing panics, the session
//! bound holds, every reassembled message is within the limit, and every
//! event names a session the transport knew.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::Checked;
use iot_sansio::{Input, Machine};
use iot_xmpp::Stanza;
use libfuzzer_sys::fuzz_target;
use oic_ra_proto::ibb::{DataStanza, IbbPayload};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::transport::{IbbTransport, IbbTransportConfig, IbbTransportEvent};

const MAX_MESSAGE: usize = 512;

fuzz_target!(|data: &[u8]| {
    let (Ok(me), Ok(peer)) = (
        FullJid::new("a@example.org/me"),
        FullJid::new("a@example.org/peer"),
    ) else {
        return;
    };
    let mut t = Checked::new(IbbTransport::new(IbbTransportConfig {
        max_block_size: 128,
        max_sessions: 4,
        max_sessions_per_peer: 3,
        access: oic_ra_proto::transport::PeerAccess::SameAccount,
        max_message_len: MAX_MESSAGE,
        timeout: Duration::from_secs(30),
    }));
    let mut now = Duration::ZERO;
    let sids = ["s0", "s1", "s2", "s3"];
    let mut input = data;
    let mut iq = 0u32;
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        let n = input.first().map_or(0, |b| usize::from(*b));
        let end = (1 + n % 64).min(input.len());
        let arg = input.get(1..end).unwrap_or_default().to_vec();
        input = &input[end..];
        let sid = sids[usize::from(op >> 4) % sids.len()].to_owned();
        let key = (peer.clone(), sid.clone());
        iq += 1;
        let payload = match op % 8 {
            0 => {
                if t.len() < 4 && !t.contains(&key) {
                    t.open(now, key, 16);
                }
                None
            }
            1 => {
                t.send(&key, arg);
                None
            }
            2 if arg.first() == Some(&0xff) => {
                t.handle_input(now, Input::PeerClosed);
                None
            }
            2 => {
                t.close(now, &key);
                None
            }
            3 => Some(IbbPayload::Data {
                sid,
                seq: u16::from(arg.first().copied().unwrap_or(0) % 4),
                data: arg.get(1..).unwrap_or_default().to_vec(),
            }),
            4 => Some(IbbPayload::Open {
                sid,
                block_size: u16::from(arg.first().copied().unwrap_or(16)),
                stanza: if op & 1 == 0 {
                    DataStanza::Message
                } else {
                    DataStanza::Iq
                },
            }),
            5 => Some(IbbPayload::Close { sid }),
            6 => {
                // Answer one of the transport's own stanzas, as result or error.
                if let Some(mine) = t.poll_transmit() {
                    let mut answer = if op & 1 == 0 {
                        mine.result_reply()
                    } else {
                        mine.error_reply(
                            iot_xmpp::ErrorType::Cancel,
                            iot_xmpp::DefinedCondition::NotAcceptable,
                        )
                    };
                    answer.to = Some(me.clone().into());
                    answer.from = Some(peer.clone().into());
                    t.handle_input(now, Input::Data(&answer));
                } else {
                    now += Duration::from_secs(u64::from(op >> 4) * 4);
                    t.handle_timeout(now);
                }
                None
            }
            _ => {
                if let Ok(text) = std::str::from_utf8(&arg)
                    && let Ok(mut s) = Stanza::parse(text, &Default::default())
                {
                    s.from = Some(peer.clone().into());
                    t.handle_input(now, Input::Data(&s));
                }
                None
            }
        };
        if let Some(p) = payload {
            let mut s = p.to_stanza(me.clone(), &format!("f{iq}"));
            s.from = Some(peer.clone().into());
            t.handle_input(now, Input::Data(&s));
        }
        while let Some(e) = t.poll_event() {
            match e {
                IbbTransportEvent::Message(k, bytes) => {
                    assert!(bytes.len() <= MAX_MESSAGE);
                    assert!(t.contains(&k), "a message on an unknown session");
                }
                IbbTransportEvent::Accepted(k) | IbbTransportEvent::Opened(k) => {
                    assert!(t.contains(&k))
                }
                IbbTransportEvent::Closed(k)
                | IbbTransportEvent::Broken(k, _)
                | IbbTransportEvent::Failed(k, _)
                | IbbTransportEvent::Refused(k, _) => {
                    assert!(!t.contains(&k), "an ended session lives on")
                }
                IbbTransportEvent::ProtocolError { .. } | IbbTransportEvent::Ended(_) => {}
            }
        }
        if op % 3 == 0 {
            while t.poll_transmit().is_some() {}
        }
        assert!(t.len() <= 4);
    }
});
