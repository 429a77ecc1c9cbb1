//! The LBS connection as one machine on each side, device against LBS, in
//! memory: the first frame deciding negotiation or refresh, the hand-off
//! with bytes that follow in the same read, the suite kept per devid, the
//! sessionkey handed to the DAS, a downgrade refused by the
//! authentication, and the faults.

#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::testing::{Checked, events};
use std::time::Duration;

use iot_sansio::store::Version;
use iot_sansio::testing::{Driver, pair, rng};
use osap_proto::auth::{
    AuthConfig, AuthFault, AuthKind, AuthRefusal, DeviceAuth, DeviceAuthEvent, DirectoryAnswer,
    DirectoryOp, Enrolled, LbsAuth, LbsAuthEvent, MemoryDirectory,
};
use osap_proto::crypto::{MasterKey, VerificationCode};
use osap_proto::{
    ConnectionEnd, ConnectionFault, ConnectionRefusal, DeviceConnection, DeviceConnectionConfig,
    DeviceConnectionEvent, DeviceNegotiationConfig, End, Input, LbsConnection, LbsConnectionConfig,
    LbsConnectionEvent, LbsNegotiationConfig, Machine, Negotiated, NegotiationFault,
    NegotiationKind, Offer, ProtocolGroup, Suite,
};
use rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::ZERO;
const DAS: &str = "das-2.example.net:8883";

type Device = Checked<DeviceConnection<Duration, ChaCha20Rng>>;
type Lbs<'a> = Checked<LbsConnection<Duration, ChaCha20Rng, &'a mut MemoryDirectory<Duration>>>;

fn offer(suites: &[Suite]) -> Offer {
    Offer {
        protocol_type: 1,
        group: ProtocolGroup::of(suites),
    }
}

fn directory() -> MemoryDirectory<Duration> {
    let mut directory = MemoryDirectory::new(DAS);
    directory.add_device("SN-7", VerificationCode::new("2468"));
    directory
}

fn lbs(directory: &mut MemoryDirectory<Duration>, seed: u64) -> Lbs<'_> {
    Checked::new(LbsConnection::new(
        T0,
        LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer(&[
            Suite::Aes128Gcm,
            Suite::Aes128Cbc,
        ])])),
        rng(seed),
        directory,
    ))
}

fn device_config(suites: &[Suite]) -> DeviceConnectionConfig {
    DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer(suites)]))
}

fn new_device(seed: u64) -> Device {
    Checked::new(DeviceConnection::first(
        device_config(&[Suite::Aes128Gcm, Suite::Aes128Cbc]),
        rng(seed),
        "SN-7",
        VerificationCode::new("2468"),
    ))
}

/// Runs a device and an LBS connection until quiet, `tamper` seeing each
/// frame with its sender (0 the device); returns the device's frames.
fn run(
    device: &mut Device,
    lbs: &mut Lbs<'_>,
    mut tamper: impl FnMut(usize, &mut Vec<u8>),
) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    Driver::new(T0).run(&mut [device, lbs], |from, mut bytes: Vec<u8>| {
        tamper(from, &mut bytes);
        if from == 0 {
            sent.push(bytes.clone());
        }
        Some((1 - from, bytes))
    });
    sent
}

/// A first enrollment over one connection; returns the device's record.
fn enroll(directory: &mut MemoryDirectory<Duration>) -> Enrolled {
    enroll_seeded(directory, 1)
}

/// [`enroll`] with the device's RNG seeded with `seed`.
fn enroll_seeded(directory: &mut MemoryDirectory<Duration>, seed: u64) -> Enrolled {
    let mut device = new_device(seed);
    let mut lbs = lbs(directory, seed + 1);
    device.start(T0);
    run(&mut device, &mut lbs, |_, _| {});
    let got = events(&mut device);
    let [
        DeviceConnectionEvent::Negotiated(n),
        DeviceConnectionEvent::Enrolled(enrolled),
        DeviceConnectionEvent::SessionKey(_),
        DeviceConnectionEvent::DasAddress(address),
    ] = got.as_slice()
    else {
        panic!("{got:?}");
    };
    assert_eq!(address, DAS);
    assert_eq!(n.suite, Suite::Aes128Gcm);
    assert_eq!(
        (enrolled.protocol_type, enrolled.suite),
        (1, Suite::Aes128Gcm)
    );
    assert_eq!(device.poll_timeout(), None);
    assert_eq!(lbs.poll_timeout(), None);
    enrolled.clone()
}

