//! Drives the device authentication state machine (first authentication
//! and reauthentication) with arbitrary frames, clock ticks and
//! disconnects, under the family's contract checker.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::{Checked, rng};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{AuthConfig, DeviceAuth, Enrolled};
use osap_proto::crypto::{MasterKey, VerificationCode};
use osap_proto::{Input, Machine, Suite};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthConfig::new(1, suite);
    let rng = rng(u64::from(mode));
    let device = if mode & 0x80 == 0 {
        DeviceAuth::<Duration, _>::first(params, rng, "SN-1", VerificationCode::new("4711"))
    } else {
        let enrolled = Enrolled {
            devid: "dev-1".into(),
            master_key: MasterKey::from_bytes([mode; 16]),
            protocol_type: 1,
            suite,
        };
        DeviceAuth::reauthenticate(params, rng, enrolled)
    };
    let mut device = Checked::new(device);
    device.start(Duration::ZERO);
    let mut now = Duration::ZERO;
    for (op, chunk) in common::ops(input, usize::from) {
        match op % 31 {
            0 => {
                now += Duration::from_secs(4);
                device.handle_timeout(now);
            }
            1 => device.handle_input(now, Input::PeerClosed),
            _ => device.handle_input(now, Input::Data(chunk)),
        }
        common::drain(&mut device);
    }
});
