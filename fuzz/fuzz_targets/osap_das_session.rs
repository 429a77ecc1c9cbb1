//! Registers a device with a DAS, then drives both sessions with arbitrary
//! inputs: frames and bytes from the "peer", clock ticks, the connection
//! closing, a clean leave, and the real peers talking. Checks that neither
//! panics, that each ends at most once, and that an ended session sets no
//! timer and sends nothing more.
#![no_main]

use core::time::Duration;

use iot_sansio::testing::{Driver, pair};
use libfuzzer_sys::fuzz_target;
use osap_proto::crypto::SessionKey;
use osap_proto::das::{
    DasConfig, DasEvent, DasSession, DeviceSession, DeviceSessionConfig, DeviceSessionEvent,
    KeyTable, Registration,
};
use osap_proto::{Input, Machine};

fuzz_target!(|data: &[u8]| {
    let key = SessionKey::from_bytes([0x5a; 16]);
    let mut keys = KeyTable::new();
    keys.insert("dev", key.clone(), osap_proto::Suite::Aes128Gcm);
    let mut now = Duration::ZERO;
    let mut device = DeviceSession::new(
        now,
        DeviceSessionConfig::new(Registration::new("dev", 1), key),
        iot_sansio::testing::rng(1),
    );
    let mut das = DasSession::new(
        now,
        DasConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    );
    // A valid registration first.
    Driver::new(now).run(&mut [&mut device, &mut das], pair(|_, _| {}));
    let mut ends = (0, 0);
    drain(&mut device, &mut das, &mut ends);
    let mut input = data;
    while let [op, tail @ ..] = input {
        let len = usize::from(op >> 3).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        input = next;
        let ended = ends;
        match op & 0x7 {
            0 => device.handle_input(now, Input::Data(chunk)),
            1 => das.handle_input(now, Input::Data(chunk)),
            2 => {
                now += Duration::from_secs(u64::from(*op));
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
        // What an ended session had queued was taken before it ended.
        let device_sends = ended.0 == 1 && device.poll_transmit().is_some();
        let das_sends = ended.1 == 1 && das.poll_transmit().is_some();
        assert!(!device_sends && !das_sends, "an ended session sent");
        drain(&mut device, &mut das, &mut ends);
        while device.poll_transmit().is_some() {}
        while das.poll_transmit().is_some() {}
    }
});

/// Takes every event, counting the ends of each session.
fn drain(
    device: &mut DeviceSession<Duration, rand_chacha::ChaCha20Rng>,
    das: &mut DasSession<Duration, &mut KeyTable, rand_chacha::ChaCha20Rng>,
    ends: &mut (usize, usize),
) {
    while let Some(e) = device.poll_event() {
        ends.0 += usize::from(matches!(e, DeviceSessionEvent::Ended(_)));
    }
    while let Some(e) = das.poll_event() {
        ends.1 += usize::from(matches!(e, DasEvent::Ended(_)));
    }
    assert!(ends.0 <= 1 && ends.1 <= 1, "a session ended twice");
    if ends.0 == 1 {
        assert_eq!(device.poll_timeout(), None);
    }
    if ends.1 == 1 {
        assert_eq!(das.poll_timeout(), None);
    }
}
