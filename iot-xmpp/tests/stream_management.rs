//! Stream management (XEP-0198) on the client connection, against
//! scripted servers: enabling it once bound, acknowledgements both ways,
//! a session resumed on a new connection with stanzas in flight both ways,
//! resumption refused and the fall-back to a new session, a dead
//! connection found by an unanswered request, and each fault.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::testing::{Checked, Scripted, events};
use iot_sansio::{End, Input, Machine, Secret};
use iot_xmpp::sasl::{Mechanism, MechanismPreference};
use iot_xmpp::stream::{
    Client, ClientConfig, ClientError, ClientEvent, ClientFault, Resumption, StreamManagement, Tls,
};
use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
use iot_xmpp::{BareJid, Stanza, StanzaKind};

const T0: Duration = Duration::ZERO;
const BIND: &str = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const BIND_SM: &str =
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
const ENABLE: &str = "<enable xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/>";
const R: &str = "<r xmlns=\"urn:xmpp:sm:3\"/>";

type Conn = Checked<Client<Duration, Scripted>>;

fn config() -> ClientConfig {
    let mut c = ClientConfig::new(
        BareJid::new("user@localhost").unwrap(),
        Secret::new("pencil"),
        Some("r1".into()),
    );
    c.tls = Tls::Insecure;
    c.mechanisms = MechanismPreference::new(&[Mechanism::ScramSha1]);
    c
}

/// The login of RFC 5802's user, the bind features offering stream
/// management; `bound` says whether the bind result follows.
fn login(bound: bool) -> String {
    let login = rfc5802_login("user@localhost/r1").replace(BIND, BIND_SM);
    if bound {
        login
    } else {
        login[..login.find("<iq").unwrap()].to_owned()
    }
}

