//! The driving contract shared by every sans-IO state machine of the
//! `iot-remote-access` family (`osap-proto`, `oic-ra-proto`, `siot-proto`,
//! `iot-xmpp`). It holds no protocol: only the shape in which a runtime
//! drives a machine, so that a runtime that drives one machine of the
//! family drives all of them with the same loop.
//!
//! # The contract
//!
//! A machine implements [`Machine`]. The runtime:
//!
//! 1. feeds what arrives with [`Machine::handle_input`]`(now, Input::Data(..))`
//!    (bytes for the OSAP machines, a parsed stanza for the XMPP ones), and
//!    [`Input::PeerClosed`] when the transport closes;
//! 2. calls [`Machine::handle_timeout`]`(now)` when the instant returned by
//!    [`Machine::poll_timeout`] has come;
//! 3. after each call, sends everything [`Machine::poll_transmit`] returns
//!    (and may give each back with [`Machine::recycle`] once sent, so that
//!    its buffer serves again), then handles everything
//!    [`Machine::poll_event`] returns;
//! 4. stores the record an event carries with a [`WriteToken`], and once it
//!    is durable calls [`Machine::persisted`]`(now, token)`.
//!
//! **Write-ahead.** A machine whose peer may only be told something once a
//! record is stored asks for the write with [`Outbox::hold`] and reports
//! the record in an event carrying the token. Everything it queues to send
//! after that waits in its outbox, whatever the runtime polls, until the
//! runtime confirms that write and every earlier one: a crash between the
//! event and the confirmation loses the record and what depended on it
//! together, and never tells a peer of state that is gone. Events are not
//! held (the runtime needs them to store the record).
//!
//! **Stored data as requests.** A machine that needs a record it does not
//! hold (a device's key, a directory entry) asks for it through
//! [`store`]: a [`store::StoreRequest`] in one of its events, answered by
//! the runtime with the machine's `provide(now, id, answer)`, or at once
//! by a [`store::MemoryStore`] given at construction. Records are
//! versioned and written compare-and-set; "unavailable" is an answer the
//! machine turns into "retry later" for its peer. The test driver's crash
//! mode ([`testing::every_crash`], feature `testing`) runs a story once
//! per write, crashing before and after the store applies it.
//!
//! `now` comes first in every method that takes it. Machines read no clock:
//! the instant is any [`Instant`] type (`std::time::Instant`, a tick
//! counter, a [`Duration`] since boot). Machines that need randomness own a
//! caller-supplied [`rand_core`] RNG given at construction (a `&mut R`
//! serves too), and collaborators (a directory of devices, say) are given
//! the same way.
//!
//! # One failure model
//!
//! A machine reports the end of its session once, as one event carrying an
//! [`End`]: the peer did not answer in time, the peer closed, the peer sent
//! something the protocol refuses (with the machine's typed detail), or
//! policy refused the peer. Input methods return nothing for what a peer
//! does; a `Result` is returned only for misuse of the API (a request on a
//! closed session, an answer to an unknown request). [`Outbox`] is the
//! queue pair every machine keeps, and it lets the end event out only once.
//!
//! ```
//! use core::time::Duration;
//! use iot_sansio::{End, Input, Machine, Outbox, Outgoing};
//!
//! /// A toy machine: echoes each byte string, ends on "bye" or after 5 s
//! /// of silence.
//! struct Echo { deadline: Duration, out: Outbox<Vec<u8>, End<&'static str>> }
//!
//! impl Machine for Echo {
//!     type Instant = Duration;
//!     type Input = [u8];
//!     type Transmit = Vec<u8>;
//!     type Event = End<&'static str>;
//!     fn handle_input(&mut self, now: Duration, input: Input<'_, [u8]>) {
//!         match input {
//!             Input::Data(b"bye") => self.out.end(End::PeerFault("said bye")),
//!             Input::Data(bytes) => {
//!                 self.deadline = now + Duration::from_secs(5);
//!                 self.out.send(bytes.to_vec());
//!             }
//!             Input::PeerClosed => self.out.end(End::PeerClosed),
//!         }
//!     }
//!     fn handle_timeout(&mut self, now: Duration) {
//!         if now >= self.deadline { self.out.end(End::TimedOut) }
//!     }
//!     fn poll_timeout(&self) -> Option<Duration> {
//!         (!self.out.is_ended()).then_some(self.deadline)
//!     }
//!     fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, End<&'static str>> {
//!         self.out.outgoing()
//!     }
//! }
//!
//! let mut echo = Echo { deadline: Duration::from_secs(5), out: Outbox::new() };
//! echo.handle_input(Duration::ZERO, Input::Data(b"hi"));
//! assert_eq!(echo.poll_transmit(), Some(b"hi".to_vec()));
//! echo.handle_timeout(Duration::from_secs(5));
//! echo.handle_input(Duration::from_secs(6), Input::PeerClosed);
//! // The session ended once, with the first reason.
//! assert_eq!(echo.poll_event(), Some(End::TimedOut));
//! assert_eq!(echo.poll_event(), None);
//! ```
//!
//! Every secret of the family (keys, passwords, tokens, credentials,
//! verification codes) is a [`Secret`]: zeroized on drop, redacted in
//! `Debug` and serde, compared in constant time.
//!
//! The `testing` feature adds [`testing`]: a virtual clock and a network
//! that delivers every transmit, used by the family's tests, examples, fuzz
//! targets and the tour.
#![no_std]
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml): each reads in one screen.
#![warn(clippy::too_many_lines)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

use core::fmt;
use core::ops::Add;
use core::time::Duration;

pub use rand_core::{CryptoRng, CryptoRngCore, RngCore};

