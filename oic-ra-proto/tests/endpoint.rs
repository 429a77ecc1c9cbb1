//! End-to-end tests of the IBB endpoint (section 7.3.1 over XEP-0047): an
//! RAE client against an RAE server through an in-memory XMPP server.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Pair;
use oic_ra_proto::endpoint::{EndpointConfig, EndpointError, EndpointEvent, Failure, RequestId};
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::resource::{RaResources, Requester, ResourceEvent};
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::stanza::{DefinedCondition, IqFailure, Stanza, StanzaKind};
use oic_ra_proto::{End, Input, Machine, StanzaMachine};
use serde_json::json;

fn printed_get() -> RestMessage {
    RestMessage::request(Method::Get, "coap://mydevice/mybinaryswitch")
        .with_header("Accept", "application/json")
        .with_header("Accept-Charset", "UTF-8")
        .with_header("Date", "Fri, 14 Aug 2015 08:49:37 GMT")
}

fn printed_response() -> RestMessage {
    RestMessage::response(200, "OK")
        .with_header("Content-Encoding", "Application/JSON")
        .with_header("Accept-Charset", "UTF-8")
        .with_header("Date", "Fri, 14 Aug 2015 08:49:38 GMT")
        .with_json(&json!({"rt": "oic.r.switch.binary", "id": "unique_example_id", "value": false}))
}

/// Runs the server's side: answers every request with `answer`.
fn serve(p: &mut Pair, answer: &RestMessage) -> Vec<(RequestId, RestMessage)> {
    let mut seen = Vec::new();
    for e in p.server_events() {
        if let EndpointEvent::Request { id, message, .. } = e {
            p.server.respond(p.now, id, answer).unwrap();
            seen.push((id, message));
        }
    }
    seen
}

fn data_blocks(stanzas: &[String]) -> Vec<(String, u16, Vec<u8>)> {
    stanzas
        .iter()
        .filter_map(
            |x| match IbbPayload::from_stanza(&x.parse::<Stanza>().unwrap()) {
                Ok(IbbPayload::Data { sid, seq, data }) => Some((sid, seq, data)),
                _ => None,
            },
        )
        .collect()
}

#[test]
fn get_and_printed_response() {
    let mut p = Pair::default_pair();
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    // The open comes first, as an iq set asking for message stanzas.
    let open = p.drain_client();
    assert_eq!(open.len(), 1);
    let s = (open[0]).parse::<Stanza>().unwrap();
    assert_eq!((s.kind, s.type_str()), (StanzaKind::Iq, "set"));
    let IbbPayload::Open {
        block_size, stanza, ..
    } = IbbPayload::from_stanza(&s).unwrap()
    else {
        panic!("not an open")
    };
    // XEP-0047's recommended size, which common peers accept.
    assert_eq!(block_size, 4096);
    assert_eq!(stanza, oic_ra_proto::ibb::DataStanza::Message);
    p.deliver_to_server(&open[0]);
    p.run();
    let served = serve(&mut p, &printed_response());
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].1, printed_get());
    p.run();
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Response {
            id,
            message: printed_response()
        }]
    );
    // Both messages were one data stanza each, of type message, and the
    // client closed the session, which the server acknowledged.
    let blocks_up = data_blocks(&p.to_server);
    assert_eq!(blocks_up.len(), 1);
    assert_eq!(blocks_up[0].2, printed_get().to_xml().into_bytes());
    assert!(p.to_server.iter().any(|x| x.contains("<close")));
    assert_eq!((p.client.session_count(), p.server.session_count()), (0, 0));
    assert!(p.server_events().is_empty());
    assert!(p.client.poll_timeout().is_none());
}

