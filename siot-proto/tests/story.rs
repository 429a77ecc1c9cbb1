//! End to end, in memory: a bulb, its provisioning service, an owner and a
//! requestor, through an XMPP server that routes by JID and stamps `from`.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::store::{Deferred, Store};
use iot_sansio::testing::{Driver, Node, rng};
use iot_xmpp::testing::Server;
use rand_chacha::ChaCha20Rng;
use siot_proto::key::Key;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{FriendItem, Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};
use siot_proto::roster::{Subscription, SubscriptionRequest};
use siot_proto::stanza::{BareJid, DefinedCondition, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig, ThingEvent};
use siot_proto::{End, Input, IqFailure, Machine, StanzaMachine};

const BULB: &str = "bulb@example.org/f65dece8";
const PS: &str = "provisioning.example.org";
const OWNER: &str = "owner@example.com/76a60ed0";
const OWNER2: &str = "buyer@example.com/1";
const REQUESTOR: &str = "requestor@example.net/10b798d6";
const NAME: &str = "Futuretec Light Bulb 10X";
const T0: Duration = Duration::ZERO;

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn bare(s: &str) -> BareJid {
    jid(s).to_bare()
}

fn refused(c: DefinedCondition) -> IqFailure {
    IqFailure::Error(c)
}

struct World {
    bulb: Checked<Thing<Duration, ChaCha20Rng>>,
    ps: Checked<ProvisioningService<Duration, Deferred>>,
    owner: Checked<Owner<Duration>>,
    owner2: Checked<Owner<Duration>>,
    /// The XMPP server: nodes 0-3 are the machines above, 4 the requestor
    /// (a client without a machine: what reaches it stays in the log).
    xmpp: Server,
    driver: Driver<Duration>,
    /// How much of the log the requestor has read.
    requestor_read: usize,
    /// The service's store, as a database would keep it, answering its
    /// requests.
    store: Registry,
    /// The service's events other than its store requests, not read yet.
    ps_kept: Vec<ProvisioningEvent>,
    /// The bulb's state as its flash memory keeps it.
    flash: siot_proto::thing_state::ThingState,
    rng: ChaCha20Rng,
}

impl World {
    fn new() -> Self {
        let names = vec![Name {
            lang: None,
            text: NAME.into(),
        }];
        Self {
            bulb: Checked::new(Thing::new(ThingConfig::new(jid(PS), names), rng(10))),
            ps: Checked::new(ProvisioningService::with_store(
                Default::default(),
                Deferred,
            )),
            owner: Checked::new(Owner::new(OwnerConfig::new(jid(PS)))),
            owner2: Checked::new(Owner::new(OwnerConfig::new(jid(PS)))),
            xmpp: Server::new([jid(BULB), jid(PS), jid(OWNER), jid(OWNER2), jid(REQUESTOR)]),
            driver: Driver::new(T0),
            requestor_read: 0,
            store: Registry::new(),
            ps_kept: Vec::new(),
            flash: Default::default(),
            rng: rng(11),
        }
    }

    fn nodes(&mut self) -> [&mut dyn Node<Duration, Stanza, Stanza>; 4] {
        [
            &mut self.bulb,
            &mut self.ps,
            &mut self.owner,
            &mut self.owner2,
        ]
    }

    /// The server takes a stanza from `from` (any entity): stamps `from`
    /// and delivers it by the addressee's JID.
    fn route(&mut self, from: &str, xml: &str) {
        let s = Stanza::parse(xml, &Default::default()).unwrap();
        let now = self.driver.now();
        if let Some((to, s)) = self.xmpp.inject(&jid(from), s)
            && let Some(node) = self.nodes().into_iter().nth(to)
        {
            node.input(now, Input::Data(&s));
        }
    }

    fn run(&mut self) {
        loop {
            let xmpp = &mut self.xmpp;
            self.driver.run(
                &mut [
                    &mut self.bulb,
                    &mut self.ps,
                    &mut self.owner,
                    &mut self.owner2,
                ],
                |from, s| xmpp.route(from, s),
            );
            // What the service answers waits for its store: answer it as
            // its runtime would, and go on.
            if !self.answer_store() {
                break;
            }
        }
    }

