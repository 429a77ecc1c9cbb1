//! The Simple IoT machines rebuilt from stored records: arbitrary JSON read
//! as the provisioning service's records and as a thing's state must give
//! a machine or a typed error, and a rebuilt service's records rebuild the
//! same service.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::rng;
use libfuzzer_sys::fuzz_target;
use siot_proto::provisioning::{ProvisioningService, Record};
use siot_proto::thing::{Thing, ThingConfig};
use siot_proto::thing_state::ThingState;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = serde_json::from_slice::<Vec<Record>>(data)
        && let Ok(service) = ProvisioningService::<Duration>::restore(Default::default(), &records)
    {
        let saved = service.records();
        let again = ProvisioningService::<Duration>::restore(Default::default(), &saved)
            .expect("a service's own records restore");
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
