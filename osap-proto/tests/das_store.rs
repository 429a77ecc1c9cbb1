//! The DAS over a store that answers later (sections 6 and 7, PROFILE.md
//! section 9): reads and compare-and-set writes as requests, the counter
//! stored before the CONNACK, "unavailable" answered with CONNACK 3,
//! revoked and expired sessionkeys, conflicts, bytes that come while the
//! store is asked, the node a live session is recorded at, and misuse of
//! `provide`.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

use std::time::Duration;

use iot_sansio::store::{AnswerError, Deferred, StoreAnswer, StoreOp, Version};
use iot_sansio::testing::{Checked, events};
use osap_proto::das::{
    DasSession, DasSessionConfig, DasSessionEvent, KeyRecord, KeyRequest, KeyTable, SessionFault,
};
use osap_proto::{ConnectReturnCode, End, FrameError, Input, Machine, Packet, Suite};

type Rng = rand_chacha::ChaCha20Rng;
type Das = Checked<DasSession<Duration, Deferred, Rng>>;

const T0: Duration = Duration::ZERO;
fn deferred(config: DasSessionConfig) -> Das {
    Checked::new(DasSession::new(
        T0,
        config,
        Deferred,
        iot_sansio::testing::rng(2),
    ))
}

/// The one store request among `events`.
fn request(events: &[DasSessionEvent<Duration>]) -> KeyRequest<Duration> {
    match events {
        [DasSessionEvent::Store(request)] => (**request).clone(),
        other => panic!("expected one store request, got {other:?}"),
    }
}

/// The CONNACK code the DAS sent, if it sent one.
fn connack<M: Machine<Transmit = Vec<u8>>>(das: &mut M) -> Option<ConnectReturnCode> {
    let frame = das.poll_transmit()?;
    let Packet::ConnAck(ack) = Packet::parse(&frame).unwrap() else {
        panic!("not a CONNACK")
    };
    Some(ack.code)
}

/// Answers every request of `das` from `keys` until it asks no more.
fn serve(
    das: &mut Das,
    keys: &mut KeyTable<Duration>,
    now: Duration,
) -> Vec<DasSessionEvent<Duration>> {
    let mut seen = Vec::new();
    loop {
        let mut asked = None;
        for event in events(das) {
            if let DasSessionEvent::Store(request) = &event {
                asked = Some(request.clone());
            }
            seen.push(event);
        }
        let Some(request) = asked else {
            return seen;
        };
        let answer = keys.answer(&request.op);
        das.provide(now, request.id, answer).unwrap();
    }
}

#[test]
fn the_counter_is_stored_before_the_connack() {
    let mut keys = table();
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(1)));
    // F1 read: nothing is said to the device yet.
    let read = request(&events(&mut das));
    assert_eq!(read.op, StoreOp::Get(DEVID.to_string()));
    assert_eq!(das.poll_timeout(), Some(T0 + Duration::from_secs(5)));
    das.provide(T0, read.id, keys.answer(&read.op)).unwrap();
    assert_eq!(
        connack(&mut das),
        None,
        "no CONNACK before the counter is stored"
    );
    let write = request(&events(&mut das));
    let StoreOp::Put {
        key,
        expected,
        record,
    } = &write.op
    else {
        panic!("expected a write, got {:?}", write.op)
    };
    assert_eq!((key.as_str(), *expected), (DEVID, Version::FIRST));
    assert_eq!((record.last_registration, record.epoch), (Some(1), 1));
    assert_eq!(connack(&mut das), None);
    das.provide(T0, write.id, keys.answer(&write.op)).unwrap();
    assert_eq!(connack(&mut das), Some(ConnectReturnCode::Accepted));
    assert_eq!(
        events(&mut das),
        [DasSessionEvent::Registered {
            devid: DEVID.into(),
            keep_alive: 30,
            epoch: 1
        }]
    );
    assert_eq!(
        keys.record(DEVID).unwrap().record.last_registration,
        Some(1)
    );
}