    /// Answers what the service asked of its store, keeping its other
    /// events; whether it asked anything.
    fn answer_store(&mut self) -> bool {
        let mut any = false;
        while let Some(e) = self.ps.poll_event() {
            match e {
                ProvisioningEvent::Store(request) => {
                    let answer = self.store.answer_now(&request.op).unwrap();
                    self.ps
                        .provide(self.driver.now(), request.id, answer)
                        .unwrap();
                    any = true;
                }
                other => self.ps_kept.push(other),
            }
        }
        any
    }

    /// Moves the clock to the machines' earliest timer and fires it.
    fn advance_to_next_timer(&mut self) -> Option<Duration> {
        self.driver.advance_to_next_timer(&mut [
            &mut self.bulb,
            &mut self.ps,
            &mut self.owner,
            &mut self.owner2,
        ])
    }

    /// The bulb's events, its state kept as its flash memory would.
    fn bulb_events(&mut self) -> Vec<ThingEvent> {
        let mut events = Vec::new();
        while let Some(e) = self.bulb.poll_event() {
            match e {
                ThingEvent::Saved(state) => self.flash = state,
                other => events.push(other),
            }
        }
        events
    }

    fn owner_events(&mut self) -> Vec<OwnerEvent> {
        std::iter::from_fn(|| self.owner.poll_event()).collect()
    }

    fn owner2_events(&mut self) -> Vec<OwnerEvent> {
        std::iter::from_fn(|| self.owner2.poll_event()).collect()
    }

    /// The service's events, its durable records kept in the store as a
    /// runtime would.
    fn ps_events(&mut self) -> Vec<ProvisioningEvent> {
        self.answer_store();
        std::mem::take(&mut self.ps_kept)
    }

    /// Setup and registration; returns the key shown to the customer.
    fn set_up(&mut self) -> Key {
        let key = self.bulb.setup(self.driver.now()).clone();
        self.run();
        key
    }

    fn claim(&mut self, key: &Key) -> Vec<OwnerEvent> {
        self.owner.claim(T0, NAME, key);
        self.run();
        self.owner_events()
    }

    fn requestor_subscribes(&mut self) {
        let s = SubscriptionRequest::Subscribe.to(&bare(BULB), "subscribe-1");
        self.route(REQUESTOR, &s.to_xml());
        self.run();
    }

    /// Sections 7-9: the owner lists the pending request and approves it;
    /// the requestor's server delivers the approval and the bulb has a
    /// friend.
    fn owner_approves_the_requestor(&mut self) {
        self.owner.query_pending(T0);
        self.run();
        assert_eq!(
            self.owner_events(),
            vec![OwnerEvent::Pending(vec![bare(REQUESTOR)])]
        );
        self.owner.update(
            T0,
            vec![FriendItem {
                jid: bare(REQUESTOR),
                friend: true,
            }],
        );
        self.run();
        assert_eq!(self.owner_events(), vec![OwnerEvent::Updated]);
        assert_eq!(self.requestor_got(), vec![SubscriptionRequest::Subscribed]);
        assert!(self.bulb.is_friend(&bare(REQUESTOR)));
    }

    fn requestor_got(&mut self) -> Vec<SubscriptionRequest> {
        let log = &self.xmpp.log()[self.requestor_read..];
        self.requestor_read = self.xmpp.log().len();
        log.iter()
            .filter(|c| c.to == Some(4))
            .filter_map(|c| SubscriptionRequest::of(&c.stanza))
            .collect()
    }
}