#[test]
fn post_updates_oic_ra_xmpp_and_refuses_a_status_write() {
    let mut p = Pair::default_pair();
    let mut resources = RaResources::new();
    let exchange = |p: &mut Pair, req: RestMessage, res: &mut RaResources| {
        let id = p.client.request(p.now, &p.server_jid, &req).unwrap();
        p.run();
        let mut events = Vec::new();
        for e in p.server_events() {
            if let EndpointEvent::Request { id, message, .. } = e {
                let (reply, event) = res.handle(&message, Requester::Onboarding);
                events.extend(event);
                p.server.respond(p.now, id, &reply).unwrap();
            }
        }
        p.run();
        match p.client_events().as_slice() {
            [EndpointEvent::Response { id: got, message }] if *got == id => {
                (message.clone(), events)
            }
            other => panic!("{other:?}"),
        }
    };
    let user = RestMessage::request(Method::Post, "coap://light/XMPPUserResURI").with_json(
        &json!({"rt": "oic.ra.user", "jid": "newuser@mydomain.com", "credential": "NNAADRRRDSDSSDFERVVDESDFSDFSF5SFDSSDF"}),
    );
    let (reply, events) = exchange(&mut p, user, &mut resources);
    assert_eq!(reply.status(), Some(200));
    // No server address yet: nothing to connect to, a record to store.
    assert!(
        matches!(events.as_slice(), [ResourceEvent::Saved(r)] if r.user.is_some() && r.address.is_empty()),
        "{events:?}"
    );
    let update = RestMessage::request(Method::Post, "coap://light/XMPPResURI").with_json(
        &json!({"rt": "oic.ra.xmpp", "address": "www.new.cisco.oic.xmpp.com", "port": 8081}),
    );
    let (reply, events) = exchange(&mut p, update, &mut resources);
    assert_eq!(reply.status(), Some(200));
    let body = reply.json().unwrap().unwrap();
    assert_eq!(body["address"], "www.new.cisco.oic.xmpp.com");
    assert_eq!(body["port"], 8081);
    assert_eq!(body["status"], "NotInitialized");
    assert!(matches!(
        events.as_slice(),
        [ResourceEvent::Connect { address, port: 8081, .. }] if address == "www.new.cisco.oic.xmpp.com"
    ));
    resources.connected().unwrap();
    let get = RestMessage::request(Method::Get, "coap://light/XMPPResURI");
    let (reply, _) = exchange(&mut p, get, &mut resources);
    assert_eq!(reply.json().unwrap().unwrap()["status"], "Connected");
    let write_status = RestMessage::request(Method::Post, "coap://light/XMPPResURI")
        .with_json(&json!({"address": "x.org", "port": 5222, "status": "NotInitialized"}));
    let (reply, events) = exchange(&mut p, write_status, &mut resources);
    assert_eq!(reply.status(), Some(403));
    assert!(events.is_empty());
    assert_eq!(resources.xmpp().address, "www.new.cisco.oic.xmpp.com");
}

#[test]
fn observe_with_two_notifications_then_deregister() {
    let mut p = Pair::default_pair();
    let observe =
        RestMessage::request(Method::Get, "coap://light/a/switch").with_header("Observe", "0");
    let id = p.client.request(p.now, &p.server_jid, &observe).unwrap();
    p.run();
    let events = p.server_events();
    let [
        EndpointEvent::Request {
            id: sid,
            observe: true,
            ..
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    let state = |v: bool, n: u32| {
        RestMessage::response(200, "OK")
            .with_header("Observe", n.to_string())
            .with_json(&json!({"rt": "oic.r.switch.binary", "value": v}))
    };
    p.server.respond(p.now, *sid, &state(false, 1)).unwrap();
    p.run();
    p.server.respond(p.now, *sid, &state(true, 2)).unwrap();
    p.run();
    p.server.respond(p.now, *sid, &state(false, 3)).unwrap();
    p.run();
    assert_eq!(
        p.client_events(),
        vec![
            EndpointEvent::Response {
                id,
                message: state(false, 1)
            },
            EndpointEvent::Notification {
                id,
                message: state(true, 2)
            },
            EndpointEvent::Notification {
                id,
                message: state(false, 3)
            },
        ]
    );
    assert_eq!(p.client.session_count(), 1, "the session stays open");
    p.client.cancel(p.now, id).unwrap();
    p.run();
    assert_eq!(
        p.server_events(),
        vec![EndpointEvent::PeerEnded { id: *sid }]
    );
    assert_eq!(
        p.server.respond(p.now, *sid, &state(true, 4)),
        Err(EndpointError::UnknownRequest(*sid))
    );
    assert_eq!((p.client.session_count(), p.server.session_count()), (0, 0));
}

#[test]
fn failed_observe_registration_is_a_plain_response() {
    let mut p = Pair::default_pair();
    let observe =
        RestMessage::request(Method::Get, "coap://light/nothing").with_header("Observe", "0");
    let id = p.client.request(p.now, &p.server_jid, &observe).unwrap();
    p.run();
    let served = serve(&mut p, &RestMessage::response(404, "Not Found"));
    p.run();
    assert!(
        matches!(p.client_events().as_slice(), [EndpointEvent::Response { id: got, .. }] if *got == id)
    );
    assert_eq!(
        p.server
            .respond(p.now, served[0].0, &RestMessage::response(200, "OK")),
        Err(EndpointError::UnknownRequest(served[0].0)),
        "the client closed the session"
    );
}

#[test]
fn a_200_kib_body_is_split_and_reassembled() {
    let mut p = Pair::default_pair();
    let big = "x".repeat(200 * 1024);
    let response = RestMessage::response(200, "OK").with_json(&json!({ "blob": big }));
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    serve(&mut p, &response);
    p.run();
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Response {
            id,
            message: response.clone()
        }]
    );
    let blocks = data_blocks(&p.to_client);
    let len = response.to_xml().len();
    assert_eq!(blocks.len(), len.div_ceil(4096));
    for (i, (_, seq, data)) in blocks.iter().enumerate() {
        assert_eq!(usize::from(*seq), i);
        if i + 1 < blocks.len() {
            assert_eq!(data.len(), 4096);
        } else {
            assert!(!data.is_empty() && data.len() <= 4096);
        }
    }
}

