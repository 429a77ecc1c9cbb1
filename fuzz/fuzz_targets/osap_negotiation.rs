//! Drives the device and LBS negotiation state machines with a sequence of
//! arbitrary inputs: bytes from the peer, clock ticks, disconnects and
//! reconnects, checking that neither panics and that outcomes are final.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use osap_proto::{
    DeviceConfig, DeviceEvent, DeviceNegotiation, LbsConfig, LbsEvent, LbsNegotiation, Offer,
    ProtocolGroup,
};

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, rest @ ..] = data else {
        return;
    };
    let offers = vec![
        Offer {
            protocol_type: *a,
            group: ProtocolGroup::from_bits(b & 0x0f).unwrap_or(ProtocolGroup::ALL),
        },
        Offer {
            protocol_type: a.wrapping_add(1),
            group: ProtocolGroup::ALL,
        },
    ];
    let supported = vec![Offer {
        protocol_type: *c,
        group: ProtocolGroup::from_bits(d & 0x0f).unwrap_or(ProtocolGroup::ALL),
    }];
    let mut device = DeviceNegotiation::<Duration>::new(DeviceConfig::new(offers));
    let mut lbs = LbsNegotiation::<Duration>::new(LbsConfig::new(supported), Duration::ZERO);
    let mut now = Duration::ZERO;
    device.start(now);
    let mut device_done = false;
    let mut lbs_done = false;
    let mut input = rest;
    while let [op, tail @ ..] = input {
        let len = usize::from(op >> 3).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        input = next;
        match op & 0x7 {
            0 => device.handle_input(chunk, now),
            1 => lbs.handle_input(chunk, now),
            2 => {
                now += Duration::from_millis(u64::from(*op) * 100);
                device.handle_timeout(now);
                lbs.handle_timeout(now);
            }
            3 => device.handle_disconnect(),
            4 => device.reconnected(now),
            _ => {
                // Let the real peers talk.
                while let Some(bytes) = device.poll_transmit() {
                    lbs.handle_input(&bytes, now);
                }
                while let Some(bytes) = lbs.poll_transmit() {
                    device.handle_input(&bytes, now);
                }
            }
        }
        while let Some(event) = device.poll_event() {
            let final_event = !matches!(event, DeviceEvent::Reconnect { .. });
            assert!(!(device_done && final_event), "a second outcome: {event:?}");
            device_done |= final_event;
        }
        while let Some(event) = lbs.poll_event() {
            assert!(!lbs_done, "a second outcome: {event:?}");
            lbs_done = true;
            let _: &LbsEvent = &event;
        }
    }
});
