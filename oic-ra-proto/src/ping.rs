//! XEP-0199 XMPP Ping and a keepalive, as section 7.4 suggests for
//! detecting an ungraceful disconnect faster than TCP would.
//!
//! [`Keepalive`] pings after an idle interval and reports the peer dead
//! when no answer comes within a timeout. It can watch the XMPP server (the
//! usual case of 7.4: no target, any received stanza proves the connection
//! alive) or one peer RAE (a full JID: only its stanzas count).

use core::ops::Add;
use core::time::Duration;
use std::collections::VecDeque;

use crate::identity::Jid;
use crate::stanza::{Element, Stanza, StanzaKind};

/// The ping namespace.
pub const PING_NS: &str = "urn:xmpp:ping";

/// A ping request to `to` (the server's domain, or a peer), or to the
/// server of the connection when `to` is `None`.
#[must_use]
pub fn ping(to: Option<Jid>, id: &str) -> Stanza {
    let s = Stanza::new(StanzaKind::Iq).with_type("get").with_id(id);
    let s = match to {
        Some(to) => s.with_to(to),
        None => s,
    };
    s.with_payload(Element::new("ping", PING_NS))
}

/// Whether a stanza is a ping request.
#[must_use]
pub fn is_ping(stanza: &Stanza) -> bool {
    stanza.kind == StanzaKind::Iq
        && stanza.type_str() == "get"
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

/// What a [`Keepalive`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepaliveEvent {
    /// No answer to a ping within the timeout: treat the connection (or
    /// the peer) as gone.
    Dead,
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
/// use oic_ra_proto::ping::{Keepalive, KeepaliveConfig, KeepaliveEvent};
///
/// let t0 = Instant::now();
/// let config = KeepaliveConfig { interval: Duration::from_secs(60), timeout: Duration::from_secs(10) };
/// let mut k = Keepalive::new(config, None, t0);
/// assert_eq!(k.poll_timeout(), Some(t0 + Duration::from_secs(60)));
/// k.handle_timeout(t0 + Duration::from_secs(60));
/// assert!(k.poll_transmit().unwrap().contains("urn:xmpp:ping"));
/// k.handle_timeout(t0 + Duration::from_secs(70));
/// assert_eq!(k.poll_event(), Some(KeepaliveEvent::Dead));
/// ```
#[derive(Debug)]
pub struct Keepalive<I> {
    config: KeepaliveConfig,
    target: Option<Jid>,
    last_activity: I,
    outstanding: Option<(String, I)>,
    dead: bool,
    sent: u64,
    transmit: VecDeque<String>,
    events: VecDeque<KeepaliveEvent>,
}

impl<I> Keepalive<I>
where
    I: Copy + Ord + Add<Duration, Output = I>,
{
    /// A keepalive that last heard from the target at `now`.
    #[must_use]
    pub fn new(config: KeepaliveConfig, target: Option<Jid>, now: I) -> Self {
        Self {
            config,
            target,
            last_activity: now,
            outstanding: None,
            dead: false,
            sent: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Whether the target has been reported dead.
    #[must_use]
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Reads a received stanza: any stanza from the target is activity,
    /// a ping request is answered, the answer to our ping is taken.
    /// Returns `true` when the stanza was a ping or the answer to ours
    /// (the runtime need not handle it further).
    pub fn handle(&mut self, stanza: &Stanza, now: I) -> bool {
        if let Some(reply) = pong(stanza) {
            self.transmit.push_back(reply.to_xml());
            self.activity(stanza, now);
            return true;
        }
        let answers_ours = stanza.kind == StanzaKind::Iq
            && matches!(stanza.type_str(), "result" | "error")
            && self
                .outstanding
                .as_ref()
                .is_some_and(|(id, _)| stanza.id.as_deref() == Some(id.as_str()))
            && self.is_from_target(stanza);
        if answers_ours {
            let alive = match stanza.error() {
                None => true,
                Some(e) => e.condition == "feature-not-implemented",
            };
            if alive {
                self.outstanding = None;
                self.last_activity = now;
            }
            // Another error leaves the ping outstanding: the timeout decides.
            return true;
        }
        self.activity(stanza, now);
        false
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

    /// When [`Keepalive::handle_timeout`] should next be called (`None`
    /// once dead).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        if self.dead {
            return None;
        }
        Some(match &self.outstanding {
            Some((_, deadline)) => *deadline,
            None => self.last_activity + self.config.interval,
        })
    }

    /// Sends a ping after the idle interval; reports [`KeepaliveEvent::Dead`]
    /// when the answer is overdue.
    pub fn handle_timeout(&mut self, now: I) {
        if self.dead {
            return;
        }
        match &self.outstanding {
            Some((_, deadline)) if *deadline <= now => {
                self.dead = true;
                self.outstanding = None;
                self.events.push_back(KeepaliveEvent::Dead);
            }
            Some(_) => {}
            None if self.last_activity + self.config.interval <= now => {
                self.sent += 1;
                let id = format!("ping{}", self.sent);
                self.transmit
                    .push_back(ping(self.target.clone(), &id).to_xml());
                self.outstanding = Some((id, now + self.config.timeout));
            }
            None => {}
        }
    }

    /// The next stanza to send.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<KeepaliveEvent> {
        self.events.pop_front()
    }
}