#[test]
fn negotiation_then_first_authentication_on_one_connection() {
    let mut directory = directory();
    let mut device = new_device(1);
    let mut lbs = lbs(&mut directory, 2);
    device.start(T0);
    run(&mut device, &mut lbs, |_, _| {});
    let device_events = events(&mut device);
    let Some(DeviceConnectionEvent::SessionKey(device_key)) = device_events.get(2) else {
        panic!("{device_events:?}");
    };
    let got = events(&mut lbs);
    let [
        LbsConnectionEvent::Negotiated(n),
        LbsConnectionEvent::Enrolled { devid },
        LbsConnectionEvent::Redirected { address, .. },
    ] = got.as_slice()
    else {
        panic!("{got:?}");
    };
    assert_eq!(
        *n,
        Negotiated {
            protocol_type: 1,
            offered: offer(&[Suite::Aes128Gcm, Suite::Aes128Cbc]).group,
            suite: Suite::Aes128Gcm,
            ecdh: true,
            version: osap_proto::ProtocolVersion::DEFAULT,
        }
    );
    assert_eq!(devid.as_str(), "dev-SN-7");
    assert_eq!(address, DAS);
    // The sessionkey record the DAS reads was stored before the redirect:
    // the first epoch, with the negotiated suite, expiring after the
    // configured lifetime.
    let stored = directory.keys().record(devid).unwrap().record;
    assert_eq!(&stored.key, device_key, "both sides hold one sessionkey");
    assert_eq!((stored.suite, stored.epoch), (Suite::Aes128Gcm, 1));
    assert_eq!(stored.expires, Some(T0 + Duration::from_secs(24 * 3600)));
    // The LBS kept the record with the negotiated protocol and suite.
    let kept = directory.enrolled("dev-SN-7").unwrap();
    assert_eq!((kept.protocol_type, kept.suite), (1, Suite::Aes128Gcm));
}

#[test]
fn bytes_after_the_negotiation_in_the_same_read_reach_the_authentication() {
    // Record a whole enrollment, then play the device's frames to a second
    // LBS with the same seed: all in one read, and byte by byte.
    let mut d1 = directory();
    let mut device = new_device(1);
    let mut reference = lbs(&mut d1, 2);
    device.start(T0);
    let sent = run(&mut device, &mut reference, |_, _| {});
    assert_eq!(sent.len(), 5, "request, 0x1, 0x7, 0x9, 0xA");
    let answers: Vec<_> = events(&mut reference);
    let stream = sent.concat();

    let mut d2 = directory();
    let mut whole = lbs(&mut d2, 2);
    whole.handle_input(T0, Input::Data(&stream));
    assert_eq!(
        answers_of(&mut whole),
        answers,
        "one read holding every frame"
    );

    let mut d3 = directory();
    let mut bytewise = lbs(&mut d3, 2);
    for b in &stream {
        bytewise.handle_input(T0, Input::Data(std::slice::from_ref(b)));
    }
    assert_eq!(answers_of(&mut bytewise), answers, "one byte per read");
}

fn answers_of(lbs: &mut Lbs<'_>) -> Vec<LbsConnectionEvent<Duration>> {
    while lbs.poll_transmit().is_some() {}
    events(lbs)
}

#[test]
fn a_refresh_as_first_frame_is_a_reauthentication_in_the_enrolled_suite() {
    let mut directory = directory();
    let enrolled = enroll(&mut directory);
    let mut device = Checked::new(DeviceConnection::reauthenticate(
        device_config(&[Suite::Aes128Cbc]),
        rng(3),
        enrolled,
    ));
    let mut lbs = lbs(&mut directory, 4);
    device.start(T0);
    let sent = run(&mut device, &mut lbs, |_, _| {});
    assert_eq!(sent[0][0] >> 4, AuthKind::RefreshRequest.code());
    let got = events(&mut device);
    assert!(
        matches!(
            got.as_slice(),
            [
                DeviceConnectionEvent::SessionKey(_),
                DeviceConnectionEvent::DasAddress(a)
            ] if a == DAS
        ),
        "{got:?}"
    );
    let got = events(&mut lbs);
    assert!(
        matches!(got.as_slice(), [LbsConnectionEvent::Redirected { .. }]),
        "{got:?}"
    );
}

