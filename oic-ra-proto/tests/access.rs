//! Who may reach an RAE server's resources (section 5.2), and the bounds
//! that keep one peer from holding its sessions: another account's RAE is
//! refused with `forbidden` before any request is read; a session a peer
//! leaves idle is closed; one peer at its session limit blocks neither
//! requests to another peer nor another peer's sessions; observes are
//! bounded per account and end with their lifetime.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::testing::{Checked, events, rng, transmits};
use oic_ra_proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent, Failure};
use oic_ra_proto::ibb::IbbPayload;
use oic_ra_proto::identity::{FullJid, Jid};
use oic_ra_proto::rest::{Method, RestMessage};
use oic_ra_proto::stanza::{DefinedCondition, ErrorType, Stanza};
use oic_ra_proto::transport::PeerAccess;
use oic_ra_proto::{Input, Machine};
use rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::ZERO;
const LIGHT: &str = "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";
const ALICE_CLIENT: &str = "alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
const BOB_CLIENT: &str = "bob@example.org/OIC/1.0/Client/1b7e4c1e-9a55-3f4d-2b6c-7d106f0aac23";

type Rae = Checked<Endpoint<Duration, ChaCha20Rng>>;

fn jid(s: &str) -> FullJid {
    FullJid::new(s).unwrap()
}

/// A peer's `<open/>` of session `sid`, as the server delivers it.
fn open(from: &str, sid: &str) -> Stanza {
    let xml = format!(
        "<iq from='{from}' to='{LIGHT}' type='set' id='o-{sid}'>\
         <open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='{sid}' stanza='message'/></iq>"
    );
    Stanza::parse(&xml, &Default::default()).unwrap()
}

fn light(config: EndpointConfig) -> Rae {
    Checked::new(Endpoint::new(config, rng(1)))
}

#[test]
fn another_accounts_rae_is_refused_with_forbidden_before_any_request() {
    let mut light = light(EndpointConfig::default());
    light.handle_input(T0, Input::Data(&open(BOB_CLIENT, "s1")));
    let sent = transmits(&mut light);
    assert_eq!(sent.len(), 1);
    let error = sent[0].error().unwrap();
    assert_eq!(
        (error.error_type, error.condition),
        (Some(ErrorType::Auth), DefinedCondition::Forbidden)
    );
    assert_eq!(light.session_count(), 0);
    assert!(matches!(
        events(&mut light).as_slice(),
        [EndpointEvent::ProtocolError {
            condition: DefinedCondition::Forbidden,
            ..
        }]
    ));
    // The same account's RAE is served.
    light.handle_input(T0, Input::Data(&open(ALICE_CLIENT, "s2")));
    assert_eq!(
        transmits(&mut light)[0].iq_type(),
        Some(oic_ra_proto::stanza::IqType::Result)
    );
    assert_eq!(light.session_count(), 1);
    // Without a `to`, the account cannot be told: refused too.
    let mut anonymous = open(ALICE_CLIENT, "s3");
    anonymous.to = None;
    light.handle_input(T0, Input::Data(&anonymous));
    assert_eq!(
        transmits(&mut light)[0].error().unwrap().condition,
        DefinedCondition::Forbidden
    );
}

/// Lets `bob@example.org` in, and no one else of other accounts.
fn bob_too(peer: &FullJid, to: Option<&Jid>) -> bool {
    PeerAccess::SameAccount.allows(peer, to) || peer.to_bare().as_str() == "bob@example.org"
}

#[test]
fn the_decision_may_be_the_callers() {
    let config = EndpointConfig {
        access: PeerAccess::Decide(bob_too),
        ..EndpointConfig::default()
    };
    let mut light = light(config);
    light.handle_input(T0, Input::Data(&open(BOB_CLIENT, "s1")));
    assert!(transmits(&mut light)[0].error().is_none());
    light.handle_input(
        T0,
        Input::Data(&open(
            "carol@example.org/OIC/1.0/Client/00000000-0000-0000-0000-000000000000",
            "s2",
        )),
    );
    assert_eq!(
        transmits(&mut light)[0].error().unwrap().condition,
        DefinedCondition::Forbidden
    );
    let anyone = EndpointConfig {
        access: PeerAccess::Anyone,
        ..EndpointConfig::default()
    };
    let mut open_light = self::light(anyone);
    open_light.handle_input(T0, Input::Data(&open(BOB_CLIENT, "s1")));
    assert!(transmits(&mut open_light)[0].error().is_none());
}