/// Registration, claim, and the requestor made a friend by the owner.
fn story() -> (World, Key) {
    let mut w = World::new();
    let key = w.set_up();
    assert!(w.bulb.is_registered());
    assert_eq!(w.bulb_events(), vec![ThingEvent::Registered]);
    // Section 4: the service subscribed and the bulb approved.
    assert_eq!(w.bulb.subscription(&bare(PS)), Subscription::From);
    assert!(w.store.is_subscribed(&bare(BULB)));
    assert_eq!(
        w.ps_events(),
        vec![
            ProvisioningEvent::Registered(bare(BULB)),
            ProvisioningEvent::Subscribed(bare(BULB))
        ]
    );

    assert_eq!(w.claim(&key), vec![OwnerEvent::Claimed(bare(BULB))]);
    assert_eq!(w.bulb.owner(), Some(&bare(OWNER)));
    assert!(
        w.bulb.is_friend(&bare(OWNER)),
        "the owner is always a friend"
    );
    assert_eq!(
        w.bulb_events(),
        vec![
            ThingEvent::FriendAdded(bare(OWNER)),
            ThingEvent::OwnerChanged(bare(OWNER))
        ]
    );

    w.requestor_subscribes();
    assert_eq!(
        w.bulb_events(),
        vec![ThingEvent::RequestPending(bare(REQUESTOR))]
    );
    assert!(w.requestor_got().is_empty(), "held");
    assert_eq!(w.owner_events(), vec![OwnerEvent::PendingNotified]);
    w.owner_approves_the_requestor();
    assert_eq!(
        w.bulb_events(),
        vec![ThingEvent::FriendAdded(bare(REQUESTOR))]
    );
    assert!(w.store.pending(&bare(OWNER)).is_empty());
    (w, key)
}

#[test]
fn the_full_story() {
    let (mut w, _) = story();
    // A friend asking again is approved without a query.
    w.requestor_subscribes();
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Subscribed]);
}

#[test]
fn a_wrong_key_and_an_unknown_thing_get_the_same_answer() {
    let mut w = World::new();
    let key = w.set_up();
    let wrong = Key::generate(&mut w.rng);
    assert_ne!(wrong, key);
    w.owner.claim(T0, NAME, &wrong);
    let a = w.owner.poll_transmit().unwrap();
    w.owner.claim(T0, "No Such Bulb", &key);
    let b = w.owner.poll_transmit().unwrap();
    let answer = |w: &mut World, s: &Stanza| {
        let mut s = s.clone();
        s.from = Some(jid(OWNER));
        w.ps.handle_input(T0, Input::Data(&s));
        w.answer_store();
        let mut r = w.ps.poll_transmit().unwrap();
        r.id = None;
        w.owner.handle_input(
            T0,
            Input::Data(&{
                let mut r2 = r.clone();
                r2.id.clone_from(&s.id);
                r2.from = Some(jid(PS));
                r2
            }),
        );
        r
    };
    let ra = answer(&mut w, &a);
    let rb = answer(&mut w, &b);
    assert_eq!(ra, rb, "identical refusals");
    assert_eq!(
        ra.error().unwrap().condition,
        DefinedCondition::ItemNotFound
    );
    assert_eq!(
        w.owner_events(),
        vec![
            OwnerEvent::ClaimFailed(refused(DefinedCondition::ItemNotFound)),
            OwnerEvent::ClaimFailed(refused(DefinedCondition::ItemNotFound))
        ]
    );
    assert_eq!(w.bulb.owner(), None);
}

#[test]
fn a_second_claim_is_refused_and_the_owner_may_claim_again() {
    let (mut w, key) = story();
    w.owner2.claim(T0, NAME, &key);
    w.run();
    assert_eq!(
        w.owner2_events(),
        vec![OwnerEvent::ClaimFailed(refused(DefinedCondition::Conflict))]
    );
    assert_eq!(w.store.owner_of(&bare(BULB)), Some(bare(OWNER)));
    assert_eq!(w.claim(&key), vec![OwnerEvent::Claimed(bare(BULB))]);
}

