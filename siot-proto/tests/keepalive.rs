//! The XEP-0199 keepalive every Simple IoT machine can carry
//! (`iot_xmpp::keepalive`), under the virtual clock: after an idle
//! interval a ping to the server; the server's answer, or any stanza,
//! keeps the session; the server's own pings are answered and go no
//! further; a ping unanswered ends the machine with `End::TimedOut` (its
//! runtime reconnects, and a thing comes back from its saved state with
//! its registration and friends). Without a configuration, none of it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use iot_sansio::store::Deferred;
use iot_sansio::testing::{Checked, events, rng};
use iot_xmpp::keepalive::{KeepaliveConfig, PING_NS, is_ping};
use rand_chacha::ChaCha20Rng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::Name;
use siot_proto::provisioning::{ProvisioningConfig, ProvisioningEvent, ProvisioningService};
use siot_proto::stanza::{Element, IqType, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig, ThingEvent};
use siot_proto::thing_state::ThingState;
use siot_proto::{End, Input, Machine};

const T0: Duration = Duration::ZERO;
const CONFIG: KeepaliveConfig = KeepaliveConfig {
    interval: Duration::from_secs(60),
    timeout: Duration::from_secs(10),
};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ps() -> Jid {
    "provisioning.example.org".parse().unwrap()
}

fn names() -> Vec<Name> {
    vec![Name {
        lang: None,
        text: "Futuretec Light Bulb 10X".into(),
    }]
}

/// The pings among what `m` sent.
fn pings<M: Machine<Input = Stanza, Transmit = Stanza>>(m: &mut M) -> Vec<Stanza> {
    std::iter::from_fn(|| m.poll_transmit())
        .filter(is_ping)
        .collect()
}

/// The keepalive's course on a machine that first heard of time at T0
/// and has nothing else waiting: no ping before the interval, one at it;
/// its answer at 65 s keeps the session and the next ping is due at
/// 125 s; a server ping at 100 s is answered (and is activity: the next
/// ping moves to 160 s); that ping unanswered for 10 s ends the machine
/// `TimedOut`. `timed_out` says whether an event is that end.
fn course<M>(m: &mut M, timed_out: impl Fn(&M::Event) -> bool)
where
    M: Machine<Instant = Duration, Input = Stanza, Transmit = Stanza>,
{
    assert_eq!(m.poll_timeout(), Some(secs(60)));
    m.handle_timeout(secs(59));
    assert!(pings(m).is_empty());
    m.handle_timeout(secs(60));
    let ping = pings(m);
    assert_eq!(ping.len(), 1, "one ping at the interval");
    assert!(ping[0].to.is_none(), "to the server of the connection");
    assert!(ping[0].payload("ping", PING_NS).is_some());
    let answer = Stanza::iq(IqType::Result).with_id(ping[0].id.clone().unwrap());
    m.handle_input(secs(65), Input::Data(&answer));
    m.handle_timeout(secs(75));
    assert!(!events(m).iter().any(&timed_out), "the answer kept it");
    assert_eq!(m.poll_timeout(), Some(secs(125)));

    let from_server = Stanza::iq(IqType::Get)
        .with_id("s2c-1")
        .with_payload(Element::new("ping", PING_NS));
    m.handle_input(secs(100), Input::Data(&from_server));
    let sent: Vec<Stanza> = std::iter::from_fn(|| m.poll_transmit()).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].iq_type(), Some(IqType::Result));
    assert_eq!(sent[0].id.as_deref(), Some("s2c-1"));
    assert!(events(m).is_empty(), "the machine itself never saw it");
    assert_eq!(m.poll_timeout(), Some(secs(160)));

    m.handle_timeout(secs(160));
    assert_eq!(pings(m).len(), 1);
    m.handle_timeout(secs(169));
    assert!(!events(m).iter().any(&timed_out));
    m.handle_timeout(secs(170));
    assert!(events(m).iter().any(&timed_out), "unanswered: the end");
    assert_eq!(m.poll_timeout(), None);
    m.handle_timeout(secs(300));
    assert!(pings(m).is_empty(), "nothing after the end");
}