pub mod backoff;
mod outbox;
mod secret;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use outbox::{Outbox, Outgoing, SPARE_BUFFERS, WriteToken};
#[cfg(all(feature = "std", feature = "serde"))]
pub use secret::revealing;
pub use secret::{REDACTED, Secret};

/// A point in time as a machine sees it: any `Copy + Ord` type to which a
/// [`Duration`] can be added (`std::time::Instant`, a [`Duration`] since
/// boot, a tick counter type). Implemented for every such type.
pub trait Instant: Copy + Ord + Add<Duration, Output = Self> {}

impl<T: Copy + Ord + Add<Duration, Output = T>> Instant for T {}

/// What a machine is given: data from its peer, or the news that the peer
/// (the transport) closed.
#[derive(Debug, PartialEq, Eq)]
pub enum Input<'a, T: ?Sized> {
    /// Data from the peer: bytes for a byte-stream machine, a parsed stanza
    /// for an XMPP machine.
    Data(&'a T),
    /// The peer or the transport closed the connection.
    PeerClosed,
}

impl<T: ?Sized> Clone for Input<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Input<'_, T> {}

/// A sans-IO state machine of the family. See the [crate] documentation for
/// the order in which a runtime calls these methods.
///
/// A machine keeps its transmits and events in an [`Outbox`] and shows the
/// runtime's side of it with [`Machine::outgoing`]; `poll_transmit` and
/// `poll_event` read from there, so an implementation writes neither.
pub trait Machine {
    /// The machine's notion of time.
    type Instant: Instant;
    /// What the machine reads: `[u8]` or a stanza.
    type Input: ?Sized;
    /// What the machine asks the runtime to send.
    type Transmit;
    /// What the machine reports; the last is the end of the session.
    type Event;

    /// Takes data from the peer, or the news that it closed. Whatever the
    /// peer sent, this never fails: faults end the session with an event.
    fn handle_input(&mut self, now: Self::Instant, input: Input<'_, Self::Input>);

    /// Tells the machine the time; timers due by `now` fire.
    fn handle_timeout(&mut self, now: Self::Instant);

    /// When [`Machine::handle_timeout`] should next be called, if ever.
    fn poll_timeout(&self) -> Option<Self::Instant>;

    /// The runtime's side of the machine's [`Outbox`]: what waits to be
    /// sent and reported. Usually `self.out.outgoing()`.
    fn outgoing(&mut self) -> Outgoing<'_, Self::Transmit, Self::Event>;

    /// The next thing to send.
    fn poll_transmit(&mut self) -> Option<Self::Transmit> {
        self.outgoing().pop_transmit()
    }

    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event> {
        self.outgoing().pop_event()
    }

    /// The runtime stored the record of the write `token` names (an event
    /// of the machine carried it): what the machine queued to send after
    /// asking for that write goes out now ([`Outbox::hold`]). A machine
    /// that goes on once a record is stored overrides this; the default
    /// releases the held transmits.
    fn persisted(&mut self, now: Self::Instant, token: WriteToken) {
        let _ = now;
        self.outgoing().persisted(token);
    }

    /// Gives back something [`Machine::poll_transmit`] handed out, once it
    /// is sent. A byte-stream machine writes its next frames into the
    /// buffers it gets back (with [`Outbox::recycle`]), so that a runtime
    /// that recycles allocates nothing per frame on the steady path; others
    /// drop it (the default).
    fn recycle(&mut self, transmit: Self::Transmit) {
        drop(transmit);
    }
}

/// A type with no values: the refusal detail of machines that never refuse
/// by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Never {}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

/// Why a session ended: the one reason type of every machine of the
/// family. `F` is the machine's typed detail of a peer fault, `R` its
/// typed detail of a policy refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End<F, R = Never> {
    /// This side ended the session on purpose (a clean leave it asked
    /// for); nothing went wrong.
    Closed,
    /// The peer did not answer in time.
    TimedOut,
    /// The peer or the transport closed the connection.
    PeerClosed,
    /// The peer sent something the protocol refuses.
    PeerFault(F),
    /// The peer was refused by policy (an unknown device, a wrong
    /// credential, nothing in common to agree on).
    Refused(R),
}

impl<F, R> End<F, R> {
    /// The fault detail, if the peer misbehaved.
    pub fn fault(&self) -> Option<&F> {
        match self {
            Self::PeerFault(f) => Some(f),
            _ => None,
        }
    }

    /// The refusal detail, if the peer was refused.
    pub fn refusal(&self) -> Option<&R> {
        match self {
            Self::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The same end with its details carried into other types: for a
    /// machine that runs other machines and reports their ends as its own.
    pub fn map<G, S>(self, fault: impl FnOnce(F) -> G, refusal: impl FnOnce(R) -> S) -> End<G, S> {
        match self {
            Self::Closed => End::Closed,
            Self::TimedOut => End::TimedOut,
            Self::PeerClosed => End::PeerClosed,
            Self::PeerFault(f) => End::PeerFault(fault(f)),
            Self::Refused(r) => End::Refused(refusal(r)),
        }
    }
}

impl<F: fmt::Display, R: fmt::Display> fmt::Display for End<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("closed by this side"),
            Self::TimedOut => f.write_str("the peer did not answer in time"),
            Self::PeerClosed => f.write_str("the peer closed the connection"),
            Self::PeerFault(d) => write!(f, "the peer misbehaved: {d}"),
            Self::Refused(r) => write!(f, "refused: {r}"),
        }
    }
}

impl<F: fmt::Debug + fmt::Display, R: fmt::Debug + fmt::Display> core::error::Error for End<F, R> {}
