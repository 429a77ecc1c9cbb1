//! The LBS over a directory that answers later (section 5, Figures 3 and
//! 4; section 6; PROFILE.md section 8): each step's request in order, the
//! sessionkey stored before the redirect and before a refresh's answer,
//! "unavailable" and silence answered "retry later" (never a refusal that
//! sends a healthy device back to enrol), conflicts, misuse of `provide`,
//! the driver's crash mode at every write, and two LBS connections
//! enrolling one serial number over one directory.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use iot_sansio::store::{AnswerError, Deferred, StoreAnswer, StoreOp};
use iot_sansio::testing::{Checked, CrashPlan, Driver, WriteFate, events, every_crash, pair, rng};
use osap_proto::auth::{
    AuthFrame, AuthKind, AuthMessage, AuthRefusal, AuthResult, DirectoryAnswer, DirectoryOp,
    DirectoryRequest, Enrolled, MemoryDirectory,
};
use osap_proto::crypto::{SessionKey, VerificationCode};
use osap_proto::{
    ConnectionRefusal, ControlFrame, DeviceConnection, DeviceConnectionConfig,
    DeviceConnectionEvent, DeviceNegotiationConfig, End, LbsConnection, LbsConnectionConfig,
    LbsConnectionEvent, LbsNegotiationConfig, Machine, Offer, ProtocolGroup,
};
use rand_chacha::ChaCha20Rng;

const T0: Duration = Duration::ZERO;
const DAS: &str = "das-9.example.net:8883";
const OFFER: Offer = Offer {
    protocol_type: 1,
    group: ProtocolGroup::ALL,
};

type Device = Checked<DeviceConnection<Duration, ChaCha20Rng>>;
type Lbs = Checked<LbsConnection<Duration, ChaCha20Rng, Deferred>>;

fn directory() -> MemoryDirectory<Duration> {
    let mut directory = MemoryDirectory::new(DAS);
    directory.add_device("SN-7", VerificationCode::new("2468"));
    directory
}

fn config() -> DeviceConnectionConfig {
    DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![OFFER]))
}

fn first(seed: u64) -> Device {
    Checked::new(DeviceConnection::first(
        config(),
        rng(seed),
        "SN-7",
        VerificationCode::new("2468"),
    ))
}

fn again(enrolled: Enrolled, seed: u64) -> Device {
    Checked::new(DeviceConnection::reauthenticate(
        config(),
        rng(seed),
        enrolled,
    ))
}

fn new_lbs(seed: u64) -> Lbs {
    Checked::new(LbsConnection::new(
        T0,
        LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![OFFER])),
        rng(seed),
        Deferred,
    ))
}

/// What a step of the LBS asks, by name.
fn name(op: &DirectoryOp<Duration>) -> &'static str {
    match op {
        DirectoryOp::Device { .. } => "device",
        DirectoryOp::ProposeDevid { .. } => "propose",
        DirectoryOp::Enroll { .. } => "enroll",
        DirectoryOp::Enrolled { .. } => "enrolled",
        DirectoryOp::DasAddress { .. } => "das",
        DirectoryOp::Key(StoreOp::Get(_)) => "key read",
        DirectoryOp::Key(StoreOp::Put { .. }) => "key write",
    }
}

/// Everything that happened on a connection, in order: the LBS's
/// authentication answers (by kind and result) and its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Asked(&'static str),
    Sent(AuthKind, AuthResult),
}

/// The kind and result of an authentication answer.
fn answer_of(bytes: &[u8]) -> Option<(AuthKind, AuthResult)> {
    let frame = AuthFrame::from_control(&ControlFrame::parse(bytes).ok()?).ok()?;
    let (AuthMessage::EcdhResponse { result, .. }
    | AuthMessage::ApplyDevidResponse { result, .. }
    | AuthMessage::RefreshResponse { result, .. }
    | AuthMessage::DasResponse { result, .. }) = frame.message
    else {
        return None;
    };
    Some((frame.message.kind(), result))
}

/// What a run saw, the request it left waiting, and what else the LBS
/// reported.
type Ran = (
    Vec<Seen>,
    Option<DirectoryRequest<Duration>>,
    Vec<LbsConnectionEvent<Duration>>,
);

