//! The provisioning service's decisions, thing by thing (sections 2.3, 5,
//! 7 and 8): a friendship the owner grants holds for the things the
//! requestor asked about, not every thing the owner has; claims find the
//! one unit with the printed key among many of one product name.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::store::{Deferred, Store, StoreOp};
use iot_sansio::testing::rng;
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Friendship, Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};
use siot_proto::stanza::{BareJid, DefinedCondition, Jid, Stanza};
use siot_proto::{Input, Machine};

const T0: Duration = Duration::ZERO;

/// The service with a runtime that answers every store request from a
/// registry it keeps (and counts the writes), keeping the service's other
/// events.
struct Service {
    ps: ProvisioningService<Duration, Deferred>,
    store: Registry,
    events: std::collections::VecDeque<ProvisioningEvent>,
    saved: usize,
}

impl Service {
    fn new(config: siot_proto::provisioning::ProvisioningConfig) -> Self {
        Self {
            ps: ProvisioningService::with_store(config, Deferred),
            store: Registry::new(),
            events: std::collections::VecDeque::new(),
            saved: 0,
        }
    }

    /// Answers what the service asked of its store, until it asks nothing.
    fn settle(&mut self) {
        while let Some(event) = self.ps.poll_event() {
            match event {
                ProvisioningEvent::Store(request) => {
                    if let StoreOp::Put { .. } = request.op {
                        self.saved += 1;
                    }
                    let answer = self.store.answer_now(&request.op).unwrap();
                    self.ps.provide(T0, request.id, answer).unwrap();
                }
                other => self.events.push_back(other),
            }
        }
    }

    fn handle_input(&mut self, now: Duration, input: Input<'_, Stanza>) {
        self.ps.handle_input(now, input);
        self.settle();
    }

    fn apply_roster_change(&mut self, change: &iot_xmpp::roster::RosterChange) {
        self.ps.apply_roster_change(T0, change);
        self.settle();
    }

    fn poll_event(&mut self) -> Option<ProvisioningEvent> {
        self.events.pop_front()
    }

    fn poll_transmit(&mut self) -> Option<Stanza> {
        self.ps.poll_transmit()
    }
}

