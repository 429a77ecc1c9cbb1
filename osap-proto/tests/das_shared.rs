//! DAS sessions over one shared store, as several DAS processes run
//! (sections 6 and 7, PROFILE.md section 9): the driver's crash mode at
//! every write of a device's registrations, and a proptest scheduler that
//! interleaves sessions registering the same device (replays among them)
//! with the LBS issuing a new sessionkey.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

use std::time::Duration;

use iot_sansio::store::{Deferred, StoreOp};
use iot_sansio::testing::{Checked, CrashPlan, WriteFate, events, every_crash};
use osap_proto::crypto::SessionKey;
use osap_proto::das::{DasSession, DasSessionConfig, DasSessionEvent, KeyRequest, KeyTable};
use osap_proto::{ConnectReturnCode, Input, Machine, Packet, Suite};
use proptest::prelude::*;

type Das = Checked<DasSession<Duration, Deferred, rand_chacha::ChaCha20Rng>>;

const T0: Duration = Duration::ZERO;
fn das(node: u64) -> Das {
    Checked::new(DasSession::new(
        T0,
        DasSessionConfig {
            node: Some(node),
            ..DasSessionConfig::default()
        },
        Deferred,
        iot_sansio::testing::rng(node),
    ))
}

/// The CONNACK codes `das` sent.
fn connacks(das: &mut Das) -> Vec<ConnectReturnCode> {
    iot_sansio::testing::transmits(das)
        .iter()
        .filter_map(|frame| match Packet::parse(frame).unwrap() {
            Packet::ConnAck(ack) => Some(ack.code),
            _ => None,
        })
        .collect()
}

/// Serves `das` as a runtime whose store writes go through `plan`;
/// returns the CONNACK codes the device got, or `None` at the crash.
fn serve(
    das: &mut Das,
    keys: &mut KeyTable<Duration>,
    plan: &mut CrashPlan,
) -> Option<Vec<ConnectReturnCode>> {
    let mut told = connacks(das);
    loop {
        let asked = events(das).into_iter().find_map(|event| match event {
            DasSessionEvent::Store(request) => Some(request),
            _ => None,
        });
        let Some(request) = asked else {
            return Some(told);
        };
        if matches!(request.op, StoreOp::Put { .. }) {
            match plan.write() {
                WriteFate::Apply => {}
                WriteFate::CrashBefore => return None,
                WriteFate::CrashAfter => {
                    keys.answer(&request.op);
                    return None;
                }
            }
        }
        let answer = keys.answer(&request.op);
        // The write that clears the node at the end needs no answer.
        let _ = das.provide(T0, request.id, answer);
        told.extend(connacks(das));
    }
}

/// Registers `counter` at a fresh DAS over `keys`, with every write
/// applied; the CONNACK code.
fn register(keys: &mut KeyTable<Duration>, counter: u64) -> ConnectReturnCode {
    let mut das = das(9);
    das.handle_input(T0, Input::Data(&connect(counter)));
    serve(&mut das, keys, &mut CrashPlan::never()).unwrap()[0]
}

#[test]
fn no_device_is_told_of_a_counter_a_crash_lost() {
    let runs = every_crash(|plan| {
        let mut keys = KeyTable::new();
        keys.issue(DEVID, key(), Suite::Aes128Gcm, None);
        let mut accepted = Vec::new();
        for (node, counter) in [(1, 1), (2, 2), (1, 3)] {
            let mut das = das(node);
            das.handle_input(T0, Input::Data(&connect(counter)));
            let told = serve(&mut das, &mut keys, plan);
            if let Some(told) = &told {
                assert_eq!(told.as_slice(), [ConnectReturnCode::Accepted]);
                accepted.push(counter);
                // The device leaves; the DAS clears its node.
                das.handle_input(T0, Input::Data(&[0xe0, 0x00]));
            }
            if told.is_none() || serve(&mut das, &mut keys, plan).is_none() {
                // The crash: every machine is gone; what the store kept
                // must cover what every device was told.
                let stored = keys.record(DEVID).unwrap().record;
                for &c in &accepted {
                    assert!(stored.last_registration >= Some(c), "{c} told, then lost");
                }
                // Rebuilt DAS sessions refuse each counter told accepted,
                // and accept the device's next one.
                for &c in &accepted {
                    assert_eq!(
                        register(&mut keys, c),
                        ConnectReturnCode::BadUsernameOrPassword
                    );
                }
                assert_eq!(
                    register(&mut keys, counter + 1),
                    ConnectReturnCode::Accepted
                );
                return;
            }
        }
        assert_eq!(accepted, [1, 2, 3]);
        assert_eq!(keys.node(DEVID), None);
    });
    // Two writes per registration (the counter, the node cleared), each
    // crashed before and after the store applied it.
    assert_eq!(runs, 12);
}

