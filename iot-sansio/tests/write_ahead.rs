//! Write-ahead in the contract: what a machine queues to send after asking
//! for a write waits until the runtime confirms the write, and every
//! earlier one.

use core::time::Duration;

use iot_sansio::testing::{Checked, transmits};
use iot_sansio::{End, Input, Machine, Outbox, Outgoing, WriteToken};
use proptest::prelude::*;

#[test]
fn transmits_queued_after_a_write_wait_for_its_confirmation() {
    let mut out: Outbox<u8, ()> = Outbox::new();
    out.send(1);
    let write = out.hold();
    out.send(2);
    out.send(3);
    assert_eq!(out.pop_transmit(), Some(1));
    assert_eq!(out.pop_transmit(), None);
    assert_eq!((out.held_transmits(), out.pending_writes()), (2, 1));
    assert!(out.persisted(write));
    assert_eq!((out.held_transmits(), out.pending_writes()), (0, 0));
    assert_eq!(out.pop_transmit(), Some(2));
    assert_eq!(out.pop_transmit(), Some(3));
}

#[test]
fn a_later_write_confirmed_first_releases_nothing_before_the_earlier_one() {
    let mut out: Outbox<u8, ()> = Outbox::new();
    let first = out.hold();
    out.send(1);
    let second = out.hold();
    out.send(2);
    assert!(out.persisted(second));
    assert_eq!(out.pop_transmit(), None);
    assert_eq!((out.held_transmits(), out.pending_writes()), (2, 1));
    assert!(out.persisted(first));
    assert_eq!(out.pop_transmit(), Some(1));
    assert_eq!(out.pop_transmit(), Some(2));
}

#[test]
fn only_what_follows_the_unconfirmed_write_waits() {
    let mut out: Outbox<u8, ()> = Outbox::new();
    let first = out.hold();
    out.send(1);
    assert!(out.persisted(first));
    let second = out.hold();
    out.send(2);
    assert_eq!(out.pop_transmit(), Some(1));
    assert_eq!(out.pop_transmit(), None);
    assert!(out.persisted(second));
    assert_eq!(out.pop_transmit(), Some(2));
}

#[test]
fn an_unknown_or_repeated_confirmation_changes_nothing() {
    let mut out: Outbox<u8, ()> = Outbox::new();
    let write = out.hold();
    out.send(1);
    let mut other: Outbox<u8, ()> = Outbox::new();
    let _ = other.hold();
    let foreign = other.hold();
    assert!(!out.persisted(foreign), "a token this outbox did not give");
    assert_eq!(out.pop_transmit(), None);
    assert!(out.persisted(write));
    assert!(!out.persisted(write), "confirmed already");
    assert_eq!(out.pop_transmit(), Some(1));
}

#[test]
fn events_are_not_held_and_tokens_are_distinct() {
    let mut out: Outbox<u8, WriteToken> = Outbox::new();
    let a = out.hold();
    out.event(a);
    let b = out.hold();
    out.event(b);
    assert_ne!(a, b);
    assert_eq!(b.get(), a.get() + 1);
    assert_eq!(a.to_string(), format!("write {}", a.get()));
    assert_eq!(out.pop_event(), Some(a));
    assert_eq!(out.pop_event(), Some(b));
}

