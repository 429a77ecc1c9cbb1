//! The XEP-0199 keepalive (section 7.4): pings after silence, a dead peer
//! after a timeout, and what counts as an answer.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::{Duration, Instant};

use iot_sansio::testing::Driver;
use iot_xmpp::testing::Server;
use oic_ra_proto::identity::Jid;
use oic_ra_proto::ping::{Keepalive, KeepaliveConfig, KeepaliveEvent};
use oic_ra_proto::stanza::{DefinedCondition, ErrorType, Stanza};
use oic_ra_proto::{End, Input, Machine};

const DEAD: Option<KeepaliveEvent> = Some(KeepaliveEvent::Ended(End::TimedOut));

const INTERVAL: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(10);

fn config() -> KeepaliveConfig {
    KeepaliveConfig {
        interval: INTERVAL,
        timeout: TIMEOUT,
    }
}

fn from(xml: &str, jid: &str) -> Stanza {
    let mut s = xml.parse::<Stanza>().unwrap();
    s.from = Some(Jid::new(jid).unwrap());
    s
}

/// Two endpoints each with a keepalive on the other, through an XMPP
/// server: the answering side answers pings, and the connection stays alive
/// as long as it does.
#[test]
fn a_peer_that_answers_stays_alive_and_one_that_stops_is_dead() {
    let a_jid: Jid = "alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11"
        .parse()
        .unwrap();
    let b_jid: Jid = "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6"
        .parse()
        .unwrap();
    let t0 = Instant::now();
    let mut a = Checked::new(Keepalive::new(t0, config(), Some(b_jid.clone())));
    let quiet = KeepaliveConfig {
        interval: Duration::from_secs(3600),
        ..config()
    };
    let mut b = Checked::new(Keepalive::new(t0, quiet, None));
    let mut xmpp = Server::new([a_jid, b_jid]);
    let mut driver = Driver::new(t0);
    for round in 0..3u32 {
        // a's timer is the earliest: it pings, b answers at once.
        let now = driver.advance_to_next_timer(&mut [&mut a, &mut b]).unwrap();
        assert_eq!(now, t0 + INTERVAL * (round + 1));
        assert_eq!(
            driver.run(&mut [&mut a, &mut b], |f, s| xmpp.route(f, s)),
            2
        );
        assert!(a.poll_event().is_none());
    }
    // b stops answering: its stanzas are lost.
    let now = driver.advance_to_next_timer(&mut [&mut a, &mut b]).unwrap();
    let delivered = driver.run(&mut [&mut a, &mut b], |f, s| {
        (f == 0).then(|| xmpp.route(f, s)).flatten()
    });
    assert_eq!(delivered, 1, "the ping reaches b, the answer is lost");
    assert_eq!(a.poll_timeout(), Some(now + TIMEOUT));
    a.handle_timeout(now + TIMEOUT - Duration::from_millis(1));
    assert!(a.poll_event().is_none());
    a.handle_timeout(now + TIMEOUT);
    assert_eq!(a.poll_event(), DEAD);
    assert!(a.is_dead());
    assert_eq!(a.poll_timeout(), None);
    a.handle_timeout(now + TIMEOUT * 10);
    a.handle_input(now + TIMEOUT * 10, Input::PeerClosed);
    assert!(a.poll_event().is_none() && a.poll_transmit().is_none());
}

#[test]
fn a_closed_connection_ends_the_watch_once() {
    let t0 = Instant::now();
    let mut k = Checked::new(Keepalive::new(t0, config(), None));
    k.handle_input(t0, Input::PeerClosed);
    assert_eq!(k.poll_event(), Some(KeepaliveEvent::Ended(End::PeerClosed)));
    assert_eq!(k.poll_timeout(), None);
    k.handle_timeout(t0 + INTERVAL + TIMEOUT);
    k.handle_input(t0 + INTERVAL + TIMEOUT, Input::PeerClosed);
    assert_eq!(k.poll_event(), None);
}

#[test]
fn any_stanza_from_the_target_postpones_the_ping() {
    let t0 = Instant::now();
    let mut k = Checked::new(Keepalive::new(t0, config(), None));
    let later = t0 + Duration::from_secs(50);
    k.handle_input(
        later,
        Input::Data(
            &"<message><body>hi</body></message>"
                .parse::<Stanza>()
                .unwrap(),
        ),
    );
    assert_eq!(k.poll_timeout(), Some(later + INTERVAL));
    k.handle_timeout(t0 + INTERVAL);
    assert!(k.poll_transmit().is_none());
}

#[test]
fn only_the_target_counts_when_there_is_one() {
    let t0 = Instant::now();
    let mut k = Checked::new(Keepalive::new(
        t0,
        config(),
        Some(Jid::new("light@example.org/r").unwrap()),
    ));
    k.handle_input(
        t0 + Duration::from_secs(30),
        Input::Data(&from("<message/>", "mallory@example.org/x")),
    );
    assert_eq!(k.poll_timeout(), Some(t0 + INTERVAL));
    k.handle_timeout(t0 + INTERVAL);
    let ping = k.poll_transmit().unwrap();
    // An answer with the right id from someone else is not an answer.
    let forged = from(&ping.result_reply().to_xml(), "mallory@example.org/x");
    k.handle_input(t0 + INTERVAL, Input::Data(&forged));
    k.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(k.poll_event(), DEAD);
}

#[test]
fn which_errors_prove_the_peer_alive() {
    for (condition, alive) in [
        (DefinedCondition::FeatureNotImplemented, true),
        (DefinedCondition::ServiceUnavailable, false),
        (DefinedCondition::RemoteServerNotFound, false),
    ] {
        let t0 = Instant::now();
        let mut k = Checked::new(Keepalive::new(t0, config(), None));
        k.handle_timeout(t0 + INTERVAL);
        let ping = k.poll_transmit().unwrap();
        let mut answered = ping.clone();
        answered.from = Some(Jid::new("example.org").unwrap());
        let error = answered.error_reply(ErrorType::Cancel, condition);
        let mut error = (error.to_xml()).parse::<Stanza>().unwrap();
        error.from = Some(Jid::new("example.org").unwrap());
        k.handle_input(t0 + INTERVAL + Duration::from_secs(1), Input::Data(&error));
        k.handle_timeout(t0 + INTERVAL + TIMEOUT);
        assert_eq!(k.poll_event().is_none(), alive, "{condition}");
        assert!(k.poll_transmit().is_none(), "an answer is not answered");
    }
}

#[test]
fn a_late_or_unknown_answer_changes_nothing() {
    let t0 = Instant::now();
    let mut k = Checked::new(Keepalive::new(t0, config(), None));
    let stray = "<iq type='result' id='ping99'/>".parse::<Stanza>().unwrap();
    k.handle_input(t0, Input::Data(&stray));
    k.handle_timeout(t0 + INTERVAL);
    let _ = k.poll_transmit();
    k.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(k.poll_event(), DEAD);
}