#[test]
fn a_refresh_in_another_suite_than_enrolled_is_refused() {
    let mut directory = directory();
    let enrolled = enroll(&mut directory);
    let mut device = Checked::new(DeviceConnection::reauthenticate(
        device_config(&[Suite::Aes128Cbc]),
        rng(3),
        Enrolled {
            suite: Suite::Aes128Cbc,
            ..enrolled
        },
    ));
    let mut lbs = lbs(&mut directory, 4);
    device.start(T0);
    run(&mut device, &mut lbs, |_, _| {});
    assert_eq!(
        events(&mut lbs),
        [LbsConnectionEvent::Ended(End::PeerFault(
            ConnectionFault::Auth(AuthFault::ProtocolMismatch)
        ))]
    );
}

#[test]
fn a_refresh_from_an_unknown_devid_or_with_a_wrong_masterkey_is_refused() {
    let mut directory = directory();
    let enrolled = enroll(&mut directory);
    for record in [
        Enrolled {
            devid: "dev-nobody".into(),
            ..enrolled.clone()
        },
        Enrolled {
            master_key: MasterKey::from_bytes([7; 16]),
            ..enrolled
        },
    ] {
        let mut device = Checked::new(DeviceConnection::reauthenticate(
            device_config(&[Suite::Aes128Gcm]),
            rng(5),
            record,
        ));
        let mut lbs = lbs(&mut directory, 6);
        device.start(T0);
        run(&mut device, &mut lbs, |_, _| {});
        assert_eq!(
            events(&mut device),
            [DeviceConnectionEvent::Ended(End::Refused(
                ConnectionRefusal::Auth(AuthRefusal::ByLbs)
            ))]
        );
        assert_eq!(
            events(&mut lbs),
            [LbsConnectionEvent::Ended(End::Refused(
                ConnectionRefusal::Auth(AuthRefusal::BadProof)
            ))]
        );
    }
}

/// A man in the middle who rewrites the device's offer (GCM and CBC) to
/// CBC alone, so that the LBS chooses the weaker suite.
fn strip_gcm(from: usize, bytes: &mut [u8]) {
    if from == 0 && bytes[0] >> 4 == NegotiationKind::Request.code() && bytes[3] == 0b110 {
        bytes[3] = ProtocolGroup::single(Suite::Aes128Cbc).bits();
    }
}

#[test]
fn a_downgraded_negotiation_is_refused_by_the_authentication() {
    let mut directory = directory();
    let mut device = new_device(1);
    let mut lbs = lbs(&mut directory, 2);
    device.start(T0);
    run(&mut device, &mut lbs, |from, bytes| strip_gcm(from, bytes));
    let device_events = events(&mut device);
    // The device saw CBC chosen from its offer and went on...
    assert!(matches!(
        device_events.first(),
        Some(DeviceConnectionEvent::Negotiated(Negotiated {
            suite: Suite::Aes128Cbc,
            ..
        }))
    ));
    // ...but the two sides bound different negotiations: the LBS cannot
    // open the device's public key, and refuses.
    assert_eq!(
        device_events.last(),
        Some(&DeviceConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Auth(AuthRefusal::ByLbs)
        )))
    );
    let lbs_events = events(&mut lbs);
    assert_eq!(
        lbs_events.last(),
        Some(&LbsConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Auth(AuthRefusal::WrongVerificationCode)
        )))
    );
    assert!(directory.is_empty());
    assert!(
        directory.keys().record("dev-SN-7").is_none(),
        "no sessionkey for a downgraded connection"
    );
}