/// A request of `len` bytes of XML, padded in its JSON body.
fn request_of_len(len: usize) -> RestMessage {
    let base = RestMessage::request(Method::Post, "coap://light/a").with_json(&json!({"v": ""}));
    let pad = len - base.to_xml().len();
    let exact = RestMessage::request(Method::Post, "coap://light/a")
        .with_json(&json!({ "v": "p".repeat(pad) }));
    assert_eq!(exact.to_xml().len(), len);
    exact
}

/// A message of whole blocks ends with a full block, and no empty one
/// follows: a peer that implements XEP-0047 plainly refuses an empty
/// `<data/>`. The receiver knows the message is whole because its
/// document is.
#[test]
fn a_message_of_whole_blocks_ends_with_a_full_block_and_no_empty_one() {
    let mut p = Pair::default_pair();
    let exact = request_of_len(2 * 4096);
    p.client.request(p.now, &p.server_jid, &exact).unwrap();
    p.run();
    let blocks = data_blocks(&p.to_server);
    assert_eq!(
        blocks.iter().map(|b| b.2.len()).collect::<Vec<_>>(),
        vec![4096, 4096]
    );
    assert!(
        matches!(p.server_events().as_slice(), [EndpointEvent::Request { message, .. }] if *message == exact)
    );
}

/// A peer that ends every message of whole blocks with an empty block
/// (as this crate once did), and one that never sends one: for every
/// length around a multiple of the block size, the request arrives once,
/// whole, and no empty block is taken for a message of its own.
#[test]
fn every_length_arrives_whole_with_or_without_a_final_empty_block() {
    for len in (2 * 4096 - 3)..=(2 * 4096 + 3) {
        for empty_after in [false, true] {
            let mut p = Pair::default_pair();
            let message = request_of_len(len);
            let (_, blocks) = open_and_take_blocks(&mut p, &message);
            for b in &blocks {
                p.deliver_to_server(b);
            }
            if empty_after {
                let last = data_blocks(&blocks);
                let (sid, seq, _) = last.last().unwrap();
                let empty = IbbPayload::Data {
                    sid: sid.clone(),
                    seq: seq.wrapping_add(1),
                    data: Vec::new(),
                }
                .to_stanza(p.server_jid.clone(), "e1");
                p.deliver_to_server(&empty.to_xml());
            }
            let events = p.server_events();
            assert!(
                matches!(events.as_slice(), [EndpointEvent::Request { message: m, .. }] if *m == message),
                "{len} bytes, empty block after: {empty_after}: {events:?}"
            );
        }
    }
}

