//! Drives the device authentication state machine (first authentication
//! and reauthentication) with arbitrary frames, clock ticks and
//! disconnects.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::rng;
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{AuthConfig, DeviceAuth, DeviceAuthEvent, Enrolled};
use osap_proto::crypto::{MasterKey, VerificationCode};
use osap_proto::{Input, Machine, Suite};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthConfig::new(1, suite);
    let rng = rng(u64::from(mode));
    let mut device = if mode & 0x80 == 0 {
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
    device.start(Duration::ZERO);
    let mut now = Duration::ZERO;
    let mut failed = false;
    while let [op, rest @ ..] = input {
        let len = usize::from(*op).min(rest.len());
        let (chunk, next) = rest.split_at(len);
        input = next;
        match op % 31 {
            0 => {
                now += Duration::from_secs(4);
                device.handle_timeout(now);
            }
            1 => device.handle_input(now, Input::PeerClosed),
            _ => device.handle_input(now, Input::Data(chunk)),
        }
        while device.poll_transmit().is_some() {}
        while let Some(event) = device.poll_event() {
            if let DeviceAuthEvent::Ended(_) = event {
                assert!(!failed, "a second end");
                assert_eq!(device.poll_timeout(), None);
                failed = true;
            }
        }
    }
});
