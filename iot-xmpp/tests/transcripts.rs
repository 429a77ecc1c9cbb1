//! Logins recorded from the real servers of the interoperability tests
//! (Prosody 0.12 and ejabberd 23.01, as `.ci/prosody` and `.ci/ejabberd`
//! configure them), replayed split at every byte position. Each file holds
//! one line per write: `C` what the client sent, `S` what the server sent
//! (decrypted after TLS; new lines written `\n`), `T` where TLS started.
//! The client's nonce was the RFC 5802 one, so a replay computes the same
//! proof and checks the recorded server signature.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::testing::Scripted;
use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::BareJid;
use iot_xmpp::sasl::{Mechanism, MechanismPreference};
use iot_xmpp::stream::{Client, ClientConfig, ClientEvent};
use iot_xmpp::testing::rfc5802_nonce;

const T0: Duration = Duration::ZERO;

/// The server's bytes and the client's, before and after TLS.
struct Recording {
    phases: [(String, String); 2],
}

fn load(text: &str) -> Recording {
    let mut phases: [(String, String); 2] = Default::default();
    let mut phase = 0;
    for line in text.lines() {
        match line.split_at(1) {
            ("T", _) => phase = 1,
            ("C", rest) => phases[phase].1.push_str(&rest[1..]),
            ("S", rest) => phases[phase].0.push_str(&rest[1..].replace("\\n", "\n")),
            _ => panic!("a line of another kind: {line}"),
        }
    }
    Recording { phases }
}

fn client() -> Checked<Client<Duration, Scripted>> {
    let mut config = ClientConfig::new(
        BareJid::new("alice@localhost").unwrap(),
        Secret::new("secret"),
        Some("recorded".into()),
    );
    config.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    Checked::new(Client::new(config, rfc5802_nonce()))
}

fn sent(c: &mut Checked<Client<Duration, Scripted>>) -> String {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

/// Replays `recording`, each phase's server bytes in pieces of `piece`
/// bytes after a first piece of `first`; checks every byte the client
/// sends and that it comes online as the recorded JID.
fn replay(recording: &Recording, first: usize, piece: usize) {
    let mut c = client();
    c.start(T0);
    let mut out = sent(&mut c);
    let mut events = Vec::new();
    for (phase, (server, client_side)) in recording.phases.iter().enumerate() {
        if phase == 1 {
            assert!(events.contains(&ClientEvent::StartTls));
            c.tls_started(T0);
            out = sent(&mut c);
        }
        let cut = first.min(server.len());
        let (head, rest) = server.as_bytes().split_at(cut);
        for part in std::iter::once(head).chain(rest.chunks(piece)) {
            c.handle_input(T0, Input::Data(part));
            out.push_str(&sent(&mut c));
            events.extend(std::iter::from_fn(|| c.poll_event()));
        }
        // Recorded before the client spoke XEP-0198: once bound, it asks
        // a server that offers stream management to enable it.
        let mut expected = client_side.clone();
        if server.contains("<sm xmlns='urn:xmpp:sm:3'/>") {
            expected.push_str("<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>");
        }
        assert_eq!(
            out, expected,
            "phase {phase}, first piece {cut}, then {piece}"
        );
    }
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::Online { jid, other_resource: false } if jid.to_string() == "alice@localhost/recorded"
        )),
        "{events:?}"
    );
}

/// One byte at a time (a cut at every byte position), whole, and in two
/// pieces cut at every 13th byte.
fn every_cut(text: &str) {
    let recording = load(text);
    replay(&recording, 0, 1);
    replay(&recording, usize::MAX, 1);
    let longest = recording
        .phases
        .iter()
        .map(|p| p.0.len())
        .max()
        .unwrap_or(0);
    for first in (0..=longest).step_by(13) {
        replay(&recording, first, usize::MAX);
    }
}

#[test]
fn a_prosody_login_replays_at_every_cut() {
    every_cut(include_str!("transcripts/prosody.txt"));
}

#[test]
fn an_ejabberd_login_replays_at_every_cut() {
    every_cut(include_str!("transcripts/ejabberd.txt"));
}