/// Runs `device` against `lbs`, answering each request with `answer`
/// (`None`: leave it unanswered and stop).
fn run(
    device: &mut Device,
    lbs: &mut Lbs,
    mut answer: impl FnMut(&DirectoryRequest<Duration>) -> Option<DirectoryAnswer<Duration>>,
) -> Ran {
    let mut seen = Vec::new();
    let mut reported = Vec::new();
    loop {
        Driver::new(T0).run(&mut [&mut *device, &mut *lbs], |from, bytes: Vec<u8>| {
            if let (1, Some((kind, result))) = (from, answer_of(&bytes)) {
                seen.push(Seen::Sent(kind, result));
            }
            Some((1 - from, bytes))
        });
        let mut asked = None;
        for event in events(lbs) {
            match event {
                LbsConnectionEvent::Directory(request) => asked = Some(request),
                other => reported.push(other),
            }
        }
        let Some(request) = asked else {
            return (seen, None, reported);
        };
        seen.push(Seen::Asked(name(&request.op)));
        let Some(reply) = answer(&request) else {
            return (seen, Some(request), reported);
        };
        lbs.provide(T0, request.id, reply).unwrap();
    }
}

fn sent(kind: AuthKind) -> Seen {
    Seen::Sent(kind, AuthResult::Accepted)
}

#[test]
fn the_sessionkey_is_stored_before_the_redirect() {
    let mut directory = directory();
    let mut device = first(1);
    let mut lbs = new_lbs(2);
    device.start(T0);
    let (seen, ..) = run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
    use AuthKind::{DasResponse, EcdhResponse};
    assert_eq!(
        seen,
        [
            Seen::Asked("device"),
            sent(EcdhResponse),
            Seen::Asked("propose"),
            sent(AuthKind::ApplyDevidResponse),
            // The DAS request came with the confirmation and waited.
            Seen::Asked("enroll"),
            Seen::Asked("key read"),
            Seen::Asked("key write"),
            Seen::Asked("das"),
            sent(DasResponse),
        ]
    );
    let got = events(&mut device);
    let Some(DeviceConnectionEvent::SessionKey(key)) = got.get(2) else {
        panic!("{got:?}")
    };
    let stored = directory.keys().record("dev-SN-7").unwrap().record;
    assert_eq!(&stored.key, key);
    assert!(directory.enrolled("dev-SN-7").is_some());
}

