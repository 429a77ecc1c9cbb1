//! The family's failure model, machine by machine: a peer fault fed through
//! `handle_input` ends the session with exactly one `Ended` event carrying
//! the right reason; whatever comes after (more garbage, the peer closing,
//! the deadline passing) adds nothing, and an ended machine sets no timer.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::testing::{Checked, events};
use std::time::Duration;

use iot_sansio::testing::rng;
use osap_proto::auth::{
    AuthConfig, AuthFault, AuthFrame, DeviceAuth, DeviceAuthEvent, LbsAuth, LbsAuthEvent,
    MemoryDirectory,
};
use osap_proto::crypto::VerificationCode;
use osap_proto::{
    ControlFrame, DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent, End,
    FrameError, Input, LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent, Machine,
    NegotiationFault, Offer, ProtocolGroup, Suite,
};

const T0: Duration = Duration::ZERO;
/// Not a frame: a reserved control type with a five-byte length.
const GARBAGE: [u8; 6] = [0xf3, 0xff, 0xff, 0xff, 0xff, 0x01];

fn offer() -> Offer {
    Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }
}

/// Feeds the same fault again, closes, and passes every deadline: the
/// machine must say nothing more.
fn after_the_end<M: Machine<Instant = Duration, Input = [u8]>>(m: &mut M) {
    assert_eq!(m.poll_timeout(), None, "an ended machine sets no timer");
    let later = Duration::from_secs(3600);
    m.handle_input(later, Input::Data(&GARBAGE));
    m.handle_input(later, Input::PeerClosed);
    m.handle_timeout(later);
    assert!(m.poll_event().is_none(), "a second end");
}

#[test]
fn device_negotiation() {
    let mut d = Checked::new(DeviceNegotiation::new(DeviceNegotiationConfig::new(vec![
        offer(),
    ])));
    d.start(T0);
    d.handle_input(T0, Input::Data(&GARBAGE));
    let got = events(&mut d);
    assert!(
        matches!(
            got.as_slice(),
            [DeviceNegotiationEvent::Ended(End::PeerFault(
                NegotiationFault::Frame(FrameError::RemainingLengthOverflow)
            ))]
        ),
        "{got:?}"
    );
    after_the_end(&mut d);
}

#[test]
fn lbs_negotiation() {
    let mut l = Checked::new(LbsNegotiation::new(
        T0,
        LbsNegotiationConfig::new(vec![offer()]),
    ));
    l.handle_input(T0, Input::Data(&GARBAGE));
    let got = events(&mut l);
    assert!(
        matches!(
            got.as_slice(),
            [LbsNegotiationEvent::Ended(End::PeerFault(
                NegotiationFault::Frame(_)
            ))]
        ),
        "{got:?}"
    );
    after_the_end(&mut l);
}

fn directory() -> MemoryDirectory<Duration> {
    let mut directory = MemoryDirectory::new("das.example:8883");
    directory.add_device("SN-1", VerificationCode::new("4711"));
    directory
}

#[test]
fn device_auth() {
    let params = AuthConfig::new(1, Suite::Aes128Gcm);
    let mut device = Checked::new(DeviceAuth::first(
        params.clone(),
        rng(1),
        "SN-1",
        VerificationCode::new("4711"),
    ));
    let mut lbs = Checked::new(LbsAuth::new(T0, params, rng(2), directory()));
    device.start(T0);
    let request = device.poll_transmit().unwrap();
    lbs.handle_input(T0, Input::Data(&request));
    // The LBS's answer with its sealed public key tampered.
    let answer = lbs.poll_transmit().unwrap();
    let mut frame = AuthFrame::from_control(&ControlFrame::parse(&answer).unwrap()).unwrap();
    if let osap_proto::auth::AuthMessage::EcdhResponse {
        sealed_public_key, ..
    } = &mut frame.message
    {
        sealed_public_key[5] ^= 1;
    }
    let mut tampered = Vec::new();
    frame.encode(&mut tampered).unwrap();
    device.handle_input(T0, Input::Data(&tampered));
    let got = events(&mut device);
    assert!(
        matches!(
            got.as_slice(),
            [DeviceAuthEvent::Ended(End::PeerFault(AuthFault::Crypto {
                field: "LBS public key",
                ..
            }))]
        ),
        "{got:?}"
    );
    after_the_end(&mut device);
}

#[test]
fn lbs_auth() {
    let params = AuthConfig::new(1, Suite::Aes128Gcm);
    let mut lbs = Checked::new(LbsAuth::new(T0, params, rng(2), directory()));
    lbs.handle_input(T0, Input::Data(&GARBAGE));
    let got = events(&mut lbs);
    assert!(
        matches!(
            got.as_slice(),
            [LbsAuthEvent::Ended(End::PeerFault(AuthFault::Malformed(_)))]
        ),
        "{got:?}"
    );
    after_the_end(&mut lbs);
}

#[test]
fn a_silent_peer_ends_each_machine_once_with_timed_out() {
    let params = AuthConfig::new(1, Suite::Aes128Gcm);
    let mut device = Checked::new(DeviceAuth::first(
        params.clone(),
        rng(1),
        "SN-1",
        VerificationCode::new("4711"),
    ));
    device.start(T0);
    let mut lbs = Checked::new(LbsAuth::new(T0, params, rng(2), directory()));
    let mut dn = Checked::new(DeviceNegotiation::new(DeviceNegotiationConfig::new(vec![
        offer(),
    ])));
    dn.start(T0);
    let mut ln = Checked::new(LbsNegotiation::new(
        T0,
        LbsNegotiationConfig::new(vec![offer()]),
    ));
    let late = Duration::from_secs(10);
    device.handle_timeout(late);
    lbs.handle_timeout(late);
    dn.handle_timeout(late);
    ln.handle_timeout(late);
    assert!(matches!(
        events(&mut device).as_slice(),
        [DeviceAuthEvent::Ended(End::TimedOut)]
    ));
    assert!(matches!(
        events(&mut lbs).as_slice(),
        [LbsAuthEvent::Ended(End::TimedOut)]
    ));
    assert!(matches!(
        events(&mut dn).as_slice(),
        [DeviceNegotiationEvent::Ended(End::TimedOut)]
    ));
    assert!(matches!(
        events(&mut ln).as_slice(),
        [LbsNegotiationEvent::Ended(End::TimedOut)]
    ));
    after_the_end(&mut device);
    after_the_end(&mut lbs);
    after_the_end(&mut dn);
    after_the_end(&mut ln);
}