#[test]
fn without_the_binding_the_same_downgrade_would_succeed() {
    // The control for the test above: the authentication machines run
    // alone with the suite each side negotiated but nothing bound, as a
    // profile without the binding would, and the downgrade goes through.
    let mut directory = directory();
    let params = AuthConfig::new(1, Suite::Aes128Cbc);
    let mut device = Checked::new(DeviceAuth::<Duration, _>::first(
        params.clone(),
        rng(1),
        "SN-7",
        VerificationCode::new("2468"),
    ));
    let mut lbs = Checked::new(LbsAuth::new(T0, params, rng(2), &mut directory));
    device.start(T0);
    Driver::new(T0).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
    assert!(matches!(
        events(&mut device).last(),
        Some(DeviceAuthEvent::DasAddress(_))
    ));
    assert!(matches!(
        events(&mut lbs).last(),
        Some(LbsAuthEvent::Redirected { .. })
    ));
}

#[test]
fn a_rewritten_response_suite_is_refused() {
    let mut directory = directory();
    let mut device = new_device(1);
    let mut lbs = lbs(&mut directory, 2);
    device.start(T0);
    // The LBS chose GCM; the response is rewritten to say CBC.
    run(&mut device, &mut lbs, |from, bytes| {
        if from == 1 && bytes[0] >> 4 == NegotiationKind::Response.code() && bytes.len() < 16 {
            bytes[3] = ProtocolGroup::single(Suite::Aes128Cbc).bits();
        }
    });
    assert_eq!(
        events(&mut lbs).last(),
        Some(&LbsConnectionEvent::Ended(End::PeerFault(
            ConnectionFault::Auth(AuthFault::ProtocolMismatch)
        )))
    );
    assert!(directory.is_empty());
}

#[test]
fn a_first_frame_that_is_neither_negotiation_nor_refresh_is_refused() {
    let mut directory = directory();
    let mut lbs = lbs(&mut directory, 2);
    // An apply-devid request (0x7) as the first frame.
    let frame = osap_proto::ControlFrame {
        kind: AuthKind::ApplyDevidRequest.code(),
        flags: osap_proto::ControlFlags::ECDH,
        protocol_type: 1,
        protocol_group: ProtocolGroup::single(Suite::Aes128Gcm),
        version: osap_proto::ProtocolVersion::DEFAULT,
        content: vec![0; 16].into(),
        application: Vec::new().into(),
    };
    let mut bytes = Vec::new();
    frame.encode(&mut bytes).unwrap();
    lbs.handle_input(T0, Input::Data(&bytes));
    assert_eq!(
        events(&mut lbs),
        [LbsConnectionEvent::Ended(End::PeerFault(
            ConnectionFault::Negotiation(NegotiationFault::UnexpectedMessage {
                expected: NegotiationKind::Request,
                got: 7,
            })
        ))]
    );
    assert_eq!(lbs.poll_transmit(), None);
    assert_eq!(lbs.poll_timeout(), None);
}

#[test]
fn a_garbled_or_truncated_stream_ends_the_connection_once() {
    let mut directory = directory();
    let mut lbs = lbs(&mut directory, 2);
    // A remaining length that never ends (non-minimal, 5 bytes).
    lbs.handle_input(T0, Input::Data(&[0x13, 0xff, 0xff, 0xff, 0xff, 0x01]));
    let got = events(&mut lbs);
    assert!(
        matches!(
            got.as_slice(),
            [LbsConnectionEvent::Ended(End::PeerFault(
                ConnectionFault::Negotiation(NegotiationFault::Frame(_))
            ))]
        ),
        "{got:?}"
    );
    lbs.handle_input(T0, Input::PeerClosed);
    assert_eq!(events(&mut lbs), []);

    // Half a frame, then the device goes away.
    let mut device = new_device(1);
    device.start(T0);
    let request = device.poll_transmit().unwrap();
    let mut lbs = self::lbs(&mut directory, 2);
    lbs.handle_input(T0, Input::Data(&request[..4]));
    lbs.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        events(&mut lbs),
        [LbsConnectionEvent::Ended(End::PeerClosed)]
    );
}