#[test]
fn an_unavailable_store_is_a_retry_later_answer() {
    let refused = Some(ConnectReturnCode::ServerUnavailable);
    let ended = [DasSessionEvent::Ended(End::Refused(
        ConnectReturnCode::ServerUnavailable,
    ))];
    // The read is answered "unavailable".
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(1)));
    let read = request(&events(&mut das));
    das.provide(T0, read.id, StoreAnswer::Unavailable).unwrap();
    assert_eq!(
        (connack(&mut das), events(&mut das)),
        (refused, ended.to_vec())
    );
    // The write is.
    let mut keys = table();
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(1)));
    let read = request(&events(&mut das));
    das.provide(T0, read.id, keys.answer(&read.op)).unwrap();
    let write = request(&events(&mut das));
    das.provide(T0, write.id, StoreAnswer::Unavailable).unwrap();
    assert_eq!(
        (connack(&mut das), events(&mut das)),
        (refused, ended.to_vec())
    );
    assert_eq!(keys.record(DEVID).unwrap().record.last_registration, None);
    // The store never answers.
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(1)));
    let read = request(&events(&mut das));
    let deadline = das.poll_timeout().unwrap();
    das.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(connack(&mut das), None);
    das.handle_timeout(deadline);
    assert_eq!(
        (connack(&mut das), events(&mut das)),
        (refused, ended.to_vec())
    );
    // The late answer is not taken.
    assert_eq!(
        das.provide(deadline, read.id, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(read.id))
    );
    // A store that answers at once, down.
    let mut keys = table();
    keys.set_unavailable(true);
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        &mut keys,
        iot_sansio::testing::rng(2),
    ));
    das.handle_input(T0, Input::Data(&connect(1)));
    assert_eq!(
        (connack(&mut das), events(&mut das)),
        (refused, ended.to_vec())
    );
}

#[test]
fn unknown_revoked_and_expired_keys_are_refused() {
    let run = |keys: &mut KeyTable<Duration>, now: Duration| {
        let mut das = Checked::new(DasSession::new(
            now,
            DasSessionConfig::default(),
            Deferred,
            iot_sansio::testing::rng(2),
        ));
        das.handle_input(now, Input::Data(&connect(1)));
        let seen = serve(&mut das, keys, now);
        (connack(&mut das), seen.last().cloned())
    };
    let refused = |code| (Some(code), Some(DasSessionEvent::Ended(End::Refused(code))));
    // Missing: the device goes back to the LBS.
    assert_eq!(
        run(&mut KeyTable::new(), T0),
        refused(ConnectReturnCode::IdentifierRejected)
    );
    // Revoked: the sessionkey is no longer good (the device refreshes it).
    let mut keys = table();
    assert!(keys.revoke(DEVID));
    assert!(!keys.revoke("ffffffffffff"));
    assert_eq!(
        run(&mut keys, T0),
        refused(ConnectReturnCode::BadUsernameOrPassword)
    );
    // Expired, at its instant and after; accepted just before.
    let expires = Duration::from_secs(3600);
    let mut keys = KeyTable::new();
    keys.issue(DEVID, key(), Suite::Aes128Gcm, Some(expires));
    assert_eq!(
        run(&mut keys.clone(), expires),
        refused(ConnectReturnCode::BadUsernameOrPassword)
    );
    assert_eq!(
        run(&mut keys, expires - Duration::from_millis(1)).0,
        Some(ConnectReturnCode::Accepted)
    );
}

