//! The session with the device access service, device against DAS in
//! memory (draft sections 6 and 7): registration accepted and refused,
//! replayed and tampered CONNECTs, the heartbeat kept and lost on each
//! side, a clean leave, the will of a device that vanished, and faults.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

use iot_sansio::testing::{Checked, events};
use std::time::Duration;

use iot_sansio::testing::{Driver, Node, pair};
use osap_proto::crypto::SessionKey;
use osap_proto::das::{
    DasSession, DasSessionConfig, DasSessionEvent, DeviceSession, DeviceSessionConfig,
    DeviceSessionEvent, KeyTable, LastWill, Registration, SessionFault,
};
use osap_proto::{ConnectReturnCode, End, Input, Machine, Packet, PacketType, Suite, TopicName};

type Rng = rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::ZERO;
fn device(counter: u64) -> Checked<DeviceSession<Duration, Rng>> {
    Checked::new(DeviceSession::new(
        T0,
        DeviceSessionConfig::new(Registration::new(DEVID, counter), key()),
        iot_sansio::testing::rng(counter),
    ))
}

type Net<'a> = [&'a mut dyn Node<Duration, [u8], Vec<u8>>; 2];

/// Registers `device` with a DAS over `keys`; returns what each reported.
fn register(
    driver: &mut Driver<Duration>,
    device: &mut Checked<DeviceSession<Duration, Rng>>,
    das: &mut Checked<DasSession<Duration, &mut KeyTable<Duration>, Rng>>,
) -> (Vec<DeviceSessionEvent>, Vec<DasSessionEvent<Duration>>) {
    let mut nodes: Net<'_> = [device, das];
    driver.run(&mut nodes, pair(|_, _| {}));
    (events(device), events(das))
}

#[test]
fn registration_is_accepted_and_the_heartbeat_kept_for_ten_minutes() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device(1);
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    let (dev, platform) = register(&mut driver, &mut d, &mut das);
    assert_eq!(dev, [DeviceSessionEvent::Registered]);
    assert_eq!(
        platform,
        [DasSessionEvent::Registered {
            devid: DEVID.into(),
            keep_alive: 30,
            epoch: 1,
        }]
    );
    assert!(d.is_registered());
    // Ten minutes of pings every 30 s, each answered.
    let mut pings = 0;
    while driver.now() < Duration::from_secs(600) {
        let mut nodes: Net<'_> = [&mut d, &mut das];
        driver.advance_to_next_timer(&mut nodes).unwrap();
        pings += driver.run(
            &mut nodes,
            pair(|from, frame: &Vec<u8>| {
                if from == 0 {
                    assert_eq!(Packet::parse(frame).unwrap(), Packet::PingReq);
                }
            }),
        ) / 2;
        assert!(events(&mut d).is_empty());
        assert!(events(&mut das).is_empty());
    }
    assert_eq!(pings, 20);
}

#[test]
fn a_clean_leave_ends_both_sides_and_drops_the_will() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut reg = Registration::new(DEVID, 1);
    reg.will = Some(LastWill {
        topic: TopicName::new(format!("dev/{DEVID}/state")).unwrap(),
        message: b"offline".to_vec(),
    });
    let mut d = Checked::new(DeviceSession::new(
        T0,
        DeviceSessionConfig::new(reg, key()),
        iot_sansio::testing::rng(1),
    ));
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    register(&mut driver, &mut d, &mut das);
    d.disconnect();
    let (dev, platform) = register(&mut driver, &mut d, &mut das);
    assert_eq!(dev, [DeviceSessionEvent::Ended(End::Closed)]);
    assert_eq!(platform, [DasSessionEvent::Ended(End::PeerClosed)]);
    assert_eq!((d.poll_timeout(), das.poll_timeout()), (None, None));
}