#[test]
fn sequence_numbers_wrap_from_65535_to_0() {
    let config = EndpointConfig {
        block_size: 1,
        rest_limits: oic_ra_proto::rest::RestLimits {
            max_document_len: 1 << 20,
            max_headers: 64,
        },
        ..EndpointConfig::default()
    };
    let mut p = Pair::new(config, EndpointConfig::default());
    let body = RestMessage::request(Method::Post, "coap://light/a")
        .with_json(&json!({ "v": "w".repeat(65_600) }));
    p.client.request(p.now, &p.server_jid, &body).unwrap();
    let open = p.drain_client();
    p.deliver_to_server(&open[0]);
    let accept = p.drain_server();
    p.deliver_to_client(&accept[0]);
    let stanzas = p.drain_client();
    let n = body.to_xml().len();
    // Every block of size 1 is full; no empty block follows them.
    assert_eq!(stanzas.len(), n);
    let seqs: Vec<u16> = stanzas
        .iter()
        .map(
            |x| match IbbPayload::from_stanza(&x.parse::<Stanza>().unwrap()).unwrap() {
                IbbPayload::Data { seq, .. } => seq,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    assert_eq!(seqs[65_535], 65_535);
    assert_eq!(seqs[65_536], 0);
    assert_eq!(seqs[65_537], 1);
    for x in &stanzas {
        p.deliver_to_server(x);
    }
    assert!(
        matches!(p.server_events().as_slice(), [EndpointEvent::Request { message, .. }] if *message == body)
    );
}

fn open_and_take_blocks(p: &mut Pair, message: &RestMessage) -> (RequestId, Vec<String>) {
    let id = p.client.request(p.now, &p.server_jid, message).unwrap();
    let open = p.drain_client();
    p.deliver_to_server(&open[0]);
    let accept = p.drain_server();
    p.deliver_to_client(&accept[0]);
    (id, p.drain_client())
}

fn twelve_block_message() -> RestMessage {
    RestMessage::request(Method::Post, "coap://light/a")
        .with_json(&json!({ "v": "z".repeat(46_000) }))
}

fn three_block_message() -> RestMessage {
    RestMessage::request(Method::Post, "coap://light/a")
        .with_json(&json!({ "v": "z".repeat(10_000) }))
}

/// The server must answer `unexpected-request`, close the session, and the
/// client must learn that its request failed.
fn assert_broken_session(p: &mut Pair, id: RequestId, condition: DefinedCondition) {
    let events = p.server_events();
    assert!(
        events.iter().any(
            |e| matches!(e, EndpointEvent::ProtocolError { condition: c, .. } if *c == condition)
        ),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EndpointEvent::Request { .. }))
    );
    let replies = p.drain_server();
    let error = replies
        .iter()
        .map(|x| x.parse::<Stanza>().unwrap())
        .find(|s| s.kind == StanzaKind::Message && s.type_str() == "error")
        .expect("an error message");
    assert_eq!(error.error().unwrap().condition, condition);
    assert!(replies.iter().any(|x| x.contains("<close")));
    for r in &replies {
        p.deliver_to_client(r);
    }
    p.run();
    let events = p.client_events();
    assert!(
        events.iter().any(|e| matches!(e, EndpointEvent::Failed { id: got, reason: Failure::Session(c) } if *got == id && *c == condition)),
        "{events:?}"
    );
    assert_eq!((p.client.session_count(), p.server.session_count()), (0, 0));
}

/// A lost block: the blocks after it are held (the reorder window, 8),
/// and the one beyond the window breaks the session.
#[test]
fn a_lost_block_is_detected() {
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &twelve_block_message());
    assert_eq!(blocks.len(), 12);
    p.deliver_to_server(&blocks[0]);
    for block in &blocks[2..10] {
        p.deliver_to_server(block);
    }
    assert!(p.drain_server().is_empty(), "eight blocks held");
    p.deliver_to_server(&blocks[10]);
    assert_broken_session(&mut p, id, DefinedCondition::UnexpectedRequest);
    // A block further ahead than the window breaks it at once.
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &twelve_block_message());
    p.deliver_to_server(&blocks[0]);
    p.deliver_to_server(&blocks[10]);
    assert_broken_session(&mut p, id, DefinedCondition::UnexpectedRequest);
}

#[test]
fn a_duplicated_block_is_detected() {
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &three_block_message());
    p.deliver_to_server(&blocks[0]);
    p.deliver_to_server(&blocks[0]);
    assert_broken_session(&mut p, id, DefinedCondition::UnexpectedRequest);
}