#[test]
fn a_conflicting_write_reads_again_and_checks_anew() {
    let mut keys = table();
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(5)));
    let read = request(&events(&mut das));
    das.provide(T0, read.id, keys.answer(&read.op)).unwrap();
    let write = request(&events(&mut das));
    // Meanwhile another DAS accepted counter 5 of the same CONNECT (a
    // replay at another node).
    let mut other = deferred(DasSessionConfig::default());
    other.handle_input(T0, Input::Data(&connect(5)));
    serve(&mut other, &mut keys, T0);
    assert_eq!(connack(&mut other), Some(ConnectReturnCode::Accepted));
    // This one's write conflicts; it reads again and finds 5 taken.
    assert_eq!(keys.answer(&write.op), StoreAnswer::Conflict);
    das.provide(T0, write.id, StoreAnswer::Conflict).unwrap();
    let reread = request(&events(&mut das));
    assert_eq!(reread.op, StoreOp::Get(DEVID.to_string()));
    das.provide(T0, reread.id, keys.answer(&reread.op)).unwrap();
    assert_eq!(
        connack(&mut das),
        Some(ConnectReturnCode::BadUsernameOrPassword)
    );
}

#[test]
fn conflicts_without_end_are_a_retry_later_answer() {
    let mut keys = table();
    let config = DasSessionConfig {
        max_conflicts: 2,
        ..DasSessionConfig::default()
    };
    let mut das = deferred(config);
    das.handle_input(T0, Input::Data(&connect(1)));
    let mut writes = 0;
    loop {
        let Some(DasSessionEvent::Store(request)) = events(&mut das).pop() else {
            break;
        };
        let answer = match request.op {
            StoreOp::Get(_) => keys.answer(&request.op),
            StoreOp::Put { .. } => {
                writes += 1;
                StoreAnswer::Conflict
            }
        };
        das.provide(T0, request.id, answer).unwrap();
    }
    assert_eq!(writes, 3, "the first write and two retries");
    assert_eq!(
        connack(&mut das),
        Some(ConnectReturnCode::ServerUnavailable)
    );
}

#[test]
fn bytes_after_the_connect_wait_for_the_store() {
    let mut keys = table();
    let mut das = deferred(DasSessionConfig::default());
    // MQTT lets a client send before its CONNACK: a PINGREQ in the same
    // read, another in the next.
    let mut input = connect(1);
    input.extend([0xc0, 0x00]);
    das.handle_input(T0, Input::Data(&input));
    das.handle_input(T0, Input::Data(&[0xc0, 0x00]));
    assert_eq!(das.poll_transmit(), None);
    serve(&mut das, &mut keys, T0);
    assert_eq!(connack(&mut das), Some(ConnectReturnCode::Accepted));
    assert_eq!(das.poll_transmit(), Some(vec![0xd0, 0x00]));
    assert_eq!(das.poll_transmit(), Some(vec![0xd0, 0x00]));
    // More than a frame's worth while waiting is a fault.
    let config = DasSessionConfig {
        max_frame_len: 100,
        ..DasSessionConfig::default()
    };
    let mut das = deferred(config);
    das.handle_input(T0, Input::Data(&connect(1)));
    let read = request(&events(&mut das));
    das.handle_input(T0, Input::Data(&[0xc0, 0x00].repeat(50)));
    assert_eq!(events(&mut das), []);
    das.handle_input(T0, Input::Data(&[0xc0]));
    assert_eq!(
        events(&mut das),
        [DasSessionEvent::Ended(End::PeerFault(SessionFault::Frame(
            FrameError::Flooded { max: 100 }
        )))]
    );
    assert_eq!(
        das.provide(T0, read.id, keys.answer(&read.op)),
        Err(AnswerError::NotAsked(read.id))
    );
}

