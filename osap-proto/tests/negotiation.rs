//! The negotiation state machines end to end, device against LBS, in
//! memory: Figures 1 and 2, and the faults (unsupported offers, timeouts,
//! disconnects, tampered, truncated, duplicated and reordered frames).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use iot_sansio::testing::{Checked, Driver, pair};
use osap_proto::{
    ControlFlags, ControlFrame, DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent,
    End, Input, LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent, Machine, Negotiated,
    NegotiationFault, NegotiationKind, NegotiationMessage, NegotiationRefusal, Offer,
    ProtocolGroup, ProtocolVersion, SecurityRanking, Suite,
};

type Device = Checked<DeviceNegotiation<Duration>>;
type Lbs = Checked<LbsNegotiation<Duration>>;

const T0: Duration = Duration::ZERO;

fn offer(protocol_type: u8, suites: &[Suite]) -> Offer {
    Offer {
        protocol_type,
        group: ProtocolGroup::of(suites),
    }
}

fn device(offers: Vec<Offer>) -> Device {
    let mut config = DeviceNegotiationConfig::new(offers);
    config.transaction = b"txn-42".to_vec();
    Checked::new(DeviceNegotiation::new(config))
}

fn lbs(supported: Vec<Offer>) -> Lbs {
    Checked::new(LbsNegotiation::new(
        T0,
        LbsNegotiationConfig::new(supported),
    ))
}

/// Moves every queued frame from the device to the LBS and back.
fn pump(device: &mut Device, lbs: &mut Lbs) {
    Driver::new(T0).run(&mut [device, lbs], pair(|_, _| {}));
}

#[test]
fn figure_1_consistent() {
    let mut d = device(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }]);
    let mut l = lbs(vec![offer(
        1,
        &[Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm],
    )]);
    d.start(T0);
    let request = d.poll_transmit().unwrap();
    // Control message type 0x1, flags 0x3 (bit 0, and ECDH mode by default),
    // protocol type 1, group (1,2,4,8).
    let parsed = ControlFrame::parse(&request).unwrap();
    assert_eq!(
        (parsed.kind, parsed.flags, parsed.protocol_type),
        (1, ControlFlags::ECDH, 1)
    );
    assert_eq!(parsed.protocol_group, ProtocolGroup::ALL);
    l.handle_input(T0, Input::Data(&request));
    let response = l.poll_transmit().unwrap();
    let parsed = ControlFrame::parse(&response).unwrap();
    assert_eq!(
        (parsed.kind, parsed.flags, parsed.protocol_type),
        (2, ControlFlags::ECDH, 1)
    );
    // The most secure suite both support: bit 4.
    assert_eq!(
        parsed.protocol_group,
        ProtocolGroup::single(Suite::Aes128Gcm)
    );
    assert_eq!(parsed.content.as_ref(), b"txn-42");
    d.handle_input(T0, Input::Data(&response));
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated {
            protocol_type: 1,
            offered: ProtocolGroup::ALL,
            suite: Suite::Aes128Gcm,
            ecdh: true,
            version: ProtocolVersion::DEFAULT
        }))
    );
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated {
            protocol_type: 1,
            offered: ProtocolGroup::ALL,
            suite: Suite::Aes128Gcm,
            ecdh: true,
            version: ProtocolVersion::DEFAULT
        }))
    );
    assert_eq!(d.poll_timeout(), None);
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn figure_2_inconsistent_then_retry_on_a_new_connection() {
    let mut d = device(vec![
        Offer {
            protocol_type: 1,
            group: ProtocolGroup::ALL,
        },
        Offer {
            protocol_type: 2,
            group: ProtocolGroup::ALL,
        },
    ]);
    let lbs_offer = offer(2, &[Suite::Aes128Cbc, Suite::Aes128Gcm, Suite::Reserved8]);
    let mut l = lbs(vec![lbs_offer]);
    d.start(T0);
    pump(&mut d, &mut l);
    // The LBS answers with its own type and group (2,4,8) and closes.
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::Answered {
                requested: Offer {
                    protocol_type: 1,
                    group: ProtocolGroup::ALL
                },
                answered: lbs_offer
            }
        )))
    );
    let retry = Offer {
        protocol_type: 2,
        group: ProtocolGroup::ALL,
    };
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Reconnect { offer: retry })
    );
    // New connection, new LBS machine: request 2 with type 2 and (1,2,4,8).
    let mut l = lbs(vec![lbs_offer]);
    d.reconnected(T0);
    let request = d.poll_transmit().unwrap();
    let parsed = ControlFrame::parse(&request).unwrap();
    assert_eq!(
        (parsed.protocol_type, parsed.protocol_group),
        (2, ProtocolGroup::ALL)
    );
    l.handle_input(T0, Input::Data(&request));
    pump(&mut d, &mut l);
    // With the default ranking, bit 4 is the most secure of (2,4,8): bit 8
    // names no suite yet and is never chosen by default.
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated {
            protocol_type: 2,
            suite: Suite::Aes128Gcm,
            ..
        }))
    ));
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated {
            protocol_type: 2,
            ..
        }))
    ));
}