#[test]
fn a_device_that_vanishes_is_lost_after_one_and_a_half_intervals_and_its_will_published() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut reg = Registration::new(DEVID, 1);
    let will = LastWill {
        topic: TopicName::new(format!("dev/{DEVID}/state")).unwrap(),
        message: b"offline".to_vec(),
    };
    reg.will = Some(will.clone());
    let mut d = Checked::new(DeviceSession::new(
        T0,
        DeviceSessionConfig::new(reg, key()),
        iot_sansio::testing::rng(1),
    ));
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    register(&mut driver, &mut d, &mut das);
    // The device stops: only the DAS's clock runs.
    assert_eq!(das.poll_timeout(), Some(Duration::from_secs(45)));
    das.handle_timeout(Duration::from_secs(44));
    assert!(events(&mut das).is_empty());
    das.handle_timeout(Duration::from_secs(45));
    assert_eq!(
        events(&mut das),
        [
            DasSessionEvent::Will(will),
            DasSessionEvent::Ended(End::TimedOut)
        ]
    );
}

#[test]
fn a_das_that_stops_answering_is_declared_dead() {
    let mut keys = table();
    let mut driver = Driver::new(T0);
    let mut d = device(1);
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    register(&mut driver, &mut d, &mut das);
    d.handle_timeout(Duration::from_secs(30));
    assert_eq!(
        Packet::parse(&d.poll_transmit().unwrap()).unwrap(),
        Packet::PingReq
    );
    assert_eq!(d.poll_timeout(), Some(Duration::from_secs(40)));
    d.handle_timeout(Duration::from_secs(40));
    assert_eq!(events(&mut d), [DeviceSessionEvent::Ended(End::TimedOut)]);
    assert_eq!(d.poll_timeout(), None);
}

#[test]
fn no_connack_times_the_device_out_and_no_connect_times_the_das_out() {
    let mut d = device(1);
    assert_eq!(d.poll_timeout(), Some(Duration::from_secs(10)));
    d.handle_timeout(Duration::from_secs(10));
    assert_eq!(events(&mut d), [DeviceSessionEvent::Ended(End::TimedOut)]);
    let mut keys = table();
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    das.handle_timeout(Duration::from_secs(10));
    assert_eq!(events(&mut das), [DasSessionEvent::Ended(End::TimedOut)]);
}

/// Feeds one CONNECT to a fresh DAS session and returns the CONNACK code
/// and what the DAS reported.
fn answer(
    keys: &mut KeyTable<Duration>,
    connect: &[u8],
) -> (ConnectReturnCode, Vec<DasSessionEvent<Duration>>) {
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        keys,
        iot_sansio::testing::rng(2),
    ));
    das.handle_input(T0, Input::Data(connect));
    let Packet::ConnAck(ack) = Packet::parse(&das.poll_transmit().unwrap()).unwrap() else {
        panic!("no CONNACK")
    };
    (ack.code, events(&mut das))
}

#[test]
fn registrations_are_refused_with_the_right_code() {
    let mut keys = table();
    let refused = |code| vec![DasSessionEvent::Ended(End::Refused(code))];
    // A devid the LBS did not issue.
    let stranger = Registration::new("ffffffffffff", 1);
    assert_eq!(
        answer(&mut keys, &connect_bytes(&stranger, &key())),
        (
            ConnectReturnCode::IdentifierRejected,
            refused(ConnectReturnCode::IdentifierRejected)
        )
    );
    // Proved with another key.
    let forged = connect_bytes(
        &Registration::new(DEVID, 1),
        &SessionKey::from_bytes([1; 16]),
    );
    assert_eq!(
        answer(&mut keys, &forged).0,
        ConnectReturnCode::BadUsernameOrPassword
    );
    // A keep-alive of 0, or longer than the DAS allows.
    let mut silent = Registration::new(DEVID, 1);
    silent.keep_alive = 0;
    assert_eq!(
        answer(&mut keys, &connect_bytes(&silent, &key())).0,
        ConnectReturnCode::NotAuthorized
    );
    silent.keep_alive = 301;
    assert_eq!(
        answer(&mut keys, &connect_bytes(&silent, &key())).0,
        ConnectReturnCode::NotAuthorized
    );
    // Not a registration at all: no user name or password.
    let mut plain = Vec::new();
    Packet::Connect(osap_proto::Connect {
        client_id: DEVID.into(),
        keep_alive: 30,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    })
    .encode(&mut plain)
    .unwrap();
    assert_eq!(
        answer(&mut keys, &plain).0,
        ConnectReturnCode::BadUsernameOrPassword
    );
    // None of these used up a counter: counter 1 still registers.
    let good = connect_bytes(&Registration::new(DEVID, 1), &key());
    assert_eq!(answer(&mut keys, &good).0, ConnectReturnCode::Accepted);
}