#[test]
fn spoofed_provisioning_stanzas_are_refused() {
    let (mut w, _) = story();
    let mallory = "mallory@example.net/x";
    let owner = SiotPayload::Owner { jid: bare(mallory) }.to_stanza(jid(BULB), "o1");
    w.route(mallory, &owner.to_xml());
    let revoke = SiotPayload::FriendshipStates {
        items: vec![FriendItem {
            jid: bare(REQUESTOR),
            friend: false,
        }],
    }
    .to_stanza(jid(BULB), "f1");
    w.route(mallory, &revoke.to_xml());
    // A claim sent to the thing itself is not served by anyone.
    let claim = SiotPayload::Claim {
        name: NAME.into(),
        key: Key::generate(&mut w.rng),
    }
    .to_stanza(jid(BULB), "c1");
    w.route(mallory, &claim.to_xml());
    let events = w.bulb_events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| matches!(e, ThingEvent::Spoofed { from: Some(f), .. } if *f == jid(mallory)))
    );
    assert_eq!(w.bulb.owner(), Some(&bare(OWNER)));
    assert!(w.bulb.is_friend(&bare(REQUESTOR)));
    let refusal = w.bulb.poll_transmit().unwrap();
    assert_eq!(
        refusal.error().unwrap().condition,
        DefinedCondition::ServiceUnavailable
    );

    // A notification to the owner from someone else, and an answer to the
    // owner's query from someone else, are ignored too.
    let fake = SiotPayload::PendingFriendNotification.to_stanza(jid(OWNER), "n1");
    w.route(mallory, &fake.to_xml());
    w.owner.query_pending(T0);
    let q = w.owner.poll_transmit().unwrap();
    let forged = SiotPayload::PendingFriendRequests {
        jids: vec![bare(mallory)],
    }
    .reply_to(&{
        let mut q = q;
        q.from = Some(jid(OWNER));
        q
    });
    w.route(mallory, &forged.to_xml());
    let events = w.owner_events();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| matches!(e, OwnerEvent::Spoofed { .. }))
    );
}

#[test]
fn spoofed_answers_to_the_thing_are_refused() {
    let mut w = World::new();
    w.set_up();
    w.bulb_events();
    w.requestor_subscribes();
    // Nobody claimed the bulb: the service answers no.
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Unsubscribed]);
    // Now a forged `yes` from someone else for a fresh query.
    let s = SubscriptionRequest::Subscribe.to(&bare(BULB), "s2");
    w.route(REQUESTOR, &s.to_xml());
    let query = w.bulb.poll_transmit().unwrap();
    let mut q = query;
    q.from = Some(jid(BULB));
    let yes = SiotPayload::IsFriendResult {
        friend: siot_proto::payload::Friendship::Yes,
    }
    .reply_to(&q);
    w.route(REQUESTOR, &yes.to_xml());
    assert!(!w.bulb.is_friend(&bare(REQUESTOR)));
    assert!(
        w.bulb_events()
            .iter()
            .any(|e| matches!(e, ThingEvent::Spoofed { .. }))
    );
}

#[test]
fn a_friendship_revoked() {
    let (mut w, _) = story();
    w.owner.update(
        T0,
        vec![FriendItem {
            jid: bare(REQUESTOR),
            friend: false,
        }],
    );
    w.run();
    assert_eq!(w.owner_events(), vec![OwnerEvent::Updated]);
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Unsubscribed]);
    assert!(!w.bulb.is_friend(&bare(REQUESTOR)));
    assert_eq!(
        w.bulb_events(),
        vec![ThingEvent::FriendRemoved(bare(REQUESTOR))]
    );
    // Asking again: the service now says no.
    w.requestor_subscribes();
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Unsubscribed]);
    // The owner cannot unfriend itself.
    w.owner.update(
        T0,
        vec![FriendItem {
            jid: bare(OWNER),
            friend: false,
        }],
    );
    w.run();
    assert_eq!(
        w.owner_events(),
        vec![OwnerEvent::Failed(refused(DefinedCondition::NotAcceptable))]
    );
    assert!(w.bulb.is_friend(&bare(OWNER)));
}

#[test]
fn only_owners_update_and_only_things_ask() {
    let (mut w, _) = story();
    w.owner2.update(
        T0,
        vec![FriendItem {
            jid: bare(OWNER2),
            friend: true,
        }],
    );
    w.owner2.query_pending(T0);
    w.run();
    assert_eq!(
        w.owner2_events(),
        vec![
            OwnerEvent::Failed(refused(DefinedCondition::Forbidden)),
            OwnerEvent::Failed(refused(DefinedCondition::Forbidden))
        ]
    );
    let query = SiotPayload::IsFriendQuery { jid: bare(OWNER2) }.to_stanza(jid(PS), "q1");
    w.route(OWNER2, &query.to_xml());
    let refused = w.ps_events();
    assert!(
        refused
            .iter()
            .filter(|e| matches!(e, ProvisioningEvent::Refused { .. }))
            .count()
            == 3,
        "{refused:?}"
    );
}