#[test]
fn a_live_session_is_found_at_its_node() {
    let mut keys = table();
    let config = DasSessionConfig {
        node: Some(7),
        ..DasSessionConfig::default()
    };
    let mut first = deferred(config);
    first.handle_input(T0, Input::Data(&connect(1)));
    serve(&mut first, &mut keys, T0);
    assert_eq!(keys.node(DEVID), Some(7));
    // The device leaves: the node is cleared by a write that needs no
    // answer, before the end.
    first.handle_input(T0, Input::Data(&[0xe0, 0x00]));
    let seen = events(&mut first);
    let [
        DasSessionEvent::Store(clear),
        DasSessionEvent::Ended(End::PeerClosed),
    ] = seen.as_slice()
    else {
        panic!("{seen:?}")
    };
    assert!(matches!(keys.answer(&clear.op), StoreAnswer::Stored(_)));
    assert_eq!(keys.node(DEVID), None);
    // A session at node 8 registers while the one at node 7 still lives;
    // the older one's end clears nothing.
    let mut at7 = deferred(config);
    at7.handle_input(T0, Input::Data(&connect(2)));
    serve(&mut at7, &mut keys, T0);
    let mut at8 = deferred(DasSessionConfig {
        node: Some(8),
        ..config
    });
    at8.handle_input(T0, Input::Data(&connect(3)));
    serve(&mut at8, &mut keys, T0);
    assert_eq!(keys.node(DEVID), Some(8));
    at7.handle_input(T0, Input::PeerClosed);
    let seen = events(&mut at7);
    let DasSessionEvent::Store(clear) = &seen[0] else {
        panic!("{seen:?}")
    };
    assert_eq!(keys.answer(&clear.op), StoreAnswer::Conflict);
    assert_eq!(keys.node(DEVID), Some(8));
    // Without a node nothing is written at the end.
    let mut alone = deferred(DasSessionConfig::default());
    alone.handle_input(T0, Input::Data(&connect(4)));
    serve(&mut alone, &mut keys, T0);
    alone.handle_input(T0, Input::PeerClosed);
    assert_eq!(
        events(&mut alone),
        [DasSessionEvent::Ended(End::PeerClosed)]
    );
}

#[test]
fn answers_that_do_not_fit_are_misuse() {
    let mut keys = table();
    let mut das = deferred(DasSessionConfig::default());
    das.handle_input(T0, Input::Data(&connect(1)));
    let read = request(&events(&mut das));
    let other = read.id.next();
    assert_eq!(
        das.provide(T0, other, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(other))
    );
    assert_eq!(
        das.provide(T0, read.id, StoreAnswer::Stored(Version::FIRST)),
        Err(AnswerError::Mismatched(read.id))
    );
    assert_eq!(
        das.provide(T0, read.id, StoreAnswer::Conflict),
        Err(AnswerError::Mismatched(read.id))
    );
    // The request still waits for its real answer.
    das.provide(T0, read.id, keys.answer(&read.op)).unwrap();
    let write = request(&events(&mut das));
    let found = keys.answer(&read.op);
    assert_eq!(
        das.provide(T0, write.id, found),
        Err(AnswerError::Mismatched(write.id))
    );
    // Before any CONNECT, nothing is awaited.
    let mut idle = deferred(DasSessionConfig::default());
    assert_eq!(
        idle.provide(T0, read.id, StoreAnswer::Missing),
        Err(AnswerError::NotAsked(read.id))
    );
}

#[test]
fn a_record_round_trips_through_a_store() {
    let record = KeyRecord::new(key(), Suite::Aes128Cbc, 3, Some(Duration::from_secs(9)));
    assert!(record.is_usable(Duration::from_secs(8)));
    assert!(!record.is_usable(Duration::from_secs(9)));
    assert!(record.is_fresh(0));
    let mut keys = KeyTable::new();
    let put = StoreOp::Put {
        key: DEVID.to_string(),
        expected: Version::ABSENT,
        record: record.clone(),
    };
    assert_eq!(keys.answer(&put), StoreAnswer::Stored(Version::FIRST));
    assert_eq!(keys.record(DEVID).unwrap().record, record);
    keys.remove(DEVID);
    assert_eq!(
        keys.answer(&StoreOp::Get(DEVID.into())),
        StoreAnswer::Missing
    );
    // A record made again after its removal gets a version never used.
    assert_eq!(keys.answer(&put), StoreAnswer::Stored(Version::new(3)));
}
