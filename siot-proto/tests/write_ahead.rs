//! The provisioning service writes ahead (sections 4, 5, 6 and 8): what it
//! answers in an input waits until the store says `Stored` to every write
//! the input made, so the driver's crash mode, run at every write of the
//! story, never finds a thing, an owner or a requestor told of a
//! registration, claim, pending request or decision that the store lost;
//! and a new process over the same store, asked again, finishes the
//! story.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::store::{Deferred, Store, StoreOp};
use iot_sansio::testing::{CrashPlan, WriteFate, every_crash, rng};
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Friendship, Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};
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

    /// Checks that the store knows all that was told.
    fn check(&self, store: &Registry) {
        let thing = jid(THING).to_bare();
        let owner = jid(OWNER).to_bare();
        if self.registered {
            assert_eq!(store.thing_count(), 1, "a registration told, then lost");
        }
        if self.claimed {
            assert_eq!(
                store.owner_of(&thing),
                Some(owner.clone()),
                "a claim told, then lost"
            );
        }
        // A pending request told may since have been decided (stored, not
        // yet answered): it is pending or a friendship.
        if self.pending {
            let decided = store.friendship(&thing, &bare(REQUESTOR)) == Friendship::Yes;
            assert!(
                decided || store.pending(&owner) == [bare(REQUESTOR)],
                "a pending request told, then lost"
            );
        }
        if self.friend {
            assert_eq!(store.friendship(&thing, &bare(REQUESTOR)), Friendship::Yes);
        }
    }
}

/// A service whose runtime answers its store requests from `store`,
/// writing through `plan`.
type Service = ProvisioningService<Duration, Deferred>;

/// Hands `stanza` to the service and answers its requests; what it told
/// is read into `told`. Whether the process crashed.
fn serve(
    ps: &mut Service,
    store: &mut Registry,
    plan: &mut CrashPlan,
    told: &mut Told,
    stanza: &Stanza,
) -> bool {
    ps.handle_input(T0, Input::Data(stanza));
    loop {
        // The documented loop: what may be sent goes first, then events.
        while let Some(answer) = ps.poll_transmit() {
            told.read(&answer);
        }
        let Some(event) = ps.poll_event() else {
            return false;
        };
        let ProvisioningEvent::Store(request) = event else {
            continue;
        };
        if let StoreOp::Put { .. } = request.op {
            match plan.write() {
                WriteFate::Apply => {}
                WriteFate::CrashBefore => return true,
                WriteFate::CrashAfter => {
                    let _ = store.answer_now(&request.op);
                    return true;
                }
            }
        }
        let answer = store.answer_now(&request.op).unwrap();
        ps.provide(T0, request.id, answer).unwrap();
    }
}

#[test]
fn no_peer_is_told_of_a_record_a_crash_lost() {
    let runs = every_crash(|plan| {
        let mut ps = Service::with_store(Default::default(), Deferred);
        let mut store = Registry::new();
        let mut told = Told::default();
        for (from, stanza) in story(&Key::generate(&mut rng(1))) {
            let stanza = stanza.with_from(jid(from));
            if serve(&mut ps, &mut store, plan, &mut told, &stanza) {
                told.check(&store);
                // A new process over the same store; the peer, told
                // nothing, asks again, and the story goes on.
                ps = Service::with_store(Default::default(), Deferred);
                assert!(!serve(&mut ps, &mut store, plan, &mut told, &stanza));
            }
            told.check(&store);
        }
        assert!(told.registered && told.claimed && told.pending && told.friend);
    });
    // Register: the thing and its claim entry; claim: the thing and the
    // owner; the is-friend query: the owner's pending list; the decision:
    // the thing and the owner. Each crashed before and after the store
    // applied it.
    assert_eq!(runs, 2 * 7);
}

#[test]
fn answers_wait_for_every_write_of_their_input() {
    let mut ps = Service::with_store(Default::default(), Deferred);
    let mut store = Registry::new();
    let stanzas = story(&Key::generate(&mut rng(1)));
    let mut writes = 0;
    for (i, (from, stanza)) in stanzas.iter().enumerate() {
        ps.handle_input(T0, Input::Data(&stanza.clone().with_from(jid(from))));
        let mut answered = false;
        let mut rounds_of_reads = 0;
        loop {
            // What the service asks at once, answered together.
            let batch: Vec<_> = std::iter::from_fn(|| ps.poll_event())
                .filter_map(|e| match e {
                    ProvisioningEvent::Store(request) => Some(request),
                    _ => None,
                })
                .collect();
            if batch.is_empty() {
                break;
            }
            if batch.iter().any(|r| matches!(r.op, StoreOp::Get(_))) {
                rounds_of_reads += 1;
            }
            for request in batch {
                if let StoreOp::Put { .. } = request.op {
                    writes += 1;
                    // Nothing is sent before the input's last write.
                    assert!(ps.poll_transmit().is_none(), "input {i} answered early");
                }
                let answer = store.answer_now(&request.op).unwrap();
                ps.provide(T0, request.id, answer).unwrap();
            }
            answered |= ps.poll_transmit().is_some();
        }
        assert!(answered, "input {i} answered");
        assert!(
            rounds_of_reads <= 2,
            "input {i} read in {rounds_of_reads} rounds"
        );
    }
    assert_eq!(writes, 7);
}
