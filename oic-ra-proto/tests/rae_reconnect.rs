//! An RAE with a reconnection policy on a scripted server: a lost
//! connection resumed (XEP-0198) with its exchanges going on, a refused
//! resumption failing them and starting a new session that announces the
//! RAE again and registering its observes again, an attempt lost before
//! it resumed tried again later, a server without stream management logged
//! into anew, and the policy's delays.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use iot_sansio::backoff::BackoffConfig;
use iot_sansio::testing::{Checked, Scripted, events};
use iot_sansio::{End, Input, Machine, Secret};
use iot_xmpp::stream::Tls;
use iot_xmpp::testing::rfc5802_login;
use oic_ra_proto::endpoint::{EndpointEvent, Failure};
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent};
use oic_ra_proto::resource::ConnectionStatus;
use oic_ra_proto::rest::{Method, RestMessage};

const T0: Duration = Duration::ZERO;
const ME: &str = "user@localhost/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
const LIGHT: &str = "user@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";
const BIND: &str = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const BIND_SM: &str =
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";
const EMPTY_ROSTER: &str = "<iq type='result' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>";

type Endpoint = Checked<Rae<Duration, Scripted, rand_chacha::ChaCha20Rng>>;

/// The RFC 5802 client nonce, for `logins` logins.
fn nonces(logins: usize) -> Scripted {
    let nonce = base64::engine::general_purpose::STANDARD
        .decode("fyko+d2lbbFgONRv9qkxdawL")
        .unwrap();
    Scripted::new(&nonce.repeat(logins))
}

fn rae(logins: usize) -> Endpoint {
    let mut config = RaeConfig::new(
        ME.parse().unwrap(),
        Secret::new("pencil"),
        PriorityClass::ClientWithFeatures,
        50,
    )
    .unwrap();
    config.connection.tls = Tls::Insecure;
    config.connection.mechanisms =
        iot_xmpp::sasl::MechanismPreference::new(&[iot_xmpp::sasl::Mechanism::ScramSha1]);
    config.reconnect = Some(BackoffConfig {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(8),
        jitter: 0,
        stable_after: Duration::from_secs(60),
    });
    Checked::new(Rae::new(
        config,
        nonces(logins),
        iot_sansio::testing::rng(1),
    ))
}

fn sent(rae: &mut Endpoint) -> String {
    std::iter::from_fn(|| rae.poll_transmit())
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

fn feed(rae: &mut Endpoint, now: Duration, text: &str) {
    rae.handle_input(now, Input::Data(text.as_bytes()));
}

/// The login with stream management offered, up to the bind features
/// (`bound`: and the bind result).
fn login(bound: bool, sm: bool) -> String {
    let mut login = rfc5802_login(ME);
    if sm {
        login = login.replace(BIND, BIND_SM);
    }
    if bound {
        login
    } else {
        login[..login.find("<iq").unwrap()].to_owned()
    }
}

/// A new transport at `now`, and the login up to `<resume/>`: what the
/// RAE sent.
fn relogin(rae: &mut Endpoint, now: Duration) -> String {
    rae.connected(now);
    feed(rae, now, &login(false, true));
    sent(rae)
}

/// Online with stream management enabled, a request out to the light.
fn online_with_a_request() -> Endpoint {
    let mut rae = rae(3);
    rae.start(T0);
    feed(&mut rae, T0, &login(true, true));
    feed(
        &mut rae,
        T0,
        &format!("{EMPTY_ROSTER}<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='true'/>"),
    );
    let message = RestMessage::request(Method::Get, "coap://light/a/switch");
    rae.request(T0, &LIGHT.parse().unwrap(), &message).unwrap();
    sent(&mut rae);
    events(&mut rae);
    rae
}

/// Loses the transport at `at`; returns the events, and checks the RAE
/// asks for a new transport after `delay`.
fn lose(rae: &mut Endpoint, at: Duration, delay: Duration) -> Vec<RaeEvent> {
    rae.handle_input(at, Input::PeerClosed);
    let got = events(rae);
    assert!(got.contains(&RaeEvent::ConnectionLost), "{got:?}");
    assert!(
        !got.iter().any(|e| matches!(e, RaeEvent::Ended(_))),
        "{got:?}"
    );
    assert_eq!(rae.status(), &ConnectionStatus::Connecting);
    assert_eq!(rae.poll_timeout(), Some(at + delay));
    rae.handle_timeout(at + delay - Duration::from_millis(1));
    assert!(!events(rae).contains(&RaeEvent::Connect));
    rae.handle_timeout(at + delay);
    assert_eq!(events(rae), [RaeEvent::Connect]);
    got
}

#[test]
fn a_lost_connection_resumes_and_the_exchanges_go_on() {
    let mut rae = online_with_a_request();
    let at = Duration::from_secs(5);
    lose(&mut rae, at, Duration::from_secs(1));
    // A request made while the connection is down waits with the session.
    let message = RestMessage::request(Method::Get, "coap://light/a/level");
    rae.request(at, &LIGHT.parse().unwrap(), &message).unwrap();
    let now = at + Duration::from_secs(1);
    let out = relogin(&mut rae, now);
    assert!(out.contains("<resume xmlns=\"urn:xmpp:sm:3\""), "{out}");
    // The server had none of the RAE's stanzas since the enable: the
    // roster query, presence and IBB open go again.
    feed(
        &mut rae,
        now,
        "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='s1'/>",
    );
    let got = events(&mut rae);
    assert!(
        got.iter()
            .any(|e| matches!(e, RaeEvent::Resumed { resent } if *resent >= 3)),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|e| matches!(e, RaeEvent::Endpoint(EndpointEvent::Failed { .. }))),
        "the request is still out: {got:?}"
    );
    assert_eq!(rae.status(), &ConnectionStatus::Connected);
    let out = sent(&mut rae);
    assert_eq!(
        out.matches("<open xmlns=\"http://jabber.org/protocol/ibb\"")
            .count(),
        2,
        "both requests' sessions open: {out}"
    );
}

