//! The XEP-0199 keepalive (section 7.4): pings after silence, a dead peer
//! after a timeout, and what counts as an answer.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use oic_ra_proto::identity::Jid;
use oic_ra_proto::ping::{Keepalive, KeepaliveConfig, KeepaliveEvent};
use oic_ra_proto::stanza::Stanza;

const INTERVAL: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(10);

fn config() -> KeepaliveConfig {
    KeepaliveConfig {
        interval: INTERVAL,
        timeout: TIMEOUT,
    }
}

fn parse(xml: &str) -> Stanza {
    Stanza::parse(xml, &Default::default()).unwrap()
}

fn from(xml: &str, jid: &str) -> Stanza {
    let mut s = parse(xml);
    s.from = Some(Jid::new(jid).unwrap());
    s
}

/// Two endpoints each with a keepalive on the other: the answering side
/// answers pings, and the connection stays alive as long as it does.
#[test]
fn a_peer_that_answers_stays_alive_and_one_that_stops_is_dead() {
    let a_jid = "alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
    let b_jid = "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";
    let t0 = Instant::now();
    let mut a = Keepalive::new(config(), Some(Jid::new(b_jid).unwrap()), t0);
    let mut b = Keepalive::new(
        KeepaliveConfig {
            interval: Duration::from_secs(3600),
            ..config()
        },
        None,
        t0,
    );
    let mut now;
    for round in 0..3 {
        now = a.poll_timeout().unwrap();
        assert_eq!(
            now,
            t0 + INTERVAL * (round + 1) + Duration::from_secs(u64::from(round))
        );
        a.handle_timeout(now);
        let ping = a.poll_transmit().expect("a ping");
        assert!(b.handle(&from(&ping, a_jid), now), "b answers pings");
        let pong = b.poll_transmit().expect("a pong");
        now += Duration::from_secs(1);
        assert!(a.handle(&from(&pong, b_jid), now));
        assert!(a.poll_event().is_none());
    }
    // b stops answering.
    now = a.poll_timeout().unwrap();
    a.handle_timeout(now);
    let _lost = a.poll_transmit().unwrap();
    assert_eq!(a.poll_timeout(), Some(now + TIMEOUT));
    a.handle_timeout(now + TIMEOUT - Duration::from_millis(1));
    assert!(a.poll_event().is_none());
    a.handle_timeout(now + TIMEOUT);
    assert_eq!(a.poll_event(), Some(KeepaliveEvent::Dead));
    assert!(a.is_dead());
    assert_eq!(a.poll_timeout(), None);
    a.handle_timeout(now + TIMEOUT * 10);
    assert!(a.poll_event().is_none() && a.poll_transmit().is_none());
}

#[test]
fn any_stanza_from_the_target_postpones_the_ping() {
    let t0 = Instant::now();
    let mut k = Keepalive::new(config(), None, t0);
    let later = t0 + Duration::from_secs(50);
    assert!(!k.handle(&parse("<message><body>hi</body></message>"), later));
    assert_eq!(k.poll_timeout(), Some(later + INTERVAL));
    k.handle_timeout(t0 + INTERVAL);
    assert!(k.poll_transmit().is_none());
}

#[test]
fn only_the_target_counts_when_there_is_one() {
    let t0 = Instant::now();
    let mut k = Keepalive::new(config(), Some(Jid::new("light@example.org/r").unwrap()), t0);
    k.handle(
        &from("<message/>", "mallory@example.org/x"),
        t0 + Duration::from_secs(30),
    );
    assert_eq!(k.poll_timeout(), Some(t0 + INTERVAL));
    k.handle_timeout(t0 + INTERVAL);
    let ping = parse(&k.poll_transmit().unwrap());
    // An answer with the right id from someone else is not an answer.
    let forged = from(&ping.result_reply().to_xml(), "mallory@example.org/x");
    assert!(!k.handle(&forged, t0 + INTERVAL));
    k.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(k.poll_event(), Some(KeepaliveEvent::Dead));
}

#[test]
fn which_errors_prove_the_peer_alive() {
    for (condition, alive) in [
        ("feature-not-implemented", true),
        ("service-unavailable", false),
        ("remote-server-not-found", false),
    ] {
        let t0 = Instant::now();
        let mut k = Keepalive::new(config(), None, t0);
        k.handle_timeout(t0 + INTERVAL);
        let ping = parse(&k.poll_transmit().unwrap());
        let mut answered = ping.clone();
        answered.from = Some(Jid::new("example.org").unwrap());
        let error = answered.error_reply("cancel", condition);
        let mut error = parse(&error.to_xml());
        error.from = Some(Jid::new("example.org").unwrap());
        assert!(k.handle(&error, t0 + INTERVAL + Duration::from_secs(1)));
        k.handle_timeout(t0 + INTERVAL + TIMEOUT);
        assert_eq!(k.poll_event().is_none(), alive, "{condition}");
    }
}

#[test]
fn a_late_or_unknown_answer_changes_nothing() {
    let t0 = Instant::now();
    let mut k = Keepalive::new(config(), None, t0);
    let stray = parse("<iq type='result' id='ping99'/>");
    assert!(!k.handle(&stray, t0));
    k.handle_timeout(t0 + INTERVAL);
    let _ = k.poll_transmit();
    k.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(k.poll_event(), Some(KeepaliveEvent::Dead));
}
