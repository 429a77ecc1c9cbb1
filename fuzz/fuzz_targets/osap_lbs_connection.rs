//! Drives the two LBS connection machines with arbitrary bytes, clock
//! ticks and disconnects. The mode byte picks the side: the LBS (after
//! `mode % 6` frames of a real device's enrollment, so it is reached in
//! every phase, with one enrolled devid in its directory for refreshes;
//! with bit 0x20 its directory answers later, as the input chooses), or
//! the device (enrolling, or reauthenticating from a record). The
//! family's contract checker watches both.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::store::Version;
use iot_sansio::testing::{Checked, Driver, rng};
use libfuzzer_sys::fuzz_target;
use osap_proto::auth::{DirectoryOp, DirectoryRequest, Enrolled, MemoryDirectory};
use osap_proto::crypto::{MasterKey, VerificationCode};
use osap_proto::{
    DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent, DeviceNegotiationConfig,
    Input, LbsConnection, LbsConnectionConfig, LbsConnectionEvent, LbsNegotiationConfig, Machine,
    Offer, ProtocolGroup, Suite,
};

const OFFER: Offer = Offer {
    protocol_type: 1,
    group: ProtocolGroup::ALL,
};

fn enrolled() -> Enrolled {
    Enrolled {
        devid: "dev-1".into(),
        master_key: MasterKey::from_bytes([1; 16]),
        protocol_type: 1,
        suite: Suite::Aes128Gcm,
    }
}

fn device(mode: u8) -> DeviceConnection<Duration, rand_chacha::ChaCha20Rng> {
    let config = DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![OFFER]));
    if mode & 0x40 == 0 {
        DeviceConnection::first(
            config,
            rng(u64::from(mode)),
            "SN-1",
            VerificationCode::new("4711"),
        )
    } else {
        DeviceConnection::reauthenticate(config, rng(u64::from(mode)), enrolled())
    }
}

type Lbs = Checked<LbsConnection<Duration, rand_chacha::ChaCha20Rng, common::Asked>>;

/// Feeds the fuzzer's operations to the LBS, answering its directory
/// requests when the input says so; at most one outcome.
fn feed_lbs(
    lbs: &mut Lbs,
    directory: &mut MemoryDirectory<Duration>,
    input: &[u8],
    mut waiting: Option<DirectoryRequest<Duration>>,
) {
    let mut now = Duration::ZERO;
    let mut outcomes = 0;
    for (op, chunk) in common::ops(input, usize::from) {
        match op % 23 {
            0 => {
                now += Duration::from_secs(4);
                lbs.handle_timeout(now);
            }
            1 => lbs.handle_input(now, Input::PeerClosed),
            2 | 3 => {
                if let Some(request) = &waiting {
                    let id = if op % 23 == 3 {
                        request.id.next()
                    } else {
                        request.id
                    };
                    let answer = common::directory_answer(chunk, &request.op, directory);
                    if lbs.provide(now, id, answer).is_ok() {
                        waiting = None;
                    }
                }
            }
            _ => lbs.handle_input(now, Input::Data(chunk)),
        }
        for event in common::drain(lbs) {
            match event {
                LbsConnectionEvent::Directory(request) => waiting = Some(request),
                LbsConnectionEvent::Ended(_) | LbsConnectionEvent::Redirected { .. } => {
                    outcomes += 1;
                }
                _ => {}
            }
        }
        assert!(outcomes <= 1, "a second outcome");
    }
}

/// Feeds the fuzzer's operations to `machine`; `outcome` says whether an
/// event ends the connection. At most one may.
fn feed<M: Machine<Instant = Duration, Input = [u8]>>(
    machine: &mut Checked<M>,
    input: &[u8],
    outcome: impl Fn(&M::Event) -> bool,
) {
    let mut now = Duration::ZERO;
    let mut outcomes = 0;
    for (op, chunk) in common::ops(input, usize::from) {
        match op % 23 {
            0 => {
                now += Duration::from_secs(4);
                machine.handle_timeout(now);
            }
            1 => machine.handle_input(now, Input::PeerClosed),
            _ => machine.handle_input(now, Input::Data(chunk)),
        }
        while let Some(frame) = machine.poll_transmit() {
            machine.recycle(frame);
        }
        while let Some(event) = machine.poll_event() {
            outcomes += usize::from(outcome(&event));
        }
        assert!(outcomes <= 1, "a second outcome");
        if machine.poll_timeout().is_some_and(|t| t < now) {
            machine.handle_timeout(now);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    if mode & 0x80 == 0 {
        let mut device = Checked::new(device(mode));
        device.start(Duration::ZERO);
        feed(&mut device, input, |e| {
            matches!(
                e,
                DeviceConnectionEvent::Ended(_) | DeviceConnectionEvent::DasAddress(_)
            )
        });
        return;
    }
    let mut directory = MemoryDirectory::new("das.example:8883");
    directory.add_device("SN-1", VerificationCode::new("4711"));
    directory.add_device("SN-0", VerificationCode::new("0000"));
    let _ = directory.answer(&DirectoryOp::Enroll {
        serial: "SN-0".into(),
        expected: Version::FIRST,
        enrolled: enrolled(),
    });
    let asked = common::Asked {
        answers_now: mode & 0x20 == 0,
        directory: directory.clone(),
    };
    let mut lbs = Checked::new(LbsConnection::new(
        Duration::ZERO,
        LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![OFFER])),
        rng(u64::from(mode) + 1000),
        asked,
    ));
    let real = usize::from(mode % 6);
    if real > 0 {
        let mut device = device(mode & 0x3f);
        device.start(Duration::ZERO);
        let mut sent = 0;
        Driver::new(Duration::ZERO).run(&mut [&mut device, &mut lbs], |from, bytes: Vec<u8>| {
            if from == 0 {
                sent += 1;
                (sent <= real).then_some((1, bytes))
            } else {
                Some((0, bytes))
            }
        });
    }
    let waiting = common::drain(&mut lbs)
        .into_iter()
        .find_map(|event| match event {
            LbsConnectionEvent::Directory(request) => Some(request),
            _ => None,
        });
    feed_lbs(&mut lbs, &mut directory, input, waiting);
});