/// Blocks a few places out of order (as ejabberd delivers a stanza sent
/// during a stream resumption) are put back in order: the request arrives
/// whole. A block held twice breaks the session.
#[test]
fn reordered_blocks_are_put_back_in_order() {
    let mut p = Pair::default_pair();
    let message = three_block_message();
    let (_, blocks) = open_and_take_blocks(&mut p, &message);
    p.deliver_to_server(&blocks[2]);
    p.deliver_to_server(&blocks[1]);
    assert!(p.server_events().is_empty(), "held");
    p.deliver_to_server(&blocks[0]);
    assert!(
        matches!(p.server_events().as_slice(), [EndpointEvent::Request { message: m, .. }] if *m == message)
    );
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &three_block_message());
    p.deliver_to_server(&blocks[1]);
    p.deliver_to_server(&blocks[1]);
    assert_broken_session(&mut p, id, DefinedCondition::UnexpectedRequest);
}

#[test]
fn a_block_larger_than_negotiated_is_refused() {
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &three_block_message());
    // Tamper: put two blocks' bytes into the first.
    let mut s = (blocks[0]).parse::<Stanza>().unwrap();
    let Ok(IbbPayload::Data { sid, .. }) = IbbPayload::from_stanza(&s) else {
        panic!()
    };
    s.payloads[0] = IbbPayload::Data {
        sid,
        seq: 0,
        data: vec![b'a'; 16385],
    }
    .to_element();
    p.deliver_to_server(&s.to_xml());
    assert_broken_session(&mut p, id, DefinedCondition::NotAcceptable);
}

#[test]
fn tampered_data_that_is_not_base64_breaks_the_session() {
    let mut p = Pair::default_pair();
    let (id, blocks) = open_and_take_blocks(&mut p, &printed_get());
    let tampered = blocks[0].replacen("</data>", "!!</data>", 1);
    assert_ne!(tampered, blocks[0]);
    p.deliver_to_server(&tampered);
    assert_broken_session(&mut p, id, DefinedCondition::BadRequest);
}

#[test]
fn a_truncated_stanza_is_an_error_and_changes_nothing() {
    let mut p = Pair::default_pair();
    let (_, blocks) = open_and_take_blocks(&mut p, &printed_get());
    let s = common::stamp(&blocks[0], &p.client_jid);
    let cut = &s[..s.len() / 2];
    assert!(p.server.handle_stanza(p.now, cut).is_err());
    assert!(p.server_events().is_empty());
    assert!(p.drain_server().is_empty());
    // The whole stanza still works afterwards.
    p.deliver_to_server(&blocks[0]);
    assert!(matches!(
        p.server_events().as_slice(),
        [EndpointEvent::Request { .. }]
    ));
}

#[test]
fn a_request_times_out() {
    let mut p = Pair::default_pair();
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    assert_eq!(
        p.server_events().len(),
        1,
        "the server got it and stays silent"
    );
    let deadline = p.client.poll_timeout().unwrap();
    assert_eq!(deadline, p.now + Duration::from_secs(30));
    p.client.handle_timeout(deadline - Duration::from_millis(1));
    assert!(p.client_events().is_empty());
    p.client.handle_timeout(deadline);
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Failed {
            id,
            reason: Failure::TimedOut
        }]
    );
    // The client closed the session; a late answer finds nothing.
    p.now = deadline;
    p.run();
    assert_eq!(p.server.session_count(), 0);
    assert!(p.client.poll_timeout().is_none());
}

#[test]
fn an_open_that_gets_no_answer_times_out() {
    let mut p = Pair::default_pair();
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    let _lost = p.drain_client();
    p.client.handle_timeout(p.now + Duration::from_secs(30));
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Failed {
            id,
            reason: Failure::TimedOut
        }]
    );
}

#[test]
fn a_server_that_cannot_take_the_session_refuses_it() {
    // Full, or asked for a larger block than it accepts.
    let full = EndpointConfig {
        max_sessions: 0,
        ..EndpointConfig::default()
    };
    // Retried with half the block size down to MIN_BLOCK_SIZE, then
    // refused.
    let small_blocks = EndpointConfig {
        max_block_size: oic_ra_proto::transport::MIN_BLOCK_SIZE - 1,
        ..EndpointConfig::default()
    };
    for server in [full, small_blocks] {
        let mut p = Pair::new(EndpointConfig::default(), server);
        let id = p
            .client
            .request(p.now, &p.server_jid, &printed_get())
            .unwrap();
        p.run();
        assert_eq!(
            p.client_events(),
            vec![EndpointEvent::Failed {
                id,
                reason: Failure::Refused(IqFailure::Error(DefinedCondition::ResourceConstraint))
            }]
        );
    }
}