#[test]
fn an_idle_session_is_closed_after_its_timeout() {
    let mut light = light(EndpointConfig::default());
    // A peer opens and sends nothing.
    light.handle_input(T0, Input::Data(&open(ALICE_CLIENT, "s1")));
    transmits(&mut light);
    assert_eq!(light.poll_timeout(), Some(Duration::from_secs(60)));
    light.handle_timeout(Duration::from_secs(59));
    assert_eq!(light.session_count(), 1);
    light.handle_timeout(Duration::from_secs(60));
    let sent = transmits(&mut light);
    assert!(
        matches!(IbbPayload::from_stanza(&sent[0]), Ok(IbbPayload::Close { sid }) if sid == "s1"),
        "{sent:?}"
    );
    assert_eq!(light.session_count(), 0);
    assert!(
        events(&mut light).is_empty(),
        "the application never saw it"
    );
}

#[test]
fn a_session_waiting_for_the_answer_or_carrying_an_observe_is_not_idle() {
    // Two endpoints of one account, the light's idle timeout short.
    let config = EndpointConfig {
        idle_timeout: Duration::from_secs(5),
        ..EndpointConfig::default()
    };
    let mut light = light(config);
    let mut client: Rae = Checked::new(Endpoint::new(EndpointConfig::default(), rng(2)));
    let mut xmpp = iot_xmpp::testing::Server::new([jid(ALICE_CLIENT).into(), jid(LIGHT).into()]);
    let mut driver = iot_sansio::testing::Driver::new(T0);
    let observe =
        RestMessage::request(Method::Get, "coap://light/a/light").with_header("Observe", "0");
    let get = RestMessage::request(Method::Get, "coap://light/a/light");
    let observe_id = client.request(T0, &jid(LIGHT), &observe).unwrap();
    client.request(T0, &jid(LIGHT), &get).unwrap();
    driver.run(&mut [&mut client, &mut light], |from, s| {
        xmpp.route(from, s)
    });
    let requests: Vec<_> = events(&mut light)
        .into_iter()
        .filter_map(|e| match e {
            EndpointEvent::Request { id, observe, .. } => Some((id, observe)),
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2);
    // Waiting for the light's answers, nothing is idle.
    assert_eq!(light.poll_timeout(), None);
    for (id, _) in &requests {
        light
            .respond(driver.now(), *id, &RestMessage::response(200, "OK"))
            .unwrap();
    }
    driver.run(&mut [&mut client, &mut light], |from, s| {
        xmpp.route(from, s)
    });
    // The plain GET's session is closed by its client; the observe's
    // stays and is never idle, up to its lifetime (an hour).
    driver.advance(Duration::from_secs(3599), &mut [&mut client, &mut light]);
    driver.run(&mut [&mut client, &mut light], |from, s| {
        xmpp.route(from, s)
    });
    assert_eq!(light.session_count(), 1, "the observe's session");
    let (obs, _) = requests.iter().find(|(_, o)| *o).unwrap();
    light
        .respond(
            driver.now(),
            *obs,
            &RestMessage::response(200, "OK").with_header("Observe", "1"),
        )
        .unwrap();
    driver.run(&mut [&mut client, &mut light], |from, s| {
        xmpp.route(from, s)
    });
    assert!(
        events(&mut client)
            .iter()
            .any(|e| matches!(e, EndpointEvent::Notification { id, .. } if *id == observe_id))
    );
}

#[test]
fn one_peer_at_its_limit_blocks_no_one_else() {
    let config = EndpointConfig {
        access: PeerAccess::Anyone,
        max_sessions: 16,
        max_sessions_per_peer: 4,
        ..EndpointConfig::default()
    };
    let mut light = light(config);
    for i in 0..4 {
        light.handle_input(T0, Input::Data(&open(BOB_CLIENT, &format!("b{i}"))));
    }
    assert!(transmits(&mut light).iter().all(|s| s.error().is_none()));
    // Bob's fifth is refused...
    light.handle_input(T0, Input::Data(&open(BOB_CLIENT, "b4")));
    let refused = transmits(&mut light);
    assert_eq!(
        refused[0].error().map(|e| e.condition),
        Some(DefinedCondition::ResourceConstraint)
    );
    // ...while another peer still opens, and the light still sends
    // requests to it.
    light.handle_input(T0, Input::Data(&open(ALICE_CLIENT, "a0")));
    assert!(transmits(&mut light)[0].error().is_none());
    let get = RestMessage::request(Method::Get, "coap://client/oic/res");
    let asked = light.request(T0, &jid(ALICE_CLIENT), &get).unwrap();
    assert_eq!(light.session_count(), 6);
    // And Bob's sessions, left idle, free his share after the timeout.
    light.handle_timeout(Duration::from_secs(60));
    transmits(&mut light);
    // Only the light's own unanswered request reports a timeout; closing
    // idle sessions reports nothing.
    let failed: Vec<_> = events(&mut light)
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                EndpointEvent::Failed {
                    reason: Failure::TimedOut,
                    ..
                }
            )
        })
        .collect();
    assert!(matches!(failed.as_slice(), [EndpointEvent::Failed { id, .. }] if *id == asked));
    light.handle_input(
        Duration::from_secs(61),
        Input::Data(&open(BOB_CLIENT, "b5")),
    );
    assert!(transmits(&mut light)[0].error().is_none());
}

