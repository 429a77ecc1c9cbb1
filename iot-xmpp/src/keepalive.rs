//! XEP-0199 XMPP Ping and a keepalive, shared by every XMPP machine of the
//! family (OIC RA section 7.4 asks for one, to detect an ungraceful
//! disconnect faster than TCP would).
//!
//! [`Keepalive`] pings after an idle interval and reports the peer dead
//! when no answer comes within a timeout. It can watch the XMPP server (no
//! target: any received stanza proves the connection alive) or one peer (a
//! full JID: only its stanzas count). [`Watch`] is the same logic as plain
//! steps, for a machine that writes the pings over a connection of its own.

use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Never, Outbox, Outgoing};
use jid::Jid;

use crate::element::Element;
use crate::limits::StanzaLimits;
use crate::machine::StanzaMachine;
use crate::request::{IqFailure, Requests};
use crate::stanza::Stanza;
pub use crate::vocab::PING_NS;
use crate::vocab::{DefinedCondition, IqType};

/// A ping request to `to` (the server's domain, or a peer), or to the
/// server of the connection when `to` is `None`.
#[must_use]
pub fn ping(to: Option<Jid>, id: &str) -> Stanza {
    let s = Stanza::iq(IqType::Get).with_id(id);
    let s = match to {
        Some(to) => s.with_to(to),
        None => s,
    };
    s.with_payload(Element::new("ping", PING_NS))
}

/// Whether a stanza is a ping request.
#[must_use]
pub fn is_ping(stanza: &Stanza) -> bool {
    stanza.iq_type() == Some(IqType::Get)
        && stanza.payloads.len() == 1
        && stanza.payload("ping", PING_NS).is_some()
}

/// The answer to a ping request (an empty `result`), or `None` when the
/// stanza is not one.
#[must_use]
pub fn pong(stanza: &Stanza) -> Option<Stanza> {
    is_ping(stanza).then(|| stanza.result_reply())
}

/// Settings of a [`Keepalive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepaliveConfig {
    /// How long the connection may be silent before a ping (default 60 s;
    /// 7.4 leaves the interval to the vendor).
    pub interval: Duration,
    /// How long to wait for the answer (default 30 s).
    pub timeout: Duration,
}

impl Default for KeepaliveConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// How a keepalive ends: [`End::TimedOut`] when no answer to a ping came
/// within the timeout (treat the connection, or the peer, as gone), or
/// [`End::PeerClosed`] when the connection closed.
pub type KeepaliveEnd = End<Never>;

/// What a [`Keepalive`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepaliveEvent {
    /// The watch is over.
    Ended(KeepaliveEnd),
}

impl From<KeepaliveEnd> for KeepaliveEvent {
    fn from(end: KeepaliveEnd) -> Self {
        Self::Ended(end)
    }
}

/// Pings after silence, reports a dead peer after a timeout.
///
/// An answer proves the peer alive when it is a `result`, or an error with
/// `feature-not-implemented` (the peer is there but does not support
/// ping). `service-unavailable` does not: a server may send it on behalf
/// of an entity that is gone (RFC 6120 8.4).
///
/// ```
/// use std::time::{Duration, Instant};
/// use iot_sansio::{End, Machine};
/// use iot_xmpp::keepalive::{Keepalive, KeepaliveConfig, KeepaliveEvent, PING_NS};
///
/// let t0 = Instant::now();
/// let config = KeepaliveConfig { interval: Duration::from_secs(60), timeout: Duration::from_secs(10) };
/// let mut k = Keepalive::new(t0, config, None);
/// assert_eq!(k.poll_timeout(), Some(t0 + Duration::from_secs(60)));
/// k.handle_timeout(t0 + Duration::from_secs(60));
/// assert!(k.poll_transmit().unwrap().payload("ping", PING_NS).is_some());
/// k.handle_timeout(t0 + Duration::from_secs(70));
/// assert_eq!(k.poll_event(), Some(KeepaliveEvent::Ended(End::TimedOut)));
/// ```
#[derive(Debug)]
pub struct Keepalive<I> {
    watch: Watch<I>,
    limits: StanzaLimits,
    out: Outbox<Stanza, KeepaliveEvent>,
}