/// XEP-0047 2.1: a responder whose maximum is smaller answers
/// `resource-constraint`; the open is retried with half the block size
/// until it is accepted, and the request goes through in smaller blocks.
#[test]
fn an_open_refused_for_its_block_size_is_retried_smaller() {
    let server = EndpointConfig {
        max_block_size: 1000,
        ..EndpointConfig::default()
    };
    let mut p = Pair::new(EndpointConfig::default(), server);
    let message = request_of_len(3000);
    p.client.request(p.now, &p.server_jid, &message).unwrap();
    p.run();
    let opens: Vec<u16> = p
        .to_server
        .iter()
        .filter_map(
            |x| match IbbPayload::from_stanza(&x.parse::<Stanza>().unwrap()) {
                Ok(IbbPayload::Open { block_size, .. }) => Some(block_size),
                _ => None,
            },
        )
        .collect();
    assert_eq!(opens, [4096, 2048, 1024, 512]);
    assert!(data_blocks(&p.to_server).iter().all(|b| b.2.len() <= 512));
    // The server reported each open it refused, then the request.
    let events = p.server_events();
    let refused = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                EndpointEvent::ProtocolError {
                    condition: DefinedCondition::ResourceConstraint,
                    ..
                }
            )
        })
        .count();
    let requests: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::Request { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!((refused, requests.as_slice()), (3, [&message].as_slice()));
}

#[test]
fn an_open_for_iq_data_is_refused() {
    // IoTivity's adapter opened with stanza='iq' (and block-size 4096).
    let mut p = Pair::default_pair();
    let open = IbbPayload::Open {
        sid: "a1b2".into(),
        block_size: 4096,
        stanza: oic_ra_proto::ibb::DataStanza::Iq,
    };
    p.deliver_to_server(&open.to_stanza(p.server_jid.clone(), "o1").to_xml());
    let reply = (p.drain_server()[0]).parse::<Stanza>().unwrap();
    assert_eq!(
        reply.error().unwrap().condition,
        DefinedCondition::NotAcceptable
    );
    assert_eq!(p.server.session_count(), 0);
}

#[test]
fn unsolicited_data_gets_item_not_found() {
    let mut p = Pair::default_pair();
    let data = IbbPayload::Data {
        sid: "nosuch".into(),
        seq: 0,
        data: b"<rest/>".to_vec(),
    };
    p.deliver_to_server(&data.to_stanza(p.server_jid.clone(), "d1").to_xml());
    let reply = (p.drain_server()[0]).parse::<Stanza>().unwrap();
    assert_eq!(reply.kind, StanzaKind::Message);
    assert_eq!(
        reply.error().unwrap().condition,
        DefinedCondition::ItemNotFound
    );
    assert!(
        p.server_events()
            .iter()
            .all(|e| !matches!(e, EndpointEvent::Request { .. }))
    );
}

#[test]
fn sessions_match_the_whole_sid_and_the_peer() {
    // IoTivity matched sessions by a prefix of the sid.
    let mut p = Pair::default_pair();
    let (_, blocks) = open_and_take_blocks(&mut p, &printed_get());
    let s = (blocks[0]).parse::<Stanza>().unwrap();
    let Ok(IbbPayload::Data { sid, data, .. }) = IbbPayload::from_stanza(&s) else {
        panic!()
    };
    let prefix = IbbPayload::Data {
        sid: sid[..sid.len() - 1].to_owned(),
        seq: 0,
        data,
    };
    p.deliver_to_server(&prefix.to_stanza(p.server_jid.clone(), "x").to_xml());
    assert!(
        (p.drain_server()[0])
            .parse::<Stanza>()
            .unwrap()
            .error()
            .unwrap()
            .condition
            == DefinedCondition::ItemNotFound
    );
    // The same sid from another full JID is another session.
    let mallory = oic_ra_proto::identity::FullJid::new(
        "mallory@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11",
    )
    .unwrap();
    let other = common::stamp(&blocks[0], &mallory);
    p.server.handle_stanza(p.now, &other).unwrap();
    assert!(
        (p.drain_server()[0])
            .parse::<Stanza>()
            .unwrap()
            .error()
            .unwrap()
            .condition
            == DefinedCondition::ItemNotFound
    );
    // The real one still works.
    p.deliver_to_server(&blocks[0]);
    assert!(
        p.server_events()
            .iter()
            .any(|e| matches!(e, EndpointEvent::Request { .. }))
    );
}

