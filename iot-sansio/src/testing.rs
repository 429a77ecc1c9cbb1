//! A deterministic driver for machines of the family, for tests, examples,
//! fuzz targets and the tour: a virtual clock and a network that delivers
//! every transmit to the node a routing function names.
//!
//! The routing function sees each transmit on its way (so it can print it,
//! drop it, rewrite it, or stamp it as an XMPP server stamps `from`) and
//! returns the index of the node it goes to. [`pair`] routes between two
//! nodes.
//!
//! ```
//! use core::time::Duration;
//! use iot_sansio::testing::{Driver, Node, pair};
//! # use iot_sansio::{End, Input, Machine, Outbox, Outgoing};
//! # struct Ping { left: u8, out: Outbox<Vec<u8>, End<()>> }
//! # impl Machine for Ping {
//! #     type Instant = Duration; type Input = [u8]; type Transmit = Vec<u8>; type Event = End<()>;
//! #     fn handle_input(&mut self, _: Duration, input: Input<'_, [u8]>) {
//! #         if let Input::Data(_) = input { if self.left > 0 { self.left -= 1; self.out.send(vec![self.left]) } }
//! #     }
//! #     fn handle_timeout(&mut self, _: Duration) {}
//! #     fn poll_timeout(&self) -> Option<Duration> { None }
//! #     fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, End<()>> { self.out.outgoing() }
//! # }
//! let mut a = Ping { left: 3, out: Outbox::new() };
//! let mut b = Ping { left: 3, out: Outbox::new() };
//! a.out.send(vec![9]);
//! let mut driver = Driver::new(Duration::ZERO);
//! let mut seen = Vec::new();
//! let delivered = driver.run(&mut [&mut a as &mut dyn Node<_, _, _>, &mut b], pair(|from, bytes: &Vec<u8>| {
//!     seen.push((from, bytes.clone()));
//! }));
//! assert_eq!(delivered, 7);
//! assert_eq!(seen[0], (0, vec![9]));
//! ```

use core::borrow::Borrow;
use core::fmt;
use core::ops::{Deref, DerefMut};
use core::time::Duration;

use crate::{Input, Instant, Machine, Outbox, Outgoing, WriteToken};

/// The most deliveries one [`Driver::run`] makes before it stops, so that
/// two machines that answer each other forever do not hang a test.
pub const MAX_DELIVERIES: usize = 1_000_000;

/// The most timers one [`Driver::advance_to`] fires, so that a node whose
/// timer stays due does not hang a test.
pub const MAX_FIRINGS: usize = 10_000;

/// An object-safe view of a [`Machine`] whose events the caller polls from
/// the machine itself: what a network of machines of different types needs.
/// Every [`Machine`] is a `Node`.
pub trait Node<I, In: ?Sized, Out> {
    /// [`Machine::handle_input`].
    fn input(&mut self, now: I, input: Input<'_, In>);
    /// [`Machine::handle_timeout`].
    fn timeout(&mut self, now: I);
    /// [`Machine::poll_timeout`].
    fn next_timeout(&self) -> Option<I>;
    /// [`Machine::poll_transmit`].
    fn transmit(&mut self) -> Option<Out>;
    /// [`Machine::recycle`].
    fn recycle(&mut self, out: Out);
}

impl<M: Machine> Node<M::Instant, M::Input, M::Transmit> for M {
    fn input(&mut self, now: M::Instant, input: Input<'_, M::Input>) {
        self.handle_input(now, input);
    }
    fn timeout(&mut self, now: M::Instant) {
        self.handle_timeout(now);
    }
    fn next_timeout(&self) -> Option<M::Instant> {
        self.poll_timeout()
    }
    fn transmit(&mut self) -> Option<M::Transmit> {
        self.poll_transmit()
    }
    fn recycle(&mut self, out: M::Transmit) {
        Machine::recycle(self, out);
    }
}

/// A routing function for two nodes: every transmit goes to the other one,
/// after `observe` has seen it with the index of its sender.
pub fn pair<Out>(
    mut observe: impl FnMut(usize, &Out),
) -> impl FnMut(usize, Out) -> Option<(usize, Out)> {
    move |from, out| {
        observe(from, &out);
        Some((1 - from.min(1), out))
    }
}

/// A virtual clock and the loop that delivers transmits between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Driver<I> {
    now: I,
}

