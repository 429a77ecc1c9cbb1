//! Drives the LBS authentication state machine with arbitrary frames and
//! clock ticks. Half of the runs first complete the real handshake's
//! opening (so the machine is deep in its states) before the fuzzer's
//! bytes arrive.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use osap_proto::Suite;
use osap_proto::auth::{AuthParams, DeviceAuth, DeviceDirectory, LbsAuth, LbsAuthEvent};
use osap_proto::crypto::{MasterKey, VerificationCode};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Directory(Option<MasterKey>);

impl DeviceDirectory for Directory {
    fn verification_code(&self, serial: &str) -> Option<VerificationCode> {
        (serial == "SN-1").then(|| VerificationCode::new("4711"))
    }
    fn master_key(&self, devid: &str) -> Option<MasterKey> {
        if devid == "dev-1" {
            self.0.clone()
        } else {
            None
        }
    }
    fn assign_devid(&mut self, _serial: &str, master_key: &MasterKey) -> String {
        self.0 = Some(master_key.clone());
        "dev-1".into()
    }
    fn das_address(&self, _devid: &str) -> String {
        "das.example:8883".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthParams::new(1, suite);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(mode));
    let mut directory = Directory(None);
    let mut lbs = LbsAuth::new(params.clone(), Duration::ZERO);
    if mode & 0x80 != 0 {
        let mut device =
            DeviceAuth::<Duration>::first(params, "SN-1", VerificationCode::new("4711"));
        device.start(Duration::ZERO, &mut rng);
        while let Some(bytes) = device.poll_transmit() {
            lbs.handle_input(&bytes, Duration::ZERO, &mut rng, &mut directory);
        }
    }
    let mut now = Duration::ZERO;
    let mut outcomes = 0;
    while let [op, rest @ ..] = input {
        let len = usize::from(*op).min(rest.len());
        let (chunk, next) = rest.split_at(len);
        input = next;
        if op % 17 == 0 {
            now += Duration::from_secs(3);
            lbs.handle_timeout(now);
        } else {
            lbs.handle_input(chunk, now, &mut rng, &mut directory);
        }
        while lbs.poll_transmit().is_some() {}
        while let Some(event) = lbs.poll_event() {
            if matches!(
                event,
                LbsAuthEvent::Refused(_)
                    | LbsAuthEvent::Failed(_)
                    | LbsAuthEvent::TimedOut
                    | LbsAuthEvent::Redirected { .. }
            ) {
                outcomes += 1;
            }
        }
        assert!(outcomes <= 1, "a second outcome");
    }
});
