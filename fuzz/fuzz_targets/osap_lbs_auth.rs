//! Drives the LBS authentication state machine with arbitrary frames and
//! clock ticks. Half of the runs first complete the real handshake's
//! opening (so the machine is deep in its states) before the fuzzer's
//! bytes arrive.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::{Driver, rng};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{AuthConfig, DeviceAuth, DeviceDirectory, LbsAuth, LbsAuthEvent};
use osap_proto::crypto::{MasterKey, VerificationCode};
use osap_proto::{Input, Machine, Suite};

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
    fn propose_devid(&mut self, _serial: &str) -> Result<String, &'static str> {
        Ok("dev-1".into())
    }
    fn assign_devid(
        &mut self,
        _serial: &str,
        _devid: &str,
        master_key: &MasterKey,
    ) -> Result<(), &'static str> {
        self.0 = Some(master_key.clone());
        Ok(())
    }
    fn das_address(&self, _devid: &str) -> Result<String, &'static str> {
        Ok("das.example:8883".into())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthConfig::new(1, suite);
    let seed = u64::from(mode);
    let mut lbs = LbsAuth::new(Duration::ZERO, params.clone(), rng(seed), Directory(None));
    if mode & 0x80 != 0 {
        // The device's first message only: the LBS answers, and waits.
        let mut device = DeviceAuth::<Duration, _>::first(
            params,
            rng(seed + 1),
            "SN-1",
            VerificationCode::new("4711"),
        );
        device.start(Duration::ZERO);
        Driver::new(Duration::ZERO).run(&mut [&mut device, &mut lbs], |from, bytes: Vec<u8>| {
            (from == 0).then_some((1, bytes))
        });
    }
    let mut now = Duration::ZERO;
    let mut outcomes = 0;
    while let [op, rest @ ..] = input {
        let len = usize::from(*op).min(rest.len());
        let (chunk, next) = rest.split_at(len);
        input = next;
        match op % 17 {
            0 => {
                now += Duration::from_secs(3);
                lbs.handle_timeout(now);
            }
            1 => lbs.handle_input(now, Input::PeerClosed),
            _ => lbs.handle_input(now, Input::Data(chunk)),
        }
        while lbs.poll_transmit().is_some() {}
        while let Some(event) = lbs.poll_event() {
            if matches!(
                event,
                LbsAuthEvent::Ended(_) | LbsAuthEvent::Redirected { .. }
            ) {
                outcomes += 1;
            }
        }
        assert!(outcomes <= 1, "a second outcome");
    }
});