/// A first authentication with every write applied; the device's record.
fn enrolled(directory: &mut MemoryDirectory<Duration>) -> Enrolled {
    let mut device = first(1);
    let mut lbs = new_lbs(2);
    device.start(T0);
    run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
    events(&mut device)
        .into_iter()
        .find_map(|e| match e {
            DeviceConnectionEvent::Enrolled(enrolled) => Some(enrolled),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_refreshed_sessionkey_is_stored_before_the_answer() {
    let mut directory = directory();
    let record = enrolled(&mut directory);
    let mut device = again(record, 3);
    let mut lbs = new_lbs(4);
    device.start(T0);
    let (seen, ..) = run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
    assert_eq!(
        seen,
        [
            Seen::Asked("enrolled"),
            Seen::Asked("key read"),
            Seen::Asked("key write"),
            sent(AuthKind::RefreshResponse),
            Seen::Asked("das"),
            sent(AuthKind::DasResponse),
        ]
    );
    let got = events(&mut device);
    let Some(DeviceConnectionEvent::SessionKey(key)) = got.first() else {
        panic!("{got:?}")
    };
    let stored = directory.keys().record("dev-SN-7").unwrap().record;
    assert_eq!((&stored.key, stored.epoch), (key, 2));
}

/// The device's end and the LBS's, after `ran`.
fn ends(
    device: &mut Device,
    ran: &Ran,
) -> (
    Option<DeviceConnectionEvent>,
    Option<LbsConnectionEvent<Duration>>,
) {
    (events(device).pop(), ran.2.last().cloned())
}

fn retry_later() -> (
    Option<DeviceConnectionEvent>,
    Option<LbsConnectionEvent<Duration>>,
) {
    let refusal = End::Refused(ConnectionRefusal::Auth(AuthRefusal::Unavailable));
    (
        Some(DeviceConnectionEvent::Ended(refusal.clone())),
        Some(LbsConnectionEvent::Ended(refusal)),
    )
}

/// Runs `device` to the end against a new LBS whose directory answers
/// "unavailable" to its `k`-th request (from 0); the device's and the
/// LBS's ends.
fn unavailable_at(
    k: usize,
    device: &mut Device,
    directory: &mut MemoryDirectory<Duration>,
) -> (
    Option<DeviceConnectionEvent>,
    Option<LbsConnectionEvent<Duration>>,
) {
    let mut lbs = new_lbs(20);
    device.start(T0);
    let mut n = 0;
    let ran = run(device, &mut lbs, |r| {
        n += 1;
        Some(if n == k + 1 {
            DirectoryAnswer::Unavailable
        } else {
            directory.answer(&r.op)
        })
    });
    ends(device, &ran)
}

#[test]
fn an_unavailable_directory_is_a_retry_later_answer_at_every_step() {
    // First authentication: the directory fails at the k-th request.
    for k in 0..6 {
        let mut directory = directory();
        let mut device = first(1);
        assert_eq!(
            unavailable_at(k, &mut device, &mut directory),
            retry_later(),
            "request {k}"
        );
        // Failed before the enrolment was written: nothing kept. After:
        // the enrolment is kept, and the device retries with a refresh,
        // not a new enrolment, and gets through.
        let kept = directory.enrolled("dev-SN-7");
        assert_eq!(kept.is_some(), k > 2, "request {k}");
        if let Some(record) = kept {
            let mut device = again(record, 7);
            let mut lbs = new_lbs(8);
            device.start(T0);
            run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
            assert!(matches!(
                events(&mut device).last(),
                Some(DeviceConnectionEvent::DasAddress(_))
            ));
        }
    }
    // A refresh: every request; the sessionkey stays as it was until the
    // new one is written.
    for k in 0..4 {
        let mut directory = directory();
        let record = enrolled(&mut directory);
        let before = directory.keys().record("dev-SN-7").unwrap();
        let mut device = again(record, 3);
        assert_eq!(
            unavailable_at(k, &mut device, &mut directory),
            retry_later(),
            "request {k}"
        );
        if k < 2 {
            assert_eq!(directory.keys().record("dev-SN-7"), Some(before));
        }
    }
}

#[test]
fn a_silent_directory_is_a_retry_later_answer() {
    let mut directory = directory();
    let record = enrolled(&mut directory);
    let mut device = again(record, 3);
    let mut lbs = new_lbs(4);
    device.start(T0);
    let (_, waiting, _) = run(&mut device, &mut lbs, |_| None);
    let waiting = waiting.unwrap();
    let deadline = lbs.poll_timeout().unwrap();
    assert_eq!(deadline, T0 + Duration::from_secs(5));
    lbs.handle_timeout(deadline);
    let mut frames = Vec::new();
    while let Some(frame) = lbs.poll_transmit() {
        frames.push(answer_of(&frame));
    }
    assert_eq!(
        frames,
        [Some((AuthKind::RefreshResponse, AuthResult::RetryLater))]
    );
    assert_eq!(
        events(&mut lbs),
        [LbsConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Auth(AuthRefusal::Unavailable)
        ))]
    );
    // The answer that comes too late is not taken.
    assert_eq!(
        lbs.provide(deadline, waiting.id, DirectoryAnswer::Unavailable),
        Err(AnswerError::NotAsked(waiting.id))
    );
    // Silence after the confirmation: the held DAS request is answered.
    let mut directory = self::directory();
    let mut device = first(1);
    let mut lbs = new_lbs(2);
    device.start(T0);
    let (_, waiting, _) = run(&mut device, &mut lbs, |r| {
        (name(&r.op) != "enroll").then(|| directory.answer(&r.op))
    });
    assert_eq!(name(&waiting.unwrap().op), "enroll");
    let deadline = lbs.poll_timeout().unwrap();
    lbs.handle_timeout(deadline);
    let frames: Vec<_> = std::iter::from_fn(|| lbs.poll_transmit())
        .map(|f| answer_of(&f))
        .collect();
    assert_eq!(
        frames,
        [Some((AuthKind::DasResponse, AuthResult::RetryLater))]
    );
}

#[test]
fn a_sessionkey_write_that_conflicts_reads_again() {
    // One conflict: the record is read again and written.
    let mut directory = directory();
    let record = enrolled(&mut directory);
    let mut device = again(record.clone(), 3);
    let mut lbs = new_lbs(4);
    device.start(T0);
    let mut conflicts = 1;
    let (seen, ..) = run(&mut device, &mut lbs, |r| {
        if name(&r.op) == "key write" && conflicts > 0 {
            conflicts -= 1;
            return Some(DirectoryAnswer::Key(StoreAnswer::Conflict));
        }
        Some(directory.answer(&r.op))
    });
    let asked: Vec<_> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Asked(n) => Some(*n),
            Seen::Sent(..) => None,
        })
        .collect();
    assert_eq!(
        asked,
        [
            "enrolled",
            "key read",
            "key write",
            "key read",
            "key write",
            "das"
        ]
    );
    assert!(matches!(
        events(&mut device).last(),
        Some(DeviceConnectionEvent::DasAddress(_))
    ));
    // Always a conflict: after three retries, "retry later".
    let mut device = again(record, 5);
    let mut lbs = new_lbs(6);
    device.start(T0);
    let mut writes = 0;
    let ran = run(&mut device, &mut lbs, |r| {
        if name(&r.op) == "key write" {
            writes += 1;
            return Some(DirectoryAnswer::Key(StoreAnswer::Conflict));
        }
        Some(directory.answer(&r.op))
    });
    assert_eq!(writes, 4);
    assert_eq!(ends(&mut device, &ran), retry_later());
}

