//! The owner's side (sections 5, 7 and 8): claiming a thing, listing the
//! friend requests that wait, and deciding them. Every request waits for
//! its answer until a deadline.

use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Never, Outbox, Outgoing};
use iot_xmpp::{BareJid, IqType, Jid, Stanza, StanzaKind, StanzaLimits, StanzaMachine};

use crate::key::Key;
use crate::limits::{item_len, list_base, runs};
use crate::payload::{FriendItem, SiotPayload};
use crate::roster::is_from_service;
use iot_xmpp::keepalive::{KeepaliveConfig, Watching};
use iot_xmpp::{IqFailure, Requests};

/// An owner's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerConfig {
    /// The provisioning service's JID: every stanza that claims to come
    /// from it is checked against this (section 10).
    pub provisioning: Jid,
    /// Limits on received stanzas.
    pub limits: StanzaLimits,
    /// How long a request waits for its answer (default 30 s).
    pub iq_timeout: Duration,
    /// Whether a stanza from any resource of the provisioning service's
    /// account is the service's (default `false`: a full JID configured
    /// must match exactly). For a service run as several processes, each a
    /// resource of one account over a shared store: the thing or owner
    /// sends its requests to the configured resource, and the process that
    /// decided a claim or a friendship may be another one (section 10,
    /// PROFILE.md).
    pub any_resource: bool,
    /// A keepalive on the connection (XEP-0199, `iot_xmpp::keepalive`),
    /// off by default: with one, the machine pings the server after
    /// `interval` of silence, answers the server's pings, and ends with
    /// `End::TimedOut` when a ping goes unanswered, for its runtime to
    /// reconnect (PROFILE.md, "A lost connection").
    pub keepalive: Option<KeepaliveConfig>,
}

impl OwnerConfig {
    /// A configuration with the default limits and timeout.
    #[must_use]
    pub fn new(provisioning: Jid) -> Self {
        Self {
            provisioning,
            limits: crate::limits::stanza_limits(),
            iq_timeout: Duration::from_secs(30),
            any_resource: false,
            keepalive: None,
        }
    }
}

/// How an owner's session ends: only with its connection.
pub type OwnerEnd = End<Never>;

/// What an owner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnerEvent {
    /// The claim succeeded: the thing's bare JID.
    Claimed(BareJid),
    /// The claim failed: `item-not-found` for an unknown thing or a wrong
    /// key, `conflict` for a thing owned by someone else, or no answer in
    /// time.
    ClaimFailed(IqFailure),
    /// The provisioning service says requests are waiting (section 7).
    PendingNotified,
    /// The requests that wait.
    Pending(Vec<BareJid>),
    /// A friend state update was applied.
    Updated,
    /// A pending query or an update failed.
    Failed(IqFailure),
    /// A stanza claimed to come from the provisioning service and did not
    /// (section 10); it was ignored.
    Spoofed {
        /// Who sent it.
        from: Option<Jid>,
        /// The element or stanza it carried.
        what: &'static str,
    },
    /// The connection ended ([`Input::PeerClosed`]); requests waiting for
    /// an answer were dropped.
    Ended(OwnerEnd),
}

impl From<OwnerEnd> for OwnerEvent {
    fn from(end: OwnerEnd) -> Self {
        Self::Ended(end)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Claim,
    Pending,
    Update,
}

/// An owner's client for one provisioning service.
///
/// ```
/// use std::time::Duration;
/// use siot_proto::Machine;
/// use siot_proto::key::Key;
/// use siot_proto::owner::{Owner, OwnerConfig};
/// use siot_proto::payload::SIOT_NS;
///
/// let mut owner = Owner::new(OwnerConfig::new("provisioning.example.org".parse()?));
/// owner.claim(Duration::ZERO, "Futuretec Light Bulb 10X", &Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW")?);
/// assert!(owner.poll_transmit().unwrap().payload("claim", SIOT_NS).is_some());
/// // Unanswered, the claim times out.
/// owner.handle_timeout(Duration::from_secs(30));
/// assert!(matches!(owner.poll_event(), Some(siot_proto::owner::OwnerEvent::ClaimFailed(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Owner<I> {
    config: OwnerConfig,
    asked: Requests<I, Asked>,
    keepalive: Watching<I>,
    out: Outbox<Stanza, OwnerEvent>,
}

impl<I: Instant> Owner<I> {
    /// An owner that talks to the configured provisioning service.
    #[must_use]
    pub fn new(config: OwnerConfig) -> Self {
        Self {
            keepalive: Watching::new(config.keepalive),
            config,
            asked: Requests::new("owner"),
            out: Outbox::new(),
        }
    }

    /// Sends a request and waits for its answer; after the session's end
    /// nothing is sent and nothing waits.
    fn ask(&mut self, now: I, payload: &SiotPayload, asked: Asked) {
        if self.out.is_ended() {
            return;
        }
        self.keepalive.start(now);
        let id = self.asked.id();
        self.out
            .send(payload.to_stanza(self.config.provisioning.clone(), &id));
        self.asked.wait(id, asked, now + self.config.iq_timeout);
    }

