//! The sans-IO XMPP client against two real servers: Prosody on
//! 127.0.0.1:15222 and ejabberd on 127.0.0.1:15223, as `.ci/prosody` and
//! `.ci/ejabberd` start them (STARTTLS required with the certificate of
//! `.ci/xmpp-cert`, SCRAM, accounts with password `secret`). Each test runs
//! against both. Without a server a test says why and passes; under
//! `CI=true` it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::time::Duration;

use example_io::xmpp::test_connector;
use iot_sansio::{End, Secret};
use iot_xmpp::presence::{PresenceTracker, SubscriptionRequest};
use iot_xmpp::roster::{Roster, RosterQuery};
use iot_xmpp::sasl::{Mechanism, MechanismPreference};
use iot_xmpp::stream::{ClientConfig, ClientRefusal};
use iot_xmpp::{BareJid, Element, Stanza, StanzaKind};
use iot_xmpp_net::{NetError, Session};

const WAIT: Duration = Duration::from_secs(10);

fn servers() -> Vec<(&'static str, &'static str)> {
    example_io::xmpp::test_servers()
}

fn connector(addr: &str) -> iot_xmpp_net::Connector {
    test_connector(addr)
        .expect("the test certificate (bash .ci/xmpp-cert)")
        .wait(WAIT)
}

fn config(user: &str, password: &str, resource: &str) -> ClientConfig {
    ClientConfig::new(
        BareJid::new(&format!("{user}@localhost")).unwrap(),
        Secret::new(password),
        Some(resource.into()),
    )
}

fn login(addr: &str, config: ClientConfig) -> Result<Session, NetError> {
    Session::login(config, &connector(addr))
}

/// A logged-in client with the roster and presence it has seen.
struct Peer {
    session: Session,
    roster: Roster,
    presence: PresenceTracker,
}

impl Peer {
    fn new(session: Session) -> Self {
        Self {
            session,
            roster: Roster::new(),
            presence: PresenceTracker::new(),
        }
    }

    /// Waits until `done` holds, reading stanzas into the roster (pushes
    /// answered) and the presence tracker, and handing each to `done`.
    fn wait(&mut self, mut done: impl FnMut(&Self, Option<&Stanza>) -> bool) -> Option<Stanza> {
        let deadline = std::time::Instant::now() + WAIT;
        if done(self, None) {
            return None;
        }
        while std::time::Instant::now() < deadline {
            let Some(s) = self.session.recv(Duration::from_millis(200)).unwrap() else {
                continue;
            };
            let own = self.session.jid().clone();
            if s.kind == StanzaKind::Iq && s.iq_type() == Some(iot_xmpp::IqType::Set) {
                if let Ok((_, reply)) = self.roster.take_push(&s, &own) {
                    self.session.send(&reply).unwrap();
                }
                if done(self, None) {
                    return None;
                }
                continue;
            }
            self.presence.take(&s);
            if done(self, Some(&s)) {
                return Some(s);
            }
        }
        panic!("what {} waited for did not come", self.session.jid());
    }
}

#[test]
fn scram_over_starttls_binds_the_requested_resource() {
    for (name, addr) in servers() {
        let session = login(addr, config("alice", "secret", "scram-test"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            session.jid().to_string(),
            "alice@localhost/scram-test",
            "{name}"
        );
        assert!(!session.other_resource());
        // The transport gave the login its tls-exporter data. Prosody
        // (Debian's 0.12) offers no -PLUS mechanism: the client says `y`.
        // ejabberd 23.01 offers SCRAM-SHA-1-PLUS with `tls-unique` only,
        // which TLS 1.3 does not define, and lists no types (XEP-0440):
        // the client logs in unbound rather than fail.
        let mechanism = session.mechanism().unwrap();
        assert!(!mechanism.is_plus(), "{name}: {mechanism:?}");
        session.close().unwrap();
        // SCRAM-SHA-1 alone, the minimum of OIC RA section 7.2.
        let mut sha1 = config("alice", "secret", "sha1-test");
        sha1.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
        let session = login(addr, sha1).unwrap_or_else(|e| panic!("{name} with SCRAM-SHA-1: {e}"));
        session.close().unwrap();
    }
}

#[test]
fn a_wrong_password_is_refused() {
    for (name, addr) in servers() {
        match login(addr, config("alice", "not-the-password", "x")) {
            Err(NetError::Ended(End::Refused(ClientRefusal::AuthFailed { condition }))) => {
                assert_eq!(condition, "not-authorized", "{name}");
            }
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name} accepted a wrong password"),
        }
    }
}