#[test]
fn a_refused_resumption_fails_the_exchanges_and_starts_a_new_session() {
    let mut rae = online_with_a_request();
    lose(&mut rae, T0, Duration::from_secs(1));
    let now = Duration::from_secs(1);
    relogin(&mut rae, now);
    feed(
        &mut rae,
        now,
        "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    );
    assert!(sent(&mut rae).contains("id=\"bind-2\""));
    let got = events(&mut rae);
    assert!(
        got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(EndpointEvent::Failed {
                reason: Failure::Disconnected,
                ..
            })
        )),
        "{got:?}"
    );
    feed(
        &mut rae,
        now,
        &format!(
            "<iq type='result' id='bind-2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{ME}</jid></bind></iq>"
        ),
    );
    let got = events(&mut rae);
    assert!(got.contains(&RaeEvent::NewSession), "{got:?}");
    assert_eq!(rae.status(), &ConnectionStatus::Connected);
    // Announced again: roster, presence with its priority, enable.
    let out = sent(&mut rae);
    assert!(out.contains("jabber:iq:roster"), "{out}");
    assert!(out.contains("<priority>50</priority>"), "{out}");
    assert!(out.contains("<enable "), "{out}");
}

#[test]
fn an_attempt_lost_before_it_resumed_is_tried_again_later() {
    let mut rae = online_with_a_request();
    lose(&mut rae, T0, Duration::from_secs(1));
    let now = Duration::from_secs(1);
    rae.connected(now);
    feed(&mut rae, now, &login(false, false)[..40]);
    // Lost again before anything: the next wait is twice as long, and
    // the same session is asked for.
    lose(&mut rae, now, Duration::from_secs(2));
    let now = now + Duration::from_secs(2);
    let out = relogin(&mut rae, now);
    assert!(out.contains("previd=\"s1\""), "{out}");
    feed(
        &mut rae,
        now,
        "<resumed xmlns='urn:xmpp:sm:3' h='3' previd='s1'/>",
    );
    let got = events(&mut rae);
    assert!(got.contains(&RaeEvent::Resumed { resent: 0 }), "{got:?}");
}

#[test]
fn without_stream_management_the_rae_logs_in_anew() {
    let mut rae = rae(2);
    rae.start(T0);
    feed(&mut rae, T0, &login(true, false));
    feed(&mut rae, T0, EMPTY_ROSTER);
    events(&mut rae);
    sent(&mut rae);
    let got = lose(&mut rae, T0, Duration::from_secs(1));
    // Nothing to resume: the session is over at once.
    assert!(got.contains(&RaeEvent::ConnectionLost));
    let now = Duration::from_secs(1);
    rae.connected(now);
    // The connection's ids go on from the last one's.
    feed(
        &mut rae,
        now,
        &login(true, false).replace("id='bind-1'", "id='bind-2'"),
    );
    let got = events(&mut rae);
    assert!(got.contains(&RaeEvent::NewSession), "{got:?}");
    assert_eq!(rae.status(), &ConnectionStatus::Connected);
}

