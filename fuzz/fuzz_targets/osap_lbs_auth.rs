//! Drives the LBS authentication state machine with arbitrary frames and
//! clock ticks. Half of the runs first complete the real handshake's
//! opening (so the machine is deep in its states) before the fuzzer's
//! bytes arrive; in half, the LBS asks its directory with requests that
//! the input answers (truly, "unavailable", a conflict, a record or
//! refusal of its making, an answer of another kind, or to another
//! request). The family's contract checker watches it throughout.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::{Checked, Driver, rng};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{
    AuthConfig, DeviceAuth, DirectoryRequest, LbsAuth, LbsAuthEvent, MemoryDirectory,
};
use osap_proto::crypto::VerificationCode;
use osap_proto::{Input, Machine, Suite};

fn directory() -> MemoryDirectory<Duration> {
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
    let asked = common::Asked {
        answers_now: mode & 0x40 == 0,
        directory: directory(),
    };
    let mut lbs = Checked::new(LbsAuth::new(
        Duration::ZERO,
        params.clone(),
        rng(seed),
        asked,
    ));
    let mut waiting: Option<DirectoryRequest<Duration>> = None;
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
        for event in common::drain(&mut lbs) {
            if let LbsAuthEvent::Directory(request) = event {
                waiting = Some(request);
            }
        }
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
            2 | 3 => {
                if let Some(request) = &waiting {
                    let id = if op % 17 == 3 {
                        request.id.next()
                    } else {
                        request.id
                    };
                    let answer = common::directory_answer(
                        chunk,
                        &request.op,
                        &mut lbs.directory_mut().directory,
                    );
                    if lbs.provide(now, id, answer).is_ok() {
                        waiting = None;
                    }
                }
            }
            _ => lbs.handle_input(now, Input::Data(chunk)),
        }
        for event in common::drain(&mut lbs) {
            if let LbsAuthEvent::Directory(request) = &event {
                waiting = Some(request.clone());
            }
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