#[test]
fn a_duplicated_authentication_frame_fails_the_connection() {
    let mut directory = directory();
    let mut device = new_device(1);
    let mut lbs = lbs(&mut directory, 2);
    device.start(T0);
    let mut seen = 0;
    let mut copy = None;
    run(&mut device, &mut lbs, |from, bytes| {
        if from == 0 {
            seen += 1;
            if seen == 2 {
                // The ECDH request: sent twice in one read.
                copy = Some(bytes.clone());
                let again = bytes.clone();
                bytes.extend_from_slice(&again);
            }
        }
    });
    assert!(copy.is_some());
    let got = events(&mut lbs);
    assert_eq!(
        got.last(),
        Some(&LbsConnectionEvent::Ended(End::PeerFault(
            ConnectionFault::Auth(AuthFault::UnexpectedMessage {
                expected: AuthKind::ApplyDevidRequest,
                got: AuthKind::EcdhRequest,
            })
        )))
    );
}

#[test]
fn each_side_times_out_once_in_each_phase() {
    let mut directory = directory();
    // The LBS waits for a first frame that never comes.
    let mut lbs = lbs(&mut directory, 2);
    let deadline = lbs.poll_timeout().unwrap();
    lbs.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(events(&mut lbs), []);
    lbs.handle_timeout(deadline);
    lbs.handle_timeout(deadline + Duration::from_secs(1));
    assert_eq!(events(&mut lbs), [LbsConnectionEvent::Ended(End::TimedOut)]);
    assert_eq!(lbs.poll_timeout(), None);

    // The negotiation succeeds, then the LBS goes silent during the
    // authentication.
    let mut device = new_device(1);
    let mut lbs = self::lbs(&mut directory, 2);
    device.start(T0);
    let request = device.poll_transmit().unwrap();
    lbs.handle_input(T0, Input::Data(&request));
    let response = lbs.poll_transmit().unwrap();
    device.handle_input(T0, Input::Data(&response));
    assert!(device.poll_transmit().is_some(), "the ECDH request");
    let deadline = device.poll_timeout().unwrap();
    device.handle_timeout(deadline);
    let got = events(&mut device);
    assert!(matches!(
        got.as_slice(),
        [
            DeviceConnectionEvent::Negotiated(_),
            DeviceConnectionEvent::Ended(End::TimedOut)
        ]
    ));
    // The LBS, past its authentication deadline, ends too.
    let deadline = lbs.poll_timeout().unwrap();
    lbs.handle_timeout(deadline);
    let got = events(&mut lbs);
    assert!(matches!(
        got.as_slice(),
        [
            LbsConnectionEvent::Negotiated(_),
            LbsConnectionEvent::Ended(End::TimedOut)
        ]
    ));
}

#[test]
fn a_counter_offer_makes_the_device_reconnect_and_enroll() {
    // The LBS serves protocol type 2 only; the device offers 1, then 2.
    let mut directory = directory();
    let lbs_config = LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![Offer {
        protocol_type: 2,
        group: ProtocolGroup::single(Suite::Aes128Gcm),
    }]));
    let mut device = Checked::new(DeviceConnection::<Duration, _>::first(
        DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![
            offer(&[Suite::Aes128Gcm]),
            Offer {
                protocol_type: 2,
                group: ProtocolGroup::ALL,
            },
        ])),
        rng(1),
        "SN-7",
        VerificationCode::new("2468"),
    ));
    let mut first = Checked::new(LbsConnection::new(
        T0,
        lbs_config.clone(),
        rng(2),
        &mut directory,
    ));
    device.start(T0);
    Driver::new(T0).run(&mut [&mut device, &mut first], pair(|_, _| {}));
    assert!(matches!(
        events(&mut first).as_slice(),
        [LbsConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Negotiation(_)
        ))]
    ));
    assert!(matches!(
        events(&mut device).as_slice(),
        [DeviceConnectionEvent::Reconnect { offer }] if offer.protocol_type == 2
    ));
    // A new connection.
    let mut second = Checked::new(LbsConnection::new(T0, lbs_config, rng(3), &mut directory));
    device.reconnected(T0);
    Driver::new(T0).run(&mut [&mut device, &mut second], pair(|_, _| {}));
    let got = events(&mut device);
    assert!(
        matches!(got.last(), Some(DeviceConnectionEvent::DasAddress(a)) if a == DAS),
        "{got:?}"
    );
    assert_eq!(
        directory
            .enrolled("dev-SN-7")
            .map(|e| (e.protocol_type, e.suite)),
        Some((2, Suite::Aes128Gcm))
    );
}