#[test]
fn a_replayed_or_stale_connect_is_refused() {
    let mut keys = table();
    let first = connect_bytes(&Registration::new(DEVID, 5), &key());
    assert_eq!(answer(&mut keys, &first).0, ConnectReturnCode::Accepted);
    // The same bytes captured and sent on another connection.
    assert_eq!(
        answer(&mut keys, &first).0,
        ConnectReturnCode::BadUsernameOrPassword
    );
    // An older counter.
    let stale = connect_bytes(&Registration::new(DEVID, 4), &key());
    assert_eq!(
        answer(&mut keys, &stale).0,
        ConnectReturnCode::BadUsernameOrPassword
    );
    // The next counter registers.
    let next = connect_bytes(&Registration::new(DEVID, 6), &key());
    assert_eq!(answer(&mut keys, &next).0, ConnectReturnCode::Accepted);
    // A new sessionkey from the LBS starts the counters afresh.
    assert_eq!(
        keys.issue(
            DEVID,
            SessionKey::from_bytes([9; 16]),
            Suite::Aes128Gcm,
            None
        ),
        2
    );
    let renewed = connect_bytes(
        &Registration::new(DEVID, 1),
        &SessionKey::from_bytes([9; 16]),
    );
    assert_eq!(answer(&mut keys, &renewed).0, ConnectReturnCode::Accepted);
}

#[test]
fn a_tampered_connect_is_refused() {
    let mut keys = table();
    let mut reg = Registration::new(DEVID, 3);
    reg.will = Some(LastWill {
        topic: TopicName::new("dev/state").unwrap(),
        message: b"offline".to_vec(),
    });
    let good = connect_bytes(&reg, &key());
    // Flip each byte of the variable header and payload in turn (the
    // fixed header is the frame): every change is refused or not a CONNECT.
    for at in 2..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        let mut das = Checked::new(DasSession::new(
            T0,
            DasSessionConfig::default(),
            &mut keys,
            iot_sansio::testing::rng(2),
        ));
        das.handle_input(T0, Input::Data(&bad));
        let events = events(&mut das);
        assert!(
            matches!(
                events.as_slice(),
                [DasSessionEvent::Ended(End::Refused(_) | End::PeerFault(_))]
            ),
            "byte {at}: {events:?}"
        );
    }
    assert_eq!(answer(&mut keys, &good).0, ConnectReturnCode::Accepted);
}

#[test]
fn a_refused_device_ends_with_the_code() {
    let mut keys = KeyTable::new();
    let mut driver = Driver::new(T0);
    let mut d = device(1);
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    let (dev, platform) = register(&mut driver, &mut d, &mut das);
    let refused = End::Refused(ConnectReturnCode::IdentifierRejected);
    assert_eq!(dev, [DeviceSessionEvent::Ended(refused.clone())]);
    assert_eq!(platform, [DasSessionEvent::Ended(refused)]);
}

