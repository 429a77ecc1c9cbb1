//! The provisioning service writes ahead (sections 4, 5, 6 and 8): what it
//! answers in an input waits until the runtime confirms every record the
//! input changed, so the driver's crash mode, run at every write of the
//! story, never finds a thing, an owner or a requestor told of a
//! registration, claim, pending request or decision that the rebuilt
//! service lost.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use iot_sansio::testing::{CrashPlan, WriteFate, every_crash, rng};
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Friendship, Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Record};
use siot_proto::stanza::{BareJid, IqType, Jid, Stanza};
use siot_proto::{Input, Machine};

const T0: Duration = Duration::ZERO;
const THING: &str = "bulb@example.org/f65dece8";
const OWNER: &str = "owner@example.com/76a60ed0";
const REQUESTOR: &str = "requestor@example.net";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn bare(s: &str) -> BareJid {
    s.parse().unwrap()
}

/// The story's stanzas, each from its sender.
fn story(key: &Key) -> Vec<(&'static str, Stanza)> {
    let ps = jid("provisioning.example.org");
    let names = vec![Name {
        lang: None,
        text: "Bulb".into(),
    }];
    vec![
        (
            THING,
            SiotPayload::Register {
                key: key.clone(),
                names,
            }
            .to_stanza(ps.clone(), "r"),
        ),
        (
            OWNER,
            SiotPayload::Claim {
                name: "Bulb".into(),
                key: key.clone(),
            }
            .to_stanza(ps.clone(), "c"),
        ),
        (
            THING,
            SiotPayload::IsFriendQuery {
                jid: bare(REQUESTOR),
            }
            .to_stanza(ps.clone(), "q"),
        ),
        (
            OWNER,
            SiotPayload::FriendStateUpdate {
                items: vec![FriendItem {
                    jid: bare(REQUESTOR),
                    friend: true,
                }],
            }
            .to_stanza(ps, "u"),
        ),
    ]
}

/// What the peers were told, as the service's answers say it.
#[derive(Debug, Default)]
struct Told {
    registered: bool,
    claimed: bool,
    pending: bool,
    friend: bool,
}

impl Told {
    fn read(&mut self, answer: &Stanza) {
        let ok = answer.iq_type() == Some(IqType::Result);
        match (answer.id.as_deref(), SiotPayload::from_stanza(answer)) {
            (Some("r"), _) => self.registered |= ok,
            (_, Ok(Some(SiotPayload::Claimed { .. }))) => self.claimed = true,
            (_, Ok(Some(SiotPayload::IsFriendResult { friend }))) => {
                self.pending |= friend == Friendship::Pending;
            }
            (Some("u"), _) => self.friend |= ok,
            _ => {}
        }
    }

    /// Checks that the service rebuilt from `store` knows all that was
    /// told.
    fn check(&self, store: &BTreeMap<String, Record>) {
        let records: Vec<Record> = store.values().cloned().collect();
        let ps = ProvisioningService::<Duration>::restore(Default::default(), &records).unwrap();
        let thing = jid(THING).to_bare();
        let owner = jid(OWNER).to_bare();
        if self.registered {
            assert_eq!(ps.thing_count(), 1, "a registration told, then lost");
        }
        if self.claimed {
            assert_eq!(ps.owner_of(&thing), Some(&owner), "a claim told, then lost");
        }
        // A pending request told may since have been decided (stored, not
        // yet answered): it is pending or a friendship.
        if self.pending {
            let decided = ps.friendship(&thing, &bare(REQUESTOR)) == Friendship::Yes;
            assert!(
                decided || ps.pending(&owner) == [bare(REQUESTOR)],
                "a pending request told, then lost"
            );
        }
        if self.friend {
            assert_eq!(ps.friendship(&thing, &bare(REQUESTOR)), Friendship::Yes);
        }
    }
}

/// Runs the story through a service whose runtime writes through `plan`;
/// what was told, and whether it crashed.
fn run(
    ps: &mut ProvisioningService<Duration>,
    store: &mut BTreeMap<String, Record>,
    plan: &mut CrashPlan,
    told: &mut Told,
) -> bool {
    for (from, stanza) in story(&Key::generate(&mut rng(1))) {
        ps.handle_input(T0, Input::Data(&stanza.with_from(jid(from))));
        // The documented loop: what may be sent goes first, then events.
        while let Some(answer) = ps.poll_transmit() {
            told.read(&answer);
        }
        while let Some(event) = ps.poll_event() {
            let ProvisioningEvent::Saved { record, write } = event else {
                continue;
            };
            match plan.write() {
                WriteFate::Apply => {}
                WriteFate::CrashBefore => return true,
                WriteFate::CrashAfter => {
                    store.insert(record.key(), record);
                    return true;
                }
            }
            store.insert(record.key(), record);
            ps.persisted(T0, write);
        }
        while let Some(answer) = ps.poll_transmit() {
            told.read(&answer);
        }
    }
    false
}

#[test]
fn no_peer_is_told_of_a_record_a_crash_lost() {
    let runs = every_crash(|plan| {
        let mut ps = ProvisioningService::new(Default::default());
        let mut store = BTreeMap::new();
        let mut told = Told::default();
        let crashed = run(&mut ps, &mut store, plan, &mut told);
        told.check(&store);
        if !crashed {
            assert!(told.registered && told.claimed && told.pending && told.friend);
        }
    });
    // Register: the thing; claim: the thing and the owner; the is-friend
    // query: the owner's pending list; the decision: the thing and the
    // owner. Each crashed before and after the store applied it.
    assert_eq!(runs, 2 * 6);
}

#[test]
fn answers_wait_for_every_record_of_their_input() {
    let mut ps = ProvisioningService::<Duration>::new(Default::default());
    let stanzas = story(&Key::generate(&mut rng(1)));
    let (from, register) = &stanzas[0];
    ps.handle_input(T0, Input::Data(&register.clone().with_from(jid(from))));
    let Some(first) = std::iter::from_fn(|| ps.poll_event()).find_map(|e| match e {
        ProvisioningEvent::Saved { write, .. } => Some(write),
        _ => None,
    }) else {
        panic!("no record")
    };
    assert_eq!(ps.poll_transmit(), None);
    ps.persisted(T0, first);
    assert!(ps.poll_transmit().is_some(), "the registration's result");
    while ps.poll_transmit().is_some() {}
    // The claim changes two records: its result waits for both, whatever
    // order the runtime confirms them in.
    let (from, claim) = &stanzas[1];
    ps.handle_input(T0, Input::Data(&claim.clone().with_from(jid(from))));
    let writes: Vec<_> = std::iter::from_fn(|| ps.poll_event())
        .filter_map(|e| match e {
            ProvisioningEvent::Saved { write, .. } => Some(write),
            _ => None,
        })
        .collect();
    assert_eq!(writes.len(), 2);
    ps.persisted(T0, writes[1]);
    assert_eq!(ps.poll_transmit(), None);
    ps.persisted(T0, writes[0]);
    let claimed = ps.poll_transmit().unwrap();
    assert!(matches!(
        SiotPayload::from_stanza(&claimed),
        Ok(Some(SiotPayload::Claimed { .. }))
    ));
}
