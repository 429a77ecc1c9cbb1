//! The test driver: delivery until quiet, dropped transmits, the virtual
//! clock firing timers in order, and the bound on runaway exchanges.

#![allow(clippy::unwrap_used)]

use core::time::Duration;

use iot_sansio::testing::{Driver, MAX_DELIVERIES, Node, pair};
use iot_sansio::{End, Input, Machine, Outbox, Outgoing};

/// Answers every input with the next number, `left` times; pings itself
/// after `every` of silence; ends when the peer closes.
struct Counter {
    left: u32,
    every: Duration,
    next: Duration,
    pings: u32,
    out: Outbox<u32, End<()>>,
}

impl Counter {
    fn new(left: u32, every: Duration) -> Self {
        Self {
            left,
            every,
            next: every,
            pings: 0,
            out: Outbox::new(),
        }
    }
}

impl Machine for Counter {
    type Instant = Duration;
    type Input = u32;
    type Transmit = u32;
    type Event = End<()>;

    fn handle_input(&mut self, now: Duration, input: Input<'_, u32>) {
        match input {
            Input::Data(n) => {
                self.next = now + self.every;
                if self.left > 0 {
                    self.left -= 1;
                    self.out.send(n + 1);
                }
            }
            Input::PeerClosed => self.out.end(End::PeerClosed),
        }
    }
    fn handle_timeout(&mut self, now: Duration) {
        if now >= self.next {
            self.pings += 1;
            self.next = now + self.every;
        }
    }
    fn poll_timeout(&self) -> Option<Duration> {
        (!self.out.is_ended()).then_some(self.next)
    }
    fn outgoing(&mut self) -> Outgoing<'_, u32, End<()>> {
        self.out.outgoing()
    }
}

#[test]
fn delivers_until_quiet_and_observes_every_transmit() {
    let mut a = Counter::new(3, Duration::from_secs(10));
    let mut b = Counter::new(2, Duration::from_secs(10));
    a.out.send(0);
    let mut seen = Vec::new();
    let delivered = Driver::new(Duration::ZERO).run(
        &mut [&mut a as &mut dyn Node<_, _, _>, &mut b],
        pair(|from, n: &u32| seen.push((from, *n))),
    );
    // 0 -> b, 1 -> a, 2 -> b, 3 -> a, 4 -> b (b has no answers left).
    assert_eq!(seen, [(0, 0), (1, 1), (0, 2), (1, 3), (0, 4)]);
    assert_eq!(delivered, 5);
}

#[test]
fn a_route_that_drops_delivers_nothing() {
    let mut a = Counter::new(3, Duration::from_secs(10));
    let mut b = Counter::new(3, Duration::from_secs(10));
    a.out.send(7);
    let delivered = Driver::new(Duration::ZERO)
        .run(&mut [&mut a as &mut dyn Node<_, _, _>, &mut b], |_, _| None);
    assert_eq!(delivered, 0);
    assert_eq!(b.left, 3);
}

#[test]
fn two_machines_answering_forever_stop_at_the_bound() {
    let mut a = Counter::new(u32::MAX, Duration::from_secs(10));
    let mut b = Counter::new(u32::MAX, Duration::from_secs(10));
    a.out.send(0);
    let delivered = Driver::new(Duration::ZERO).run(
        &mut [&mut a as &mut dyn Node<_, _, _>, &mut b],
        pair(|_, _| {}),
    );
    assert_eq!(delivered, MAX_DELIVERIES);
}

#[test]
fn the_clock_fires_timers_in_order_and_never_goes_back() {
    let mut a = Counter::new(0, Duration::from_secs(3));
    let mut b = Counter::new(0, Duration::from_secs(5));
    let mut d = Driver::new(Duration::ZERO);
    let nodes = &mut [&mut a as &mut dyn Node<_, _, _>, &mut b];
    assert_eq!(d.next_timer(nodes), Some(Duration::from_secs(3)));
    assert_eq!(d.advance_to_next_timer(nodes), Some(Duration::from_secs(3)));
    // Up to 10 s: a fires at 6 and 9, b at 5 and 10.
    d.advance(Duration::from_secs(7), nodes);
    assert_eq!(d.now(), Duration::from_secs(10));
    d.advance_to(Duration::from_secs(1), nodes);
    assert_eq!(d.now(), Duration::from_secs(10), "never backwards");
    assert_eq!((a.pings, b.pings), (3, 2));
    // Ended machines set no timer.
    a.handle_input(d.now(), Input::PeerClosed);
    b.handle_input(d.now(), Input::PeerClosed);
    assert_eq!(
        d.advance_to_next_timer(&mut [&mut a as &mut dyn Node<_, _, _>, &mut b]),
        None
    );
    assert_eq!(a.poll_event(), Some(End::PeerClosed));
}

/// With no timer due by then, the clock still moves to where it is told;
/// the seeded RNG gives the same numbers for the same seed.
#[test]
fn the_clock_moves_without_timers_and_the_rng_is_seeded() {
    let mut a = Counter::new(0, Duration::from_secs(30));
    let mut d = Driver::new(Duration::ZERO);
    d.advance_to(
        Duration::from_secs(2),
        &mut [&mut a as &mut dyn Node<_, _, _>],
    );
    assert_eq!(d.now(), Duration::from_secs(2));
    assert_eq!(a.pings, 0);
    use iot_sansio::RngCore;
    let (mut x, mut y) = (iot_sansio::testing::rng(7), iot_sansio::testing::rng(7));
    assert_eq!(x.next_u64(), y.next_u64());
    // An input is a copy of a reference, cloned as such (its Clone is
    // written by hand, so that it needs no Clone of what it refers to).
    let input = Input::Data(&5u8);
    #[allow(clippy::clone_on_copy)]
    let copy = input.clone();
    assert!(matches!(copy, Input::Data(5)));
}