/// The target did not answer a ping in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// The keepalive's logic as plain steps (ARCHITECTURE.md, "Composition"):
/// each returns what to send, and [`Keepalive`] queues it in an outbox of
/// its own; a machine that owns its connection (the OIC RA endpoint, say)
/// writes it over that.
#[derive(Debug)]
pub struct Watch<I> {
    config: KeepaliveConfig,
    target: Option<Jid>,
    last_activity: I,
    /// The ping that waits for its answer, if one does.
    asked: Requests<I, ()>,
}

impl<I: Instant> Keepalive<I> {
    /// A keepalive that last heard from the target at `now`.
    #[must_use]
    pub fn new(now: I, config: KeepaliveConfig, target: Option<Jid>) -> Self {
        Self {
            watch: Watch::new(now, config, target),
            limits: StanzaLimits::default(),
            out: Outbox::new(),
        }
    }

    /// Whether the watch is over (the target was reported dead, or the
    /// connection closed).
    #[must_use]
    pub fn is_dead(&self) -> bool {
        self.out.is_ended()
    }
}

impl<I: Instant> Watch<I> {
    /// A watch that last heard from the target at `now`.
    #[must_use]
    pub fn new(now: I, config: KeepaliveConfig, target: Option<Jid>) -> Self {
        Self {
            config,
            target,
            last_activity: now,
            asked: Requests::new("ping"),
        }
    }

    /// Reads a received stanza: any stanza from the target is activity,
    /// the answer to our ping is taken, and a ping request is answered:
    /// the answer to send is returned, for a ping request and only for
    /// one.
    pub fn read(&mut self, now: I, stanza: &Stanza) -> Option<Stanza> {
        if let Some(reply) = pong(stanza) {
            self.activity(stanza, now);
            return Some(reply);
        }
        if self.asked.is_answer(stanza) && self.is_from_target(stanza) {
            // XEP-0199 section 4.2: an entity that does not support the
            // ping answers `feature-not-implemented`, and is alive.
            let alive = match IqFailure::of(stanza) {
                None => true,
                Some(failure) => {
                    failure == IqFailure::Error(DefinedCondition::FeatureNotImplemented)
                }
            };
            if alive {
                self.asked.clear();
                self.last_activity = now;
            }
            // Another error leaves the ping outstanding: the timeout decides.
            return None;
        }
        self.activity(stanza, now);
        None
    }

    /// A ping to send after the idle interval; `Err(Gone)` when the
    /// answer is overdue.
    ///
    /// # Errors
    ///
    /// [`Gone`] when the answer to a ping is overdue.
    pub fn timeout(&mut self, now: I) -> Result<Option<Stanza>, Gone> {
        if !self.asked.expire(now).is_empty() {
            return Err(Gone);
        }
        if self.asked.is_empty() && self.last_activity + self.config.interval <= now {
            let id = self.asked.id();
            self.asked.wait(id.clone(), (), now + self.config.timeout);
            return Ok(Some(ping(self.target.clone(), &id)));
        }
        Ok(None)
    }

    /// When the next ping goes out, or the one out gives up.
    #[must_use]
    pub fn deadline(&self) -> I {
        self.asked
            .next_deadline()
            .unwrap_or(self.last_activity + self.config.interval)
    }

    fn is_from_target(&self, stanza: &Stanza) -> bool {
        match (&self.target, &stanza.from) {
            (None, _) => true,
            (Some(t), Some(f)) => t == f,
            (Some(_), None) => false,
        }
    }

    fn activity(&mut self, stanza: &Stanza, now: I) {
        if self.is_from_target(stanza) && now > self.last_activity {
            self.last_activity = now;
        }
    }
}

