//! The offline event cache of draft section 2.1.4 (`das::EventQueue`):
//! order, acknowledgement, redelivery with DUP after a lost connection,
//! both overflow policies (every dropped event handed back), and export
//! and restore across a reboot.

// Tests fail by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroU16;

use osap_proto::business::{Body, BusinessMessage, Params};
use osap_proto::das::{EventQueue, Overflow, Pushed, QueuedEvent};

fn event(n: u64) -> BusinessMessage {
    let mut params = Params::new();
    params.insert("n".into(), n.into());
    BusinessMessage::new(
        "alarm",
        Body::Event {
            name: "door".into(),
            params,
            id: None,
        },
    )
}

fn id(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

fn n_of(e: &QueuedEvent) -> u64 {
    match &e.message.body {
        Body::Event { params, .. } => params["n"].as_u64().unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn events_go_out_in_order_and_leave_only_when_acknowledged() {
    let mut q = EventQueue::new(10, Overflow::RefuseNew);
    for n in 1..=3 {
        assert_eq!(q.push(event(n)), Pushed::Queued);
    }
    let sent: Vec<u64> = (1..=3).map(|i| n_of(q.send_next(id(i)).unwrap())).collect();
    assert_eq!(sent, [1, 2, 3]);
    assert!(q.send_next(id(4)).is_none());
    // Acknowledgements may come in any order; an unknown id changes nothing.
    assert!(q.acknowledge(id(9)).is_none());
    assert_eq!(n_of(&q.acknowledge(id(2)).unwrap()), 2);
    assert!(q.acknowledge(id(2)).is_none());
    assert_eq!(q.len(), 2);
    assert_eq!(n_of(&q.acknowledge(id(1)).unwrap()), 1);
    assert_eq!(n_of(&q.acknowledge(id(3)).unwrap()), 3);
    assert!(q.is_empty());
}

#[test]
fn unacknowledged_events_go_again_after_a_reconnect_with_dup() {
    let mut q = EventQueue::new(10, Overflow::RefuseNew);
    for n in 1..=3 {
        assert_eq!(q.push(event(n)), Pushed::Queued);
    }
    q.send_next(id(1)).unwrap();
    q.send_next(id(2)).unwrap();
    q.acknowledge(id(1)).unwrap();
    q.connection_lost();
    assert!(q.has_unsent());
    // Event 2 first (sent before: DUP), then 3 (never sent).
    let again = q.send_next(id(1)).unwrap();
    assert_eq!((n_of(again), again.sent_before), (2, true));
    let fresh = q.send_next(id(2)).unwrap();
    assert_eq!((n_of(fresh), fresh.sent_before), (3, false));
    assert!(!q.has_unsent());
}

#[test]
fn a_full_queue_drops_the_oldest_or_refuses_the_new_and_says_which() {
    let mut q = EventQueue::new(2, Overflow::DropOldest);
    assert_eq!(q.push(event(1)), Pushed::Queued);
    assert_eq!(q.push(event(2)), Pushed::Queued);
    let Pushed::DroppedOldest(dropped) = q.push(event(3)) else {
        panic!("nothing dropped")
    };
    assert_eq!((dropped.seq, n_of(&dropped)), (1, 1));
    let Pushed::DroppedOldest(dropped) = q.push(event(4)) else {
        panic!("nothing dropped")
    };
    assert_eq!(n_of(&dropped), 2);
    assert_eq!(q.export().iter().map(n_of).collect::<Vec<_>>(), [3, 4]);

    let mut q = EventQueue::new(2, Overflow::RefuseNew);
    assert_eq!(q.push(event(1)), Pushed::Queued);
    assert_eq!(q.push(event(2)), Pushed::Queued);
    let Pushed::Refused(refused) = q.push(event(3)) else {
        panic!("not refused")
    };
    assert_eq!((refused.seq, n_of(&refused)), (3, 3));
    assert_eq!(q.export().iter().map(n_of).collect::<Vec<_>>(), [1, 2]);
    // A capacity of 0 is taken as 1.
    let mut q = EventQueue::new(0, Overflow::RefuseNew);
    assert_eq!(q.push(event(1)), Pushed::Queued);
    assert!(matches!(q.push(event(2)), Pushed::Refused(_)));
}

#[test]
fn the_queue_survives_a_reboot_through_export_and_restore() {
    let mut q = EventQueue::new(5, Overflow::DropOldest);
    for n in 1..=4 {
        assert_eq!(q.push(event(n)), Pushed::Queued);
    }
    q.send_next(id(1)).unwrap();
    let records = q.export();
    // The records survive the runtime's store: here, JSON.
    let kept = serde_json::to_string(&records).unwrap();
    assert!(kept.contains(r#""area":"alarm""#), "{kept}");
    let back: Vec<QueuedEvent> = serde_json::from_str(&kept).unwrap();
    assert_eq!(back, records);
    // Restored in order whatever order the store gave them back in, all
    // to be sent again; sequence numbers continue.
    let mut shuffled = records.clone();
    shuffled.reverse();
    let (mut restored, dropped) = EventQueue::restore(5, Overflow::DropOldest, shuffled);
    assert!(dropped.is_empty());
    assert_eq!(restored.export(), records);
    assert_eq!(restored.push(event(5)), Pushed::Queued);
    assert_eq!(restored.export().last().unwrap().seq, 5);
    let order: Vec<u64> = (1..=5)
        .map(|i| n_of(restored.send_next(id(i)).unwrap()))
        .collect();
    assert_eq!(order, [1, 2, 3, 4, 5]);
    // A smaller queue keeps the newest and hands back the rest.
    let (small, dropped) = EventQueue::restore(2, Overflow::DropOldest, records);
    assert_eq!(dropped.iter().map(n_of).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(small.export().iter().map(n_of).collect::<Vec<_>>(), [3, 4]);
}

proptest::proptest! {
    /// Whatever happened to a queue (pushes over its capacity, sends,
    /// acknowledgements, lost connections), the queue rebuilt from its
    /// exported records exports the same records.
    #[test]
    fn a_queue_rebuilt_from_its_records_equals_it(
        capacity in 1usize..8,
        refuse in proptest::bool::ANY,
        ops in proptest::collection::vec(0u8..4, 0..40),
    ) {
        let overflow = if refuse { Overflow::RefuseNew } else { Overflow::DropOldest };
        let mut q = EventQueue::new(capacity, overflow);
        let (mut n, mut packet) = (0u64, 0u16);
        for op in ops {
            match op {
                0 | 1 => {
                    n += 1;
                    q.push(event(n));
                }
                2 => {
                    packet = packet % 1000 + 1;
                    q.send_next(id(packet));
                }
                _ => q.connection_lost(),
            }
            if op == 2 && packet % 3 == 0 {
                q.acknowledge(id(packet));
            }
        }
        let records = q.export();
        let json = serde_json::to_string(&records).unwrap();
        let back: Vec<QueuedEvent> = serde_json::from_str(&json).unwrap();
        let (rebuilt, dropped) = EventQueue::restore(capacity, overflow, back);
        proptest::prop_assert!(dropped.is_empty());
        // In flight or not, every event waits to be sent again after a
        // reboot, with DUP where it went out before.
        let mut expected = q;
        expected.connection_lost();
        proptest::prop_assert_eq!(rebuilt.export(), expected.export());
    }
}
