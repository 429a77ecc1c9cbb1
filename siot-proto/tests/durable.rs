//! Durable state as data: a thing rebuilt from the state it announced
//! equals the one that produced it, and the provisioning service's
//! records stay consistent and read back, whatever happened to it.

#![allow(clippy::unwrap_used)]

mod common;

use common::{key, op, stanzas};

use iot_sansio::testing::Checked;
use std::time::Duration;

use iot_sansio::testing::rng;
use proptest::prelude::*;
use siot_proto::Secret;
use siot_proto::payload::Name;
use siot_proto::provisioning::{ProvisioningService, Record, Registry};
use siot_proto::stanza::Stanza;
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::thing_state::ThingState;
use siot_proto::{Input, Machine};

const T0: Duration = Duration::ZERO;

proptest! {
    #[test]
    fn a_service_s_records_are_consistent_and_read_back(ops in proptest::collection::vec(op(), 0..40)) {
        let mut ps = Checked::new(ProvisioningService::<Duration>::new(Default::default()));
        for op in &ops {
            for stanza in stanzas(op) {
                ps.handle_input(T0, Input::Data(&stanza));
            }
            while ps.poll_event().is_some() {}
            while ps.poll_transmit().is_some() {}
        }
        let records = ps.store().records();
        // A thing's owner lists it, and an owner lists only its things.
        for record in &records {
            match record {
                Record::Thing(t) => if let Some(o) = &t.owner {
                    let owner = ps.store().table().get(&format!("owner:{o}"));
                    prop_assert!(matches!(owner.map(|v| v.record), Some(Record::Owner(o)) if o.things.contains(&t.jid)));
                },
                Record::Owner(o) => for thing in &o.things {
                    let owner = ps.store().owner_of(&thing.parse().unwrap()).map(|j| j.to_string());
                    prop_assert_eq!(owner.as_ref(), Some(&o.jid));
                },
                Record::Claim(_) => {}
            }
        }
        // Stored as JSON (a database's column), they read back the same.
        let json: Vec<String> = records.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        let back: Vec<Record> = json.iter().map(|j| serde_json::from_str(j).unwrap()).collect();
        let rebuilt = Registry::from_records(back).unwrap();
        prop_assert_eq!(rebuilt.records(), records);
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
    assert!(Registry::from_records([record]).is_err());
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
    let saved: Vec<Record> = ps
        .store()
        .records()
        .into_iter()
        .filter(|r| matches!(r, Record::Thing(_)))
        .collect();
    assert_eq!(saved.len(), 1);
    assert!(!format!("{saved:?}").contains(k.expose()));
    let stored = serde_json::to_string(&saved[0]).unwrap();
    assert!(stored.contains(k.expose()));
    let back: Record = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, saved[0]);
}
