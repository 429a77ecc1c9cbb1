//! Drives the LBS authentication state machine with arbitrary frames and
//! clock ticks. Half of the runs first complete the real handshake's
//! opening (so the machine is deep in its states) before the fuzzer's
//! bytes arrive. The family's contract checker watches it throughout.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::{Checked, Driver, rng};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{AuthConfig, DeviceAuth, LbsAuth, LbsAuthEvent, MemoryDirectory};
use osap_proto::crypto::VerificationCode;
use osap_proto::{Input, Machine, Suite};

fn directory() -> MemoryDirectory {
    let mut directory = MemoryDirectory::new("das.example:8883");
    directory.add_device("SN-1", VerificationCode::new("4711"));
    directory
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let suite = [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb][usize::from(mode % 3)];
    let params = AuthConfig::new(1, suite);
    let seed = u64::from(mode);
    let mut lbs = Checked::new(LbsAuth::new(
        Duration::ZERO,
        params.clone(),
        rng(seed),
        directory(),
    ));
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
    for (op, chunk) in common::ops(input, usize::from) {
        match op % 17 {
            0 => {
                now += Duration::from_secs(3);
                lbs.handle_timeout(now);
            }
            1 => lbs.handle_input(now, Input::PeerClosed),
            _ => lbs.handle_input(now, Input::Data(chunk)),
        }
        for event in common::drain(&mut lbs) {
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