/// One account may hold at most `max_observes_per_account` observes, all
/// its resources together: beyond it a registration is served as a plain
/// `GET`, and an observe ends with its lifetime, so one account cannot
/// keep every session slot.
#[test]
fn observes_are_bounded_per_account_and_end_with_their_lifetime() {
    const ALICE_PHONE: &str =
        "alice@example.org/OIC/1.0/Client/2c8f5b1e-1111-4c4d-8b6c-7d106f0aac99";
    let config = EndpointConfig {
        max_observes_per_account: 2,
        ..EndpointConfig::default()
    };
    let mut light = light(config);
    let observe =
        RestMessage::request(Method::Get, "coap://light/a/light").with_header("Observe", "0");
    let mut registered = Vec::new();
    for (i, from) in [ALICE_CLIENT, ALICE_PHONE, ALICE_PHONE].iter().enumerate() {
        let sid = format!("o{i}");
        light.handle_input(T0, Input::Data(&open(from, &sid)));
        let mut data = IbbPayload::Data {
            sid: sid.clone(),
            seq: 0,
            data: observe.to_xml().into_bytes(),
        }
        .to_stanza(jid(LIGHT), &format!("d{i}"));
        data.from = Some(jid(from).into());
        light.handle_input(T0, Input::Data(&data));
        for e in events(&mut light) {
            if let EndpointEvent::Request { id, observe, .. } = e {
                registered.push(observe);
                light
                    .respond(T0, id, &RestMessage::response(200, "OK"))
                    .unwrap();
            }
        }
    }
    assert_eq!(registered, [true, true, false]);
    transmits(&mut light);
    // The declined one is idle once answered; the two observes last an
    // hour, then their sessions are closed.
    light.handle_timeout(Duration::from_secs(60));
    assert_eq!(light.session_count(), 2);
    transmits(&mut light);
    light.handle_timeout(Duration::from_secs(3600));
    assert_eq!(light.session_count(), 0);
    assert!(
        transmits(&mut light)
            .iter()
            .filter(|s| matches!(IbbPayload::from_stanza(s), Ok(IbbPayload::Close { .. })))
            .count()
            == 2
    );
}
