//! Drives an RAE client endpoint and an RAE server endpoint with arbitrary
//! operations: requests, answers, timeouts, honest delivery, and stanzas
//! made of fuzz input (raw text, or IBB data blocks aimed at live
//! sessions), unavailable presence and closed connections. Checks, with
//! the family's contract checker around each endpoint, that nothing
//! panics, the session bounds hold, and each endpoint ends with nothing
//! left open.
#![no_main]

use std::time::{Duration, Instant};

use iot_sansio::testing::{Checked, Driver, rng};
use iot_xmpp::testing::Server;
use libfuzzer_sys::fuzz_target;
use oic_ra_proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::stanza::Stanza;
use oic_ra_proto::{End, Input, Machine, StanzaMachine};

/// A stanza from the text, as the XMPP server delivers it from `from`.
fn from_peer(xmpp: &mut Server, xml: &str, from: &FullJid) -> Option<Stanza> {
    let s = Stanza::parse(xml, &Default::default()).ok()?;
    xmpp.inject(&from.clone().into(), s).map(|(_, s)| s)
}

fuzz_target!(|data: &[u8]| {
    let Ok(cj) = FullJid::new("a@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")
    else {
        return;
    };
    let Ok(sj) =
        FullJid::new("a@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")
    else {
        return;
    };
    let config = EndpointConfig {
        block_size: 64,
        max_sessions: 4,
        ..EndpointConfig::default()
    };
    let mut client = Checked::new(Endpoint::new(config.clone(), rng(1)));
    let mut server = Checked::new(Endpoint::new(config, rng(2)));
    let mut xmpp = Server::new([cj.clone().into(), sj.clone().into()]);
    let mut now = Instant::now();
    let mut sids: Vec<String> = Vec::new();
    let mut requests = Vec::new();
    let mut input = data;
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        let take = |input: &mut &[u8]| -> Vec<u8> {
            let n = input.first().map_or(0, |b| usize::from(*b));
            let end = (1 + n).min(input.len());
            let out = input.get(1..end).unwrap_or_default().to_vec();
            *input = &input[end..];
            out
        };
        match op % 9 {
            0 => {
                let body = take(&mut input);
                let mut m = RestMessage::request(Method::Get, "coap://light/a");
                if body.first().is_some_and(|b| b & 1 == 1) {
                    m = m.with_header("Observe", "0");
                }
                m.body = Some(format!("{}", body.len()));
                let _ = client.request(now, &sj, &m);
            }
            1 => {
                let text = take(&mut input);
                if let Ok(t) = std::str::from_utf8(&text)
                    && let Some(s) = from_peer(&mut xmpp, t, &cj)
                {
                    server.handle_input(now, Input::Data(&s));
                }
            }
            2 => {
                let text = take(&mut input);
                if let Ok(t) = std::str::from_utf8(&text)
                    && let Some(s) = from_peer(&mut xmpp, t, &sj)
                {
                    client.handle_input(now, Input::Data(&s));
                }
            }
            3 => {
                let step = take(&mut input).first().copied().unwrap_or(0);
                now += Duration::from_secs(u64::from(step));
                client.handle_timeout(now);
                server.handle_timeout(now);
            }
            4 => {
                let body = take(&mut input);
                for id in &requests {
                    let mut r = RestMessage::response(200, "OK");
                    r.body = Some(format!("{}", body.len()));
                    let _ = server.respond(now, *id, &r);
                }
            }
            5 => {
                // Honest delivery through the server, remembering the sids.
                Driver::new(now).run(&mut [&mut client, &mut server], |from, st: Stanza| {
                    if let Ok(IbbPayload::Open { sid, .. }) = IbbPayload::from_stanza(&st) {
                        sids.push(sid);
                    }
                    xmpp.route(from, st)
                });
                xmpp.clear_log();
            }
            6 => {
                // A data block on a live session, seq and bytes from the input.
                let bytes = take(&mut input);
                if let Some(sid) =
                    sids.get(bytes.first().map_or(0, |b| usize::from(*b)) % sids.len().max(1))
                {
                    let seq = u16::from_le_bytes([
                        bytes.get(1).copied().unwrap_or(0),
                        bytes.get(2).copied().unwrap_or(0),
                    ]) % 4;
                    let block = IbbPayload::Data {
                        sid: sid.clone(),
                        seq,
                        data: bytes.get(3..).unwrap_or_default().to_vec(),
                    };
                    if let Some((_, s)) =
                        xmpp.inject(&cj.clone().into(), block.to_stanza(sj.clone(), "f"))
                    {
                        server.handle_input(now, Input::Data(&s));
                    }
                }
            }
            7 => {
                let (node, peer): (
                    &mut dyn StanzaMachine<Instant = Instant, Event = EndpointEvent>,
                    _,
                ) = if input.first().is_some_and(|b| b & 1 == 0) {
                    (&mut client, &sj)
                } else {
                    (&mut server, &cj)
                };
                if input.get(1).is_some_and(|b| b & 1 == 0) {
                    let gone = format!("<presence from='{peer}' type='unavailable'/>");
                    let _ = node.handle_stanza(now, &gone);
                } else {
                    node.handle_input(now, Input::PeerClosed);
                }
            }
            _ => {
                for id in &requests {
                    let _ = client.cancel(now, *id);
                }
            }
        }
        for node in [&mut server, &mut client] {
            while let Some(e) = node.poll_event() {
                match e {
                    EndpointEvent::Request { id, .. } => requests.push(id),
                    EndpointEvent::Ended(end) => {
                        assert_eq!(end, End::PeerClosed);
                        assert_eq!(node.session_count(), 0);
                    }
                    _ => {}
                }
            }
        }
        assert!(client.session_count() <= 4 && server.session_count() <= 4);
        xmpp.clear_log();
    }
});
