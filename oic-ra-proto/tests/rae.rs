//! The Remote Access Endpoint on a scripted server (the RFC 5802 login):
//! the oic.ra.xmpp status through Figure 4, the role's priority announced,
//! another resource bound (7.2: disconnect), the keepalive's unanswered
//! ping (7.4), peers from presence, and the close.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::testing::{Checked, Scripted, events};
use iot_sansio::{End, Input, Machine, Secret};
use iot_xmpp::stream::Tls;
use iot_xmpp::testing::{rfc5802_login, rfc5802_nonce};
use iot_xmpp::{DefinedCondition, IqFailure};
use oic_ra_proto::presence::PriorityClass;
use oic_ra_proto::rae::{Rae, RaeConfig, RaeEvent, RaeRefusal};
use oic_ra_proto::resource::ConnectionStatus;

const T0: Duration = Duration::ZERO;
const ME: &str = "user@localhost/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
const LIGHT: &str = "user@localhost/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

type Endpoint = Checked<Rae<Duration, Scripted, rand_chacha::ChaCha20Rng>>;

fn rae() -> Endpoint {
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
    Checked::new(Rae::new(
        config,
        rfc5802_nonce(),
        iot_sansio::testing::rng(1),
    ))
}

fn sent(rae: &mut Endpoint) -> String {
    std::iter::from_fn(|| rae.poll_transmit())
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

/// An RAE logged in on the scripted server; returns what it sent after
/// binding.
fn online() -> (Endpoint, String) {
    let mut rae = rae();
    rae.start(T0);
    sent(&mut rae);
    rae.handle_input(T0, Input::Data(rfc5802_login(ME).as_bytes()));
    let out = sent(&mut rae);
    let after_bind = out[out.find("bind-1").unwrap()..].to_owned();
    (rae, after_bind)
}

#[test]
fn the_status_follows_figure_4_and_the_priority_is_announced() {
    let (mut rae, out) = online();
    assert_eq!(
        events(&mut rae),
        [
            RaeEvent::Status(ConnectionStatus::Connecting),
            RaeEvent::Status(ConnectionStatus::Connected)
        ]
    );
    assert_eq!(rae.status(), &ConnectionStatus::Connected);
    // The role's priority (7.3) and the roster request.
    assert!(out.contains("<priority>50</priority>"), "{out}");
    assert!(out.contains("jabber:iq:roster"), "{out}");
    // The server's stream ends: the status is Error with the reason, and
    // the end comes once (the endpoint inside has no end of its own to
    // report: it ends with the RAE).
    rae.handle_input(T0, Input::PeerClosed);
    let got = events(&mut rae);
    assert!(
        matches!(&got[..], [RaeEvent::Status(ConnectionStatus::Error(r)), RaeEvent::Ended(End::PeerClosed)] if r.contains("closed")),
        "{got:?}"
    );
}

#[test]
fn another_bound_resource_ends_the_connection() {
    let mut rae = rae();
    rae.start(T0);
    sent(&mut rae);
    let other = "user@localhost/OIC/1.0/Client/00000000-0000-0000-0000-000000000000";
    rae.handle_input(T0, Input::Data(rfc5802_login(other).as_bytes()));
    let out = sent(&mut rae);
    assert!(out.ends_with("</stream:stream>"), "it leaves: {out}");
    assert!(
        !out.contains("<priority>"),
        "no presence under the wrong JID"
    );
    let got = events(&mut rae);
    assert!(matches!(
        got.last(),
        Some(RaeEvent::Ended(End::Refused(RaeRefusal::OtherResource { bound }))) if bound.to_string() == other
    ));
    assert!(matches!(rae.status(), ConnectionStatus::Error(_)));
    // Ended, it sets no timer, though its close still waits for the
    // server's (found by the oic_rae fuzz target), and takes no input.
    assert_eq!(rae.poll_timeout(), None);
    rae.handle_input(T0, Input::Data(b"</stream:stream>"));
    assert!(events(&mut rae).is_empty() && sent(&mut rae).is_empty());
}

#[test]
fn an_unanswered_keepalive_ends_the_connection() {
    let (mut rae, _) = online();
    rae.handle_input(T0, Input::Data(EMPTY_ROSTER));
    events(&mut rae);
    // Silence for the interval: a ping to the server.
    let interval = rae.poll_timeout().unwrap();
    assert_eq!(interval, Duration::from_secs(60));
    rae.handle_timeout(interval);
    let out = sent(&mut rae);
    assert!(out.contains("urn:xmpp:ping"), "{out}");
    // No answer within the timeout.
    let deadline = rae.poll_timeout().unwrap();
    rae.handle_timeout(deadline);
    let got = events(&mut rae);
    assert!(
        matches!(got.last(), Some(RaeEvent::Ended(End::TimedOut))),
        "{got:?}"
    );
    assert!(matches!(rae.status(), ConnectionStatus::Error(_)));
    // A server ping is answered while online.
    let (mut rae, _) = online();
    rae.handle_input(
        T0,
        Input::Data(b"<iq from='localhost' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"),
    );
    let out = sent(&mut rae);
    assert!(out.contains(r#"type="result" id="p1""#), "{out}");
}

#[test]
fn peers_come_and_go_with_their_presence() {
    let (mut rae, _) = online();
    events(&mut rae);
    let presence = format!("<presence from='{LIGHT}'><priority>10</priority></presence>");
    rae.handle_input(T0, Input::Data(presence.as_bytes()));
    // Its own presence echoed back is not a peer.
    rae.handle_input(
        T0,
        Input::Data(format!("<presence from='{ME}'/>").as_bytes()),
    );
    // A non-OIC resource is not an RAE.
    rae.handle_input(T0, Input::Data(b"<presence from='user@localhost/laptop'/>"));
    let got = events(&mut rae);
    assert!(
        matches!(&got[..], [RaeEvent::PeerOnline { jid, priority: 10 }] if jid.jid().to_string() == LIGHT),
        "{got:?}"
    );
    assert_eq!(rae.peers().len(), 1);
    rae.handle_input(
        T0,
        Input::Data(format!("<presence from='{LIGHT}' type='unavailable'/>").as_bytes()),
    );
    assert!(matches!(&events(&mut rae)[..], [RaeEvent::PeerOffline(j)] if j.to_string() == LIGHT));
    assert!(rae.peers().is_empty());
    // A roster push from the own account is answered and reported.
    rae.handle_input(
        T0,
        Input::Data(b"<iq type='set' id='push1'><query xmlns='jabber:iq:roster'><item jid='friend@localhost' subscription='both'/></query></iq>"),
    );
    assert!(sent(&mut rae).contains(r#"type="result" id="push1""#));
    assert!(matches!(&events(&mut rae)[..], [RaeEvent::Roster(_)]));
}

/// The server's answer to the roster request, empty.
const EMPTY_ROSTER: &[u8] =
    b"<iq type='result' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>";

/// RFC 6121 2.2: the roster is requested before initial presence, and its
/// request fails in time like every other `iq`, or with the server's
/// error; the RAE goes on.
#[test]
fn the_roster_comes_before_presence_and_its_request_has_a_deadline() {
    let (mut rae, out) = online();
    let roster = out.find("jabber:iq:roster").unwrap();
    let presence = out.find("<priority>").unwrap();
    assert!(roster < presence, "{out}");
    events(&mut rae);
    let due = rae.poll_timeout().unwrap();
    assert_eq!(due, Duration::from_secs(30));
    rae.handle_timeout(due);
    assert_eq!(
        events(&mut rae),
        [RaeEvent::RosterFailed(IqFailure::TimedOut)]
    );
    assert_eq!(rae.status(), &ConnectionStatus::Connected);
    let (mut rae, _) = online();
    events(&mut rae);
    rae.handle_input(
        T0,
        Input::Data(b"<iq type='error' id='roster-1'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"),
    );
    assert_eq!(
        events(&mut rae),
        [RaeEvent::RosterFailed(IqFailure::Error(
            DefinedCondition::ServiceUnavailable
        ))]
    );
    assert_eq!(rae.poll_timeout(), Some(Duration::from_secs(60)));
}

/// RFC 6120 8.2.3: an `iq` request the RAE does not handle (a disco#info
/// query) is answered `service-unavailable`, and so is a roster push from
/// another entity (RFC 6121 2.1.6: not processed); a message it does not
/// handle goes to the application.
#[test]
fn requests_the_rae_does_not_handle_are_answered() {
    let (mut rae, _) = online();
    rae.handle_input(T0, Input::Data(EMPTY_ROSTER));
    events(&mut rae);
    for (iq, id) in [
        (
            format!(
                "<iq from='{LIGHT}' type='get' id='disco1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
            ),
            "disco1",
        ),
        (
            format!(
                "<iq from='{LIGHT}' type='set' id='push2'><query xmlns='jabber:iq:roster'><item jid='x@localhost'/></query></iq>"
            ),
            "push2",
        ),
    ] {
        rae.handle_input(T0, Input::Data(iq.as_bytes()));
        let out = sent(&mut rae);
        assert!(
            out.contains(&format!(r#"type="error" id="{id}""#))
                && out.contains("<service-unavailable "),
            "{out}"
        );
        assert!(events(&mut rae).is_empty());
    }
    let chat = format!("<message from='{LIGHT}' type='chat'><body>hi</body></message>");
    rae.handle_input(T0, Input::Data(chat.as_bytes()));
    assert!(sent(&mut rae).is_empty());
    assert!(
        matches!(&events(&mut rae)[..], [RaeEvent::Stanza(s)] if s.kind == iot_xmpp::StanzaKind::Message)
    );
}

/// During a subscription handshake the server sends an unavailable
/// presence from the peer's bare JID (RFC 6121 probe semantics): the
/// session its online resource just opened goes on; an unavailable
/// presence from that resource ends it.
#[test]
fn a_bare_unavailable_presence_spares_the_sessions_of_online_resources() {
    let (mut rae, _) = online();
    rae.handle_input(T0, Input::Data(EMPTY_ROSTER));
    let light_online = format!("<presence from='{LIGHT}'><priority>-50</priority></presence>");
    rae.handle_input(T0, Input::Data(light_online.as_bytes()));
    let open = format!(
        "<iq from='{LIGHT}' to='{ME}' type='set' id='o1'><open xmlns='http://jabber.org/protocol/ibb' sid='s1' block-size='4096' stanza='message'/></iq>"
    );
    rae.handle_input(T0, Input::Data(open.as_bytes()));
    assert!(sent(&mut rae).contains(r#"type="result" id="o1""#));
    events(&mut rae);
    rae.handle_input(
        T0,
        Input::Data(b"<presence from='user@localhost' type='unavailable'/>"),
    );
    let request =
        oic_ra_proto::rest::RestMessage::request(oic_ra_proto::rest::Method::Get, "coap://light/a");
    let data = |seq: u16| {
        let mut s = oic_ra_proto::ibb::IbbPayload::Data {
            sid: "s1".into(),
            seq,
            data: request.to_xml().into_bytes(),
        }
        .to_stanza(ME.parse::<iot_xmpp::Jid>().unwrap(), "d1");
        s.from = Some(LIGHT.parse().unwrap());
        s.to_xml()
    };
    rae.handle_input(T0, Input::Data(data(0).as_bytes()));
    assert!(!sent(&mut rae).contains("item-not-found"));
    let got = events(&mut rae);
    assert!(
        got.iter().any(|e| matches!(
            e,
            RaeEvent::Endpoint(oic_ra_proto::endpoint::EndpointEvent::Request { .. })
        )),
        "{got:?}"
    );
    // The resource itself leaving ends its session.
    let gone = format!("<presence from='{LIGHT}' type='unavailable'/>");
    rae.handle_input(T0, Input::Data(gone.as_bytes()));
    events(&mut rae);
    rae.handle_input(T0, Input::Data(data(1).as_bytes()));
    assert!(sent(&mut rae).contains("item-not-found"));
}

#[test]
fn a_clean_leave_goes_unavailable_and_ends_closed() {
    let (mut rae, _) = online();
    events(&mut rae);
    rae.close(T0);
    let out = sent(&mut rae);
    assert!(
        out.contains(r#"type="unavailable""#) && out.ends_with("</stream:stream>"),
        "{out}"
    );
    rae.handle_input(T0, Input::Data(b"</stream:stream>"));
    let got = events(&mut rae);
    assert!(
        matches!(got.last(), Some(RaeEvent::Ended(End::Closed))),
        "{got:?}"
    );
    assert_eq!(rae.status(), &ConnectionStatus::NotInitialized);
    assert_eq!(rae.poll_timeout(), None);
}