/// The questions a test asks are the registry's.
impl std::ops::Deref for Service {
    type Target = Registry;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

fn ps_jid() -> Jid {
    "provisioning.example.org".parse().unwrap()
}

fn deliver(ps: &mut Service, from: &str, stanza: Stanza) -> Vec<Stanza> {
    ps.handle_input(
        T0,
        Input::Data(&stanza.with_from(from.parse::<Jid>().unwrap())),
    );
    std::iter::from_fn(|| ps.poll_transmit()).collect()
}

fn register(ps: &mut Service, thing: &str, name: &str, key: &Key) {
    let p = SiotPayload::Register {
        key: key.clone(),
        names: vec![Name {
            lang: None,
            text: name.into(),
        }],
    };
    deliver(ps, thing, p.to_stanza(ps_jid(), "r"));
}

fn claim(ps: &mut Service, owner: &str, name: &str, key: &Key) -> Vec<Stanza> {
    let p = SiotPayload::Claim {
        name: name.into(),
        key: key.clone(),
    };
    deliver(ps, owner, p.to_stanza(ps_jid(), "c"))
}

fn bare(s: &str) -> BareJid {
    s.parse().unwrap()
}

/// Section 2.3 and 8: a requestor asked the lamp (through the lamp's
/// is-friend query); the owner's `friend` decision makes it a friend of
/// the lamp, not of the lock the owner also has, which is not told. A
/// friend the owner adds unprompted is a friend of every thing of the
/// owner's, and a `non-friend` decision holds for all of them.
#[test]
fn a_granted_friendship_holds_only_for_the_things_asked_about() {
    let mut ps = Service::new(Default::default());
    let (lamp_key, lock_key) = (Key::generate(&mut rng(1)), Key::generate(&mut rng(2)));
    register(&mut ps, "lamp@example.org/l", "Lamp", &lamp_key);
    register(&mut ps, "lock@example.org/k", "Lock", &lock_key);
    claim(&mut ps, "owner@example.com/o", "Lamp", &lamp_key);
    claim(&mut ps, "owner@example.com/o", "Lock", &lock_key);
    let ask = SiotPayload::IsFriendQuery {
        jid: bare("guest@example.net"),
    };
    let answer = deliver(&mut ps, "lamp@example.org/l", ask.to_stanza(ps_jid(), "q"));
    assert!(answer.iter().any(|s| matches!(
        SiotPayload::from_stanza(s),
        Ok(Some(SiotPayload::IsFriendResult {
            friend: Friendship::Pending
        }))
    )));
    assert_eq!(
        ps.pending(&bare("owner@example.com")),
        [bare("guest@example.net")]
    );
    while ps.poll_event().is_some() {}
    let update = SiotPayload::FriendStateUpdate {
        items: vec![
            FriendItem {
                jid: bare("guest@example.net"),
                friend: true,
            },
            FriendItem {
                jid: bare("pal@example.net"),
                friend: true,
            },
        ],
    };
    let sent = deliver(
        &mut ps,
        "owner@example.com/o",
        update.to_stanza(ps_jid(), "u"),
    );
    let (lamp, lock) = (bare("lamp@example.org"), bare("lock@example.org"));
    assert_eq!(
        ps.friendship(&lamp, &bare("guest@example.net")),
        Friendship::Yes
    );
    assert_eq!(
        ps.friendship(&lock, &bare("guest@example.net")),
        Friendship::Pending
    );
    // The unprompted friend: both things.
    assert_eq!(
        ps.friendship(&lamp, &bare("pal@example.net")),
        Friendship::Yes
    );
    assert_eq!(
        ps.friendship(&lock, &bare("pal@example.net")),
        Friendship::Yes
    );
    // Each thing is told only of the decisions that concern it.
    let told = |to: &str| -> Vec<FriendItem> {
        sent.iter()
            .filter(|s| s.to.as_ref().is_some_and(|j| j.to_bare() == bare(to)))
            .filter_map(|s| match SiotPayload::from_stanza(s) {
                Ok(Some(SiotPayload::FriendshipStates { items })) => Some(items),
                _ => None,
            })
            .flatten()
            .collect()
    };
    assert_eq!(told("lamp@example.org").len(), 2);
    assert_eq!(
        told("lock@example.org"),
        [FriendItem {
            jid: bare("pal@example.net"),
            friend: true
        }]
    );
    // A refusal holds everywhere.
    let revoke = SiotPayload::FriendStateUpdate {
        items: vec![FriendItem {
            jid: bare("pal@example.net"),
            friend: false,
        }],
    };
    deliver(
        &mut ps,
        "owner@example.com/o",
        revoke.to_stanza(ps_jid(), "v"),
    );
    assert_eq!(
        ps.friendship(&lamp, &bare("pal@example.net")),
        Friendship::No
    );
    assert_eq!(
        ps.friendship(&lock, &bare("pal@example.net")),
        Friendship::No
    );
}

/// A claim finds the one unit whose key it gives among a thousand units of
/// one product name, through one look-up of a digest of the name and key:
/// the cost does not grow with the units registered, so its time says
/// nothing of how many there are. A wrong key and an unknown name answer
/// the same.
#[test]
fn a_claim_finds_its_unit_among_many_of_one_name() {
    let mut ps = Service::new(Default::default());
    let name = "Futuretec Light Bulb 10X";
    let keys: Vec<Key> = (0..1000u64).map(|n| Key::generate(&mut rng(n))).collect();
    for (n, key) in keys.iter().enumerate() {
        register(&mut ps, &format!("bulb{n}@example.org/b"), name, key);
    }
    assert_eq!(ps.thing_count(), 1000);
    while ps.poll_event().is_some() {}
    for n in [0usize, 499, 999] {
        let owner = format!("owner{n}@example.com/o");
        claim(&mut ps, &owner, name, &keys[n]);
        let events: Vec<_> = std::iter::from_fn(|| ps.poll_event()).collect();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ProvisioningEvent::Claimed { thing, .. }
                if *thing == bare(&format!("bulb{n}@example.org")))),
            "{events:?}"
        );
    }
    let stranger = Key::generate(&mut rng(5000));
    for (claimed, key) in [(name, &stranger), ("Unknown Lamp", &keys[1])] {
        let sent = claim(&mut ps, "thief@example.com/t", claimed, key);
        assert_eq!(
            sent[0].error().map(|e| e.condition),
            Some(DefinedCondition::ItemNotFound)
        );
    }
    // The right key under another of the unit's names only: not found.
    let sent = claim(&mut ps, "thief@example.com/t", "Bulb", &keys[2]);
    assert_eq!(
        sent[0].error().map(|e| e.condition),
        Some(DefinedCondition::ItemNotFound)
    );
}

/// A bare JID as long as it can be: a 1,023-byte local part (RFC 7622)
/// and a 253-byte domain (the longest DNS name, which IDNA holds a domain
/// to).
fn maximal_jid(n: usize) -> BareJid {
    let local = format!("{n:04}{}", "a".repeat(1019));
    let label = "b".repeat(63);
    let domain = format!("{label}.{label}.{label}.{}", "c".repeat(61));
    assert_eq!((local.len(), domain.len()), (1023, 253));
    format!("{local}@{domain}").parse().unwrap()
}