impl<I: Instant> Driver<I> {
    /// A driver whose clock reads `start`.
    pub const fn new(start: I) -> Self {
        Self { now: start }
    }

    /// The current instant.
    pub const fn now(&self) -> I {
        self.now
    }

    /// Delivers transmits until no node has anything to send: each node in
    /// turn gives up what it has, `route` decides where each goes (or drops
    /// it with `None`), the receiving node handles it at once, and the
    /// sender gets it back ([`Machine::recycle`]), as a runtime that reuses
    /// its buffers does. Returns how many were delivered (at most
    /// [`MAX_DELIVERIES`]).
    pub fn run<In: ?Sized, Out: Borrow<In>>(
        &mut self,
        nodes: &mut [&mut dyn Node<I, In, Out>],
        mut route: impl FnMut(usize, Out) -> Option<(usize, Out)>,
    ) -> usize {
        let mut delivered = 0;
        loop {
            let mut moved = false;
            for from in 0..nodes.len() {
                while let Some(out) = nodes[from].transmit() {
                    moved = true;
                    if let Some((to, out)) = route(from, out)
                        && let Some(node) = nodes.get_mut(to)
                    {
                        node.input(self.now, Input::Data(out.borrow()));
                        nodes[from].recycle(out);
                        delivered += 1;
                        if delivered >= MAX_DELIVERIES {
                            return delivered;
                        }
                    }
                }
            }
            if !moved {
                return delivered;
            }
        }
    }

    /// The earliest timer of any node.
    pub fn next_timer<In: ?Sized, Out>(&self, nodes: &[&mut dyn Node<I, In, Out>]) -> Option<I> {
        nodes.iter().filter_map(|n| n.next_timeout()).min()
    }

    /// Moves the clock to `to` (never backwards), stepping through every
    /// timer due by then in the order of their instants: the clock stops at
    /// each, the node fires, and a timer it sets for later is honoured if
    /// still due by `to`.
    pub fn advance_to<In: ?Sized, Out>(&mut self, to: I, nodes: &mut [&mut dyn Node<I, In, Out>]) {
        for _ in 0..MAX_FIRINGS {
            let due = nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.next_timeout().map(|t| (t, i)))
                .filter(|(t, _)| *t <= to)
                .min();
            let Some((at, i)) = due else { break };
            if at > self.now {
                self.now = at;
            }
            nodes[i].timeout(self.now);
        }
        if to > self.now {
            self.now = to;
        }
    }

    /// Moves the clock forward by `by` and fires the timers due.
    pub fn advance<In: ?Sized, Out>(
        &mut self,
        by: Duration,
        nodes: &mut [&mut dyn Node<I, In, Out>],
    ) {
        let to = self.now + by;
        self.advance_to(to, nodes);
    }

    /// Moves the clock to the earliest timer of any node and fires it (and
    /// any other due then); returns the new instant, or `None` when no node
    /// has a timer.
    pub fn advance_to_next_timer<In: ?Sized, Out>(
        &mut self,
        nodes: &mut [&mut dyn Node<I, In, Out>],
    ) -> Option<I> {
        let next = self.next_timer(nodes)?;
        self.advance_to(next, nodes);
        Some(self.now)
    }
}

/// A machine under watch: it behaves as the machine it wraps, and panics
/// (naming the machine and the rule) the moment the machine breaks the
/// family's contract:
///
/// - the end of the session is reported once, and after it the machine
///   sends nothing (but what it queued before the end and held for a
///   write, once [`Machine::persisted`] confirms it), reports nothing and
///   sets no timer, whatever it is given;
/// - after [`Machine::handle_timeout`]`(now)` the next timer is later than
///   `now` (a timer that stays due would spin a runtime's loop);
/// - `now` never goes backwards in the calls it is given.
///
/// It takes what the machine queues after every call (its own methods, or
/// the machine's reached through `Deref`, at the next call of either) and
/// hands it out in the same order. Every machine test and fuzz target of
/// the family drives its machines through it.
///
/// ```should_panic
/// use core::time::Duration;
/// use iot_sansio::testing::Checked;
/// # use iot_sansio::{End, Input, Machine, Outbox, Outgoing};
/// /// Ends at every input: the second end breaks the contract.
/// struct Twice { out: Outbox<u8, End<()>>, ended: bool }
/// impl Machine for Twice {
///     type Instant = Duration; type Input = u8; type Transmit = u8; type Event = End<()>;
///     fn handle_input(&mut self, _: Duration, _: Input<'_, u8>) {
///         // Wrong: a fresh outbox forgets that the session ended.
///         if self.ended { self.out = Outbox::new() }
///         self.ended = true;
///         self.out.end(End::PeerClosed);
///     }
///     fn handle_timeout(&mut self, _: Duration) {}
///     fn poll_timeout(&self) -> Option<Duration> { None }
///     fn outgoing(&mut self) -> Outgoing<'_, u8, End<()>> { self.out.outgoing() }
/// }
/// let mut machine = Checked::new(Twice { out: Outbox::new(), ended: false });
/// machine.handle_input(Duration::ZERO, Input::PeerClosed);
/// machine.handle_input(Duration::ZERO, Input::PeerClosed); // panics
/// ```
pub struct Checked<M: Machine> {
    machine: M,
    queued: Outbox<M::Transmit, M::Event>,
    ended: bool,
    /// Transmits queued before the end that waited for a write: they may
    /// still go out, once the runtime confirms it.
    held_at_end: usize,
    now: Option<M::Instant>,
}