#[test]
fn factory_reset_and_reclaim_by_a_new_owner() {
    let (mut w, old_key) = story();
    w.bulb.factory_reset();
    assert!(w.bulb.key().is_none() && w.bulb.owner().is_none());
    w.run();
    // Friends other than the service were revoked.
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Unsubscribed]);
    assert!(!w.bulb.is_friend(&bare(REQUESTOR)) && !w.bulb.is_friend(&bare(OWNER)));
    assert!(w.bulb.is_friend(&bare(PS)));
    w.bulb_events();
    let new_key = w.set_up();
    assert_ne!(new_key, old_key);
    assert_eq!(
        w.store.owner_of(&bare(BULB)),
        None,
        "a new key is a new setup"
    );
    assert!(w.store.is_subscribed(&bare(BULB)), "approved again");
    // The old key no longer claims it; the buyer's new key does.
    assert_eq!(
        w.claim(&old_key),
        vec![OwnerEvent::ClaimFailed(refused(
            DefinedCondition::ItemNotFound
        ))]
    );
    w.owner2.claim(T0, NAME, &new_key);
    w.run();
    assert_eq!(w.owner2_events(), vec![OwnerEvent::Claimed(bare(BULB))]);
    assert_eq!(w.bulb.owner(), Some(&bare(OWNER2)));
    // The old owner's friends are not the new owner's.
    w.requestor_subscribes();
    assert!(w.requestor_got().is_empty(), "pending for the new owner");
    assert_eq!(w.store.pending(&bare(OWNER2)), vec![bare(REQUESTOR)]);
}

#[test]
fn the_printed_friend_state_update_answer_is_not_a_result() {
    let (mut w, _) = story();
    w.owner.update(T0, vec![]);
    let sent = w.owner.poll_transmit().unwrap();
    // Example 17 as printed: type 'set', same id, no payload.
    let printed = format!(
        "<iq from='{PS}' to='{OWNER}' type='set' id='{}'/>",
        sent.id.as_deref().unwrap()
    );
    let s = Stanza::parse(&printed, &Default::default()).unwrap();
    w.owner.handle_input(T0, Input::Data(&s));
    assert!(w.owner_events().is_empty());
    // Unanswered, the update times out.
    let deadline = w.owner.poll_timeout().unwrap();
    w.owner.handle_timeout(deadline);
    assert_eq!(
        w.owner_events(),
        vec![OwnerEvent::Failed(IqFailure::TimedOut)]
    );
}

#[test]
fn roster_items_from_the_server_decide_friendship() {
    let mut w = World::new();
    w.bulb
        .apply_roster_item(bare(REQUESTOR), Subscription::Both);
    assert!(w.bulb.is_friend(&bare(REQUESTOR)));
    w.bulb.apply_roster_item(bare(REQUESTOR), Subscription::To);
    assert!(
        !w.bulb.is_friend(&bare(REQUESTOR)),
        "2.3: to is not a friend"
    );
    w.bulb
        .apply_roster_item(bare(REQUESTOR), Subscription::From);
    w.requestor_subscribes();
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Subscribed]);
}

#[test]
fn truncated_and_garbage_input_is_an_error() {
    let mut w = World::new();
    assert!(
        w.bulb
            .handle_stanza(T0, "<iq type='set'><register")
            .is_err()
    );
    assert!(w.ps.handle_stanza(T0, "").is_err());
    assert!(w.owner.handle_stanza(T0, "<message><x></message>").is_err());
    // A malformed protocol element gets bad-request from the service.
    w.ps.handle_stanza(
        T0,
        "<iq from='a@b/c' type='set' id='1'><claim xmlns='urn:xmpp:siot:1' name='x'/></iq>",
    )
    .unwrap();
    let r = w.ps.poll_transmit().unwrap();
    assert_eq!(r.error().unwrap().condition, DefinedCondition::BadRequest);
}

