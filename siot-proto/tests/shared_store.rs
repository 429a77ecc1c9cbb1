//! Several provisioning services over one store (sections 4 to 8): their
//! inputs and the store's answers interleaved by a proptest scheduler,
//! exactly one claim of a thing wins, every request is answered, and the
//! owners' indexes hold every thing owned; and the store's outages
//! (unavailable, silent, conflicting without end, too busy) are answered
//! "retry later", never with a refusal.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use iot_sansio::store::{AnswerError, Deferred, Store, StoreAnswer, StoreOp, StoreRequest};
use proptest::prelude::*;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::{
    ProvisioningConfig, ProvisioningEvent, ProvisioningService, Record, Registry,
};
use siot_proto::stanza::{DefinedCondition, ErrorType, IqType, Jid, Stanza};
use siot_proto::{Input, Machine};

use common::{key, op, stanzas};

const T0: Duration = Duration::ZERO;
const THING: &str = "bulb@example.org/f65dece8";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn ps_jid() -> Jid {
    jid("provisioning.example.org")
}

/// One service process: what it is still to read, the requests it put to
/// the store and what it sent.
struct Instance {
    ps: ProvisioningService<Duration, Deferred>,
    inbox: VecDeque<Stanza>,
    asked: Vec<StoreRequest<String, Record>>,
    sent: Vec<Stanza>,
    events: Vec<ProvisioningEvent>,
}