impl<M: Machine> Checked<M> {
    /// Watches `machine`.
    pub fn new(machine: M) -> Self {
        Self {
            machine,
            queued: Outbox::new(),
            ended: false,
            held_at_end: 0,
            now: None,
        }
    }

    /// The machine, with what it queued and nobody took yet dropped.
    pub fn into_inner(self) -> M {
        self.machine
    }

    /// Whether the machine has reported its end.
    pub fn has_ended(&mut self) -> bool {
        self.collect();
        self.ended
    }

    fn name() -> &'static str {
        core::any::type_name::<M>()
    }

    /// Takes what the machine queued, checking it against the contract.
    fn collect(&mut self) {
        let ended_before = self.ended;
        while let Some(transmit) = self.machine.poll_transmit() {
            if ended_before {
                assert!(
                    self.held_at_end > 0,
                    "{}: sent something after its end",
                    Self::name()
                );
                self.held_at_end -= 1;
            }
            self.queued.send(transmit);
        }
        while let Some(event) = self.machine.poll_event() {
            assert!(
                !self.ended,
                "{}: reported an event after its end",
                Self::name()
            );
            self.queued.event(event);
        }
        // The end is the last event of the pass that reports it.
        if !self.ended && self.machine.outgoing().is_ended() {
            self.ended = true;
            self.held_at_end = self.machine.outgoing().held_transmits();
        }
        if self.ended {
            assert!(
                self.machine.poll_timeout().is_none(),
                "{}: set a timer after its end",
                Self::name()
            );
        }
    }

    fn tick(&mut self, now: M::Instant) {
        if let Some(before) = self.now {
            assert!(now >= before, "{}: the clock went backwards", Self::name());
        }
        self.now = Some(now);
    }
}

impl<M: Machine> Machine for Checked<M> {
    type Instant = M::Instant;
    type Input = M::Input;
    type Transmit = M::Transmit;
    type Event = M::Event;

    fn handle_input(&mut self, now: M::Instant, input: Input<'_, M::Input>) {
        self.collect();
        self.tick(now);
        self.machine.handle_input(now, input);
        self.collect();
    }

    fn handle_timeout(&mut self, now: M::Instant) {
        self.collect();
        self.tick(now);
        self.machine.handle_timeout(now);
        self.collect();
        if let Some(next) = self.machine.poll_timeout() {
            assert!(
                next > now,
                "{}: a timer still due after handle_timeout",
                Self::name()
            );
        }
    }

    fn poll_timeout(&self) -> Option<M::Instant> {
        let next = self.machine.poll_timeout();
        assert!(
            !(self.ended && next.is_some()),
            "{}: set a timer after its end",
            Self::name()
        );
        next
    }

    fn outgoing(&mut self) -> Outgoing<'_, M::Transmit, M::Event> {
        self.collect();
        self.queued.outgoing()
    }

    /// Hands the confirmation to the machine (not to the checker's own
    /// queue): what it held goes out through the checker.
    fn persisted(&mut self, now: M::Instant, token: WriteToken) {
        self.collect();
        self.tick(now);
        self.machine.persisted(now, token);
        self.collect();
    }

    fn recycle(&mut self, transmit: M::Transmit) {
        self.machine.recycle(transmit);
    }
}

