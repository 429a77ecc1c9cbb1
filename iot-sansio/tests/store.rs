//! Stored data as requests: the in-memory store's versions and
//! compare-and-set, which answers fit which operations, and the driver's
//! crash mode.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::panic)]

use iot_sansio::store::{
    AnswerError, Deferred, MemoryStore, RequestId, Store, StoreAnswer, StoreOp, Version, Versioned,
};
use iot_sansio::testing::{CrashPlan, WriteFate, every_crash};
use proptest::prelude::*;

fn put(key: &'static str, expected: u64, record: u32) -> StoreOp<&'static str, u32> {
    StoreOp::Put {
        key,
        expected: Version::new(expected),
        record,
    }
}

#[test]
fn writes_apply_only_at_the_version_read() {
    let mut store = MemoryStore::new();
    assert_eq!(store.answer(&StoreOp::Get("a")), StoreAnswer::Missing);
    assert_eq!(store.answer(&put("a", 1, 5)), StoreAnswer::Conflict);
    assert_eq!(
        store.answer(&put("a", 0, 5)),
        StoreAnswer::Stored(Version::FIRST)
    );
    assert_eq!(store.answer(&put("a", 0, 6)), StoreAnswer::Conflict);
    assert_eq!(
        store.answer(&put("a", 1, 6)),
        StoreAnswer::Stored(Version::new(2))
    );
    assert_eq!(
        store.answer(&StoreOp::Get("a")),
        StoreAnswer::Found(Versioned {
            version: Version::new(2),
            record: 6
        })
    );
    // An operator's write moves the version on: a machine's write that
    // read version 2 now conflicts.
    assert_eq!(store.put("a", 7), Version::new(3));
    assert_eq!(store.answer(&put("a", 2, 8)), StoreAnswer::Conflict);
    // A removed record reads as missing, and its version is never used
    // again.
    assert_eq!(store.remove("a").map(|r| r.record), Some(7));
    assert_eq!(store.remove("a"), None);
    assert_eq!(store.answer(&StoreOp::Get("a")), StoreAnswer::Missing);
    assert_eq!(store.answer(&put("a", 3, 9)), StoreAnswer::Conflict);
    assert_eq!(
        store.answer(&put("a", 0, 9)),
        StoreAnswer::Stored(Version::new(5))
    );
    assert_eq!(
        store.iter().collect::<Vec<_>>(),
        [(&"a", Version::new(5), &9)]
    );
}

#[test]
fn an_unavailable_store_answers_nothing_else() {
    let mut store = MemoryStore::new();
    store.put("a", 1);
    store.set_unavailable(true);
    assert_eq!(store.answer(&StoreOp::Get("a")), StoreAnswer::Unavailable);
    assert_eq!(store.answer(&put("a", 1, 2)), StoreAnswer::Unavailable);
    assert_eq!(
        store.answer_now(&StoreOp::Get("a")),
        Some(StoreAnswer::Unavailable)
    );
    store.set_unavailable(false);
    assert_eq!(store.get("a").map(|r| r.record), Some(1));
    // Deferred answers nothing at once.
    assert_eq!(
        Store::<&str, u32>::answer_now(&mut Deferred, &StoreOp::Get("a")),
        None
    );
}

#[test]
fn answers_fit_their_operations() {
    let get = StoreOp::<&str, u32>::Get("a");
    let write = put("a", 0, 1);
    let found = StoreAnswer::Found(Versioned {
        version: Version::FIRST,
        record: 1,
    });
    let cases = [
        (found, true, false),
        (StoreAnswer::Missing, true, false),
        (StoreAnswer::Stored(Version::FIRST), false, true),
        (StoreAnswer::Conflict, false, true),
        (StoreAnswer::Unavailable, true, true),
    ];
    for (answer, for_get, for_put) in cases {
        assert_eq!(get.fits(&answer), for_get, "{answer:?}");
        assert_eq!(write.fits(&answer), for_put, "{answer:?}");
    }
    assert_eq!(*write.key(), "a");
    let id = RequestId::new(4);
    assert_eq!((id.get(), id.next().get()), (4, 5));
    assert_eq!(
        AnswerError::NotAsked(id).to_string(),
        "request 4 is not awaited"
    );
    assert_eq!(Version::FIRST.next().to_string(), "version 2");
}

#[test]
fn the_crash_mode_crashes_once_per_write_before_and_after() {
    let mut seen = Vec::new();
    let runs = every_crash(|plan| {
        let fates: Vec<WriteFate> = (0..3).map(|_| plan.write()).collect();
        assert!(plan.has_crashed() || fates.iter().all(|f| *f == WriteFate::Apply));
        if plan.has_crashed() {
            seen.push((plan.point(), fates));
        }
    });
    assert_eq!(runs, 6);
    assert_eq!(
        seen[0].1,
        [WriteFate::CrashBefore, WriteFate::Apply, WriteFate::Apply]
    );
    assert_eq!(
        seen[3].1,
        [WriteFate::Apply, WriteFate::CrashAfter, WriteFate::Apply]
    );
    assert_eq!(seen[5].0, (2, true));
    let mut never = CrashPlan::never();
    assert!((0..100).all(|_| never.write() == WriteFate::Apply));
    assert!(!never.has_crashed());
}

proptest! {
    /// Any sequence of writes from several writers that each write back
    /// what they last read: the store's version counts the writes applied,
    /// and a write is applied exactly when nothing was applied since its
    /// writer's read.
    #[test]
    fn compare_and_set_serializes_writers(steps in prop::collection::vec((0..3usize, any::<bool>()), 0..60)) {
        let mut store = MemoryStore::new();
        let mut read = [Version::ABSENT; 3];
        let mut applied = 0u64;
        for (writer, is_read) in steps {
            if is_read {
                read[writer] = store.get("k").map_or(Version::ABSENT, |r| r.version);
                continue;
            }
            let fresh = read[writer] == Version::new(applied);
            let answer = store.answer(&StoreOp::Put { key: "k", expected: read[writer], record: writer });
            if fresh {
                applied += 1;
                prop_assert_eq!(answer, StoreAnswer::Stored(Version::new(applied)));
                read[writer] = Version::new(applied);
            } else {
                prop_assert_eq!(answer, StoreAnswer::Conflict);
            }
        }
    }
}
