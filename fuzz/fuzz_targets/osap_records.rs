//! The records an OSAP deployment shares through its store, and the
//! balancer that reads the DAS nodes' records: arbitrary JSON read as a
//! sessionkey record, a device entry or a DAS node gives a record or an
//! error, and a record read writes back to the same record; arbitrary node
//! records and instants never make the balancer name a dead node or one
//! more loaded than another live one.
#![no_main]

use std::collections::BTreeMap;

use iot_sansio::store::{Version, Versioned};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::DeviceEntry;
use osap_proto::records::{DasBalancer, DasNode, KeyRecord};

/// A record read writes back to itself.
macro_rules! round_trip {
    ($t:ty, $data:expr) => {
        if let Ok(record) = serde_json::from_slice::<$t>($data) {
            let json = serde_json::to_vec(&record).expect("a record writes");
            let again: $t = serde_json::from_slice(&json).expect("a record's own JSON reads");
            assert_eq!(again, record);
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 2 {
        0 => {
            round_trip!(KeyRecord<u64>, rest);
            round_trip!(DeviceEntry, rest);
            round_trip!(DasNode<u64>, rest);
        }
        _ => {
            // Four bytes per step: node, version, sessions, lease; a node
            // number of 0xff is a choice at the instant of the next byte.
            let mut balancer = DasBalancer::new();
            let mut held: BTreeMap<u64, (u8, u64, u64)> = BTreeMap::new();
            let mut sent: BTreeMap<u64, u64> = BTreeMap::new();
            for step in rest.chunks_exact(4) {
                let number = u64::from(step[0] % 8);
                if step[0] == 0xff {
                    let now = u64::from(step[1]);
                    let live = |n: &u64| held.get(n).is_some_and(|(_, _, until)| now < *until);
                    let load = |n: &u64| held[n].1 + sent.get(n).copied().unwrap_or(0);
                    match balancer.choose(now) {
                        None => assert!(!held.keys().any(live)),
                        Some((chosen, _)) => {
                            assert!(live(&chosen), "a dead node chosen");
                            let least = held.keys().filter(|n| live(n)).map(load).min();
                            assert_eq!(Some(load(&chosen)), least);
                            *sent.entry(chosen).or_default() += 1;
                        }
                    }
                    continue;
                }
                let (version, sessions, until) = (step[1], u64::from(step[2]), u64::from(step[3]));
                let node = DasNode {
                    address: number.to_string(),
                    relay: String::new(),
                    sessions,
                    live_until: until,
                };
                balancer.update(
                    number,
                    Versioned {
                        version: Version::new(u64::from(version)),
                        record: node,
                    },
                );
                if held.get(&number).is_none_or(|(v, _, _)| version > *v) {
                    held.insert(number, (version, sessions, until));
                    sent.remove(&number);
                }
            }
        }
    }
});
