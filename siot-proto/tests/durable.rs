//! Durable state as data: every machine rebuilt from the records it
//! announced equals the one that produced them, whatever happened to it.

#![allow(clippy::unwrap_used)]

use iot_sansio::testing::Checked;
use std::collections::BTreeMap;
use std::time::Duration;

use iot_sansio::testing::rng;
use proptest::prelude::*;
use siot_proto::Secret;
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
        let mut ps = Checked::new(ProvisioningService::<Duration>::new(Default::default()));
        let mut store = BTreeMap::new();
        for op in &ops {
            apply(&mut ps, op);
            while let Some(e) = ps.poll_event() {
                if let ProvisioningEvent::Saved { record, write } = e {
                    store.insert(record.key(), record);
                    ps.persisted(Duration::ZERO, write);
                }
            }
            while ps.poll_transmit().is_some() {}
        }
        // What the events saved is the whole state...
        let saved: Vec<Record> = store.into_values().collect();
        prop_assert_eq!(&saved, &ps.records());
        // ...and a service rebuilt from it is the same.
        let rebuilt = Checked::new(ProvisioningService::<Duration>::restore(Default::default(), &saved).unwrap());
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
            key: has_key.then(|| Secret::new(key(key_seed).expose())),
            registered,
            owner: owner.map(|o| format!("owner{o}@example.com")),
            roster: roster.iter().map(|(j, s)| (format!("friend{j}@example.net"), (*s).to_owned())).collect(),
        };
        let config = ThingConfig::new("provisioning.example.org".parse().unwrap(), vec![Name { lang: None, text: "Bulb".into() }]);
        let thing = Checked::new(Thing::<Duration, _>::restore(config, rng(1), &state).unwrap());
        prop_assert_eq!(thing.state(), state);
    }
}

#[test]
fn a_bad_record_is_refused_when_restoring() {
    let config = ThingConfig::new("provisioning.example.org".parse().unwrap(), Vec::new());
    let bad_key = ThingState {
        key: Some(Secret::new("not a key")),
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

/// The claim key in a durable record is a secret: printing a record (or
/// the event announcing it) does not show it, while the record serialized
/// for the store keeps it whole and reads back.
#[test]
fn a_printed_record_hides_the_key_and_a_stored_one_keeps_it() {
    let k = key(7);
    let state = ThingState {
        key: Some(Secret::new(k.expose())),
        ..Default::default()
    };
    assert!(!format!("{state:?}").contains(k.expose()));
    let stored = serde_json::to_string(&state).unwrap();
    assert!(stored.contains(k.expose()));
    let back: ThingState = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, state);
    let mut ps = Checked::new(ProvisioningService::<Duration>::new(Default::default()));
    let register = format!(
        "<iq type='set' from='thing@example.org/f65dece8' to='provisioning.example.org' id='r1'>\
         <register xmlns='urn:xmpp:siot:1' key='{}'><name>Bulb</name></register></iq>",
        k.expose()
    );
    ps.handle_input(
        Duration::ZERO,
        Input::Data(&Stanza::parse(&register, &Default::default()).unwrap()),
    );
    let saved: Vec<Record> = std::iter::from_fn(|| ps.poll_event())
        .filter_map(|e| match e {
            ProvisioningEvent::Saved { record, .. } => Some(record),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 1);
    assert!(!format!("{saved:?}").contains(k.expose()));
    let stored = serde_json::to_string(&saved[0]).unwrap();
    assert!(stored.contains(k.expose()));
    let back: Record = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, saved[0]);
}