/// 1,024 requestors with maximal JIDs wait for one owner: the service
/// answers the pending query with as many as fit the bytes the owner reads
/// (where the whole list would be 1.3 MiB), the owner's decisions go in
/// updates within the bytes the service reads, and the list drains in a
/// few rounds; nobody was told `no` for want of room.
#[test]
fn a_pending_list_of_maximal_jids_drains_within_the_limits() {
    use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
    let limits = siot_proto::stanza_limits();
    let mut ps = Service::new(Default::default());
    let lamp_key = Key::generate(&mut rng(1));
    register(&mut ps, "lamp@example.org/l", "Lamp", &lamp_key);
    claim(&mut ps, "owner@example.com/o", "Lamp", &lamp_key);
    let requestors: Vec<BareJid> = (0..1024).map(maximal_jid).collect();
    for r in &requestors {
        let ask = SiotPayload::IsFriendQuery { jid: r.clone() };
        let answer = deliver(&mut ps, "lamp@example.org/l", ask.to_stanza(ps_jid(), "q"));
        assert!(answer.iter().any(|s| matches!(
            SiotPayload::from_stanza(s),
            Ok(Some(SiotPayload::IsFriendResult {
                friend: Friendship::Pending
            }))
        )));
    }
    let owner_jid = bare("owner@example.com");
    assert_eq!(ps.pending(&owner_jid).len(), 1024);
    let mut owner = Checked::new(Owner::<Duration>::new(OwnerConfig::new(ps_jid())));
    // One stanza each way, through the text a server would carry, read
    // with the limits each side reads with.
    let carry = |s: &Stanza, from: &str| -> Stanza {
        let xml = s.to_xml();
        assert!(xml.len() <= limits.max_len, "{} bytes", xml.len());
        Stanza::parse(&xml, &limits)
            .unwrap()
            .with_from(from.parse::<Jid>().unwrap())
    };
    let mut rounds = 0;
    while !ps.pending(&owner_jid).is_empty() {
        rounds += 1;
        assert!(rounds <= 16, "the list does not drain");
        owner.query_pending(T0);
        let query = owner.poll_transmit().unwrap();
        ps.handle_input(T0, Input::Data(&carry(&query, "owner@example.com/o")));
        let reply = ps.poll_transmit().unwrap();
        owner.handle_input(T0, Input::Data(&carry(&reply, "provisioning.example.org")));
        let jids = match owner.poll_event() {
            Some(OwnerEvent::Pending(jids)) => jids,
            other => panic!("{other:?}"),
        };
        assert!(!jids.is_empty() && jids.len() < 1024);
        owner.update(
            T0,
            jids.into_iter()
                .map(|jid| FriendItem { jid, friend: true })
                .collect(),
        );
        let updates: Vec<Stanza> = std::iter::from_fn(|| owner.poll_transmit()).collect();
        for u in &updates {
            ps.handle_input(T0, Input::Data(&carry(u, "owner@example.com/o")));
        }
        for answer in std::iter::from_fn(|| ps.poll_transmit()).collect::<Vec<_>>() {
            if answer.to.as_ref().is_some_and(|t| t.to_bare() == owner_jid) {
                owner.handle_input(T0, Input::Data(&carry(&answer, "provisioning.example.org")));
            } else {
                // The lamp's notices are within the bytes too.
                carry(&answer, "provisioning.example.org");
            }
        }
        let updated = std::iter::from_fn(|| owner.poll_event())
            .filter(|e| matches!(e, OwnerEvent::Updated))
            .count();
        assert_eq!(updated, updates.len());
    }
    assert!(
        rounds > 1,
        "the whole list fit one stanza: the test proves nothing"
    );
    let lamp = bare("lamp@example.org");
    assert!(
        requestors
            .iter()
            .all(|r| ps.friendship(&lamp, r) == Friendship::Yes)
    );
}

/// A thing that approved the service's subscription before the service
/// connected (or whose server approved it on its behalf, RFC 6121 3.1.3)
/// sends no `subscribed` the service sees: the service's roster says so,
/// before or after the thing registers.
#[test]
fn the_roster_tells_which_things_the_service_is_subscribed_to() {
    use iot_xmpp::Subscription;
    use iot_xmpp::roster::{RosterChange, RosterItem};
    let item = |jid: &str, subscription| {
        RosterChange::Updated(RosterItem {
            jid: bare(jid),
            name: None,
            subscription,
            pending_out: false,
            groups: Vec::new(),
        })
    };
    let mut ps = Service::new(Default::default());
    let key = Key::generate(&mut rng(1));
    register(&mut ps, "lamp@example.org/l", "Lamp", &key);
    let lamp = bare("lamp@example.org");
    assert!(!ps.is_subscribed(&lamp));
    while ps.poll_event().is_some() {}
    ps.apply_roster_change(&item("lamp@example.org", Subscription::From));
    assert!(
        !ps.is_subscribed(&lamp),
        "`from` is the thing's, not the service's"
    );
    let saved = ps.saved;
    ps.apply_roster_change(&item("lamp@example.org", Subscription::Both));
    assert!(ps.is_subscribed(&lamp));
    let events: Vec<_> = std::iter::from_fn(|| ps.poll_event()).collect();
    assert!(events.contains(&ProvisioningEvent::Subscribed(lamp)));
    assert_eq!(ps.saved, saved + 1, "the thing's record is saved");
    // Known from the roster first, registered afterwards.
    ps.apply_roster_change(&item("lock@example.org", Subscription::To));
    register(
        &mut ps,
        "lock@example.org/k",
        "Lock",
        &Key::generate(&mut rng(2)),
    );
    assert!(ps.is_subscribed(&bare("lock@example.org")));
}
