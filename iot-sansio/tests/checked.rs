//! The contract checker: each rule it enforces panics when a machine
//! breaks it, and a machine that keeps the contract runs through it
//! unchanged.

#![allow(clippy::unwrap_used)]

use core::time::Duration;

use iot_sansio::testing::{Checked, Driver, Node, pair};
use iot_sansio::{End, Input, Machine, Outbox, Outgoing};

/// The ways [`Faulty`] breaks the contract.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    SendsAfterEnd,
    ReportsAfterEnd,
    TimerAfterEnd,
    TimerStaysDue,
}

/// Echoes each input; ends when the peer closes; a timer every second.
struct Faulty {
    flaw: Flaw,
    next: Duration,
    out: Outbox<u8, End<()>>,
}

impl Faulty {
    fn new(flaw: Flaw) -> Checked<Self> {
        Checked::new(Self {
            flaw,
            next: Duration::from_secs(1),
            out: Outbox::new(),
        })
    }
}

impl Machine for Faulty {
    type Instant = Duration;
    type Input = u8;
    type Transmit = u8;
    type Event = End<()>;

    fn handle_input(&mut self, _: Duration, input: Input<'_, u8>) {
        let ended = self.out.is_ended();
        if ended && self.flaw == Flaw::SendsAfterEnd {
            // A second queue pair forgets the end, as a machine that
            // rebuilt its outbox would.
            self.out = Outbox::new();
            self.out.send(0);
            return;
        }
        if ended && self.flaw == Flaw::ReportsAfterEnd {
            self.out = Outbox::new();
            self.out.event(End::Closed);
            return;
        }
        match input {
            Input::Data(b) => self.out.send(*b),
            Input::PeerClosed => self.out.end(End::PeerClosed),
        }
    }
    fn handle_timeout(&mut self, now: Duration) {
        if self.flaw != Flaw::TimerStaysDue && now >= self.next {
            self.next = now + Duration::from_secs(1);
        }
    }
    fn poll_timeout(&self) -> Option<Duration> {
        (!self.out.is_ended() || self.flaw == Flaw::TimerAfterEnd).then_some(self.next)
    }
    fn outgoing(&mut self) -> Outgoing<'_, u8, End<()>> {
        self.out.outgoing()
    }
}

#[test]
fn a_machine_that_keeps_the_contract_runs_unchanged() {
    let mut m = Faulty::new(Flaw::None);
    m.handle_input(Duration::ZERO, Input::Data(&7));
    m.handle_timeout(Duration::from_secs(1));
    assert_eq!(m.poll_timeout(), Some(Duration::from_secs(2)));
    m.handle_input(Duration::from_secs(2), Input::PeerClosed);
    m.handle_input(Duration::from_secs(3), Input::Data(&8));
    assert_eq!(m.poll_transmit(), Some(7));
    assert_eq!(m.poll_transmit(), None);
    assert_eq!(m.poll_event(), Some(End::PeerClosed));
    assert_eq!(m.poll_event(), None);
    assert!(m.has_ended());
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn what_the_machine_queued_through_deref_is_handed_out_in_order() {
    let mut m = Faulty::new(Flaw::None);
    m.out.send(1);
    m.handle_input(Duration::ZERO, Input::Data(&2));
    m.out.send(3);
    let sent: Vec<u8> = core::iter::from_fn(|| m.poll_transmit()).collect();
    assert_eq!(sent, [1, 2, 3]);
}

#[test]
fn a_checked_machine_runs_under_the_driver() {
    let mut a = Faulty::new(Flaw::None);
    let mut b = Faulty::new(Flaw::None);
    a.out.send(5);
    let delivered = Driver::new(Duration::ZERO).run(
        &mut [&mut a as &mut dyn Node<_, _, _>, &mut b],
        pair(|_, _: &u8| {}),
    );
    // 5 bounces between the two until the bound stops it.
    assert_eq!(delivered, iot_sansio::testing::MAX_DELIVERIES);
}

#[test]
#[should_panic(expected = "sent something after its end")]
fn a_transmit_after_the_end_panics() {
    let mut m = Faulty::new(Flaw::SendsAfterEnd);
    m.handle_input(Duration::ZERO, Input::PeerClosed);
    m.handle_input(Duration::ZERO, Input::Data(&1));
}

#[test]
#[should_panic(expected = "reported an event after its end")]
fn a_second_end_or_an_event_after_it_panics() {
    let mut m = Faulty::new(Flaw::ReportsAfterEnd);
    m.handle_input(Duration::ZERO, Input::PeerClosed);
    m.handle_input(Duration::ZERO, Input::PeerClosed);
}

#[test]
#[should_panic(expected = "set a timer after its end")]
fn a_timer_after_the_end_panics() {
    let mut m = Faulty::new(Flaw::TimerAfterEnd);
    m.handle_input(Duration::ZERO, Input::PeerClosed);
}

#[test]
#[should_panic(expected = "a timer still due after handle_timeout")]
fn a_timer_that_stays_due_panics() {
    let mut m = Faulty::new(Flaw::TimerStaysDue);
    m.handle_timeout(Duration::from_secs(1));
}

#[test]
#[should_panic(expected = "the clock went backwards")]
fn a_clock_that_goes_backwards_panics() {
    let mut m = Faulty::new(Flaw::None);
    m.handle_input(Duration::from_secs(2), Input::Data(&1));
    m.handle_input(Duration::from_secs(1), Input::Data(&1));
}

#[test]
fn the_machine_comes_back_out_and_recycles_through_the_checker() {
    let mut m = Faulty::new(Flaw::None);
    m.handle_input(Duration::ZERO, Input::Data(&3));
    assert_eq!(iot_sansio::testing::transmits(&mut m), [3]);
    Machine::recycle(&mut m, 3);
    assert!(!m.has_ended());
    let inner = m.into_inner();
    assert!(!inner.out.is_ended());
}

#[test]
fn a_checked_machine_prints_the_machine() {
    #[derive(Debug)]
    struct Quiet(Outbox<u8, End<()>>);
    impl Machine for Quiet {
        type Instant = Duration;
        type Input = u8;
        type Transmit = u8;
        type Event = End<()>;
        fn handle_input(&mut self, _: Duration, _: Input<'_, u8>) {}
        fn handle_timeout(&mut self, _: Duration) {}
        fn poll_timeout(&self) -> Option<Duration> {
            None
        }
        fn outgoing(&mut self) -> Outgoing<'_, u8, End<()>> {
            self.0.outgoing()
        }
    }
    let m = Checked::new(Quiet(Outbox::new()));
    assert!(format!("{m:?}").starts_with("Checked { machine: Quiet("));
}
