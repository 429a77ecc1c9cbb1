//! Drives the device and LBS negotiation state machines with a sequence of
//! arbitrary inputs: bytes from the peer, clock ticks, disconnects and
//! reconnects, checking that neither panics and that outcomes are final;
//! the family's contract checker around each checks the rest.
#![no_main]

mod common;

use core::time::Duration;

use iot_sansio::testing::{Checked, Driver, pair};
use libfuzzer_sys::fuzz_target;
use osap_proto::{
    DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent, Input, LbsNegotiation,
    LbsNegotiationConfig, Machine, Offer, ProtocolGroup,
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
    let mut device = Checked::new(DeviceNegotiation::<Duration>::new(
        DeviceNegotiationConfig::new(offers),
    ));
    let mut lbs = Checked::new(LbsNegotiation::<Duration>::new(
        Duration::ZERO,
        LbsNegotiationConfig::new(supported),
    ));
    let mut now = Duration::ZERO;
    device.start(now);
    let mut device_done = false;
    let mut lbs_done = false;
    for (op, chunk) in common::ops(rest, |op| usize::from(op >> 3)) {
        match op & 0x7 {
            0 => device.handle_input(now, Input::Data(chunk)),
            1 => lbs.handle_input(now, Input::Data(chunk)),
            2 => {
                now += Duration::from_millis(u64::from(op) * 100);
                device.handle_timeout(now);
                lbs.handle_timeout(now);
            }
            3 => device.handle_input(now, Input::PeerClosed),
            4 => device.reconnected(now),
            5 => lbs.handle_input(now, Input::PeerClosed),
            _ => {
                // Let the real peers talk.
                Driver::new(now).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
            }
        }
        for event in common::drain(&mut device) {
            let final_event = !matches!(event, DeviceNegotiationEvent::Reconnect { .. });
            assert!(!(device_done && final_event), "a second outcome: {event:?}");
            device_done |= final_event;
        }
        for event in common::drain(&mut lbs) {
            assert!(!lbs_done, "a second outcome: {event:?}");
            lbs_done = true;
        }
    }
});
