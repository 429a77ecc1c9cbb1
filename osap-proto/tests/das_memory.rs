//! What a registered DAS session costs in memory: 1,000 sessions are
//! registered over one shared key store and the live heap counted with
//! dhat's allocator (in a test binary of its own). The bound is
//! documented here and the test fails when a session grows past it.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use iot_sansio::testing::Checked;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use iot_sansio::store::Store;
use osap_proto::Suite;
use osap_proto::crypto::SessionKey;
use osap_proto::das::{DasSession, DasSessionConfig, KeyOp, KeyRecord, KeyTable, Registration};
use osap_proto::{Input, Machine, Packet};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The most heap bytes one registered session may hold, its own struct
/// apart: the frame decoder's empty buffer, the business channel (the
/// devid and the expanded AES key), the RNG, the spare buffer of the last
/// frame sent, the room the event queue keeps for four events (an event
/// carries a business message, whose event body has its queue number
/// since 2.1.4's identifiers), and the store's record of the device
/// rewritten with its counter.
const MAX_HEAP_PER_SESSION: u64 = 2_112;

/// A key store many sessions share, as a runtime's handle to its store.
#[derive(Clone)]
struct Shared(Rc<RefCell<KeyTable<Duration>>>);

impl Store<String, KeyRecord<Duration>> for Shared {
    fn answer_now(&mut self, op: &KeyOp<Duration>) -> Option<osap_proto::das::KeyAnswer<Duration>> {
        Some(self.0.borrow_mut().answer(op))
    }
}

#[test]
fn a_registered_session_stays_small() {
    const N: u64 = 1_000;
    let store = Shared(Rc::new(RefCell::new(KeyTable::new())));
    let mut connects = Vec::new();
    for i in 0..N {
        let devid = format!("dev-{i:05}");
        let key = SessionKey::from_bytes([u8::try_from(i % 251).unwrap(); 16]);
        store
            .0
            .borrow_mut()
            .issue(devid.clone(), key.clone(), Suite::Aes128Gcm, None);
        let mut wire = Vec::new();
        Packet::Connect(Registration::new(devid, 1).to_connect(&key))
            .encode(&mut wire)
            .unwrap();
        connects.push(wire);
    }
    let mut sessions = Vec::with_capacity(1_000);
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get().curr_bytes;
    for (i, connect) in connects.iter().enumerate() {
        let mut das = Checked::new(DasSession::new(
            Duration::ZERO,
            DasSessionConfig::default(),
            store.clone(),
            iot_sansio::testing::rng(i as u64),
        ));
        das.handle_input(Duration::ZERO, Input::Data(connect));
        assert!(das.is_registered());
        while let Some(frame) = das.poll_transmit() {
            das.recycle(frame);
        }
        while das.poll_event().is_some() {}
        sessions.push(das);
    }
    let heap = (dhat::HeapStats::get().curr_bytes - before) as u64 / N;
    let own = size_of_val(&sessions[0]);
    eprintln!("per registered session: {own} bytes of its own, {heap} on the heap");
    assert!(
        heap <= MAX_HEAP_PER_SESSION,
        "{heap} heap bytes per session"
    );
}