#[test]
fn registering_again_with_the_same_key_keeps_owner_and_friends() {
    let (mut w, key) = story();
    let again = SiotPayload::Register {
        key: key.clone(),
        names: vec![Name {
            lang: None,
            text: "Renamed Bulb".into(),
        }],
    }
    .to_stanza(jid(PS), "register-2");
    w.route(BULB, &again.to_xml());
    w.run();
    assert_eq!(w.store.owner_of(&bare(BULB)), Some(bare(OWNER)));
    assert_eq!(
        w.store.friendship(&bare(BULB), &bare(REQUESTOR)),
        siot_proto::payload::Friendship::Yes
    );
    // Found by its new name only: the old one is unknown, the new one is
    // owned by someone else.
    w.owner2.claim(T0, NAME, &key);
    w.owner2.claim(T0, "Renamed Bulb", &key);
    w.run();
    assert_eq!(
        w.owner2_events(),
        vec![
            OwnerEvent::ClaimFailed(refused(DefinedCondition::ItemNotFound)),
            OwnerEvent::ClaimFailed(refused(DefinedCondition::Conflict))
        ]
    );
}

#[test]
fn an_unanswered_claim_times_out() {
    let mut w = World::new();
    w.owner.claim(T0, NAME, &Key::generate(&mut w.rng));
    // The claim is lost on its way: nobody answers.
    let claim = w.owner.poll_transmit().unwrap();
    assert!(
        claim
            .payload("claim", siot_proto::payload::SIOT_NS)
            .is_some()
    );
    let deadline = w
        .owner
        .poll_timeout()
        .expect("the claim waits with a deadline");
    assert_eq!(deadline, T0 + Duration::from_secs(30));
    w.owner.handle_timeout(deadline - Duration::from_millis(1));
    assert!(w.owner_events().is_empty());
    w.owner.handle_timeout(deadline);
    assert_eq!(
        w.owner_events(),
        vec![OwnerEvent::ClaimFailed(IqFailure::TimedOut)]
    );
    assert_eq!(w.owner.poll_timeout(), None);
    // A late answer is not taken.
    w.driver = Driver::new(deadline);
    let late = SiotPayload::Claimed { jid: bare(BULB) }.reply_to(&{
        let mut c = claim;
        c.from = Some(jid(OWNER));
        c
    });
    w.route(PS, &late.to_xml());
    assert!(w.owner_events().is_empty());
}

#[test]
fn unanswered_registration_and_is_friend_query_time_out() {
    let mut w = World::new();
    w.bulb.setup(T0);
    let _lost = w.bulb.poll_transmit().unwrap();
    assert_eq!(
        w.advance_to_next_timer(),
        Some(T0 + Duration::from_secs(30))
    );
    assert_eq!(
        w.bulb_events(),
        vec![ThingEvent::RegistrationFailed(IqFailure::TimedOut)]
    );
    assert!(!w.bulb.is_registered());

    // Registered, then the service goes silent on an is-friend query: the
    // requestor is refused, as for an error answer.
    let mut w = World::new();
    w.set_up();
    w.bulb_events();
    w.route(
        REQUESTOR,
        &SubscriptionRequest::Subscribe
            .to(&bare(BULB), "s1")
            .to_xml(),
    );
    let query = w.bulb.poll_transmit().unwrap();
    assert!(
        query
            .payload("is-friend-query", siot_proto::payload::SIOT_NS)
            .is_some()
    );
    let at = w.advance_to_next_timer().unwrap();
    assert_eq!(at, T0 + Duration::from_secs(30));
    assert_eq!(
        w.bulb_events(),
        vec![ThingEvent::FriendRemoved(bare(REQUESTOR))]
    );
    w.run();
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Unsubscribed]);
}