    /// Claims a thing by its name and the key it shows (section 5).
    pub fn claim(&mut self, now: I, name: &str, key: &Key) {
        let claim = SiotPayload::Claim {
            name: name.to_owned(),
            key: key.clone(),
        };
        self.ask(now, &claim, Asked::Claim);
    }

    /// Asks which friend requests wait (section 7).
    pub fn query_pending(&mut self, now: I) {
        self.ask(now, &SiotPayload::PendingFriendQuery, Asked::Pending);
    }

    /// Decides friendships (section 8). A list too long for one stanza
    /// within the limits' `max_len` (the bytes the service reads by
    /// default) goes as several updates, each answered on its own
    /// ([`OwnerEvent::Updated`] or [`OwnerEvent::Failed`] each).
    pub fn update(&mut self, now: I, mut items: Vec<FriendItem>) {
        let empty = SiotPayload::FriendStateUpdate { items: Vec::new() }
            .to_stanza(self.config.provisioning.clone(), "owner-0000000000");
        let base = list_base(&empty, "friend-state-update");
        let lens: Vec<usize> = runs(&items, base, self.config.limits.max_len, |i| {
            item_len(if i.friend { "friend" } else { "non-friend" }, &i.jid, 0)
        })
        .iter()
        .map(|run| run.len())
        .collect();
        // An empty list is still one (empty) update.
        for len in lens.into_iter().chain(items.is_empty().then_some(0)) {
            let run: Vec<FriendItem> = items.drain(..len).collect();
            self.ask(
                now,
                &SiotPayload::FriendStateUpdate { items: run },
                Asked::Update,
            );
        }
    }

    fn failed(asked: Asked, failure: IqFailure) -> OwnerEvent {
        match asked {
            Asked::Claim => OwnerEvent::ClaimFailed(failure),
            Asked::Pending | Asked::Update => OwnerEvent::Failed(failure),
        }
    }

    fn handle(&mut self, stanza: &Stanza) {
        match stanza.kind {
            StanzaKind::Iq if matches!(stanza.iq_type(), Some(IqType::Result | IqType::Error)) => {
                let id = stanza.id.as_deref().unwrap_or_default();
                if self.asked.get(id).is_none() {
                    return;
                }
                if !is_from_service(&self.config.provisioning, self.config.any_resource, stanza) {
                    self.spoofed(stanza, "iq answer");
                    return;
                }
                let Some(asked) = self.asked.take(id) else {
                    return;
                };
                let event = match (stanza.error(), asked, SiotPayload::from_stanza(stanza)) {
                    (Some(e), _, _) => Self::failed(asked, IqFailure::Error(e.condition)),
                    (None, Asked::Claim, Ok(Some(SiotPayload::Claimed { jid }))) => {
                        OwnerEvent::Claimed(jid)
                    }
                    (
                        None,
                        Asked::Pending,
                        Ok(Some(SiotPayload::PendingFriendRequests { jids })),
                    ) => OwnerEvent::Pending(jids),
                    (None, Asked::Update, Ok(None)) => OwnerEvent::Updated,
                    (None, _, _) => Self::failed(asked, IqFailure::Malformed),
                };
                self.out.event(event);
            }
            StanzaKind::Message => {
                if let Ok(Some(SiotPayload::PendingFriendNotification)) =
                    SiotPayload::from_stanza(stanza)
                {
                    if is_from_service(&self.config.provisioning, self.config.any_resource, stanza)
                    {
                        self.out.event(OwnerEvent::PendingNotified);
                    } else {
                        self.spoofed(stanza, "pending-friend-notification");
                    }
                }
            }
            _ => {}
        }
    }

    fn spoofed(&mut self, stanza: &Stanza, what: &'static str) {
        self.out.event(OwnerEvent::Spoofed {
            from: stanza.from.clone(),
            what,
        });
    }
}

impl<I: Instant> Machine for Owner<I> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = OwnerEvent;

    /// Reads a received stanza (others than this protocol's are ignored),
    /// or ends the session when the connection closed.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                if !self.keepalive.answer(now, stanza, &mut self.out) {
                    self.handle(stanza);
                }
            }
            Input::PeerClosed => {
                self.asked.clear();
                self.keepalive.stop();
                self.out.end(End::PeerClosed);
            }
        }
    }

    /// Every request not answered by its deadline fails with
    /// [`IqFailure::TimedOut`].
    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        if self.keepalive.due(now, &mut self.out) {
            self.asked.clear();
            return;
        }
        for asked in self.asked.expire(now) {
            self.out.event(Self::failed(asked, IqFailure::TimedOut));
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        self.keepalive.before(self.asked.next_deadline())
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, OwnerEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant> StanzaMachine for Owner<I> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.config.limits
    }
}