#[test]
fn frames_written_in_place_wait_too() {
    let mut out: Outbox<Vec<u8>, ()> = Outbox::new();
    let write = out.hold();
    out.send_with(|buf| {
        buf.extend_from_slice(b"frame");
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(out.held_transmits(), 1);
    assert_eq!(out.pop_transmit(), None);
    out.outgoing().persisted(write);
    assert_eq!(out.pop_transmit().as_deref(), Some(&b"frame"[..]));
}

/// Stores each input as a record and acknowledges it to the peer only once
/// the record is stored; ends on an empty input.
struct Acknowledger {
    out: Outbox<Vec<u8>, Saved>,
}

#[derive(Debug, PartialEq)]
enum Saved {
    Record(WriteToken, Vec<u8>),
    Ended(End<()>),
}

impl From<End<()>> for Saved {
    fn from(end: End<()>) -> Self {
        Self::Ended(end)
    }
}

impl Machine for Acknowledger {
    type Instant = Duration;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = Saved;
    fn handle_input(&mut self, _: Duration, input: Input<'_, [u8]>) {
        match input {
            Input::Data([]) | Input::PeerClosed => self.out.end(End::PeerClosed),
            Input::Data(record) => {
                let token = self.out.hold();
                self.out.event(Saved::Record(token, record.to_vec()));
                self.out.send([b"ack ", record].concat());
            }
        }
    }
    fn handle_timeout(&mut self, _: Duration) {}
    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, Saved> {
        self.out.outgoing()
    }
}

#[test]
fn a_machine_acknowledges_only_what_was_stored() {
    let mut m = Checked::new(Acknowledger { out: Outbox::new() });
    m.handle_input(Duration::ZERO, Input::Data(b"r1"));
    let Some(Saved::Record(token, record)) = m.poll_event() else {
        panic!("the record comes as an event")
    };
    assert_eq!(record, b"r1");
    assert!(transmits(&mut m).is_empty(), "told before stored");
    // The runtime stores the record, then confirms: the acknowledgement goes.
    m.persisted(Duration::from_secs(1), token);
    assert_eq!(transmits(&mut m), [b"ack r1".to_vec()]);
}

#[test]
fn what_was_held_before_the_end_may_still_go_once_stored() {
    let mut m = Checked::new(Acknowledger { out: Outbox::new() });
    m.handle_input(Duration::ZERO, Input::Data(b"r1"));
    m.handle_input(Duration::ZERO, Input::PeerClosed);
    let Some(Saved::Record(token, _)) = m.poll_event() else {
        panic!("the record comes as an event")
    };
    assert_eq!(m.poll_event(), Some(Saved::Ended(End::PeerClosed)));
    m.persisted(Duration::ZERO, token);
    assert_eq!(transmits(&mut m), [b"ack r1".to_vec()]);
}

/// A step of a runtime over an outbox: the model's operations.
#[derive(Debug, Clone)]
enum Op {
    Send,
    Hold,
    /// Confirms the write of this index among those asked for, if any.
    Confirm(usize),
    Pop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Send),
        Just(Op::Hold),
        (0usize..8).prop_map(Op::Confirm),
        Just(Op::Pop),
    ]
}

proptest! {
    /// Transmits come out in the order they were queued, and none comes
    /// out while a write asked for before it was queued is unconfirmed.
    #[test]
    fn nothing_is_told_before_what_it_follows_is_stored(ops in proptest::collection::vec(op(), 0..64)) {
        let mut out: Outbox<usize, ()> = Outbox::new();
        // For each write: its token, how many transmits came before it,
        // and whether it is confirmed.
        let mut writes: Vec<(WriteToken, usize, bool)> = Vec::new();
        let (mut queued, mut taken) = (0usize, 0usize);
        for op in ops {
            match op {
                Op::Send => {
                    out.send(queued);
                    queued += 1;
                }
                Op::Hold => writes.push((out.hold(), queued, false)),
                Op::Confirm(i) => {
                    if let Some(w) = writes.get_mut(i) {
                        prop_assert_eq!(out.persisted(w.0), !w.2);
                        w.2 = true;
                    }
                }
                Op::Pop => {
                    let blocked = writes.iter().any(|&(_, before, stored)| !stored && before <= taken);
                    match out.pop_transmit() {
                        Some(t) => {
                            prop_assert!(!blocked, "transmit {} went before its write", t);
                            prop_assert_eq!(t, taken);
                            taken += 1;
                        }
                        None => prop_assert!(blocked || taken == queued),
                    }
                }
            }
            let unconfirmed = writes.iter().filter(|w| !w.2).count();
            prop_assert_eq!(out.pending_writes(), unconfirmed);
            let held = writes
                .iter()
                .find(|w| !w.2)
                .map_or(0, |&(_, before, _)| queued - before.max(taken));
            prop_assert_eq!(out.held_transmits(), held);
        }
    }
}