#[test]
fn an_open_result_from_another_jid_is_ignored() {
    let mut p = Pair::default_pair();
    p.client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    let open = (p.drain_client()[0]).parse::<Stanza>().unwrap();
    let forged = open.result_reply();
    let mallory = oic_ra_proto::identity::FullJid::new("mallory@example.org/x").unwrap();
    p.client
        .handle_stanza(p.now, &common::stamp(&forged.to_xml(), &mallory))
        .unwrap();
    assert!(p.client_events().is_empty());
    assert!(
        p.drain_client().is_empty(),
        "no data sent to an unaccepted session"
    );
}

#[test]
fn the_peer_going_unavailable_fails_its_requests() {
    let mut p = Pair::default_pair();
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    p.server_goes_offline();
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Failed {
            id,
            reason: Failure::PeerUnavailable
        }]
    );
    let gone = format!("<presence from='{}' type='unavailable'/>", p.client_jid);
    p.server.handle_stanza(p.now, &gone).unwrap();
    assert!(matches!(
        p.server_events().as_slice(),
        [
            EndpointEvent::Request { .. },
            EndpointEvent::PeerEnded { .. }
        ]
    ));
    assert_eq!((p.client.session_count(), p.server.session_count()), (0, 0));
}

#[test]
fn the_server_closing_before_answering_fails_the_request() {
    let mut p = Pair::default_pair();
    let id = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    let s = (p.to_server[0]).parse::<Stanza>().unwrap();
    let IbbPayload::Open { sid, .. } = IbbPayload::from_stanza(&s).unwrap() else {
        panic!()
    };
    let close = IbbPayload::Close { sid }.to_stanza(p.client_jid.clone(), "c1");
    p.deliver_to_client(&close.to_xml());
    assert_eq!(
        p.client_events(),
        vec![EndpointEvent::Failed {
            id,
            reason: Failure::Closed
        }]
    );
    let ack = (p.drain_client()[0]).parse::<Stanza>().unwrap();
    assert_eq!(ack.type_str(), "result");
}

#[test]
fn a_double_base64_message_is_read() {
    // Peers that base64 the document before IBB encodes it again.
    let mut p = Pair::default_pair();
    let open = IbbPayload::Open {
        sid: "s1".into(),
        block_size: 4096,
        stanza: oic_ra_proto::ibb::DataStanza::Message,
    };
    p.deliver_to_server(&open.to_stanza(p.server_jid.clone(), "o1").to_xml());
    let data = IbbPayload::Data {
        sid: "s1".into(),
        seq: 0,
        data: printed_get().to_base64().into_bytes(),
    };
    p.deliver_to_server(&data.to_stanza(p.server_jid.clone(), "d1").to_xml());
    let events = p.server_events();
    assert!(
        matches!(events.as_slice(), [EndpointEvent::Request { message, .. }] if *message == printed_get()),
        "{events:?}"
    );
}

