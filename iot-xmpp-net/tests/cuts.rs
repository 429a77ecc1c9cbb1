//! Stream management in the field: two clients talk through Prosody and
//! ejabberd over a TCP proxy on loopback that cuts every connection about
//! ten times a minute. Alice sends bob a numbered message every 100 ms;
//! each client that loses its connection waits (`iot_sansio::backoff`)
//! and resumes its session on a new one (XEP-0198). Not one message may
//! be lost or arrive twice. The test prints the cuts, the resumptions,
//! the stanzas sent again and the stanzas lost.
//!
//! `XMPP_CUTS_SECONDS` sets how long it runs (default 60).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use example_io::proxy::CuttingProxy;
use iot_sansio::Secret;
use iot_sansio::backoff::BackoffConfig;
use iot_xmpp::stream::ClientConfig;
use iot_xmpp::{BareJid, Element, Stanza, StanzaKind};
use iot_xmpp_net::ResilientSession;

const WAIT: Duration = Duration::from_secs(10);

fn config(user: &str) -> ClientConfig {
    ClientConfig::new(
        BareJid::new(&format!("{user}@localhost")).unwrap(),
        Secret::new("secret"),
        Some("cuts".into()),
    )
}

/// A session through `proxy` that reconnects quickly.
fn resilient(user: &str, proxy: &str) -> ResilientSession {
    ResilientSession::login(
        config(user),
        &example_io::xmpp::test_connector(proxy)
            .expect("the test certificate (bash .ci/xmpp-cert)")
            .wait(WAIT),
        BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            jitter: 50,
            stable_after: Duration::from_secs(5),
        },
    )
    .unwrap()
}

/// One server through its own proxy: returns the figures.
fn run(name: &str, server: &str, seconds: u64) -> String {
    let proxy = CuttingProxy::start(server).unwrap();
    let mut alice = resilient("alice", proxy.addr());
    let mut bob = resilient("bob", proxy.addr());
    let bob_jid = bob.jid().clone();
    let stop = Arc::new(AtomicBool::new(false));
    let received: Arc<Mutex<BTreeMap<usize, usize>>> = Arc::default();

    // Bob reads until told to stop.
    let bob_thread = {
        let stop = stop.clone();
        let received = received.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(stanza) = bob.recv(Duration::from_millis(200)).unwrap()
                    && stanza.kind == StanzaKind::Message
                    && let Some(n) = stanza.id.as_deref().and_then(|id| id.parse().ok())
                {
                    *received.lock().unwrap().entry(n).or_default() += 1;
                }
            }
            bob
        })
    };
    // The cutter: about ten cuts a minute.
    let cutter = {
        let stop = stop.clone();
        let proxy = proxy.clone();
        std::thread::spawn(move || {
            let mut next = Instant::now() + Duration::from_secs(3);
            while !stop.load(Ordering::Relaxed) {
                if Instant::now() >= next {
                    proxy.cut();
                    next = Instant::now() + Duration::from_millis(5_000 + rand_below(2_000));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };

    // Alice sends one message every 100 ms, reading in between.
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut sent = 0usize;
    while Instant::now() < end {
        sent += 1;
        let message = Stanza::new(StanzaKind::Message)
            .with_to(bob_jid.clone())
            .with_id(sent.to_string())
            .with_payload(Element::new("body", "jabber:client").with_text(format!("#{sent}")));
        alice.send(&message).unwrap();
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            alice
                .recv(until.saturating_duration_since(Instant::now()))
                .unwrap();
        }
    }
    // No more cuts; let alice's last stanzas be acknowledged and bob's
    // arrive.
    let cuts = proxy.cuts();
    let settle = Instant::now() + Duration::from_secs(20);
    while Instant::now() < settle
        && (alice.unacknowledged() > 0 || received.lock().unwrap().len() < sent)
    {
        alice.recv(Duration::from_millis(100)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let bob = bob_thread.join().unwrap();
    let (alice_stats, bob_stats) = (alice.stats(), bob.stats());
    // Leave cleanly: the server keeps no session of theirs to resume.
    let _ = alice.close();
    let _ = bob.close();
    cutter.join().unwrap();

    let received = received.lock().unwrap();
    let missing: Vec<usize> = (1..=sent).filter(|n| !received.contains_key(n)).collect();
    let twice = received.values().filter(|c| **c > 1).count();
    let figures = format!(
        "{name}: {seconds} s, {cuts} cuts; {sent} messages sent, {} received, {} lost, {twice} twice; \
         alice resumed {} times and sent {} stanzas again, bob resumed {} times and sent {} again; \
         refused resumptions: {} ({} stanzas possibly lost)",
        received.len(),
        missing.len(),
        alice_stats.resumed,
        alice_stats.resent,
        bob_stats.resumed,
        bob_stats.resent,
        alice_stats.new_sessions + bob_stats.new_sessions,
        alice_stats.maybe_lost + bob_stats.maybe_lost,
    );
    eprintln!("{figures}");
    assert!(cuts as u64 >= seconds / 10, "{figures}");
    assert!(missing.is_empty(), "{figures}; missing {missing:?}");
    assert_eq!(twice, 0, "{figures}");
    assert!(alice_stats.resumed + bob_stats.resumed > 0, "{figures}");
    assert_eq!(
        alice_stats.new_sessions + bob_stats.new_sessions,
        0,
        "{figures}"
    );
    figures
}

fn rand_below(n: u64) -> u64 {
    use rand_core::RngCore;
    rand_core::OsRng.next_u64() % n
}

#[test]
fn messages_survive_connections_cut_ten_times_a_minute() {
    let seconds = std::env::var("XMPP_CUTS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let servers = example_io::xmpp::test_servers();
    // Both servers at once, each through its own proxy.
    let runs: Vec<_> = servers
        .into_iter()
        .map(|(name, addr)| std::thread::spawn(move || run(name, addr, seconds)))
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}