#[test]
fn answers_that_do_not_fit_are_misuse() {
    let mut device = first(1);
    let mut lbs = new_lbs(2);
    assert_eq!(
        lbs.provide(
            T0,
            iot_sansio::store::RequestId::new(1),
            DirectoryAnswer::Unavailable
        ),
        Err(AnswerError::NotAsked(iot_sansio::store::RequestId::new(1)))
    );
    device.start(T0);
    let (_, waiting, _) = run(&mut device, &mut lbs, |_| None);
    let request = waiting.unwrap();
    assert_eq!(
        lbs.provide(T0, request.id, DirectoryAnswer::Stored),
        Err(AnswerError::Mismatched(request.id))
    );
    assert_eq!(
        lbs.provide(T0, request.id.next(), DirectoryAnswer::Unavailable),
        Err(AnswerError::NotAsked(request.id.next()))
    );
    // Still waiting for the real answer.
    let mut directory = directory();
    lbs.provide(T0, request.id, directory.answer(&request.op))
        .unwrap();
    let (seen, ..) = run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
    assert_eq!(seen.last(), Some(&sent(AuthKind::DasResponse)));
}

/// Runs a connection whose directory writes go through `plan`; `None` at
/// the crash.
fn run_planned(
    device: &mut Device,
    lbs: &mut Lbs,
    directory: &mut MemoryDirectory<Duration>,
    plan: &mut CrashPlan,
) -> Option<Vec<DeviceConnectionEvent>> {
    let mut crashed = false;
    run(device, lbs, |r| {
        if crashed {
            return None;
        }
        let writes = matches!(
            r.op,
            DirectoryOp::Enroll { .. } | DirectoryOp::Key(StoreOp::Put { .. })
        );
        if writes {
            match plan.write() {
                WriteFate::Apply => {}
                WriteFate::CrashBefore => crashed = true,
                WriteFate::CrashAfter => {
                    directory.answer(&r.op);
                    crashed = true;
                }
            }
        }
        (!crashed).then(|| directory.answer(&r.op))
    });
    (!crashed).then(|| events(device))
}

