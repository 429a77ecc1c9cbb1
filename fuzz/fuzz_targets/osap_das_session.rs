//! Registers a device with a DAS, then drives both sessions with arbitrary
//! inputs: frames and bytes from the "peer", clock ticks, the connection
//! closing, a clean leave, and the real peers talking; the DAS's runtime
//! confirms the events it stores, or is slow to. The family's
//! contract checker around each checks that neither panics, that each
//! ends at most once, and that an ended session sets no timer and sends
//! nothing more.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::{Checked, Driver, pair};
use libfuzzer_sys::fuzz_target;
use osap_proto::crypto::SessionKey;
use osap_proto::das::{
    DasSession, DasSessionConfig, DasSessionEvent, DeviceSession, DeviceSessionConfig, KeyTable,
    Registration,
};
use osap_proto::{Input, Machine};

fuzz_target!(|data: &[u8]| {
    let key = SessionKey::from_bytes([0x5a; 16]);
    let mut keys = KeyTable::new();
    keys.issue("dev", key.clone(), osap_proto::Suite::Aes128Gcm, None);
    let mut now = Duration::ZERO;
    let mut device = Checked::new(DeviceSession::new(
        now,
        DeviceSessionConfig::new(Registration::new("dev", 1), key),
        iot_sansio::testing::rng(1),
    ));
    let mut das = Checked::new(DasSession::new(
        now,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    // A valid registration first.
    Driver::new(now).run(&mut [&mut device, &mut das], pair(|_, _| {}));
    common::drain(&mut device);
    common::drain(&mut das);
    for (op, chunk) in common::ops(data, |op| usize::from(op >> 3)) {
        match op & 0x7 {
            0 => device.handle_input(now, Input::Data(chunk)),
            1 => das.handle_input(now, Input::Data(chunk)),
            2 => {
                now += Duration::from_secs(u64::from(op));
                device.handle_timeout(now);
                das.handle_timeout(now);
            }
            3 => device.handle_input(now, Input::PeerClosed),
            4 => das.handle_input(now, Input::PeerClosed),
            5 => device.disconnect(),
            _ => {
                Driver::new(now).run(&mut [&mut device, &mut das], pair(|_, _| {}));
            }
        }
        common::drain(&mut device);
        // The DAS's runtime stores the events the device reports, and
        // confirms them (their PUBACKs go) unless the operation says the
        // store is slow.
        for event in common::drain(&mut das) {
            if let DasSessionEvent::Event { write, .. } = event
                && op & 0x80 == 0
            {
                das.persisted(now, write);
            }
        }
    }
});