impl<M: Machine> Deref for Checked<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.machine
    }
}

impl<M: Machine> DerefMut for Checked<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.machine
    }
}

impl<M: Machine + fmt::Debug> fmt::Debug for Checked<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("machine", &self.machine)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Every event a machine has queued, in order.
pub fn events<M: Machine + ?Sized>(machine: &mut M) -> alloc::vec::Vec<M::Event> {
    core::iter::from_fn(|| machine.poll_event()).collect()
}

/// Every transmit a machine has queued, in order.
pub fn transmits<M: Machine + ?Sized>(machine: &mut M) -> alloc::vec::Vec<M::Transmit> {
    core::iter::from_fn(|| machine.poll_transmit()).collect()
}

/// A seeded `ChaCha20` RNG, the deterministic randomness of the family's
/// tests and documentation examples.
#[must_use]
pub fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_core::SeedableRng::seed_from_u64(seed)
}

/// An RNG that hands out given bytes, then zeros: for test vectors whose
/// "random" values are printed (the client nonce of RFC 5802, say). Never
/// for anything but tests.
#[derive(Debug, Clone)]
pub struct Scripted(alloc::collections::VecDeque<u8>);

impl Scripted {
    /// An RNG that gives `bytes` first.
    #[must_use]
    pub fn new(bytes: &[u8]) -> Self {
        Self(bytes.iter().copied().collect())
    }
}

impl rand_core::RngCore for Scripted {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.0.pop_front().unwrap_or(0);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for Scripted {}

/// What the runtime of a crash-mode run does with one write
/// ([`CrashPlan::write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFate {
    /// Apply it and hand the answer (or the confirmation) to the machine.
    Apply,
    /// Crash before the store applies it: drop the machines with every
    /// write not yet applied, and rebuild them from what is stored.
    CrashBefore,
    /// Apply it, then crash before the machine hears of it.
    CrashAfter,
}

/// Where one run of [`every_crash`] crashes: at one write of the story,
/// before or after the store applies it.
#[derive(Debug, Clone)]
pub struct CrashPlan {
    at: usize,
    after: bool,
    seen: usize,
    crashed: bool,
}

impl CrashPlan {
    /// A plan that never crashes: every write is applied (for a runtime
    /// of a test's own, outside [`every_crash`]).
    #[must_use]
    pub fn never() -> Self {
        Self {
            at: usize::MAX,
            after: false,
            seen: 0,
            crashed: false,
        }
    }

    /// The runtime is about to store a record a machine asked for (a
    /// request to write, or an event carrying a [`WriteToken`]): what to do
    /// with it. Every write after the crash is applied.
    pub fn write(&mut self) -> WriteFate {
        let this = self.seen;
        self.seen += 1;
        if this != self.at || self.crashed {
            return WriteFate::Apply;
        }
        self.crashed = true;
        if self.after {
            WriteFate::CrashAfter
        } else {
            WriteFate::CrashBefore
        }
    }

    /// Whether this run has crashed.
    #[must_use]
    pub fn has_crashed(&self) -> bool {
        self.crashed
    }

    /// The write this run crashes at (0 for the first) and whether after
    /// the store applied it.
    #[must_use]
    pub fn point(&self) -> (usize, bool) {
        (self.at, self.after)
    }
}

/// The most runs [`every_crash`] makes: a story with more writes than this
/// is cut short.
pub const MAX_CRASH_RUNS: usize = 10_000;

/// The driver's crash mode: runs `story` once per write it makes, crashing
/// before the store applies that write and once more after, until a run
/// makes fewer writes than the write it was to crash at; returns how many
/// runs crashed.
///
/// The story drives its machines as a runtime would, asks `plan` about
/// every write, and on a crash drops every machine (and the writes still
/// in flight), rebuilds them from the store, and checks that no peer was
/// told of state the store lost; it goes on after the rebuild if it likes
/// (a device reconnecting, say).
pub fn every_crash(mut story: impl FnMut(&mut CrashPlan)) -> usize {
    let mut crashed = 0;
    for run in 0..MAX_CRASH_RUNS {
        let mut plan = CrashPlan {
            at: run / 2,
            after: run % 2 == 1,
            seen: 0,
            crashed: false,
        };
        story(&mut plan);
        if !plan.crashed {
            break;
        }
        crashed += 1;
    }
    crashed
}