#[test]
fn a_closed_connection_ends_each_machine_once() {
    let (mut w, _) = story();
    w.ps_events();
    w.owner.query_pending(T0);
    for node in w.nodes() {
        node.input(T0, Input::PeerClosed);
        node.input(T0, Input::PeerClosed);
    }
    assert_eq!(w.bulb_events(), vec![ThingEvent::Ended(End::PeerClosed)]);
    assert_eq!(w.owner_events(), vec![OwnerEvent::Ended(End::PeerClosed)]);
    assert_eq!(w.owner2_events(), vec![OwnerEvent::Ended(End::PeerClosed)]);
    assert_eq!(
        w.ps_events(),
        vec![ProvisioningEvent::Ended(End::PeerClosed)]
    );
    // The owner's pending query was dropped with the connection: no timer.
    assert_eq!(w.owner.poll_timeout(), None);
    // Requests made after the end send nothing and wait for nothing (found
    // by the siot_thing_owner fuzz target: a timer after the end). What was
    // queued before the end still goes out first.
    while w.owner.poll_transmit().is_some() {}
    while w.bulb.poll_transmit().is_some() {}
    w.owner.query_pending(T0);
    w.owner.claim(T0, NAME, &Key::generate(&mut w.rng));
    assert_eq!(w.owner.poll_timeout(), None);
    assert!(w.owner.poll_transmit().is_none() && w.owner_events().is_empty());
    let _ = w.bulb.setup(T0);
    assert_eq!(w.bulb.poll_timeout(), None);
    assert!(w.bulb.poll_transmit().is_none());
    // Nothing more is read after the end.
    w.route(
        REQUESTOR,
        &SubscriptionRequest::Subscribe
            .to(&bare(BULB), "s9")
            .to_xml(),
    );
    assert!(w.bulb_events().is_empty() && w.bulb.poll_transmit().is_none());
}

#[test]
fn a_pending_list_of_1024_is_built_by_the_service_and_read_by_the_owner() {
    let mut w = World::new();
    let key = w.set_up();
    assert_eq!(w.claim(&key), vec![OwnerEvent::Claimed(bare(BULB))]);
    w.ps_events();
    // The bulb asks about 1,025 requestors: the service keeps 1,024
    // waiting and answers the last one `no`.
    let requestors: Vec<BareJid> = (0..=siot_proto::MAX_PENDING_PER_OWNER)
        .map(|i| bare(&format!("requestor{i:04}@example.net")))
        .collect();
    for (i, r) in requestors.iter().enumerate() {
        let query =
            SiotPayload::IsFriendQuery { jid: r.clone() }.to_stanza(jid(PS), &format!("q{i}"));
        w.route(BULB, &query.to_xml());
        w.answer_store();
    }
    w.run();
    assert_eq!(
        w.store.pending(&bare(OWNER)).len(),
        siot_proto::MAX_PENDING_PER_OWNER
    );
    w.owner_events();
    w.owner.query_pending(T0);
    w.run();
    let got = w.owner_events();
    let [OwnerEvent::Pending(list)] = got.as_slice() else {
        panic!("{got:?}");
    };
    assert_eq!(list.len(), siot_proto::MAX_PENDING_PER_OWNER);
    assert_eq!(list[..], requestors[..siot_proto::MAX_PENDING_PER_OWNER]);
    // As text, the list reads within the owner's limits (and would not
    // within the workspace's general ones).
    let sent = last_payload(&w, "pending-friend-requests");
    assert_eq!(w.owner.stanza_limits(), &siot_proto::stanza_limits());
    let mut fresh = Checked::new(Owner::<Duration>::new(OwnerConfig::new(jid(PS))));
    assert!(Stanza::parse(&sent, w.owner.stanza_limits()).is_ok());
    assert!(Stanza::parse(&sent, &siot_proto::stanza::StanzaLimits::default()).is_err());
    assert!(fresh.handle_stanza(T0, &sent).is_ok());
    // And the owner's answer about all of them reads at the service.
    w.owner.update(
        T0,
        list.iter()
            .map(|j| FriendItem {
                jid: j.clone(),
                friend: false,
            })
            .collect(),
    );
    w.run();
    assert_eq!(w.owner_events(), vec![OwnerEvent::Updated]);
    assert!(w.store.pending(&bare(OWNER)).is_empty());
    let update = last_payload(&w, "friend-state-update");
    assert!(Stanza::parse(&update, w.ps.stanza_limits()).is_ok());
}

/// The text of the last stanza the server carried with this siot payload.
fn last_payload(w: &World, name: &str) -> String {
    w.xmpp
        .log()
        .iter()
        .rev()
        .find(|c| c.stanza.payloads.iter().any(|p| p.name == name))
        .map(|c| c.stanza.to_xml())
        .unwrap()
}

