//! The records a deployment of several LBS and DAS processes shares: DAS
//! nodes and the balancer that picks one for each device (section 5,
//! `DAS_Req`), and the records as a shared store keeps them (serde, with
//! their keys in the clear for the store and refused when they do not
//! read).

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::store::{Version, Versioned};
use osap_proto::Suite;
use osap_proto::auth::{DeviceEntry, Enrolled};
use osap_proto::crypto::{MasterKey, SessionKey, VerificationCode};
use osap_proto::records::{DasBalancer, DasNode, KeyRecord};
use proptest::prelude::*;

fn node(address: &str, sessions: u64, live_until: u64) -> DasNode<u64> {
    DasNode {
        address: address.into(),
        relay: format!("relay-{address}"),
        sessions,
        live_until,
    }
}

fn at(version: u64, record: DasNode<u64>) -> Versioned<DasNode<u64>> {
    Versioned {
        version: Version::new(version),
        record,
    }
}

#[test]
fn a_balancer_without_live_nodes_names_none() {
    let mut balancer = DasBalancer::<u64>::new();
    assert_eq!(balancer.choose(0), None);
    balancer.update(1, at(1, node("a:1", 0, 10)));
    // The lease ends at 10: live before, dead from then on.
    assert!(node("a:1", 0, 10).is_live(9));
    assert!(!node("a:1", 0, 10).is_live(10));
    assert_eq!(balancer.choose(10), None);
    assert_eq!(balancer.live(10).count(), 0);
    assert_eq!(balancer.choose(9), Some((1, "a:1")));
}

#[test]
fn devices_arriving_together_spread_over_the_nodes() {
    let mut balancer = DasBalancer::new();
    balancer.update(1, at(1, node("a:1", 0, 100)));
    balancer.update(2, at(1, node("b:1", 0, 100)));
    balancer.update(3, at(1, node("c:1", 4, 100)));
    let mut sent = [0u32; 4];
    for _ in 0..10 {
        let (number, _) = balancer.choose(1).unwrap();
        sent[usize::try_from(number).unwrap()] += 1;
    }
    // Ten devices over loads 0, 0, 4: the first two take eight to even
    // out at 4, 4, 4, then ties go to the lowest numbers.
    assert_eq!(&sent[1..], &[5, 5, 0][..]);
    // At 5, 5, 4 the next goes to node 3.
    assert_eq!(balancer.choose(1), Some((3, "c:1")));
}

#[test]
fn a_newer_record_replaces_the_count_an_older_one_does_not() {
    let mut balancer = DasBalancer::new();
    balancer.update(1, at(2, node("a:1", 3, 100)));
    balancer.update(2, at(1, node("b:1", 4, 100)));
    assert_eq!(balancer.choose(0), Some((1, "a:1")));
    // Node 1 counts 4 now (3 and one sent): the tie goes to it again.
    assert_eq!(balancer.choose(0), Some((1, "a:1")));
    // An older record of node 1 changes nothing (still 5: node 2 next).
    balancer.update(1, at(1, node("a:1", 0, 100)));
    assert_eq!(balancer.choose(0), Some((2, "b:1")));
    // Its next heartbeat counts the devices that registered: 9 sessions.
    balancer.update(1, at(3, node("a:new", 9, 100)));
    assert_eq!(balancer.choose(0), Some((2, "b:1")));
    balancer.remove(2);
    assert_eq!(balancer.choose(0), Some((1, "a:new")));
    assert_eq!(balancer.live(0).collect::<Vec<_>>(), vec![1]);
}

