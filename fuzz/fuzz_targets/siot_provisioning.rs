//! Drives a provisioning service with a registered, claimed thing and then
//! arbitrary stanzas, some from the thing or the owner (so that they pass
//! the sender checks), some from strangers, with every store request the
//! service makes answered as the input chooses: from the store, missing,
//! unavailable, conflicting, a record or a write of the input's making,
//! an answer of the wrong kind, or not at all until the store times out.
//! Checks, under the family's contract checker, that nothing panics and
//! that, while the store tells no lie of a record, the owner stays the
//! owner unless the thing re-registers.
#![no_main]

mod common;

use std::time::Duration;

use iot_sansio::Secret;
use iot_sansio::store::{
    AnswerError, Deferred, RequestId, Store, StoreAnswer, StoreOp, Version, Versioned,
};
use iot_sansio::testing::Checked;
use libfuzzer_sys::fuzz_target;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::{
    ClaimEntry, OwnerEntry, ProvisioningEvent, ProvisioningService, Record, Registry, ThingEntry,
};
use siot_proto::stanza::{Jid, Stanza};
use siot_proto::{Input, Machine};

const THING: &str = "bulb@example.org/f65dece8";
const OWNER: &str = "owner@example.com/76a60ed0";

type Service = Checked<ProvisioningService<Duration, Deferred>>;

/// The runtime: the store it answers from, the requests it holds back,
/// the clock, and whether it told the service of a record it made up.
struct Runtime {
    store: Registry,
    held: Vec<RequestId>,
    now: Duration,
    lied: bool,
}

/// A record of the input's making under `key`.
fn made_up(key: &str, byte: u8) -> Record {
    let jid = |s: &str| {
        s.split_once(':')
            .map_or(String::new(), |(_, j)| j.to_owned())
    };
    if key.starts_with("thing:") {
        Record::Thing(ThingEntry {
            jid: jid(key),
            address: THING.into(),
            names: vec![(None, "Bulb".into())],
            key: Secret::new(String::from("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW")),
            owner: (byte & 1 == 1).then(|| "mallory@example.net".into()),
            friends: vec!["mallory@example.net".into()],
            refused: Vec::new(),
            subscribed: byte & 2 == 2,
        })
    } else if key.starts_with("owner:") {
        Record::Owner(OwnerEntry {
            jid: jid(key),
            things: vec!["bulb@example.org".into()],
            pending: vec![(
                "mallory@example.net".into(),
                vec!["bulb@example.org".into()],
            )],
        })
    } else {
        Record::Claim(ClaimEntry {
            index: jid(key),
            thing: "bulb@example.org".into(),
        })
    }
}

impl Runtime {
    /// Answers what the service asked, each as `how` says in turn.
    fn answer(&mut self, ps: &mut Service, how: &[u8]) {
        let mut choices = how.iter().copied().cycle();
        let mut next = || choices.next().unwrap_or(0);
        loop {
            let requests: Vec<_> = common::drain(ps)
                .into_iter()
                .filter_map(|e| match e {
                    ProvisioningEvent::Store(request) => Some(request),
                    _ => None,
                })
                .collect();
            if requests.is_empty() {
                return;
            }
            for request in requests {
                let byte = next();
                let answer = match (byte % 9, &request.op) {
                    (0..=3, op) => self
                        .store
                        .answer_now(op)
                        .unwrap_or(StoreAnswer::Unavailable),
                    (4, _) => StoreAnswer::Unavailable,
                    (5, StoreOp::Get(_)) => StoreAnswer::Missing,
                    (5, StoreOp::Put { .. }) => StoreAnswer::Conflict,
                    (6, StoreOp::Get(key)) => {
                        self.lied = true;
                        StoreAnswer::Found(Versioned {
                            version: Version::new(u64::from(next())),
                            record: made_up(key, next()),
                        })
                    }
                    // A write said stored that the store never applied.
                    (6, StoreOp::Put { .. }) => StoreAnswer::Stored(Version::new(9)),
                    // An answer of the wrong kind: refused, still awaited.
                    (7, StoreOp::Get(_)) => StoreAnswer::Stored(Version::FIRST),
                    (7, StoreOp::Put { .. }) => StoreAnswer::Missing,
                    _ => {
                        self.held.push(request.id);
                        continue;
                    }
                };
                let fits = request.op.fits(&answer);
                match ps.provide(self.now, request.id, answer) {
                    Ok(()) => assert!(fits),
                    // Still awaited: answered later, or timed out.
                    Err(AnswerError::Mismatched(_)) => {
                        assert!(!fits);
                        self.held.push(request.id);
                    }
                    // Given up with the input: an earlier answer of the
                    // same input was "unavailable".
                    Err(AnswerError::NotAsked(_)) => {}
                }
            }
        }
    }

    /// The store's time runs out; a late answer is not taken.
    fn time_out(&mut self, ps: &mut Service) {
        self.now += Duration::from_secs(6);
        ps.handle_timeout(self.now);
        for id in self.held.drain(..) {
            assert!(ps.provide(self.now, id, StoreAnswer::Unavailable).is_err());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (Ok(ps_jid), Ok(thing), Ok(owner), Ok(key)) = (
        Jid::new("provisioning.example.org"),
        Jid::new(THING),
        Jid::new(OWNER),
        Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW"),
    ) else {
        return;
    };
    let mut ps: Service = Checked::new(ProvisioningService::with_store(
        Default::default(),
        Deferred,
    ));
    let mut rt = Runtime {
        store: Registry::new(),
        held: Vec::new(),
        now: Duration::ZERO,
        lied: false,
    };
    let setup = [
        (
            &thing,
            SiotPayload::Register {
                key: key.clone(),
                names: vec![Name {
                    lang: None,
                    text: "Bulb".into(),
                }],
            },
        ),
        (
            &owner,
            SiotPayload::Claim {
                name: "Bulb".into(),
                key,
            },
        ),
    ];
    for (from, p) in setup {
        let mut s = p.to_stanza(ps_jid.clone(), "s");
        s.from = Some(from.clone());
        ps.handle_input(rt.now, Input::Data(&s));
        rt.answer(&mut ps, &[0]);
    }
    assert_eq!(rt.store.owner_of(&thing.to_bare()), Some(owner.to_bare()));
    let senders = [
        thing.clone(),
        owner.clone(),
        Jid::new("mallory@example.net/x").unwrap_or_else(|_| unreachable!()),
    ];
    let mut reregistered = false;
    for chunk in data.split(|b| *b == 0) {
        let Some((&who, rest)) = chunk.split_first() else {
            continue;
        };
        let Some((&how, text)) = rest.split_first() else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(text) else {
            continue;
        };
        let Ok(mut s) = Stanza::parse(text, &Default::default()) else {
            continue;
        };
        let from = &senders[usize::from(who) % senders.len()];
        s.from = Some(from.clone());
        reregistered |= from == &thing
            && matches!(
                SiotPayload::from_stanza(&s),
                Ok(Some(SiotPayload::Register { .. }))
            );
        ps.handle_input(rt.now, Input::Data(&s));
        // The runtime answers as the input says: truly most often.
        let how = if who & 0x80 == 0 {
            &[0u8][..]
        } else {
            &[how, who][..]
        };
        rt.answer(&mut ps, how);
        if who & 0x40 != 0 {
            rt.time_out(&mut ps);
            rt.answer(&mut ps, &[0]);
        }
        if !reregistered && !rt.lied {
            assert_eq!(rt.store.owner_of(&thing.to_bare()), Some(owner.to_bare()));
        }
    }
});