#[test]
fn a_leave_while_reconnecting_ends_at_once() {
    let mut rae = online_with_a_request();
    lose(&mut rae, T0, Duration::from_secs(1));
    rae.close(Duration::from_secs(1));
    let got = events(&mut rae);
    assert!(
        matches!(got.last(), Some(RaeEvent::Ended(End::Closed))),
        "{got:?}"
    );
    // Nothing asked for before the policy's delay is honoured: connected
    // without a Connect does nothing.
    let mut rae = online_with_a_request();
    rae.handle_input(T0, Input::PeerClosed);
    events(&mut rae);
    rae.connected(T0);
    assert_eq!(sent(&mut rae), "");
}

#[test]
fn without_a_policy_the_rae_ends_with_its_connection() {
    let mut config = RaeConfig::new(
        ME.parse().unwrap(),
        Secret::new("pencil"),
        PriorityClass::ClientWithFeatures,
        50,
    )
    .unwrap();
    config.connection.tls = Tls::Insecure;
    config.connection.mechanisms =
        iot_xmpp::sasl::MechanismPreference::new(&[iot_xmpp::sasl::Mechanism::ScramSha1]);
    let mut rae: Endpoint = Checked::new(Rae::new(config, nonces(1), iot_sansio::testing::rng(1)));
    rae.start(T0);
    feed(&mut rae, T0, &login(true, true));
    rae.handle_input(T0, Input::PeerClosed);
    let got = events(&mut rae);
    assert!(
        matches!(got.last(), Some(RaeEvent::Ended(End::PeerClosed))),
        "{got:?}"
    );
}

/// The value of `attr` in the first element of `out` that starts with
/// `element` (`<open`, say), written with double quotes.
fn attr(out: &str, element: &str, attr: &str) -> String {
    let at = out
        .find(element)
        .unwrap_or_else(|| panic!("no {element} in {out}"));
    let rest = &out[at..];
    let start = rest.find(&format!(" {attr}=\"")).unwrap() + attr.len() + 3;
    rest[start..start + rest[start..].find('"').unwrap()].to_owned()
}

/// The id of the `iq` that carries `element`.
fn iq_id(out: &str, element: &str) -> String {
    let at = out.find(element).unwrap();
    let iq = out[..at].rfind("<iq").unwrap();
    attr(&out[iq..], "<iq", "id")
}

/// The light's side of one exchange on the wire: accepts the client's
/// IBB session (data in messages), takes its request block, and answers
/// with `response` in one block of its own. Returns the request's text.
fn light_answers(rae: &mut Endpoint, now: Duration, response: &RestMessage) -> String {
    let out = sent(rae);
    let sid = attr(&out, "<open", "sid");
    let open = iq_id(&out, "<open");
    feed(
        rae,
        now,
        &format!("<iq type='result' id='{open}' from='{LIGHT}' to='{ME}'/>"),
    );
    let out = sent(rae);
    let at = out
        .find("<data")
        .unwrap_or_else(|| panic!("no request: {out}"));
    let block = &out[out[at..].find('>').unwrap() + at + 1..];
    let block = &block[..block.find('<').unwrap()];
    let request = base64::engine::general_purpose::STANDARD
        .decode(block)
        .unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(response.to_xml());
    feed(
        rae,
        now,
        &format!(
            "<message id='l-{sid}' from='{LIGHT}' to='{ME}'><data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='{sid}'>{body}</data></message>"
        ),
    );
    String::from_utf8(request).unwrap()
}