#[test]
fn a_malformed_request_gets_400() {
    let mut p = Pair::default_pair();
    let open = IbbPayload::Open {
        sid: "s1".into(),
        block_size: 4096,
        stanza: oic_ra_proto::ibb::DataStanza::Message,
    };
    p.deliver_to_server(&open.to_stanza(p.server_jid.clone(), "o1").to_xml());
    let data = IbbPayload::Data {
        sid: "s1".into(),
        seq: 0,
        data: b"<rest xmlns='rest.oic.org'/>".to_vec(),
    };
    p.deliver_to_server(&data.to_stanza(p.server_jid.clone(), "d1").to_xml());
    let out = p.drain_server();
    let blocks = data_blocks(&out);
    let reply = RestMessage::parse(
        std::str::from_utf8(&blocks[0].2).unwrap(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(reply.status(), Some(400));
    assert!(
        p.server_events()
            .iter()
            .all(|e| !matches!(e, EndpointEvent::Request { .. }))
    );
}

#[test]
fn misuse_is_refused() {
    let mut p = Pair::default_pair();
    assert_eq!(
        p.client
            .request(p.now, &p.server_jid, &RestMessage::response(200, "OK")),
        Err(EndpointError::NotARequest)
    );
    assert_eq!(
        p.server.respond(p.now, RequestId(99), &printed_get()),
        Err(EndpointError::NotAResponse)
    );
    assert_eq!(
        p.server.respond(p.now, RequestId(99), &printed_response()),
        Err(EndpointError::UnknownRequest(RequestId(99)))
    );
    assert_eq!(
        p.client.cancel(p.now, RequestId(99)),
        Err(EndpointError::UnknownRequest(RequestId(99)))
    );
    p.client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    let served = serve(&mut p, &printed_response());
    assert_eq!(
        p.server.respond(p.now, served[0].0, &printed_response()),
        Err(EndpointError::AlreadyAnswered(served[0].0))
    );
    let small = EndpointConfig {
        rest_limits: oic_ra_proto::rest::RestLimits {
            max_document_len: 64,
            max_headers: 4,
        },
        ..EndpointConfig::default()
    };
    let mut q = Pair::new(small, EndpointConfig::default());
    assert!(matches!(
        q.client.request(q.now, &q.server_jid, &printed_get()),
        Err(EndpointError::Rest(_))
    ));
    let one = EndpointConfig {
        max_sessions: 1,
        ..EndpointConfig::default()
    };
    let mut r = Pair::new(one, EndpointConfig::default());
    r.client
        .request(r.now, &r.server_jid, &printed_get())
        .unwrap();
    assert_eq!(
        r.client.request(r.now, &r.server_jid, &printed_get()),
        Err(EndpointError::TooManySessions(1))
    );
}

#[test]
fn stanzas_of_other_protocols_are_left_to_the_runtime() {
    let mut p = Pair::default_pair();
    for x in [
        "<message xmlns='jabber:client' from='a@b/c' type='chat'><body>hi</body></message>",
        "<iq xmlns='jabber:client' from='a@b/c' id='1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<presence xmlns='jabber:client' from='a@b/c'/>",
        "<iq xmlns='jabber:client' from='a@b/c' id='zz' type='result'/>",
    ] {
        p.server.handle_stanza(p.now, x).unwrap();
        assert!(p.server_events().is_empty(), "{x}");
    }
    assert!(p.drain_server().is_empty());
}

#[test]
fn peer_faults_do_not_end_the_endpoint_and_the_connection_closing_does_once() {
    let mut p = Pair::default_pair();
    let waiting = p
        .client
        .request(p.now, &p.server_jid, &printed_get())
        .unwrap();
    p.run();
    let served = p.server_events();
    assert!(matches!(served.as_slice(), [EndpointEvent::Request { .. }]));
    // A peer's faults are answered per stanza; the endpoint lives on.
    p.deliver_to_client("<message xmlns='jabber:client'><data xmlns='http://jabber.org/protocol/ibb' sid='zz' seq='0'>!!</data></message>");
    assert!(
        p.client_events()
            .iter()
            .all(|e| matches!(e, EndpointEvent::ProtocolError { .. }))
    );
    // The XMPP connection ends: the waiting request fails, then the
    // endpoint ends, once.
    p.client.handle_input(p.now, Input::PeerClosed);
    p.client.handle_input(p.now, Input::PeerClosed);
    assert_eq!(
        p.client_events(),
        vec![
            EndpointEvent::Failed {
                id: waiting,
                reason: Failure::Disconnected
            },
            EndpointEvent::Ended(End::PeerClosed)
        ]
    );
    assert_eq!(p.client.session_count(), 0);
    assert_eq!(p.client.poll_timeout(), None);
    assert_eq!(
        p.client.request(p.now, &p.server_jid, &printed_get()),
        Err(EndpointError::Closed)
    );
    // The server's exchange ends the same way.
    p.server.handle_input(p.now, Input::PeerClosed);
    assert!(matches!(
        p.server_events().as_slice(),
        [
            EndpointEvent::PeerEnded { .. },
            EndpointEvent::Ended(End::PeerClosed)
        ]
    ));
}