/// A [`Watch`] that a stanza machine on a connection it does not own (a
/// Simple IoT thing, owner or provisioning service) carries: none without
/// a configuration; otherwise started at the first instant the machine
/// is given, and stopped when the machine ends. Its pings go to the
/// server of the connection.
///
/// ```
/// use std::time::Duration;
/// use iot_sansio::{End, Never, Outbox};
/// use iot_xmpp::keepalive::{KeepaliveConfig, Watching, is_ping};
/// use iot_xmpp::Stanza;
///
/// let s = Duration::from_secs;
/// let config = KeepaliveConfig { interval: s(60), timeout: s(10) };
/// let mut out: Outbox<Stanza, End<Never>> = Outbox::new();
/// let mut watching = Watching::new(Some(config));
/// assert_eq!(watching.before(Some(s(90))), Some(s(90)), "not started");
/// watching.start(s(0));
/// assert_eq!(watching.before(Some(s(90))), Some(s(60)));
/// assert!(!watching.due(s(60), &mut out));
/// assert!(out.pop_transmit().is_some_and(|p| is_ping(&p)));
/// assert!(watching.due(s(70), &mut out), "unanswered");
/// assert_eq!(out.pop_event(), Some(End::TimedOut));
/// assert_eq!(watching.before(None), None, "stopped");
///
/// let mut none = Watching::<Duration>::new(None);
/// assert!(!none.due(s(1000), &mut out));
/// assert_eq!(none.before(None), None);
/// ```
#[derive(Debug)]
pub struct Watching<I> {
    config: Option<KeepaliveConfig>,
    watch: Option<Watch<I>>,
    stopped: bool,
}

impl<I: Instant> Watching<I> {
    /// A watch with `config`, or none.
    #[must_use]
    pub fn new(config: Option<KeepaliveConfig>) -> Self {
        Self {
            config,
            watch: None,
            stopped: false,
        }
    }

    fn at(&mut self, now: I) -> Option<&mut Watch<I>> {
        if self.stopped {
            return None;
        }
        if self.watch.is_none()
            && let Some(config) = self.config
        {
            self.watch = Some(Watch::new(now, config, None));
        }
        self.watch.as_mut()
    }

    /// Reads a received stanza as [`Watch::read`] does: a ping request is
    /// answered into `out` and `true` returned (the stanza is the
    /// keepalive's alone); any other stanza is activity.
    pub fn answer<E>(&mut self, now: I, stanza: &Stanza, out: &mut Outbox<Stanza, E>) -> bool {
        match self.at(now).and_then(|w| w.read(now, stanza)) {
            Some(pong) => {
                out.send(pong);
                true
            }
            None => false,
        }
    }

    /// Sends a ping into `out` after the idle interval; when the answer
    /// to one is overdue, the watch stops, `out` ends with
    /// [`End::TimedOut`] and `true` is returned (the machine drops what
    /// waits).
    pub fn due<E: From<KeepaliveEnd>>(&mut self, now: I, out: &mut Outbox<Stanza, E>) -> bool {
        match self.at(now).map(|w| w.timeout(now)) {
            Some(Ok(Some(ping))) => {
                out.send(ping);
                false
            }
            Some(Err(Gone)) => {
                self.stop();
                out.end(End::TimedOut);
                true
            }
            Some(Ok(None)) | None => false,
        }
    }

    /// When the watch wants [`Watching::due`] called; `None` before it
    /// started, without one, or once stopped.
    #[must_use]
    pub fn deadline(&self) -> Option<I> {
        self.watch
            .as_ref()
            .filter(|_| !self.stopped)
            .map(Watch::deadline)
    }

    /// The earlier of the watch's deadline and `other` (the machine's
    /// own).
    #[must_use]
    pub fn before(&self, other: Option<I>) -> Option<I> {
        other.into_iter().chain(self.deadline()).min()
    }

    /// Starts the watch at `now`, if it has not started.
    pub fn start(&mut self, now: I) {
        self.at(now);
    }

    /// Stops the watch for good (the machine ended).
    pub fn stop(&mut self) {
        self.stopped = true;
        self.watch = None;
    }
}

impl<I: Instant> Machine for Keepalive<I> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = KeepaliveEvent;

    /// Reads a received stanza (see [`Keepalive`]), or ends the watch when
    /// the connection closed.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                if let Some(reply) = self.watch.read(now, stanza) {
                    self.out.send(reply);
                }
            }
            Input::PeerClosed => self.out.end(End::PeerClosed),
        }
    }

    /// Sends a ping after the idle interval; ends with [`End::TimedOut`]
    /// when the answer is overdue.
    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        match self.watch.timeout(now) {
            Ok(Some(ping)) => self.out.send(ping),
            Ok(None) => {}
            Err(Gone) => self.out.end(End::TimedOut),
        }
    }

    /// `None` once the watch is over.
    fn poll_timeout(&self) -> Option<I> {
        (!self.out.is_ended()).then(|| self.watch.deadline())
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, KeepaliveEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant> StanzaMachine for Keepalive<I> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.limits
    }
}