fn sent(c: &mut Conn) -> String {
    std::iter::from_fn(|| c.poll_transmit())
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

fn feed(c: &mut Conn, now: Duration, text: &str) {
    c.handle_input(now, Input::Data(text.as_bytes()));
}

fn message(id: &str) -> Stanza {
    Stanza::new(StanzaKind::Message)
        .with_id(id)
        .with_to("a@localhost/x".parse::<iot_xmpp::Jid>().unwrap())
}

/// A client logged in with stream management enabled (resumable as `s1`).
fn enabled() -> Conn {
    let mut c = Checked::new(Client::new(config(), rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    let out = sent(&mut c);
    assert!(out.ends_with(ENABLE), "{out}");
    feed(
        &mut c,
        T0,
        "<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true' max='300'/>",
    );
    assert!(matches!(
        events(&mut c).as_slice(),
        [ClientEvent::Online { .. }]
    ));
    c
}

#[test]
fn acknowledgements_go_both_ways() {
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    c.send(&message("m2")).unwrap();
    c.send(&message("m3")).unwrap();
    // One request out at a time: after the first stanza.
    let out = sent(&mut c);
    assert_eq!(out.matches(R).count(), 1, "{out}");
    assert!(out.find(R).unwrap() > out.find("m1").unwrap());
    assert_eq!(c.unacknowledged().count(), 3);
    feed(&mut c, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    // Two wait still: asked again.
    assert_eq!(sent(&mut c), R);
    feed(&mut c, T0, "<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(c.unacknowledged().count(), 0);
    assert_eq!(sent(&mut c), "");
    // The server's request is answered with what the client handled.
    feed(
        &mut c,
        T0,
        "<message from='a@localhost/x' id='x1'/><message from='a@localhost/x' id='x2'/><r xmlns='urn:xmpp:sm:3'/>",
    );
    assert_eq!(sent(&mut c), "<a xmlns=\"urn:xmpp:sm:3\" h=\"2\"/>");
    assert_eq!(events(&mut c).len(), 2);
}

/// A session with stanzas in flight both ways when its transport is lost.
fn lost() -> Resumption {
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    c.send(&message("m2")).unwrap();
    feed(
        &mut c,
        T0,
        "<a xmlns='urn:xmpp:sm:3' h='1'/><message from='a@localhost/x' id='x1'/><message from='a@localhost/x' id='x2'/>",
    );
    c.handle_input(T0, Input::PeerClosed);
    assert!(matches!(
        events(&mut c).last(),
        Some(ClientEvent::Ended(End::PeerClosed))
    ));
    let resumption = c.resumption().unwrap();
    assert_eq!(resumption.id, "s1");
    assert_eq!(resumption.jid.to_string(), "user@localhost/r1");
    assert_eq!((resumption.handled, resumption.acked), (2, 1));
    assert_eq!(resumption.unacked, vec![message("m2")]);
    resumption
}

#[test]
fn a_lost_session_resumes_and_what_the_server_lacked_goes_again() {
    let resumption = lost();
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), resumption));
    c.start(T0);
    feed(&mut c, T0, &login(false));
    let out = sent(&mut c);
    assert!(
        out.ends_with("<resume xmlns=\"urn:xmpp:sm:3\" h=\"2\" previd=\"s1\"/>"),
        "{out}"
    );
    assert!(!out.contains("bind"), "{out}");
    // The server got m2 before the loss (h=2): nothing to send again.
    feed(
        &mut c,
        T0,
        "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='s1'/>",
    );
    let out = sent(&mut c);
    assert!(out.starts_with(&message("m2").to_xml()), "{out}");
    assert!(out.ends_with(R), "{out}");
    assert_eq!(
        events(&mut c),
        [ClientEvent::Resumed {
            jid: "user@localhost/r1".parse().unwrap(),
            resent: 1
        }]
    );
    assert!(c.is_online());
    // Counting goes on from the old session's counts.
    feed(
        &mut c,
        T0,
        "<a xmlns='urn:xmpp:sm:3' h='2'/><message from='a@localhost/x' id='x3'/><r xmlns='urn:xmpp:sm:3'/>",
    );
    assert_eq!(sent(&mut c), "<a xmlns=\"urn:xmpp:sm:3\" h=\"3\"/>");
    assert_eq!(c.unacknowledged().count(), 0);
}

#[test]
fn a_refused_resumption_falls_back_to_a_new_session() {
    let resumption = lost();
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), resumption));
    c.start(T0);
    feed(&mut c, T0, &login(false));
    sent(&mut c);
    feed(
        &mut c,
        T0,
        "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    );
    // The application learns what may be lost; the client binds anew.
    assert_eq!(
        events(&mut c),
        [ClientEvent::ResumeFailed {
            unacknowledged: vec![message("m2")]
        }]
    );
    let out = sent(&mut c);
    assert!(out.contains("<bind"), "{out}");
    feed(
        &mut c,
        T0,
        "<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r1</jid></bind></iq>",
    );
    assert!(matches!(
        events(&mut c).as_slice(),
        [ClientEvent::Online { .. }]
    ));
    assert_eq!(sent(&mut c), ENABLE);
}

#[test]
fn a_refusal_that_counts_what_arrived_keeps_only_the_rest_as_lost() {
    let mut resumption = lost();
    resumption.unacked.push(message("m3"));
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), resumption));
    c.start(T0);
    feed(&mut c, T0, &login(false));
    sent(&mut c);
    feed(
        &mut c,
        T0,
        "<failed xmlns='urn:xmpp:sm:3' h='2'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    );
    assert_eq!(
        events(&mut c),
        [ClientEvent::ResumeFailed {
            unacknowledged: vec![message("m3")]
        }]
    );
}

#[test]
fn a_server_that_no_longer_offers_it_gets_a_new_session() {
    let resumption = lost();
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), resumption));
    c.start(T0);
    feed(&mut c, T0, &rfc5802_login("user@localhost/r1"));
    let found = events(&mut c);
    assert!(
        matches!(
            found.as_slice(),
            [
                ClientEvent::ResumeFailed { unacknowledged },
                ClientEvent::Online { .. }
            ] if unacknowledged == &vec![message("m2")]
        ),
        "{found:?}"
    );
    // Not offered: not enabled.
    assert!(!sent(&mut c).contains("enable"));
    c.send(&message("m9")).unwrap();
    assert!(!sent(&mut c).contains("<r "));
}

