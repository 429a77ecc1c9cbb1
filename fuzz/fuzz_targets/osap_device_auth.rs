//! Drives the device authentication state machine (first authentication
//! and reauthentication) with arbitrary frames, clock ticks and
//! disconnects.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use osap_proto::Suite;
use osap_proto::auth::{AuthParams, DeviceAuth, DeviceAuthEvent};
use osap_proto::crypto::{MasterKey, VerificationCode};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthParams::new(1, suite);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(mode));
    let mut device = if mode & 0x80 == 0 {
        DeviceAuth::<Duration>::first(params, "SN-1", VerificationCode::new("4711"))
    } else {
        DeviceAuth::reauthenticate(params, "dev-1", MasterKey::from_bytes([mode; 16]))
    };
    device.start(Duration::ZERO, &mut rng);
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
            1 => device.handle_disconnect(),
            _ => device.handle_input(chunk, now, &mut rng),
        }
        while device.poll_transmit().is_some() {}
        while let Some(event) = device.poll_event() {
            if let DeviceAuthEvent::Failed(_) = event {
                assert!(!failed, "a second failure");
                failed = true;
            }
        }
    }
});