#[test]
fn the_ranking_is_configuration() {
    let mut d = device(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }]);
    let mut config = LbsNegotiationConfig::new(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }]);
    config.ranking = SecurityRanking::new(&[Suite::Aes128Cbc, Suite::Aes128Gcm]);
    let mut l = Checked::new(LbsNegotiation::new(T0, config));
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated {
            suite: Suite::Aes128Cbc,
            ..
        }))
    ));
    // A ranking that names bit 8 chooses it.
    let mut d = device(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }]);
    let mut config = LbsNegotiationConfig::new(vec![Offer {
        protocol_type: 1,
        group: ProtocolGroup::ALL,
    }]);
    config.ranking = SecurityRanking::new(&[Suite::Reserved8, Suite::Aes128Gcm]);
    let mut l = Checked::new(LbsNegotiation::new(T0, config));
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated {
            suite: Suite::Reserved8,
            ..
        }))
    ));
}

#[test]
fn device_gives_up_when_it_does_not_support_the_answer() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Ecb])]);
    let mut l = lbs(vec![offer(3, &[Suite::Aes128Gcm])]);
    d.start(T0);
    pump(&mut d, &mut l);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::Unsupported {
                server: offer(3, &[Suite::Aes128Gcm])
            }
        )))
    );
    // Same type, no common suite: the LBS answers its group for that type.
    let mut d = device(vec![offer(1, &[Suite::Aes128Ecb])]);
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::Answered { .. }
        )))
    ));
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::Unsupported { .. }
        )))
    ));
}

#[test]
fn a_second_inconsistent_answer_ends_the_retry() {
    let mut d = device(vec![
        offer(1, &[Suite::Aes128Gcm]),
        offer(2, &[Suite::Aes128Gcm]),
    ]);
    d.start(T0);
    let mut l = lbs(vec![offer(2, &[Suite::Aes128Gcm])]);
    pump(&mut d, &mut l);
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Reconnect { .. })
    ));
    // The LBS behind the new connection changed its mind.
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.reconnected(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::RetryRefused { .. }
        )))
    ));
}

#[test]
fn timeouts_on_both_sides() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.start(T0);
    let deadline = d.poll_timeout().unwrap();
    assert_eq!(deadline, Duration::from_secs(10));
    d.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(d.poll_event(), None);
    d.handle_timeout(deadline);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::TimedOut))
    );

    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    assert_eq!(l.poll_timeout(), Some(Duration::from_secs(10)));
    l.handle_timeout(Duration::from_secs(11));
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::TimedOut))
    );
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn peer_disconnect_before_the_answer() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.start(T0);
    d.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::PeerClosed))
    );
}

fn response_for(d: &mut Device, l: &mut Lbs) -> Vec<u8> {
    d.start(T0);
    l.handle_input(T0, Input::Data(&d.poll_transmit().unwrap()));
    l.poll_transmit().unwrap()
}

#[test]
fn truncated_response_split_over_reads() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    let response = response_for(&mut d, &mut l);
    for byte in &response[..response.len() - 1] {
        d.handle_input(T0, Input::Data(std::slice::from_ref(byte)));
        assert_eq!(d.poll_event(), None);
    }
    // The LBS closes with one byte missing.
    d.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::PeerClosed))
    );
}