proptest! {
    /// Whatever the nodes, the balancer names a live node with the least
    /// load (sessions and devices sent since), or none when none is live.
    #[test]
    fn the_balancer_names_the_least_loaded_live_node(
        nodes in proptest::collection::vec((0u64..20, 0u64..50, 1u64..4), 0..8),
        times in proptest::collection::vec(0u64..60, 1..40),
    ) {
        let mut balancer = DasBalancer::new();
        let mut load = std::collections::BTreeMap::new();
        for (number, (sessions, live_until, version)) in nodes.iter().enumerate() {
            let number = number as u64;
            balancer.update(number, at(*version, node(&number.to_string(), *sessions, *live_until)));
            load.insert(number, (*sessions, *live_until));
        }
        for now in times {
            let live: Vec<(u64, u64)> = load
                .iter()
                .filter(|(_, (_, until))| now < *until)
                .map(|(n, (l, _))| (*n, *l))
                .collect();
            match balancer.choose(now) {
                None => prop_assert!(live.is_empty()),
                Some((number, address)) => {
                    prop_assert_eq!(address, number.to_string());
                    let least = live.iter().map(|(_, l)| *l).min().unwrap();
                    let (_, chosen) = live.iter().find(|(n, _)| *n == number).unwrap();
                    prop_assert_eq!(*chosen, least);
                    load.get_mut(&number).unwrap().0 += 1;
                }
            }
        }
    }

    /// The records read back from what a store keeps, keys included.
    #[test]
    fn records_round_trip_through_a_store(
        key in any::<[u8; 16]>(),
        master in any::<[u8; 16]>(),
        epoch in any::<u64>(),
        expires in proptest::option::of(any::<u64>()),
        revoked in any::<bool>(),
        last in proptest::option::of(any::<u64>()),
        node_number in proptest::option::of(any::<u64>()),
        code in "[ -~]{0,12}",
        devid in "[a-z0-9-]{1,12}",
        suite in prop::sample::select(vec![Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm]),
        sessions in any::<u64>(),
    ) {
        let record = KeyRecord {
            key: SessionKey::from_bytes(key),
            suite,
            epoch,
            expires,
            revoked,
            last_registration: last,
            node: node_number,
        };
        let json = serde_json::to_string(&record).unwrap();
        prop_assert_eq!(serde_json::from_str::<KeyRecord<u64>>(&json).unwrap(), record);

        let entry = DeviceEntry {
            code: VerificationCode::new(code),
            enrolled: Some(Enrolled {
                devid,
                master_key: MasterKey::from_bytes(master),
                protocol_type: 1,
                suite,
            }),
        };
        let json = serde_json::to_string(&entry).unwrap();
        prop_assert_eq!(serde_json::from_str::<DeviceEntry>(&json).unwrap(), entry);

        let das = node("das-1:8883", sessions, epoch);
        let json = serde_json::to_string(&das).unwrap();
        prop_assert_eq!(serde_json::from_str::<DasNode<u64>>(&json).unwrap(), das);
    }
}

#[test]
fn a_stored_key_is_hexadecimal_and_one_that_does_not_read_is_refused() {
    let record = KeyRecord::new(
        SessionKey::from_bytes([0xab; 16]),
        Suite::Aes128Gcm,
        1,
        Some(5u64),
    );
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["key"], "ab".repeat(16));
    assert_eq!(json["suite"], 4);
    for (bad, why) in [
        (serde_json::json!("ab"), "expected 16 bytes"),
        (serde_json::json!("zz".repeat(16)), "hexadecimal"),
        (serde_json::json!("<redacted>"), "hexadecimal"),
        (serde_json::json!(7), "string"),
    ] {
        let mut tampered = json.clone();
        tampered["key"] = bad;
        let error = serde_json::from_value::<KeyRecord<u64>>(tampered).unwrap_err();
        assert!(error.to_string().contains(why), "{error}");
    }
    let mut tampered = json;
    tampered["suite"] = serde_json::json!(3);
    assert!(serde_json::from_value::<KeyRecord<u64>>(tampered).is_err());
    // A code is its text; a missing field is an error, not a default.
    let entry = serde_json::json!({ "code": "4711", "enrolled": null });
    let entry: DeviceEntry = serde_json::from_value(entry).unwrap();
    assert_eq!(entry.code.expose(), "4711");
    assert!(
        serde_json::from_value::<DeviceEntry>(serde_json::json!({ "enrolled": null })).is_err()
    );
}