#[test]
fn two_clients_subscribe_see_each_others_presence_and_talk() {
    for (name, addr) in servers() {
        let mut alice = Peer::new(
            login(addr, config("alice", "secret", "desk"))
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        let mut bob = Peer::new(
            login(addr, config("bob", "secret", "phone")).unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        let alice_bare = BareJid::new("alice@localhost").unwrap();
        let bob_bare = BareJid::new("bob@localhost").unwrap();
        for (peer, other) in [(&mut alice, &bob_bare), (&mut bob, &alice_bare)] {
            // A clean start: no item left from an earlier run.
            peer.session
                .send(&RosterQuery::set(
                    "clean",
                    &iot_xmpp::roster::RosterEntry::Removed(other.clone()),
                ))
                .unwrap();
            peer.wait(|_, s| s.is_some_and(|s| s.id.as_deref() == Some("clean")));
            peer.session
                .send(&RosterQuery::get("roster-1", None))
                .unwrap();
            let result = peer
                .wait(|_, s| s.is_some_and(|s| s.id.as_deref() == Some("roster-1")))
                .unwrap();
            peer.roster.take_result(&result).unwrap();
            // Initial presence, with a priority: subscription requests
            // reach available resources (RFC 6121 section 3.1.3).
            let available = Stanza::new(StanzaKind::Presence)
                .with_payload(Element::new("priority", "jabber:client").with_text("5"));
            peer.session.send(&available).unwrap();
        }
        let is_subscribe = |s: Option<&Stanza>| {
            s.is_some_and(|s| SubscriptionRequest::of(s) == Some(SubscriptionRequest::Subscribe))
        };
        // Each asks for the other's presence and approves the other.
        alice
            .session
            .send(&SubscriptionRequest::Subscribe.to(&bob_bare, "s1"))
            .unwrap();
        bob.wait(|_, s| is_subscribe(s));
        bob.session
            .send(&SubscriptionRequest::Subscribed.to(&alice_bare, "s2"))
            .unwrap();
        bob.session
            .send(&SubscriptionRequest::Subscribe.to(&alice_bare, "s3"))
            .unwrap();
        alice.wait(|_, s| is_subscribe(s));
        alice
            .session
            .send(&SubscriptionRequest::Subscribed.to(&bob_bare, "s4"))
            .unwrap();
        let bob_full = bob.session.jid().clone();
        let alice_full = alice.session.jid().clone();
        alice.wait(|p, _| p.presence.is_online(&bob_full));
        bob.wait(|p, _| p.presence.is_online(&alice_full));
        // Bob's resource with the priority it sent. Other resources of
        // bob may be online too: a session an earlier process left without
        // closing stays available while the server keeps it for
        // resumption (XEP-0198).
        let seen = alice.presence.resources(&bob_bare);
        assert!(seen.contains(&(bob_full.clone(), 5)), "{name}: {seen:?}");
        alice.wait(|p, _| {
            p.roster
                .get(&bob_bare)
                .is_some_and(|i| i.subscription == iot_xmpp::Subscription::Both)
        });
        // A message, routed by the server.
        let message = Stanza::new(StanzaKind::Message)
            .with_to(alice_full.clone())
            .with_type("chat")
            .with_payload(Element::new("body", "jabber:client").with_text("over TLS"));
        bob.session.send(&message).unwrap();
        let got = alice
            .wait(|_, s| s.is_some_and(|s| s.kind == StanzaKind::Message))
            .unwrap();
        assert_eq!(
            got.from.as_ref().map(ToString::to_string),
            Some(bob_full.to_string()),
            "{name}"
        );
        assert_eq!(got.payloads[0].text, "over TLS");
        // Bob leaves: Alice sees him go.
        bob.session.close().unwrap();
        alice.wait(|p, _| !p.presence.is_online(&bob_full));
        alice.session.close().unwrap();
    }
}

/// A message with `body` to `to`, named `id`.
fn note(to: &iot_xmpp::FullJid, id: &str, body: &str) -> Stanza {
    Stanza::new(StanzaKind::Message)
        .with_to(to.clone())
        .with_id(id)
        .with_payload(Element::new("body", "jabber:client").with_text(body))
}

/// The ids of the messages `session` receives within `wait`.
fn ids(session: &mut Session, wait: Duration) -> Vec<String> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + wait;
    while let Some(stanza) = session
        .recv(deadline.saturating_duration_since(std::time::Instant::now()))
        .unwrap()
    {
        if stanza.kind == StanzaKind::Message {
            got.extend(stanza.id);
        }
    }
    got
}

/// XEP-0198 against both servers (Prosody's `mod_smacks`, ejabberd's
/// `mod_stream_mgmt`): alice's link breaks with a stanza of hers not yet
/// written and one for her arriving while she is away; she resumes on a
/// new connection, the server hands her what she missed, and her held
/// stanza goes out once.
#[test]
fn a_lost_session_resumes_with_stanzas_in_flight_both_ways() {
    for (name, addr) in servers() {
        let mut alice = login(addr, config("alice", "secret", "sm")).unwrap();
        let mut bob = login(addr, config("bob", "secret", "sm")).unwrap();
        let (alice_jid, bob_jid) = (alice.jid().clone(), bob.jid().clone());
        alice.send(&note(&bob_jid, "a1", "before")).unwrap();
        assert_eq!(ids(&mut bob, Duration::from_secs(2)), ["a1"], "{name}");
        // Alice reads the server's acknowledgement.
        let _ = alice.recv(Duration::from_millis(500)).unwrap();
        assert_eq!(alice.unacknowledged(), 0, "{name}: a1 acknowledged");

        alice.hold(&note(&bob_jid, "a2", "held")).unwrap();
        let resumption = alice
            .lose_transport()
            .unwrap_or_else(|| panic!("{name} enables resumption"));
        assert_eq!(resumption.unacked.len(), 1, "{name}");
        // Bob writes to alice's session while she is away.
        bob.send(&note(&alice_jid, "b1", "while away")).unwrap();
        std::thread::sleep(Duration::from_millis(300));

        let (mut alice, lost) = Session::resume(
            config("alice", "secret", "sm"),
            resumption,
            &connector(addr),
        )
        .unwrap();
        assert_eq!(lost, None, "{name}: resumed");
        assert!(alice.is_resumed(), "{name}");
        assert_eq!(alice.jid(), &alice_jid, "{name}");
        assert_eq!(ids(&mut alice, Duration::from_secs(2)), ["b1"], "{name}");
        assert_eq!(ids(&mut bob, Duration::from_secs(2)), ["a2"], "{name}");
        assert_eq!(alice.unacknowledged(), 0, "{name}");
        alice.close().unwrap();
        bob.close().unwrap();
    }
}

/// A resumption the server does not know (a made-up id) is refused: the
/// connection logs in anew and says which stanzas may be lost.
#[test]
fn a_refused_resumption_logs_in_anew_and_names_what_may_be_lost() {
    for (name, addr) in servers() {
        let mut alice = login(addr, config("alice", "secret", "sm2")).unwrap();
        let bob_jid: iot_xmpp::FullJid = "bob@localhost/nowhere".parse().unwrap();
        let _ = alice.recv(Duration::from_millis(300)).unwrap();
        alice.hold(&note(&bob_jid, "a9", "held")).unwrap();
        let mut resumption = alice
            .lose_transport()
            .unwrap_or_else(|| panic!("{name} enables resumption"));
        resumption.id = "no-such-session".into();
        let (alice, lost) = Session::resume(
            config("alice", "secret", "sm2"),
            resumption,
            &connector(addr),
        )
        .unwrap();
        let lost = lost.unwrap_or_else(|| panic!("{name} refused the made-up id"));
        assert_eq!(
            lost.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            [Some("a9".to_owned())],
            "{name}"
        );
        assert!(!alice.is_resumed(), "{name}");
        alice.close().unwrap();
    }
}

/// The default roots are the platform's: a server whose certificate no
/// platform CA signed (the test servers' self-signed one) is refused, and
/// the error names the host and the address.
#[test]
fn the_platform_roots_refuse_a_self_signed_server() {
    for (name, addr) in servers() {
        let connector = iot_xmpp_net::Connector::new(&iot_xmpp_net::Roots::Platform)
            .unwrap()
            .address(addr)
            .wait(WAIT);
        match Session::login(config("alice", "secret", "roots"), &connector) {
            Err(NetError::Tls { host, addr: at, .. }) => {
                assert_eq!(host, "localhost", "{name}");
                assert_eq!(at, addr, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// The channel binding data the transport hands the client: over TLS 1.3
/// `tls-exporter` (32 bytes of keying material); over TLS 1.2
/// `tls-server-end-point`, the SHA-256 of the server's certificate (RFC
/// 5929 4.1: the test certificate is signed with SHA-256), checked against
/// the certificate file's own hash.
#[test]
fn the_binding_data_follows_the_tls_version() {
    use iot_xmpp::sasl::BindingType;
    use iot_xmpp::stream::Tls;
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest as _;

    let path = match example_io::xmpp::test_roots() {
        iot_xmpp_net::Roots::PemFile(path) => path,
        other => panic!("{other:?}"),
    };
    let pem = std::fs::read(&path).expect("the test certificate (bash .ci/xmpp-cert)");
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    let expected = sha2::Sha256::digest(der.as_ref()).to_vec();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    // `ring`, as the transport (deprecated by rustls 0.23.48).
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let only = |version: &'static rustls::SupportedProtocolVersion| {
        std::sync::Arc::new(
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[version])
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_no_client_auth(),
        )
    };
    for (name, _) in servers() {
        let direct = if name == "Prosody" {
            "127.0.0.1:15232"
        } else {
            "127.0.0.1:15233"
        };
        let tls12 = iot_xmpp_net::Connector::with_tls(only(&rustls::version::TLS12))
            .address(direct)
            .wait(WAIT);
        let transport = iot_xmpp_net::Transport::dial(&tls12, "localhost", Tls::Direct)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let binding = transport.channel_binding().unwrap();
        assert_eq!(binding.kind, BindingType::TlsServerEndPoint, "{name}");
        assert_eq!(binding.data.expose(), &expected, "{name}");

        let tls13 = iot_xmpp_net::Connector::with_tls(only(&rustls::version::TLS13))
            .address(direct)
            .wait(WAIT);
        let transport = iot_xmpp_net::Transport::dial(&tls13, "localhost", Tls::Direct)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let binding = transport.channel_binding().unwrap();
        assert_eq!(binding.kind, BindingType::TlsExporter, "{name}");
        assert_eq!(binding.data.expose().len(), 32, "{name}");
    }
}