/// A thing set up at T0 whose registration the service accepted then;
/// returns it and the state it saved.
fn registered(config: ThingConfig) -> (Checked<Thing<Duration, ChaCha20Rng>>, ThingState) {
    let mut bulb = Checked::new(Thing::new(config, rng(1)));
    bulb.setup(T0);
    let register = bulb.poll_transmit().unwrap();
    let accepted = Stanza::iq(IqType::Result)
        .with_id(register.id.unwrap())
        .with_from(ps());
    bulb.handle_input(T0, Input::Data(&accepted));
    let saved = events(&mut bulb)
        .into_iter()
        .rev()
        .find_map(|e| match e {
            ThingEvent::Saved(state) => Some(state),
            _ => None,
        })
        .unwrap();
    (bulb, saved)
}

fn with_keepalive(mut config: ThingConfig) -> ThingConfig {
    config.keepalive = Some(CONFIG);
    config
}

#[test]
fn a_thing_keeps_its_connection_alive_and_ends_when_it_is_not() {
    // Registered: only the keepalive waits.
    let (mut bulb, _) = registered(with_keepalive(ThingConfig::new(ps(), names())));
    course(&mut bulb, |e| matches!(e, ThingEvent::Ended(End::TimedOut)));
}

#[test]
fn an_owner_keeps_its_connection_alive_and_ends_when_it_is_not() {
    let mut config = OwnerConfig::new(ps());
    config.keepalive = Some(CONFIG);
    let mut owner = Checked::new(Owner::new(config));
    // An owner's watch starts with the first stanza it reads.
    owner.handle_input(
        T0,
        Input::Data(&Stanza::new(siot_proto::stanza::StanzaKind::Presence)),
    );
    course(&mut owner, |e| {
        matches!(e, OwnerEvent::Ended(End::TimedOut))
    });
}

#[test]
fn a_provisioning_service_keeps_its_connection_alive_and_ends_when_it_is_not() {
    let config = ProvisioningConfig {
        keepalive: Some(CONFIG),
        ..ProvisioningConfig::default()
    };
    let mut service = Checked::new(ProvisioningService::<Duration, Deferred>::with_store(
        config, Deferred,
    ));
    service.handle_input(
        T0,
        Input::Data(&Stanza::new(siot_proto::stanza::StanzaKind::Presence)),
    );
    course(&mut service, |e| {
        matches!(e, ProvisioningEvent::Ended(End::TimedOut))
    });
}

/// Without a configuration: no ping, no deadline, and a server's ping is
/// left to the runtime.
#[test]
fn without_a_keepalive_nothing_pings() {
    let (mut bulb, _) = registered(ThingConfig::new(ps(), names()));
    assert_eq!(bulb.poll_timeout(), None);
    bulb.handle_timeout(secs(3600));
    assert!(pings(&mut bulb).is_empty());
    let from_server = Stanza::iq(IqType::Get)
        .with_id("s2c-1")
        .with_payload(Element::new("ping", PING_NS));
    bulb.handle_input(secs(3600), Input::Data(&from_server));
    assert_eq!(bulb.poll_transmit(), None);
}

/// A thing ended by its keepalive comes back, on the next connection,
/// from what it saved: registered, with its owner, nothing sent again.
#[test]
fn a_thing_ended_by_its_keepalive_comes_back_from_its_saved_state() {
    let config = with_keepalive(ThingConfig::new(ps(), names()));
    let (mut bulb, saved) = registered(config.clone());
    bulb.handle_timeout(secs(60));
    bulb.handle_timeout(secs(70));
    assert!(events(&mut bulb).contains(&ThingEvent::Ended(End::TimedOut)));

    let mut again = Checked::new(Thing::<Duration, _>::restore(config, rng(2), &saved).unwrap());
    assert!(again.is_registered());
    assert_eq!(again.poll_transmit(), None, "nothing to register again");
}