#[test]
fn the_service_restarted_between_claim_and_approval_loses_nothing() {
    let mut w = World::new();
    let key = w.set_up();
    assert_eq!(w.claim(&key), vec![OwnerEvent::Claimed(bare(BULB))]);
    w.requestor_subscribes();
    assert_eq!(w.owner_events(), vec![OwnerEvent::PendingNotified]);
    w.ps_events();
    // The service's process stops; a new one starts from the store.
    // The store is the service's state: the new process starts from it.
    let records = w.store.records();
    w.store = Registry::from_records(records.clone()).unwrap();
    assert_eq!(w.store.records(), records, "read back as stored");
    w.ps = Checked::new(ProvisioningService::with_store(
        Default::default(),
        Deferred,
    ));
    assert_eq!(w.store.owner_of(&bare(BULB)), Some(bare(OWNER)));
    // The story goes on: the owner lists the request and approves it.
    w.owner_approves_the_requestor();
    // A claim by someone else is still refused: the owner survived.
    let mut thief = Checked::new(Owner::<Duration>::new(OwnerConfig::new(jid(PS))));
    thief.claim(T0, NAME, &key);
    let claim = thief.poll_transmit().unwrap();
    w.route(OWNER2, &claim.to_xml());
    w.ps_events();
    assert!(w.store.pending(&bare(OWNER)).is_empty());
}

#[test]
fn a_rebooted_thing_keeps_its_key_and_owner_and_still_answers_its_friends() {
    let (mut w, key) = story();
    w.bulb_events();
    let flash = w.flash.clone();
    assert_eq!(
        flash.key.as_ref().map(|k| k.expose().as_str()),
        Some(key.expose())
    );
    // Power off, power on: the bulb comes back from its flash memory.
    let names = vec![Name {
        lang: None,
        text: NAME.into(),
    }];
    w.bulb =
        Checked::new(Thing::restore(ThingConfig::new(jid(PS), names), rng(99), &flash).unwrap());
    assert_eq!(w.bulb.key(), Some(&key));
    assert!(w.bulb.is_registered());
    assert_eq!(w.bulb.owner(), Some(&bare(OWNER)));
    assert!(w.bulb.is_friend(&bare(REQUESTOR)));
    assert_eq!(w.bulb.state(), flash);
    // Its friend asks again (a new device of the requestor): approved at
    // once, without asking the service.
    let before = w.xmpp.log().len();
    w.requestor_subscribes();
    assert_eq!(w.requestor_got(), vec![SubscriptionRequest::Subscribed]);
    assert!(
        !w.xmpp.log()[before..].iter().any(|c| c
            .stanza
            .payloads
            .iter()
            .any(|p| p.name == "is-friend-query")),
        "a known friend needs no query"
    );
    // The service still knows it as owned: no factory reset was seen.
    assert_eq!(w.store.owner_of(&bare(BULB)), Some(bare(OWNER)));
}

/// A service run as two resources of one account: a thing configured with
/// `any_resource` takes its owner from the other resource; one configured
/// without takes only the resource it registered with (section 10).
#[test]
fn a_thing_trusts_the_other_resources_of_its_service_only_when_configured_to() {
    for any_resource in [false, true] {
        let names = vec![Name {
            lang: None,
            text: NAME.into(),
        }];
        let mut config = ThingConfig::new(jid("provisioning@localhost/ps1"), names);
        config.any_resource = any_resource;
        let mut thing = Checked::new(Thing::<Duration, _>::new(config, rng(3)));
        let _ = thing.setup(T0);
        while thing.poll_transmit().is_some() {}
        while thing.poll_event().is_some() {}
        for (from, owner) in [
            ("provisioning@localhost/ps2", "owner@localhost"),
            ("provisioning@elsewhere.org/ps1", "mallory@localhost"),
        ] {
            let message = SiotPayload::Owner { jid: bare(owner) }
                .to_stanza(jid(BULB), "m")
                .with_from(jid(from));
            thing.handle_input(T0, Input::Data(&message));
        }
        let events: Vec<ThingEvent> = std::iter::from_fn(|| thing.poll_event()).collect();
        let spoofed = events
            .iter()
            .filter(|e| matches!(e, ThingEvent::Spoofed { .. }))
            .count();
        if any_resource {
            assert_eq!(thing.owner(), Some(&bare("owner@localhost")));
            assert_eq!(spoofed, 1, "another account is still refused: {events:?}");
        } else {
            assert_eq!(thing.owner(), None);
            assert_eq!(spoofed, 2, "{events:?}");
        }
    }
}
