//! Durable state as data: every machine rebuilt from the records it
//! announced equals the one that produced them, whatever happened to it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use iot_sansio::testing::rng;
use proptest::prelude::*;
use siot_proto::key::Key;
use siot_proto::payload::{FriendItem, Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Record};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, Jid, Stanza};
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::thing_state::ThingState;
use siot_proto::{Input, Machine};

const T0: Duration = Duration::ZERO;

/// What may happen to a provisioning service.
#[derive(Debug, Clone)]
enum Op {
    Register {
        thing: u8,
        key_seed: u8,
    },
    Approve {
        thing: u8,
    },
    Claim {
        thing: u8,
        owner: u8,
    },
    Ask {
        thing: u8,
        requestor: u8,
    },
    Decide {
        owner: u8,
        requestor: u8,
        friend: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, 0..3u8).prop_map(|(thing, key_seed)| Op::Register { thing, key_seed }),
        (0..4u8).prop_map(|thing| Op::Approve { thing }),
        (0..4u8, 0..3u8).prop_map(|(thing, owner)| Op::Claim { thing, owner }),
        (0..4u8, 0..6u8).prop_map(|(thing, requestor)| Op::Ask { thing, requestor }),
        (0..3u8, 0..6u8, any::<bool>()).prop_map(|(owner, requestor, friend)| Op::Decide {
            owner,
            requestor,
            friend
        }),
    ]
}

fn key(seed: u8) -> Key {
    Key::generate(&mut rng(u64::from(seed)))
}

fn thing_jid(n: u8) -> Jid {
    format!("thing{n}@example.org/t").parse().unwrap()
}

fn owner_jid(n: u8) -> Jid {
    format!("owner{n}@example.com/o").parse().unwrap()
}

fn requestor(n: u8) -> BareJid {
    format!("requestor{n}@example.net").parse().unwrap()
}

fn deliver(ps: &mut ProvisioningService<Duration>, from: Jid, stanza: Stanza) {
    ps.handle_input(T0, Input::Data(&stanza.with_from(from)));
}

fn apply(ps: &mut ProvisioningService<Duration>, op: &Op) {
    let to: Jid = "provisioning.example.org".parse().unwrap();
    match *op {
        Op::Register { thing, key_seed } => {
            let names = vec![Name {
                lang: None,
                text: format!("Thing {thing}"),
            }];
            let p = SiotPayload::Register {
                key: key(key_seed),
                names,
            };
            deliver(ps, thing_jid(thing), p.to_stanza(to, "r"));
        }
        Op::Approve { thing } => {
            let s = SubscriptionRequest::Subscribed
                .to(&"provisioning.example.org".parse().unwrap(), "a");
            deliver(ps, thing_jid(thing), s);
        }
        Op::Claim { thing, owner } => {
            // The key of the thing's latest registration is not known
            // here: claim with each seed, one of which may match.
            for seed in 0..3 {
                let p = SiotPayload::Claim {
                    name: format!("Thing {thing}"),
                    key: key(seed),
                };
                deliver(ps, owner_jid(owner), p.to_stanza(to.clone(), "c"));
            }
        }
        Op::Ask {
            thing,
            requestor: r,
        } => {
            let p = SiotPayload::IsFriendQuery { jid: requestor(r) };
            deliver(ps, thing_jid(thing), p.to_stanza(to, "q"));
        }
        Op::Decide {
            owner,
            requestor: r,
            friend,
        } => {
            let p = SiotPayload::FriendStateUpdate {
                items: vec![FriendItem {
                    jid: requestor(r),
                    friend,
                }],
            };
            deliver(ps, owner_jid(owner), p.to_stanza(to, "u"));
        }
    }
}

proptest! {
    #[test]
    fn a_service_rebuilt_from_its_saved_records_equals_it(ops in proptest::collection::vec(op(), 0..40)) {
        let mut ps = ProvisioningService::<Duration>::new(Default::default());
        let mut store = BTreeMap::new();
        for op in &ops {
            apply(&mut ps, op);
            while ps.poll_transmit().is_some() {}
            while let Some(e) = ps.poll_event() {
                if let ProvisioningEvent::Saved(r) = e {
                    store.insert(r.key(), r);
                }
            }
        }
        // What the events saved is the whole state...
        let saved: Vec<Record> = store.into_values().collect();
        prop_assert_eq!(&saved, &ps.records());
        // ...and a service rebuilt from it is the same.
        let rebuilt = ProvisioningService::<Duration>::restore(Default::default(), &saved).unwrap();
        prop_assert_eq!(rebuilt.records(), saved);
    }

    #[test]
    fn a_thing_rebuilt_from_its_state_equals_it(
        key_seed in any::<u8>(),
        has_key in any::<bool>(),
        registered in any::<bool>(),
        owner in proptest::option::of(0..3u8),
        roster in proptest::collection::btree_map(0..8u8, prop_oneof![Just("to"), Just("from"), Just("both")], 0..6),
    ) {
        let state = ThingState {
            key: has_key.then(|| key(key_seed).expose().to_owned()),
            registered,
            owner: owner.map(|o| format!("owner{o}@example.com")),
            roster: roster.iter().map(|(j, s)| (format!("friend{j}@example.net"), (*s).to_owned())).collect(),
        };
        let config = ThingConfig::new("provisioning.example.org".parse().unwrap(), vec![Name { lang: None, text: "Bulb".into() }]);
        let thing = Thing::<Duration, _>::restore(config, rng(1), &state).unwrap();
        prop_assert_eq!(thing.state(), state);
    }
}

#[test]
fn a_bad_record_is_refused_when_restoring() {
    let config = ThingConfig::new("provisioning.example.org".parse().unwrap(), Vec::new());
    let bad_key = ThingState {
        key: Some("not a key".into()),
        ..ThingState::default()
    };
    assert!(Thing::<Duration, _>::restore(config.clone(), rng(1), &bad_key).is_err());
    let bad_sub = ThingState {
        roster: vec![("a@b.org".into(), "maybe".into())],
        ..ThingState::default()
    };
    assert!(Thing::<Duration, _>::restore(config, rng(1), &bad_sub).is_err());
    let record = Record::Owner(siot_proto::provisioning::OwnerEntry {
        jid: "not a jid@@".into(),
        things: Vec::new(),
        pending: Vec::new(),
    });
    assert!(ProvisioningService::<Duration>::restore(Default::default(), &[record]).is_err());
    // Records serialize (for a database) and read back.
    let json = serde_json::to_string(&Record::Owner(siot_proto::provisioning::OwnerEntry {
        jid: "owner@example.com".into(),
        things: vec!["bulb@example.org".into()],
        pending: Vec::new(),
    }))
    .unwrap();
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back.key(), "owner:owner@example.com");
}