#[test]
fn tampered_responses_are_refused() {
    type Tamper = fn(&mut ControlFrame<'static>);
    let cases: [(Tamper, NegotiationFault); 4] = [
        (
            |f| f.flags = ControlFlags::ORIGINAL,
            NegotiationFault::FlagsMismatch { sent: 3, got: 1 },
        ),
        (
            |f| f.content = b"txn-99".to_vec().into(),
            NegotiationFault::TransactionMismatch,
        ),
        (
            |f| f.flags = ControlFlags::from_bits(0x7).unwrap(),
            NegotiationFault::ReservedFlags(0x4),
        ),
        (
            |f| f.kind = NegotiationKind::Request.code(),
            NegotiationFault::UnexpectedMessage {
                expected: NegotiationKind::Response,
                got: 1,
            },
        ),
    ];
    for (tamper, expected) in cases {
        let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
        let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
        let response = response_for(&mut d, &mut l);
        let mut frame = ControlFrame::parse(&response).unwrap().into_owned();
        tamper(&mut frame);
        let mut bytes = Vec::new();
        frame.encode(&mut bytes).unwrap();
        d.handle_input(T0, Input::Data(&bytes));
        assert_eq!(
            d.poll_event(),
            Some(DeviceNegotiationEvent::Ended(End::PeerFault(expected)))
        );
    }
}

#[test]
fn a_garbled_frame_fails_the_negotiation() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.start(T0);
    // A control frame with bit 0 of the flags clear.
    d.handle_input(T0, Input::Data(&[0x20, 0x07, 1, 4, 0, 3, 1, 1, 0]));
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::Frame(_)
        )))
    ));
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    l.handle_input(T0, Input::Data(&[0x11, 0xff, 0xff, 0xff, 0xff, 0x01]));
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::Frame(_)
        )))
    ));
}

#[test]
fn duplicated_response_is_ignored_after_the_outcome() {
    let mut d = device(vec![offer(1, &[Suite::Aes128Gcm])]);
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    let response = response_for(&mut d, &mut l);
    let mut twice = response.clone();
    twice.extend_from_slice(&response);
    d.handle_input(T0, Input::Data(&twice));
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated { .. }))
    ));
    assert_eq!(d.poll_event(), None);
    // A third copy, alone, changes nothing either.
    d.handle_input(T0, Input::Data(&response));
    assert_eq!(d.poll_event(), None);
    assert_eq!(d.poll_transmit(), None);
}

#[test]
fn lbs_refuses_reordered_empty_and_reserved_requests() {
    // A response where a request is expected.
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    let response = NegotiationMessage {
        flags: ControlFlags::ORIGINAL,
        protocol_type: 1,
        protocol_group: ProtocolGroup::ALL,
        version: ProtocolVersion::DEFAULT,
        transaction: b"".as_slice().into(),
    };
    let mut bytes = Vec::new();
    response
        .to_frame(NegotiationKind::Response)
        .encode(&mut bytes)
        .unwrap();
    l.handle_input(T0, Input::Data(&bytes));
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::UnexpectedMessage {
                expected: NegotiationKind::Request,
                got: 2
            }
        )))
    );
    assert_eq!(l.poll_transmit(), None);

    let mut request = response.clone();
    request.protocol_group = ProtocolGroup::EMPTY;
    let mut bytes = Vec::new();
    request
        .to_frame(NegotiationKind::Request)
        .encode(&mut bytes)
        .unwrap();
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    l.handle_input(T0, Input::Data(&bytes));
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::EmptyGroup
        )))
    );

    request.protocol_group = ProtocolGroup::ALL;
    request.flags = ControlFlags::from_bits(0x9).unwrap();
    let mut bytes = Vec::new();
    request
        .to_frame(NegotiationKind::Request)
        .encode(&mut bytes)
        .unwrap();
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    l.handle_input(T0, Input::Data(&bytes));
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::ReservedFlags(0x8)
        )))
    );
    // A second request after the answer is not taken.
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    request.flags = ControlFlags::ECDH;
    let mut bytes = Vec::new();
    request
        .to_frame(NegotiationKind::Request)
        .encode(&mut bytes)
        .unwrap();
    l.handle_input(T0, Input::Data(&bytes));
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated { .. }))
    ));
    assert!(l.poll_transmit().is_some());
    l.handle_input(T0, Input::Data(&bytes));
    assert_eq!(l.poll_event(), None);
    assert_eq!(l.poll_transmit(), None);
}

