//! The Simple IoT machines rebuilt from stored records: arbitrary JSON read
//! as the provisioning service's records and as a thing's state must give
//! a registry or a thing, or a typed error, and a registry's records read
//! back into the same registry.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::rng;
use libfuzzer_sys::fuzz_target;
use siot_proto::provisioning::{Record, Registry};
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::thing_state::ThingState;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = serde_json::from_slice::<Vec<Record>>(data)
        && let Ok(registry) = Registry::from_records(records)
    {
        let saved = registry.records();
        let again =
            Registry::from_records(saved.clone()).expect("a registry's own records read back");
        assert_eq!(again.records(), saved);
    }
    if let Ok(state) = serde_json::from_slice::<ThingState>(data)
        && let Ok(provisioning) = "provisioning.example.org".parse()
    {
        let config = ThingConfig::new(provisioning, Vec::new());
        if let Ok(thing) = Thing::<Duration, _>::restore(config, rng(1), &state) {
            let kept = thing.state();
            let config = ThingConfig::new(
                "provisioning.example.org".parse().expect("a JID"),
                Vec::new(),
            );
            let again = Thing::<Duration, _>::restore(config, rng(1), &kept)
                .expect("its own state restores");
            assert_eq!(again.state(), kept);
        }
    }
});