/// An observe registered (the light said `200`), then the connection
/// lost and its resumption refused: returns the RAE with the resumption
/// refused and the new session not yet bound, the observe's id, and the
/// request as the light read it.
fn observe_then_refused_resumption() -> (Endpoint, oic_ra_proto::endpoint::RequestId, String) {
    let mut rae = online_with_a_request();
    let light: oic_ra_proto::identity::FullJid = LIGHT.parse().unwrap();
    let observe =
        RestMessage::request(Method::Get, "coap://light/a/switch").with_header("Observe", "0");
    let id = rae.request(T0, &light, &observe).unwrap();
    let on = RestMessage::response(200, "OK").with_json(&serde_json::json!({"value": true}));
    let first = light_answers(&mut rae, T0, &on);
    assert!(first.contains("coap://light/a/switch"), "{first}");
    let got = events(&mut rae);
    assert!(
        got.iter().any(
            |e| matches!(e, RaeEvent::Endpoint(EndpointEvent::Response { id: i, .. }) if *i == id)
        ),
        "{got:?}"
    );
    lose(&mut rae, T0, Duration::from_secs(1));
    relogin(&mut rae, Duration::from_secs(1));
    feed(
        &mut rae,
        Duration::from_secs(1),
        "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    );
    (rae, id, first)
}

/// The new session is bound at 1 s.
fn bind_new_session(rae: &mut Endpoint) {
    feed(
        rae,
        Duration::from_secs(1),
        &format!(
            "<iq type='result' id='bind-2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{ME}</jid></bind></iq>"
        ),
    );
    assert!(events(rae).contains(&RaeEvent::NewSession));
}

fn failed(got: &[RaeEvent], id: oic_ra_proto::endpoint::RequestId) -> Option<&Failure> {
    got.iter().find_map(|e| match e {
        RaeEvent::Endpoint(EndpointEvent::Failed { id: i, reason }) if *i == id => Some(reason),
        _ => None,
    })
}

/// An observe registered before a new session is registered again on it,
/// under the same id, on a session of its own; the light's answer there
/// is the observe's next notification. A plain request of the old
/// session fails.
#[test]
fn a_new_session_registers_the_observes_again() {
    let (mut rae, id, first) = observe_then_refused_resumption();
    let got = events(&mut rae);
    assert!(
        got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(EndpointEvent::Failed {
                reason: Failure::Disconnected,
                ..
            })
        )),
        "the plain request fails: {got:?}"
    );
    assert_eq!(failed(&got, id), None, "the observe does not: {got:?}");
    let bind = sent(&mut rae);
    assert!(
        !bind.contains("<open"),
        "nothing before the session is bound: {bind}"
    );
    bind_new_session(&mut rae);

    // The same request, observe and all, goes again; the light's answer
    // is a notification of the same observe.
    let now = Duration::from_secs(1);
    let off = RestMessage::response(200, "OK").with_json(&serde_json::json!({"value": false}));
    assert_eq!(light_answers(&mut rae, now, &off), first);
    let got = events(&mut rae);
    assert!(
        got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(EndpointEvent::Notification { id: i, message })
                if *i == id && message.body.as_deref().is_some_and(|b| b.contains("false"))
        )),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(EndpointEvent::Response { .. } | EndpointEvent::Failed { .. })
        )),
        "{got:?}"
    );
}

/// The light refuses the observe on the new session: the refusal is the
/// last notification, and the observe ends (`Closed`); a light that never
/// answers fails it at the request timeout.
#[test]
fn a_refused_or_unanswered_registration_ends_the_observe() {
    let (mut rae, id, _) = observe_then_refused_resumption();
    events(&mut rae);
    bind_new_session(&mut rae);
    let now = Duration::from_secs(1);
    let refused = RestMessage::response(404, "Not Found");
    light_answers(&mut rae, now, &refused);
    let got = events(&mut rae);
    assert!(
        got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(EndpointEvent::Notification { id: i, .. }) if *i == id
        )),
        "{got:?}"
    );
    assert_eq!(failed(&got, id), Some(&Failure::Closed), "{got:?}");

    let (mut rae, id, _) = observe_then_refused_resumption();
    events(&mut rae);
    bind_new_session(&mut rae);
    let timeout = oic_ra_proto::endpoint::EndpointConfig::default().request_timeout;
    rae.handle_timeout(now + timeout);
    assert_eq!(failed(&events(&mut rae), id), Some(&Failure::TimedOut));
}

/// An RAE that leaves before the new session is bound fails the observes
/// waiting for it.
#[test]
fn a_leave_before_the_new_session_fails_the_waiting_observes() {
    let (mut rae, id, _) = observe_then_refused_resumption();
    assert_eq!(failed(&events(&mut rae), id), None);
    rae.close(Duration::from_secs(1));
    assert_eq!(failed(&events(&mut rae), id), Some(&Failure::Disconnected));
}