/// The store answers the request `das` waits on, if any; whether the
/// registration was accepted then.
fn answer(
    das: &mut Das,
    waiting: &mut Option<KeyRequest<Duration>>,
    keys: &mut KeyTable<Duration>,
) -> bool {
    for event in events(das) {
        if let DasSessionEvent::Store(request) = event {
            *waiting = Some(*request);
        }
    }
    if let Some(request) = waiting.take() {
        let _ = das.provide(T0, request.id, keys.answer(&request.op));
    }
    connacks(das).contains(&ConnectReturnCode::Accepted)
}

/// One step of the scheduler.
#[derive(Debug, Clone)]
enum Step {
    /// The store answers the waiting request of this session.
    Answer(usize),
    /// The LBS issues the device a new sessionkey.
    Refresh,
}

fn steps(sessions: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            8 => (0..sessions).prop_map(Step::Answer),
            1 => Just(Step::Refresh),
        ],
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Sessions at several DAS processes register one device over one
    /// store, some with the same CONNECT (a replay), while the LBS may
    /// issue a new sessionkey: no counter is accepted twice, counters are
    /// accepted in increasing order, and an old key's counter never lands
    /// in the new key's record.
    #[test]
    fn sessions_sharing_a_store_accept_each_counter_once(
        counters in prop::collection::vec(1..4u64, 2..5),
        schedule in steps(4),
    ) {
        let mut keys = KeyTable::new();
        keys.issue(DEVID, key(), Suite::Aes128Gcm, None);
        let mut sessions: Vec<Das> = (0..counters.len()).map(|i| das(i as u64)).collect();
        let mut waiting = Vec::new();
        for (das, &counter) in sessions.iter_mut().zip(&counters) {
            das.handle_input(T0, Input::Data(&connect(counter)));
            waiting.push(None);
        }
        let mut accepted = Vec::new();
        let mut refreshed = false;
        let drain = schedule.iter().cloned().chain((0..4 * 2 * 5).map(|i| Step::Answer(i % counters.len())));
        let mut accepted_after_refresh = false;
        for step in drain {
            match step {
                Step::Refresh if !refreshed => {
                    keys.issue(DEVID, SessionKey::from_bytes([0x77; 16]), Suite::Aes128Gcm, None);
                    refreshed = true;
                }
                Step::Refresh => {}
                Step::Answer(i) => {
                    let i = i % counters.len();
                    if answer(&mut sessions[i], &mut waiting[i], &mut keys) {
                        accepted.push((i, counters[i]));
                        accepted_after_refresh |= refreshed;
                    }
                }
            }
        }
        let mut seen: Vec<u64> = accepted.iter().map(|&(_, c)| c).collect();
        prop_assert!(seen.windows(2).all(|w| w[0] < w[1]), "accepted in this order: {:?}", seen);
        seen.dedup();
        prop_assert_eq!(seen.len(), accepted.len());
        prop_assert!(!accepted_after_refresh, "an old key's registration accepted after the refresh");
        let stored = keys.record(DEVID).unwrap().record;
        if refreshed {
            prop_assert_eq!(stored.epoch, 2);
            prop_assert_eq!(stored.last_registration, None);
        } else {
            prop_assert_eq!(stored.last_registration, accepted.last().map(|&(_, c)| c));
        }
        // Every session has answered its device.
        for das in &sessions {
            prop_assert!(das.poll_timeout().is_none() || das.is_registered());
        }
    }
}