/// A device back after a crash: a refresh with its record if it has one,
/// a first authentication if it has none or the LBS does not know it; its
/// devid and the sessionkey it got with its DAS address.
fn recover(
    directory: &mut MemoryDirectory<Duration>,
    record: Option<Enrolled>,
) -> (String, SessionKey) {
    if let Some(record) = record {
        let devid = record.devid.clone();
        let mut device = again(record, 50);
        let mut lbs = new_lbs(51);
        device.start(T0);
        run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
        if let [
            DeviceConnectionEvent::SessionKey(key),
            DeviceConnectionEvent::DasAddress(_),
        ] = events(&mut device).as_slice()
        {
            return (devid, key.clone());
        }
    }
    let mut device = first(60);
    let mut lbs = new_lbs(61);
    device.start(T0);
    run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
    match events(&mut device).as_slice() {
        [
            DeviceConnectionEvent::Negotiated(_),
            DeviceConnectionEvent::Enrolled(record),
            DeviceConnectionEvent::SessionKey(key),
            DeviceConnectionEvent::DasAddress(_),
        ] => (record.devid.clone(), key.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_device_is_told_of_a_key_or_enrolment_a_crash_lost() {
    let runs = every_crash(|plan| {
        let mut directory = directory();
        let mut told: Vec<(String, SessionKey, u64)> = Vec::new();
        let mut record = None;
        for round in 0..2u64 {
            let mut device = match record.clone() {
                None => first(1 + round),
                Some(r) => again(r, 1 + round),
            };
            let mut lbs = new_lbs(10 + round);
            device.start(T0);
            let Some(got) = run_planned(&mut device, &mut lbs, &mut directory, plan) else {
                // The crash: whatever the device was told by an LBS (a DAS
                // address, so a usable sessionkey) is in the directory,
                // unless a later sessionkey replaced it (a refresh whose
                // answer the crash lost: the device refreshes again).
                for (devid, key, epoch) in &told {
                    assert!(directory.enrolled(devid).is_some());
                    let stored = directory.keys().record(devid).unwrap().record;
                    assert!(
                        stored.epoch > *epoch || (stored.epoch == *epoch && &stored.key == key)
                    );
                }
                // Rebuilt, the LBS gets the device through with what it
                // holds, and what it tells is stored.
                let (devid, key) = recover(&mut directory, record);
                assert_eq!(directory.keys().record(&devid).unwrap().record.key, key);
                return;
            };
            let mut key = None;
            for event in got {
                match event {
                    DeviceConnectionEvent::Enrolled(r) => record = Some(r),
                    DeviceConnectionEvent::SessionKey(k) => key = Some(k),
                    DeviceConnectionEvent::DasAddress(_) => {
                        let devid = record.as_ref().unwrap().devid.clone();
                        told.push((devid, key.clone().unwrap(), round + 1));
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(told.len(), 2);
        assert_eq!(directory.keys().record("dev-SN-7").unwrap().record.epoch, 2);
    });
    // First authentication: the enrolment and the sessionkey; the
    // refresh: the sessionkey; each crashed before and after.
    assert_eq!(runs, 6);
}

#[test]
fn two_connections_enrolling_one_serial_keep_one_enrolment() {
    let mut directory = directory();
    let mut a = first(1);
    let mut b = first(2);
    let mut lbs_a = new_lbs(3);
    let mut lbs_b = new_lbs(4);
    a.start(T0);
    b.start(T0);
    // Both read the serial number's entry before either enrolls.
    let (_, wait_a, _) = run(&mut a, &mut lbs_a, |r| {
        (name(&r.op) != "enroll").then(|| directory.answer(&r.op))
    });
    let (_, wait_b, _) = run(&mut b, &mut lbs_b, |r| {
        (name(&r.op) != "enroll").then(|| directory.answer(&r.op))
    });
    let (wait_a, wait_b) = (wait_a.unwrap(), wait_b.unwrap());
    assert_eq!(directory.answer(&wait_a.op), DirectoryAnswer::Stored);
    assert_eq!(directory.answer(&wait_b.op), DirectoryAnswer::Conflict);
    lbs_a
        .provide(T0, wait_a.id, DirectoryAnswer::Stored)
        .unwrap();
    lbs_b
        .provide(T0, wait_b.id, DirectoryAnswer::Conflict)
        .unwrap();
    run(&mut a, &mut lbs_a, |r| Some(directory.answer(&r.op)));
    run(&mut b, &mut lbs_b, |r| Some(directory.answer(&r.op)));
    assert!(matches!(
        events(&mut a).last(),
        Some(DeviceConnectionEvent::DasAddress(_))
    ));
    assert_eq!(
        events(&mut b).last(),
        Some(&DeviceConnectionEvent::Ended(End::Refused(
            ConnectionRefusal::Auth(AuthRefusal::ByLbs)
        )))
    );
    // The enrolment kept is the winner's, whose sessionkey is stored.
    assert_eq!(directory.len(), 1);
}

/// A DAS session registering the device with `key` and `counter`, over a
/// store that answers later; its first request.
fn registering(
    key: &SessionKey,
    counter: u64,
) -> (
    Checked<osap_proto::das::DasSession<Duration, Deferred, ChaCha20Rng>>,
    osap_proto::das::KeyRequest<Duration>,
) {
    use osap_proto::das::{DasSession, DasSessionConfig, DasSessionEvent, Registration};
    let mut das = Checked::new(DasSession::new(
        T0,
        DasSessionConfig::default(),
        Deferred,
        rng(70),
    ));
    let mut connect = Vec::new();
    osap_proto::Packet::Connect(Registration::new("dev-SN-7", counter).to_connect(key))
        .encode(&mut connect)
        .unwrap();
    das.handle_input(T0, osap_proto::Input::Data(&connect));
    let Some(DasSessionEvent::Store(request)) = das.poll_event() else {
        panic!("no store request")
    };
    (das, *request)
}

/// Answers the DAS's requests from `directory` until it asks no more;
/// whether it accepted the registration.
fn registers(
    das: &mut Checked<osap_proto::das::DasSession<Duration, Deferred, ChaCha20Rng>>,
    mut request: osap_proto::das::KeyRequest<Duration>,
    directory: &mut MemoryDirectory<Duration>,
) -> bool {
    use osap_proto::das::DasSessionEvent;
    loop {
        let answer = directory.keys_mut().answer(&request.op);
        das.provide(T0, request.id, answer).unwrap();
        match events(das).pop() {
            Some(DasSessionEvent::Store(next)) => request = *next,
            Some(DasSessionEvent::Registered { .. }) => return true,
            _ => return false,
        }
    }
}

#[test]
fn a_refresh_racing_a_registration_leaves_one_epoch() {
    for das_first in [true, false] {
        let mut directory = directory();
        let record = enrolled(&mut directory);
        let old = directory.keys().record("dev-SN-7").unwrap().record.key;
        // The DAS reads the record under the old key; the LBS's refresh
        // reads it too, and neither has written yet.
        let (mut das, read) = registering(&old, 1);
        let answer = directory.keys_mut().answer(&read.op);
        das.provide(T0, read.id, answer).unwrap();
        let Some(osap_proto::das::DasSessionEvent::Store(das_write)) = das.poll_event() else {
            panic!("no write")
        };
        let mut device = again(record, 8);
        let mut lbs = new_lbs(9);
        device.start(T0);
        let (_, lbs_write, _) = run(&mut device, &mut lbs, |r| {
            (name(&r.op) != "key write").then(|| directory.answer(&r.op))
        });
        let lbs_write = lbs_write.unwrap();
        let accepted = if das_first {
            let accepted = registers(&mut das, *das_write, &mut directory);
            let answer = directory.answer(&lbs_write.op);
            assert_eq!(answer, DirectoryAnswer::Key(StoreAnswer::Conflict));
            lbs.provide(T0, lbs_write.id, answer).unwrap();
            run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
            accepted
        } else {
            let answer = directory.answer(&lbs_write.op);
            lbs.provide(T0, lbs_write.id, answer).unwrap();
            run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
            registers(&mut das, *das_write, &mut directory)
        };
        // The old key's registration counts only if it was stored before
        // the new key; the new key's record starts its counters afresh
        // either way, and the device holds the key stored.
        assert_eq!(accepted, das_first);
        let stored = directory.keys().record("dev-SN-7").unwrap().record;
        assert_eq!((stored.epoch, stored.last_registration), (2, None));
        let refreshed = events(&mut device)
            .into_iter()
            .find_map(|e| match e {
                DeviceConnectionEvent::SessionKey(k) => Some(k),
                _ => None,
            })
            .unwrap();
        assert_eq!(stored.key, refreshed);
    }
}

/// One LBS connection of the scheduler, with the request it waits on.
struct Connection {
    device: Device,
    lbs: Lbs,
    waiting: Option<DirectoryRequest<Duration>>,
    /// The version of the serial number's entry its ECDH request read.
    read: Option<iot_sansio::store::Version>,
}

impl Connection {
    /// Moves the connection on: frames both ways, then the answer to its
    /// request, if it has one; what the answer was, for a write.
    fn step(
        &mut self,
        directory: &mut MemoryDirectory<Duration>,
    ) -> Option<(&'static str, DirectoryAnswer<Duration>)> {
        Driver::new(T0).run(&mut [&mut self.device, &mut self.lbs], pair(|_, _| {}));
        for event in events(&mut self.lbs) {
            if let LbsConnectionEvent::Directory(request) = event {
                self.waiting = Some(request);
            }
        }
        let request = self.waiting.take()?;
        let answer = directory.answer(&request.op);
        if let DirectoryAnswer::Device(Some(entry)) = &answer {
            self.read = Some(entry.version);
        }
        let written = matches!(
            request.op,
            DirectoryOp::Enroll { .. } | DirectoryOp::Key(StoreOp::Put { .. })
        )
        .then(|| (name(&request.op), answer.clone()));
        self.lbs.provide(T0, request.id, answer).unwrap();
        written
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// First authentications of one serial number and refreshes of its
    /// devid, on LBS connections over one directory, their steps in any
    /// order: of the enrolments that read the same entry, at most one is
    /// kept; every sessionkey stored is the devid's next epoch; and every
    /// connection ends.
    #[test]
    fn lbs_connections_sharing_a_directory_keep_one_enrolment_per_read(
        kinds in proptest::collection::vec(proptest::bool::ANY, 2..5),
        schedule in proptest::collection::vec(0..5usize, 0..80),
    ) {
        let mut directory = directory();
        let record = enrolled(&mut directory);
        let mut connections: Vec<Connection> = kinds
            .iter()
            .enumerate()
            .map(|(i, &refresh)| {
                let seed = 100 + i as u64;
                let mut device = if refresh { again(record.clone(), seed) } else { first(seed) };
                device.start(T0);
                Connection { device, lbs: new_lbs(seed + 50), waiting: None, read: None }
            })
            .collect();
        let mut enrolled_from: Vec<iot_sansio::store::Version> = Vec::new();
        let mut keys_stored = 0;
        // Then round after round until all are through: a connection whose
        // writes conflict reads again, up to three times.
        let drain = schedule.iter().copied().chain(0..200);
        for i in drain {
            let n = connections.len();
            let connection = &mut connections[i % n];
            let read = connection.read;
            match connection.step(&mut directory) {
                Some(("enroll", DirectoryAnswer::Stored)) => enrolled_from.push(read.unwrap()),
                Some(("key write", DirectoryAnswer::Key(StoreAnswer::Stored(_)))) => keys_stored += 1,
                _ => {}
            }
        }
        let mut reads = enrolled_from.clone();
        reads.dedup();
        proptest::prop_assert_eq!(reads.len(), enrolled_from.len(), "two enrolments from one read");
        let stored = directory.keys().record("dev-SN-7").unwrap().record;
        proptest::prop_assert_eq!(stored.epoch, 1 + keys_stored);
        for c in &mut connections {
            proptest::prop_assert!(c.lbs.poll_timeout().is_none(), "a connection left waiting");
        }
    }
}

#[test]
fn silence_at_any_step_of_a_first_authentication_is_a_retry_later_answer() {
    // The directory answers the first k requests and not the next.
    for k in 0..6 {
        let mut directory = directory();
        let mut device = first(1);
        let mut lbs = new_lbs(2);
        device.start(T0);
        let mut n = 0;
        let (_, waiting, _) = run(&mut device, &mut lbs, |r| {
            n += 1;
            (n <= k).then(|| directory.answer(&r.op))
        });
        let waiting = waiting.unwrap();
        let deadline = lbs.poll_timeout().unwrap();
        lbs.handle_timeout(deadline);
        // The device gets its answer (or the DAS request that followed the
        // confirmation does), then the connection ends.
        let ran = run(&mut device, &mut lbs, |r| Some(directory.answer(&r.op)));
        assert_eq!(ends(&mut device, &ran), retry_later(), "request {k}");
        assert_eq!(
            lbs.provide(deadline, waiting.id, DirectoryAnswer::Unavailable),
            Err(AnswerError::NotAsked(waiting.id)),
            "request {k}"
        );
    }
}