impl Instance {
    fn new(config: ProvisioningConfig) -> Self {
        Self {
            ps: ProvisioningService::with_store(config, Deferred),
            inbox: VecDeque::new(),
            asked: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn collect(&mut self) {
        while let Some(s) = self.ps.poll_transmit() {
            self.sent.push(s);
        }
        while let Some(e) = self.ps.poll_event() {
            match e {
                ProvisioningEvent::Store(request) => self.asked.push(*request),
                other => self.events.push(other),
            }
        }
    }

    /// Reads the next stanza of its inbox; whether there was one.
    fn read(&mut self) -> bool {
        let Some(s) = self.inbox.pop_front() else {
            return false;
        };
        self.ps.handle_input(T0, Input::Data(&s));
        self.collect();
        true
    }

    /// Has the store answer its request `pick` (of those asked); whether
    /// there was one.
    fn answer(&mut self, store: &mut Registry, pick: usize) -> bool {
        if self.asked.is_empty() {
            return false;
        }
        let request = self.asked.remove(pick % self.asked.len());
        let answer = store.answer_now(&request.op).unwrap();
        self.ps.provide(T0, request.id, answer).unwrap();
        self.collect();
        true
    }

    /// The answers to the requests `from` sent, by id.
    fn answers_to(&self, id: &str) -> Vec<&Stanza> {
        self.sent
            .iter()
            .filter(|s| s.id.as_deref() == Some(id) && s.iq_type().is_some())
            .collect()
    }
}

/// Runs the instances through `schedule` (which instance acts, whether it
/// reads or has a request answered, and which), then until all are quiet.
fn run(instances: &mut [Instance], store: &mut Registry, schedule: &[(u8, bool, u8)]) {
    for &(who, read, pick) in schedule {
        let i = &mut instances[usize::from(who) % instances.len()];
        let _ = if read {
            i.read()
        } else {
            i.answer(store, usize::from(pick))
        };
    }
    loop {
        let mut any = false;
        for i in instances.iter_mut() {
            any |= i.answer(store, 0) || i.read();
        }
        if !any {
            return;
        }
    }
}

fn register(thing: &str, key: &Key) -> Stanza {
    SiotPayload::Register {
        key: key.clone(),
        names: vec![Name {
            lang: None,
            text: "Bulb".into(),
        }],
    }
    .to_stanza(ps_jid(), "r")
    .with_from(jid(thing))
}

fn claim(owner: &str, key: &Key, id: &str) -> Stanza {
    SiotPayload::Claim {
        name: "Bulb".into(),
        key: key.clone(),
    }
    .to_stanza(ps_jid(), id)
    .with_from(jid(owner))
}

fn condition(answer: &Stanza) -> Option<(Option<ErrorType>, DefinedCondition)> {
    let e = answer.error()?;
    Some((e.error_type, e.condition))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Owners claim one thing at once through different services: one
    /// claim wins, each other is told `conflict`, and the store holds the
    /// winner.
    #[test]
    fn exactly_one_claim_of_a_thing_wins(
        services in 2..4usize,
        schedule in proptest::collection::vec((any::<u8>(), any::<bool>(), any::<u8>()), 0..60),
    ) {
        let mut store = Registry::new();
        let key = key(1);
        let mut instances: Vec<Instance> =
            (0..services).map(|_| Instance::new(Default::default())).collect();
        instances[0].inbox.push_back(register(THING, &key));
        run(&mut instances, &mut store, &[]);
        let owners: Vec<String> = (0..services).map(|i| format!("owner{i}@example.com/o")).collect();
        for (i, instance) in instances.iter_mut().enumerate() {
            instance.inbox.push_back(claim(&owners[i], &key, "c"));
        }
        run(&mut instances, &mut store, &schedule);
        let mut winners = Vec::new();
        for (i, instance) in instances.iter().enumerate() {
            let answers = instance.answers_to("c");
            prop_assert_eq!(answers.len(), 1, "one answer per claim");
            match SiotPayload::from_stanza(answers[0]) {
                Ok(Some(SiotPayload::Claimed { .. })) => winners.push(jid(&owners[i]).to_bare()),
                _ => prop_assert_eq!(
                    condition(answers[0]),
                    Some((Some(ErrorType::Cancel), DefinedCondition::Conflict))
                ),
            }
        }
        prop_assert_eq!(winners.len(), 1);
        let thing = jid(THING).to_bare();
        prop_assert_eq!(store.owner_of(&thing), Some(winners[0].clone()));
    }

    /// Whatever happens through several services at once, every request
    /// is answered once, and an owner's index lists every thing it owns.
    #[test]
    fn services_over_one_store_answer_everything_and_keep_it_consistent(
        services in 2..4usize,
        ops in proptest::collection::vec((op(), any::<u8>()), 0..30),
        schedule in proptest::collection::vec((any::<u8>(), any::<bool>(), any::<u8>()), 0..200),
    ) {
        let mut store = Registry::new();
        let mut instances: Vec<Instance> =
            (0..services).map(|_| Instance::new(Default::default())).collect();
        let mut requests = vec![0usize; services];
        for (n, (op, at)) in ops.iter().enumerate() {
            let at = usize::from(*at) % services;
            for (k, s) in stanzas(op).into_iter().enumerate() {
                let is_request = matches!(s.iq_type(), Some(IqType::Get | IqType::Set));
                requests[at] += usize::from(is_request);
                instances[at].inbox.push_back(Stanza { id: Some(format!("{n}-{k}")), ..s });
            }
        }
        run(&mut instances, &mut store, &schedule);
        for (i, instance) in instances.iter().enumerate() {
            let answers = instance.sent.iter().filter(|s| matches!(s.iq_type(), Some(IqType::Result | IqType::Error)));
            prop_assert_eq!(answers.count(), requests[i], "every request answered once");
            // With two to four services, a write conflicts at most three
            // times: nothing waits.
            let waited = instance.events.iter().any(|e| matches!(e, ProvisioningEvent::RetryLater { .. }));
            prop_assert!(!waited, "a request answered `wait`");
        }
        for record in store.records() {
            if let Record::Thing(t) = record && let Some(owner) = &t.owner {
                let listed = store.table().get(&format!("owner:{owner}"));
                prop_assert!(
                    matches!(listed.map(|v| v.record), Some(Record::Owner(o)) if o.things.contains(&t.jid)),
                    "{} owns {} but does not list it", owner, t.jid
                );
            }
        }
    }
}

/// A claim through a service whose store answers at once, and the
/// answer.
fn claim_answer(ps: &mut ProvisioningService<Duration>, owner: &str, key: &Key) -> Stanza {
    ps.handle_input(T0, Input::Data(&claim(owner, key, "c")));
    let answer = ps.poll_transmit().unwrap();
    while ps.poll_transmit().is_some() {}
    answer
}

fn retry_later() -> Option<(Option<ErrorType>, DefinedCondition)> {
    Some((Some(ErrorType::Wait), DefinedCondition::ResourceConstraint))
}

#[test]
fn an_unavailable_store_is_answered_retry_later_then_the_claim_goes_through() {
    let key = key(1);
    let mut ps = ProvisioningService::<Duration>::new(Default::default());
    ps.handle_input(T0, Input::Data(&register(THING, &key)));
    while ps.poll_transmit().is_some() {}
    while ps.poll_event().is_some() {}
    ps.store_mut().table_mut().set_unavailable(true);
    let answer = claim_answer(&mut ps, "owner@example.com/o", &key);
    assert_eq!(condition(&answer), retry_later(), "not `item-not-found`");
    assert_eq!(
        ps.poll_event(),
        Some(ProvisioningEvent::RetryLater {
            from: Some(jid("owner@example.com/o"))
        })
    );
    // The registration is untouched; once the store is back, the owner's
    // second try claims the thing.
    ps.store_mut().table_mut().set_unavailable(false);
    let answer = claim_answer(&mut ps, "owner@example.com/o", &key);
    assert!(matches!(
        SiotPayload::from_stanza(&answer),
        Ok(Some(SiotPayload::Claimed { .. }))
    ));
}

#[test]
fn a_silent_store_times_out_into_retry_later_and_the_next_input_is_served() {
    let config = ProvisioningConfig::default();
    let timeout = config.store_timeout;
    let mut ps = ProvisioningService::<Duration, Deferred>::with_store(config, Deferred);
    let key = key(1);
    ps.handle_input(T0, Input::Data(&register(THING, &key)));
    let asked: Vec<_> = std::iter::from_fn(|| ps.poll_event()).collect();
    assert_eq!(
        asked.len(),
        2,
        "the thing's record and its claim entry, at once"
    );
    assert_eq!(ps.poll_timeout(), Some(T0 + timeout));
    // A second registration waits behind the first.
    ps.handle_input(T0, Input::Data(&register("lamp@example.org/l", &key)));
    assert!(ps.poll_event().is_none() && ps.poll_transmit().is_none());
    ps.handle_timeout(T0 + timeout);
    let answer = ps.poll_transmit().unwrap();
    assert_eq!(answer.id.as_deref(), Some("r"));
    assert_eq!(condition(&answer), retry_later());
    // The late answer is not taken; the second registration is asked.
    let ProvisioningEvent::Store(late) = &asked[0] else {
        panic!("{asked:?}")
    };
    assert_eq!(
        ps.poll_event(),
        Some(ProvisioningEvent::RetryLater {
            from: Some(jid(THING))
        })
    );
    assert_eq!(
        ps.provide(T0 + timeout, late.id, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(late.id))
    );
    let ProvisioningEvent::Store(next) = ps.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(next.op, StoreOp::Get("thing:lamp@example.org".into()));
}

/// A store whose every write conflicts (another service always ahead).
struct Contended(Registry);

impl Store<String, Record> for Contended {
    fn answer_now(&mut self, op: &StoreOp<String, Record>) -> Option<StoreAnswer<Record>> {
        match op {
            StoreOp::Put { .. } => Some(StoreAnswer::Conflict),
            StoreOp::Get(_) => self.0.answer_now(op),
        }
    }
}

#[test]
fn writes_that_keep_conflicting_are_answered_retry_later() {
    let config = ProvisioningConfig {
        max_conflicts: 2,
        ..ProvisioningConfig::default()
    };
    let mut ps = ProvisioningService::<Duration, _>::with_store(config, Contended(Registry::new()));
    ps.handle_input(T0, Input::Data(&register(THING, &key(1))));
    let answer = ps.poll_transmit().unwrap();
    assert_eq!(condition(&answer), retry_later());
    assert!(
        ps.poll_transmit().is_none(),
        "no subscription: not registered"
    );
    assert_eq!(ps.store().0.thing_count(), 0);
}

#[test]
fn inputs_beyond_the_queue_are_answered_retry_later_at_once() {
    let config = ProvisioningConfig {
        max_queued: 1,
        ..ProvisioningConfig::default()
    };
    let mut ps = ProvisioningService::<Duration, Deferred>::with_store(config, Deferred);
    for thing in ["a@example.org/x", "b@example.org/x", "c@example.org/x"] {
        ps.handle_input(T0, Input::Data(&register(thing, &key(1))));
    }
    // The first is asked, the second waits, the third is turned away.
    let answer = ps.poll_transmit().unwrap();
    assert_eq!(answer.to, Some(jid("c@example.org/x")));
    assert_eq!(condition(&answer), retry_later());
    assert!(ps.poll_transmit().is_none());
    // A stanza of another protocol is not queued nor answered.
    let ping = Stanza::iq(IqType::Get)
        .with_id("p")
        .with_payload(siot_proto::stanza::Element::new("ping", "urn:xmpp:ping"))
        .with_from(jid("d@example.org/x"));
    ps.handle_input(T0, Input::Data(&ping));
    assert!(ps.poll_transmit().is_none());
}

#[test]
fn answers_that_do_not_fit_are_refused_and_change_nothing() {
    let mut ps =
        ProvisioningService::<Duration, Deferred>::with_store(Default::default(), Deferred);
    ps.handle_input(T0, Input::Data(&register(THING, &key(1))));
    let ProvisioningEvent::Store(first) = ps.poll_event().unwrap() else {
        panic!()
    };
    // A write's answer to a read.
    assert_eq!(
        ps.provide(T0, first.id, StoreAnswer::Conflict),
        Err(AnswerError::Mismatched(first.id))
    );
    // A record found under another record's key.
    let stranger = Record::Owner(siot_proto::provisioning::OwnerEntry {
        jid: "owner@example.com".into(),
        ..Default::default()
    });
    let found = StoreAnswer::Found(iot_sansio::store::Versioned {
        version: iot_sansio::store::Version::FIRST,
        record: stranger,
    });
    assert_eq!(
        ps.provide(T0, first.id, found),
        Err(AnswerError::Mismatched(first.id))
    );
    // Still awaited: the right answer is taken.
    assert_eq!(ps.provide(T0, first.id, StoreAnswer::Missing), Ok(()));
    assert_eq!(
        ps.provide(T0, first.id, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(first.id))
    );
    // After the end, nothing is awaited.
    let ProvisioningEvent::Store(second) = ps.poll_event().unwrap() else {
        panic!()
    };
    ps.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        ps.provide(T0, second.id, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(second.id))
    );
}

/// Serves `stanza` through a service whose runtime answers every read
/// from `store` and every write with `write`; what the service sent.
fn served_with(store: &mut Registry, write: &StoreAnswer<Record>, stanza: &Stanza) -> Vec<Stanza> {
    let mut ps =
        ProvisioningService::<Duration, Deferred>::with_store(Default::default(), Deferred);
    ps.handle_input(T0, Input::Data(stanza));
    let mut sent = Vec::new();
    loop {
        sent.extend(std::iter::from_fn(|| ps.poll_transmit()));
        let Some(event) = ps.poll_event() else {
            return sent;
        };
        if let ProvisioningEvent::Store(request) = event {
            let answer = match request.op {
                StoreOp::Get(_) => store.answer_now(&request.op).unwrap(),
                StoreOp::Put { .. } => write.clone(),
            };
            ps.provide(T0, request.id, answer).unwrap();
        }
    }
}

#[test]
fn a_runtime_answering_unavailable_or_conflict_each_time_gets_retry_later() {
    let mut store = Registry::new();
    for write in [StoreAnswer::Unavailable, StoreAnswer::Conflict] {
        let sent = served_with(&mut store, &write, &register(THING, &key(1)));
        assert_eq!(sent.len(), 1, "{write:?}: only the error");
        assert_eq!(condition(&sent[0]), retry_later(), "{write:?}");
    }
    assert_eq!(store.thing_count(), 0);
}

/// A store that reads and cannot write.
struct ReadOnly(Registry);

impl Store<String, Record> for ReadOnly {
    fn answer_now(&mut self, op: &StoreOp<String, Record>) -> Option<StoreAnswer<Record>> {
        match op {
            StoreOp::Put { .. } => Some(StoreAnswer::Unavailable),
            StoreOp::Get(_) => self.0.answer_now(op),
        }
    }
}

#[test]
fn a_store_that_cannot_write_gets_retry_later_and_reads_still_answer() {
    let key = key(1);
    let mut ps = ProvisioningService::<Duration>::new(Default::default());
    ps.handle_input(T0, Input::Data(&register(THING, &key)));
    ps.handle_input(T0, Input::Data(&claim("owner@example.com/o", &key, "c")));
    let records = ps.store().records();
    let mut ps = ProvisioningService::<Duration, _>::with_store(
        Default::default(),
        ReadOnly(Registry::from_records(records).unwrap()),
    );
    // A claim by another owner reads, finds the thing owned: `conflict`.
    let answer = {
        ps.handle_input(T0, Input::Data(&claim("other@example.com/o", &key, "c2")));
        ps.poll_transmit().unwrap()
    };
    assert_eq!(
        condition(&answer),
        Some((Some(ErrorType::Cancel), DefinedCondition::Conflict))
    );
    // A registration must write: `wait`.
    ps.handle_input(T0, Input::Data(&register("lamp@example.org/l", &key)));
    assert_eq!(condition(&ps.poll_transmit().unwrap()), retry_later());
}

#[test]
fn what_the_service_does_not_serve_is_refused_or_left_alone() {
    let mut ps = ProvisioningService::<Duration>::new(Default::default());
    let send = |ps: &mut ProvisioningService<Duration>, s: Stanza| {
        ps.handle_input(T0, Input::Data(&s));
        while ps.poll_event().is_some() {}
        std::iter::from_fn(|| ps.poll_transmit()).collect::<Vec<_>>()
    };
    // A request with no sender: `forbidden`.
    let mut anonymous = claim("owner@example.com/o", &key(1), "a");
    anonymous.from = None;
    let sent = send(&mut ps, anonymous);
    assert_eq!(
        condition(&sent[0]),
        Some((Some(ErrorType::Auth), DefinedCondition::Forbidden))
    );
    // An element of the protocol that is no request to the service.
    let claimed = SiotPayload::Claimed {
        jid: jid(THING).to_bare(),
    }
    .to_stanza(ps_jid(), "x");
    let claimed = Stanza {
        stanza_type: Some("set".into()),
        ..claimed
    }
    .with_from(jid("owner@example.com/o"));
    let sent = send(&mut ps, claimed);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].error().is_some(), "{}", sent[0].to_xml());
    // A `subscribed` with no sender, and the roster losing a thing: nothing.
    let subscribed =
        siot_proto::roster::SubscriptionRequest::Subscribed.to(&ps_jid().to_bare(), "s");
    assert!(send(&mut ps, subscribed).is_empty());
    let removed = iot_xmpp::roster::RosterChange::Removed(jid(THING).to_bare());
    ps.apply_roster_change(T0, &removed);
    assert!(ps.poll_transmit().is_none() && ps.poll_event().is_none());
    assert_eq!(ps.store().records(), Vec::new());
}

#[test]
fn a_roster_change_undone_while_it_waited_changes_nothing() {
    use iot_xmpp::roster::{RosterChange, RosterItem};
    let mut ps =
        ProvisioningService::<Duration, Deferred>::with_store(Default::default(), Deferred);
    let mut store = Registry::new();
    ps.handle_input(T0, Input::Data(&register(THING, &key(1))));
    // While the registration waits for the store, the roster shows the
    // thing subscribed, then not.
    let item = RosterItem {
        jid: jid(THING).to_bare(),
        name: None,
        subscription: iot_xmpp::Subscription::To,
        pending_out: false,
        groups: Vec::new(),
    };
    ps.apply_roster_change(T0, &RosterChange::Updated(item));
    ps.apply_roster_change(T0, &RosterChange::Removed(jid(THING).to_bare()));
    while let Some(event) = ps.poll_event() {
        if let ProvisioningEvent::Store(request) = event {
            let answer = store.answer_now(&request.op).unwrap();
            ps.provide(T0, request.id, answer).unwrap();
        }
    }
    assert!(!store.is_subscribed(&jid(THING).to_bare()));
    assert_eq!(store.thing_count(), 1);
}