/// The codec reads the QoS 2 flow; the sessions refuse it, as the profile
/// uses QoS 0 and 1 only (PROFILE.md section 5): a QoS 2 PUBLISH ends
/// either side with `QoS2`, a PUBREC, PUBREL or PUBCOMP with `Unexpected`.
#[test]
fn the_sessions_refuse_the_qos_2_flow() {
    let qos2_publish = [0x34, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01];
    for (bytes, fault) in [
        (&qos2_publish[..], SessionFault::QoS2),
        (
            &[0x50, 0x02, 0x00, 0x01][..],
            SessionFault::Unexpected(PacketType::PubRec),
        ),
        (
            &[0x62, 0x02, 0x00, 0x01][..],
            SessionFault::Unexpected(PacketType::PubRel),
        ),
        (
            &[0x70, 0x02, 0x00, 0x01][..],
            SessionFault::Unexpected(PacketType::PubComp),
        ),
    ] {
        // The device, registered.
        let mut d = device(1);
        d.handle_input(T0, Input::Data(&[0x20, 0x02, 0x00, 0x00]));
        d.handle_input(T0, Input::Data(bytes));
        assert_eq!(
            events(&mut d),
            [
                DeviceSessionEvent::Registered,
                DeviceSessionEvent::Ended(End::PeerFault(fault.clone()))
            ]
        );
        // The DAS, with a registered device.
        let mut keys = table();
        let connect = connect_bytes(&Registration::new(DEVID, 1), &key());
        let mut das = Checked::new(DasSession::new(
            T0,
            DasSessionConfig::default(),
            &mut keys,
            iot_sansio::testing::rng(2),
        ));
        das.handle_input(T0, Input::Data(&connect));
        das.handle_input(T0, Input::Data(bytes));
        let events = events(&mut das);
        assert!(
            matches!(events.as_slice(), [DasSessionEvent::Registered { .. }, DasSessionEvent::Ended(End::PeerFault(f))] if *f == fault),
            "{events:?}"
        );
    }
}

#[test]
fn faults_end_the_session_once() {
    let mut keys = table();
    // Anything but a CONNECT first.
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    das.handle_input(T0, Input::Data(&[0xc0, 0x00]));
    assert_eq!(
        events(&mut das),
        [DasSessionEvent::Ended(End::PeerFault(
            SessionFault::Unexpected(PacketType::PingReq)
        ))]
    );
    das.handle_input(T0, Input::Data(&[0xc0, 0x00]));
    assert!(events(&mut das).is_empty());
    // A second CONNECT on a registered connection.
    let connect = connect_bytes(&Registration::new(DEVID, 1), &key());
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    das.handle_input(T0, Input::Data(&connect));
    let second = connect_bytes(&Registration::new(DEVID, 2), &key());
    das.handle_input(T0, Input::Data(&second));
    assert!(matches!(
        events(&mut das).as_slice(),
        [
            DasSessionEvent::Registered { .. },
            DasSessionEvent::Ended(End::PeerFault(SessionFault::Unexpected(
                PacketType::Connect
            )))
        ]
    ));
    // Garbage on the device side, and a PINGRESP nobody asked for.
    let mut d = device(1);
    d.handle_input(T0, Input::Data(&[0xf0, 0x00]));
    assert!(matches!(
        events(&mut d).as_slice(),
        [DeviceSessionEvent::Ended(End::PeerFault(
            SessionFault::Frame(_)
        ))]
    ));
    let mut d = device(1);
    d.handle_input(T0, Input::Data(&[0x20, 0x02, 0x00, 0x00, 0xd0, 0x00]));
    assert_eq!(
        events(&mut d),
        [
            DeviceSessionEvent::Registered,
            DeviceSessionEvent::Ended(End::PeerFault(SessionFault::Unexpected(
                PacketType::PingResp
            )))
        ]
    );
    // The connection closing.
    let mut d = device(1);
    d.handle_input(T0, Input::PeerClosed);
    assert_eq!(events(&mut d), [DeviceSessionEvent::Ended(End::PeerClosed)]);
}

#[test]
fn frames_split_byte_by_byte_register_the_same() {
    let mut keys = table();
    let mut d = device(1);
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    let connect = d.poll_transmit().unwrap();
    for b in &connect {
        das.handle_input(T0, Input::Data(std::slice::from_ref(b)));
    }
    let connack = das.poll_transmit().unwrap();
    for b in &connack {
        d.handle_input(T0, Input::Data(std::slice::from_ref(b)));
    }
    assert_eq!(events(&mut d), [DeviceSessionEvent::Registered]);
    assert!(matches!(
        events(&mut das).as_slice(),
        [DasSessionEvent::Registered { .. }]
    ));
}