#[test]
fn the_ecdh_mode_round_trips_and_the_original_mode_is_refused_at_negotiation() {
    let mut d = Checked::new(DeviceNegotiation::new(DeviceNegotiationConfig::new(vec![
        offer(1, &[Suite::Aes128Gcm]),
    ])));
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Negotiated(Negotiated {
            ecdh: true,
            ..
        }))
    ));
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated {
            ecdh: true,
            ..
        }))
    ));
    // A device configured for the original mode stops before sending.
    let mut config = DeviceNegotiationConfig::new(vec![offer(1, &[Suite::Aes128Gcm])]);
    config.ecdh = false;
    let mut d = Checked::new(DeviceNegotiation::new(config));
    d.start(T0);
    assert_eq!(d.poll_transmit(), None);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::OriginalMode
        )))
    );
    assert_eq!(d.poll_timeout(), None);
    // An LBS asked for it answers with no suite and ends.
    let request = NegotiationMessage {
        flags: ControlFlags::ORIGINAL,
        protocol_type: 1,
        protocol_group: ProtocolGroup::ALL,
        version: ProtocolVersion::DEFAULT,
        transaction: b"t".as_slice().into(),
    };
    let mut bytes = Vec::new();
    request
        .to_frame(NegotiationKind::Request)
        .encode(&mut bytes)
        .unwrap();
    let mut l = lbs(vec![offer(1, &[Suite::Aes128Gcm])]);
    l.handle_input(T0, Input::Data(&bytes));
    let answer = l.poll_transmit().unwrap();
    let answer = ControlFrame::parse(&answer).unwrap();
    let answer = NegotiationMessage::from_frame(answer, NegotiationKind::Response).unwrap();
    assert!(answer.protocol_group.is_empty());
    assert_eq!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::OriginalMode
        )))
    );
}

#[test]
fn an_empty_offer_fails_at_start() {
    let mut d = device(vec![]);
    d.start(T0);
    assert_eq!(
        d.poll_event(),
        Some(DeviceNegotiationEvent::Ended(End::PeerFault(
            NegotiationFault::EmptyGroup
        )))
    );
    assert_eq!(d.poll_transmit(), None);
}

#[test]
fn ecb_is_chosen_only_when_the_lbs_is_configured_for_it() {
    let all_three = || {
        vec![offer(
            1,
            &[Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm],
        )]
    };
    // A device that offers only ECB: by default the LBS does not take it.
    let mut d = device(vec![offer(1, &[Suite::Aes128Ecb])]);
    let mut l = lbs(all_three());
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Ended(End::Refused(
            NegotiationRefusal::Answered { .. }
        )))
    ));
    // Configured for it, the LBS chooses it.
    let mut config = LbsNegotiationConfig::new(all_three());
    config.ranking = SecurityRanking::with_ecb();
    let mut l = Checked::new(LbsNegotiation::new(T0, config));
    let mut d = device(vec![offer(1, &[Suite::Aes128Ecb])]);
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated {
            suite: Suite::Aes128Ecb,
            ..
        }))
    ));
    // A device offering everything gets GCM either way.
    let mut d = device(vec![offer(
        1,
        &[Suite::Aes128Ecb, Suite::Aes128Cbc, Suite::Aes128Gcm],
    )]);
    let mut l = lbs(all_three());
    d.start(T0);
    pump(&mut d, &mut l);
    assert!(matches!(
        l.poll_event(),
        Some(LbsNegotiationEvent::Negotiated(Negotiated {
            suite: Suite::Aes128Gcm,
            ..
        }))
    ));
}