#[test]
fn a_connection_that_ends_reports_it_once_and_takes_nothing_more() {
    let mut directory = directory();
    let mut device = new_device(1);
    let mut lbs = lbs(&mut directory, 2);
    device.start(T0);
    let request = device.poll_transmit().unwrap();
    lbs.handle_input(T0, Input::Data(&request));
    lbs.handle_input(T0, Input::PeerClosed);
    lbs.handle_input(T0, Input::PeerClosed);
    lbs.handle_input(T0, Input::Data(&request));
    let got: Vec<ConnectionEnd> = events(&mut lbs)
        .into_iter()
        .filter_map(|e| match e {
            LbsConnectionEvent::Ended(end) => Some(end),
            _ => None,
        })
        .collect();
    assert_eq!(got, [End::PeerClosed]);
    device.handle_input(T0, Input::PeerClosed);
    device.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        events(&mut device),
        [DeviceConnectionEvent::Ended(End::PeerClosed)]
    );
}

#[test]
fn a_device_that_enrolls_again_replaces_its_record() {
    let mut directory = directory();
    let first = enroll(&mut directory);
    assert_eq!(directory.len(), 1);
    // A factory reset: the device enrolls again with its code.
    let second = enroll_seeded(&mut directory, 11);
    assert_eq!(directory.len(), 1);
    assert_eq!(first.devid, second.devid);
    assert_ne!(first.master_key, second.master_key);
    assert_eq!(
        directory.enrolled(&second.devid).unwrap().master_key,
        second.master_key
    );
    // The old masterkey no longer refreshes.
    let mut device = Checked::new(DeviceConnection::reauthenticate(
        device_config(&[Suite::Aes128Gcm]),
        rng(9),
        first,
    ));
    let mut lbs = lbs(&mut directory, 10);
    device.start(T0);
    run(&mut device, &mut lbs, |_, _| {});
    assert_eq!(
        events(&mut lbs),
        [LbsConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Auth(AuthRefusal::BadProof)
        ))]
    );
}

#[test]
fn the_memory_directory_refuses_what_it_does_not_know() {
    let mut directory = directory();
    let propose = DirectoryOp::ProposeDevid {
        serial: "SN-unknown".into(),
    };
    assert_eq!(
        directory.answer(&propose),
        DirectoryAnswer::Devid(Err("unknown serial number"))
    );
    let das = DirectoryOp::DasAddress {
        devid: "dev-SN-7".into(),
    };
    assert_eq!(
        directory.answer(&das),
        DirectoryAnswer::Address(Err("devid not enrolled"))
    );
    enroll(&mut directory);
    assert_eq!(
        directory.answer(&das),
        DirectoryAnswer::Address(Ok(DAS.to_owned()))
    );
    let mut no_das = MemoryDirectory::new("");
    no_das.add_device("SN-7", VerificationCode::new("4711"));
    let enroll = DirectoryOp::Enroll {
        serial: "SN-7".into(),
        expected: Version::FIRST,
        enrolled: directory.enrolled("dev-SN-7").unwrap(),
    };
    assert_eq!(no_das.answer(&enroll), DirectoryAnswer::Stored);
    // A second enrolment against the same version of the entry conflicts.
    assert_eq!(no_das.answer(&enroll), DirectoryAnswer::Conflict);
    assert_eq!(
        no_das.answer(&das),
        DirectoryAnswer::Address(Err("no DAS address configured"))
    );
    // An unknown serial number has no entry to enroll into.
    let stranger = DirectoryOp::Enroll {
        serial: "SN-unknown".into(),
        expected: Version::ABSENT,
        enrolled: directory.enrolled("dev-SN-7").unwrap(),
    };
    assert_eq!(no_das.answer(&stranger), DirectoryAnswer::Conflict);
    // Forgetting the device forgets its enrolment and its sessionkey.
    directory.forget("SN-7");
    assert_eq!(directory.enrolled("dev-SN-7"), None);
    assert!(directory.keys().record("dev-SN-7").is_none());
    directory.forget("SN-unknown");
}