#[test]
fn an_unanswered_request_ends_the_connection_and_it_may_be_resumed() {
    let mut c = enabled();
    let at = Duration::from_secs(5);
    feed(&mut c, at, "<message from='a@localhost/x' id='x1'/>");
    assert_eq!(events(&mut c).len(), 1);
    c.send(&message("m1")).unwrap();
    assert!(sent(&mut c).ends_with(R));
    // Timed from the last instant the connection was given.
    assert_eq!(c.poll_timeout(), Some(at + Duration::from_secs(30)));
    c.handle_timeout(at + Duration::from_secs(29));
    assert!(events(&mut c).is_empty());
    c.handle_timeout(at + Duration::from_secs(30));
    assert_eq!(events(&mut c), [ClientEvent::Ended(End::TimedOut)]);
    let resumption = c.resumption().unwrap();
    assert_eq!(resumption.unacked, vec![message("m1")]);
    assert_eq!(resumption.handled, 1);
}

#[test]
fn an_answered_request_stops_the_clock() {
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    sent(&mut c);
    assert!(c.poll_timeout().is_some());
    feed(&mut c, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn a_closed_stream_is_not_resumed() {
    // Closed by the client.
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    c.close(T0);
    feed(&mut c, T0, "</stream:stream>");
    assert_eq!(events(&mut c), [ClientEvent::Ended(End::Closed)]);
    assert_eq!(c.resumption(), None);
    // What was not acknowledged is still said.
    assert_eq!(c.unacknowledged().count(), 1);
    // Closed by the server.
    let mut c = enabled();
    feed(&mut c, T0, "</stream:stream>");
    assert_eq!(events(&mut c), [ClientEvent::Ended(End::PeerClosed)]);
    assert_eq!(c.resumption(), None);
    // Live: nothing to resume yet.
    let c = enabled();
    assert_eq!(c.resumption(), None);
}

#[test]
fn a_session_enabled_without_resumption_is_not_resumed() {
    let mut c = Checked::new(Client::new(config(), rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    feed(&mut c, T0, "<enabled xmlns='urn:xmpp:sm:3'/>");
    c.send(&message("m1")).unwrap();
    assert!(sent(&mut c).ends_with(R));
    c.handle_input(T0, Input::PeerClosed);
    assert_eq!(c.resumption(), None);
    assert_eq!(c.unacknowledged().count(), 1);
}

#[test]
fn a_refused_enable_leaves_the_stream_as_it_was() {
    let mut c = Checked::new(Client::new(config(), rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    // Sent before the answer: counted, then forgotten with the refusal.
    c.send(&message("m1")).unwrap();
    let out = sent(&mut c);
    assert!(!out.contains("<r "), "no request before <enabled/>: {out}");
    feed(
        &mut c,
        T0,
        "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    );
    assert_eq!(c.unacknowledged().count(), 0);
    c.send(&message("m2")).unwrap();
    assert!(!sent(&mut c).contains("<r "));
    assert!(c.is_online());
}

#[test]
fn stream_management_can_be_turned_off() {
    let mut config = config();
    config.stream_management = StreamManagement::off();
    let mut c = Checked::new(Client::new(config, rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    assert!(!sent(&mut c).contains("enable"));
}

#[test]
fn the_backlog_is_bounded() {
    let mut config = config();
    config.stream_management.max_unacked = 2;
    let mut c = Checked::new(Client::new(config, rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    feed(
        &mut c,
        T0,
        "<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>",
    );
    c.send(&message("m1")).unwrap();
    c.send(&message("m2")).unwrap();
    assert_eq!(c.send(&message("m3")), Err(ClientError::Backlog));
    feed(&mut c, T0, "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    c.send(&message("m3")).unwrap();
}

/// The fault a server's element makes, and the stream error sent for it.
fn fault_of(element: &str) -> (ClientFault, String) {
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    sent(&mut c);
    feed(&mut c, T0, element);
    let out = sent(&mut c);
    match events(&mut c).as_slice() {
        [ClientEvent::Ended(End::PeerFault(f))] => (f.clone(), out),
        other => panic!("{element}: {other:?}"),
    }
}

#[test]
fn an_acknowledgement_beyond_what_was_sent_is_a_stream_error() {
    let (fault, out) = fault_of("<a xmlns='urn:xmpp:sm:3' h='2'/>");
    assert!(matches!(fault, ClientFault::StreamManagement(_)), "{fault}");
    assert!(out.contains("undefined-condition"), "{out}");
}

#[test]
fn an_acknowledgement_without_a_count_is_a_fault() {
    for element in [
        "<a xmlns='urn:xmpp:sm:3'/>",
        "<a xmlns='urn:xmpp:sm:3' h='-1'/>",
        "<a xmlns='urn:xmpp:sm:3' h='4294967296'/>",
    ] {
        let (fault, _) = fault_of(element);
        assert!(
            matches!(fault, ClientFault::StreamManagement(_)),
            "{element}: {fault}"
        );
    }
}

#[test]
fn an_element_out_of_place_is_a_fault() {
    for element in [
        "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='s1'/>",
        "<enabled xmlns='urn:xmpp:sm:3'/>",
        "<bogus xmlns='urn:xmpp:sm:3'/>",
    ] {
        let (fault, _) = fault_of(element);
        assert!(
            matches!(fault, ClientFault::Unexpected { .. }),
            "{element}: {fault}"
        );
    }
    // And <resume/>'s answer must be one of the two.
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), lost()));
    c.start(T0);
    feed(&mut c, T0, &login(false));
    feed(&mut c, T0, "<enabled xmlns='urn:xmpp:sm:3'/>");
    assert!(matches!(
        events(&mut c).as_slice(),
        [ClientEvent::Ended(End::PeerFault(
            ClientFault::Unexpected { .. }
        ))]
    ));
}

/// What the application sends while its session waits to be resumed is
/// kept with the session and goes once resumed, in order.
#[test]
fn stanzas_sent_while_the_session_waits_go_when_it_resumes() {
    let mut c = enabled();
    c.send(&message("m1")).unwrap();
    sent(&mut c);
    c.handle_input(T0, Input::PeerClosed);
    events(&mut c);
    c.send(&message("m2")).unwrap();
    let resumption = c.resumption().unwrap();
    assert_eq!(resumption.unacked, vec![message("m1"), message("m2")]);
    let mut c = Checked::new(Client::resume(config(), rfc5802_nonce(), resumption));
    c.start(T0);
    // Before the login, and while <resume/> is out.
    c.send(&message("m3")).unwrap();
    feed(&mut c, T0, &login(false));
    c.send(&message("m4")).unwrap();
    sent(&mut c);
    feed(
        &mut c,
        T0,
        "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='s1'/>",
    );
    let out = sent(&mut c);
    let order: Vec<usize> = ["m2", "m3", "m4"]
        .iter()
        .map(|id| out.find(&format!("id=\"{id}\"")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(!out.contains("id=\"m1\""), "acknowledged: {out}");
    assert!(matches!(
        events(&mut c).as_slice(),
        [ClientEvent::Resumed { resent: 3, .. }]
    ));
    // A connection lost again before <resumed/> keeps all of them.
    let mut c = enabled();
    c.handle_input(T0, Input::PeerClosed);
    c.send(&message("m5")).unwrap();
    let mut again = Checked::new(Client::resume(
        config(),
        rfc5802_nonce(),
        c.resumption().unwrap(),
    ));
    again.start(T0);
    again.send(&message("m6")).unwrap();
    again.handle_input(T0, Input::PeerClosed);
    let kept = again.resumption().unwrap();
    assert_eq!(kept.unacked, vec![message("m5"), message("m6")]);
    // Without a session to resume, nothing is kept.
    let mut config = config();
    config.stream_management = StreamManagement::off();
    let mut c = Checked::new(Client::new(config, rfc5802_nonce()));
    c.start(T0);
    feed(&mut c, T0, &login(true));
    c.handle_input(T0, Input::PeerClosed);
    assert_eq!(c.send(&message("m7")), Err(ClientError::NotOnline));
}
