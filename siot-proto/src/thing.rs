//! The thing's state machine (sections 3-9): setup with a new key and
//! registration, approval of the provisioning service's subscription,
//! friendship requests decided through is-friend queries, friendship-state
//! notifications applied to its roster subscriptions, and factory reset.

use std::collections::{HashMap, HashSet};

use iot_sansio::{CryptoRngCore, End, Input, Instant, Machine, Never, Outbox, Outgoing};
use iot_xmpp::{
    BareJid, DefinedCondition, ErrorType, IqType, Jid, Stanza, StanzaKind, StanzaLimits,
    StanzaMachine,
};

use crate::key::Key;
use crate::payload::{Friendship, SiotPayload};
use crate::roster::{Subscription, SubscriptionRequest, is_friend, is_from_service};
pub use crate::thing_config::ThingConfig;
use crate::thing_state::{ThingState, ThingStateError};
use iot_xmpp::keepalive::Watching;
use iot_xmpp::{IqFailure, Requests};

/// How a thing's session ends: only with its connection.
pub type ThingEnd = End<Never>;

impl From<ThingEnd> for ThingEvent {
    fn from(end: ThingEnd) -> Self {
        Self::Ended(end)
    }
}

/// What a thing is waiting to hear from the provisioning service.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ask {
    Register,
    IsFriend(BareJid),
}

/// What a thing reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThingEvent {
    /// The provisioning service accepted the registration.
    Registered,
    /// It refused it, or did not answer in time.
    RegistrationFailed(IqFailure),
    /// The provisioning service named a new owner (section 5).
    OwnerChanged(BareJid),
    /// A requestor became a friend (its subscription was approved).
    FriendAdded(BareJid),
    /// A requestor stopped being a friend (its subscription was revoked or
    /// refused).
    FriendRemoved(BareJid),
    /// The owner has not decided about this requestor yet; its request is
    /// held until a friendship-state notification decides it.
    RequestPending(BareJid),
    /// A stanza claimed to come from the provisioning service, or asked for
    /// what only it may ask, and did not come from it (section 10); it was
    /// refused.
    Spoofed {
        /// Who sent it.
        from: Option<Jid>,
        /// The element or stanza it carried.
        what: &'static str,
    },
    /// What the thing must keep across a reboot changed: store it, and
    /// give it back to [`Thing::restore`] after a restart.
    Saved(ThingState),
    /// The connection ended ([`Input::PeerClosed`]); requests waiting for
    /// an answer were dropped.
    Ended(ThingEnd),
}

/// A thing (section 2.1): a bare JID, a key while set up, an owner once
/// claimed, and friends in its roster. It owns the RNG its key comes from.
///
/// ```
/// use std::time::Duration;
/// use iot_sansio::testing::rng;
/// use siot_proto::Machine;
/// use siot_proto::payload::Name;
/// use siot_proto::thing::{Thing, ThingConfig};
///
/// let names = vec![Name { lang: None, text: "Futuretec Light Bulb 10X".into() }];
/// let mut bulb = Thing::new(ThingConfig::new("provisioning.example.org".parse()?, names), rng(1));
/// let key = bulb.setup(Duration::ZERO).expose().to_owned(); // shown to the customer
/// assert_eq!(key.len(), 29);
/// let register = bulb.poll_transmit().unwrap();
/// assert!(register.payload("register", siot_proto::payload::SIOT_NS).is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Thing<I, R> {
    config: ThingConfig,
    rng: R,
    key: Option<Key>,
    registered: bool,
    owner: Option<BareJid>,
    roster: HashMap<BareJid, Subscription>,
    /// Requests waiting for an answer: registration and is-friend queries.
    asked: Requests<I, Ask>,
    /// Requests the owner has not decided.
    held: HashSet<BareJid>,
    /// The state last announced.
    saved: ThingState,
    keepalive: Watching<I>,
    out: Outbox<Stanza, ThingEvent>,
}

impl<I: Instant, R: CryptoRngCore> Thing<I, R> {
    /// A thing that has not been set up; its key will come from `rng`.
    #[must_use]
    pub fn new(config: ThingConfig, rng: R) -> Self {
        Self {
            keepalive: Watching::new(config.keepalive),
            config,
            rng,
            key: None,
            registered: false,
            owner: None,
            roster: HashMap::new(),
            asked: Requests::new("thing"),
            held: HashSet::new(),
            saved: ThingState::default(),
            out: Outbox::new(),
        }
    }

    /// A thing back from a reboot, as it was: its key, registration, owner
    /// and roster (nothing is sent: it is still registered). Its RNG serves
    /// a later factory reset.
    ///
    /// # Errors
    ///
    /// [`ThingStateError`] for a state that does not read back.
    pub fn restore(
        config: ThingConfig,
        rng: R,
        state: &ThingState,
    ) -> Result<Self, ThingStateError> {
        let mut thing = Self::new(config, rng);
        thing.key = state
            .key
            .as_ref()
            .map(|k| Key::parse(k.expose()).map_err(|_| ThingStateError::Key))
            .transpose()?;
        thing.registered = state.registered;
        let bare = |t: &str| {
            iot_xmpp::jids::read_jid::<BareJid>(t).map_err(|_| ThingStateError::Jid(t.to_owned()))
        };
        thing.owner = state.owner.as_deref().map(bare).transpose()?;
        for (jid, subscription) in &state.roster {
            let s = subscription
                .parse::<Subscription>()
                .map_err(|_| ThingStateError::Subscription(subscription.clone()))?;
            thing.roster.insert(bare(jid)?, s);
        }
        thing.saved = thing.state();
        Ok(thing)
    }

    /// The state to keep across a reboot, as it is now.
    #[must_use]
    pub fn state(&self) -> ThingState {
        let mut roster: Vec<(String, String)> = self
            .roster
            .iter()
            .map(|(j, s)| (j.to_string(), s.as_str().to_owned()))
            .collect();
        roster.sort();
        ThingState {
            key: self
                .key
                .as_ref()
                .map(|k| iot_sansio::Secret::new(k.expose())),
            registered: self.registered,
            owner: self.owner.as_ref().map(ToString::to_string),
            roster,
        }
    }

    /// Announces the state if it changed.
    fn save(&mut self) {
        let now = self.state();
        if now != self.saved {
            self.saved = now.clone();
            self.out.event(ThingEvent::Saved(now));
        }
    }

    /// Initial setup (section 3): a new random key, then registration with
    /// the provisioning service. Returns the key, to show to the customer.
    /// After the session's end the key is still made and saved, but the
    /// registration waits for the next session's setup.
    pub fn setup(&mut self, now: I) -> &Key {
        self.keepalive.start(now);
        let key = Key::generate(&mut self.rng);
        if !self.out.is_ended() {
            let id = self.asked.id();
            let register = SiotPayload::Register {
                key: key.clone(),
                names: self.config.names.clone(),
            };
            self.out
                .send(register.to_stanza(self.config.provisioning.clone(), &id));
            self.asked
                .wait(id, Ask::Register, now + self.config.iq_timeout);
        }
        self.registered = false;
        self.key = Some(key);
        self.save();
        self.key
            .as_ref()
            .unwrap_or_else(|| unreachable!("just set"))
    }

    /// Factory reset (section 3): forgets the key, the registration and the
    /// owner, and revokes every friendship but the provisioning service's,
    /// so that a new owner starts afresh; the XMPP account stays. Call
    /// [`Thing::setup`] to register again.
    pub fn factory_reset(&mut self) {
        self.key = None;
        self.registered = false;
        self.owner = None;
        self.asked.clear();
        self.held.clear();
        let provisioning = self.config.provisioning.to_bare();
        let friends: Vec<BareJid> = self
            .roster
            .iter()
            .filter(|(j, s)| is_friend(**s) && **j != provisioning)
            .map(|(j, _)| j.clone())
            .collect();
        for jid in friends {
            self.revoke(&jid);
        }
        self.save();
    }

    /// The key, while set up.
    #[must_use]
    pub fn key(&self) -> Option<&Key> {
        self.key.as_ref()
    }

    /// Whether the provisioning service accepted the registration.
    #[must_use]
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The owner, once claimed.
    #[must_use]
    pub fn owner(&self) -> Option<&BareJid> {
        self.owner.as_ref()
    }

    /// Section 2.3: whether `jid` is a friend (subscription `from` or
    /// `both` in the roster).
    #[must_use]
    pub fn is_friend(&self, jid: &BareJid) -> bool {
        self.roster.get(jid).is_some_and(|s| is_friend(*s))
    }

    /// The subscription state of a roster item.
    #[must_use]
    pub fn subscription(&self, jid: &BareJid) -> Subscription {
        self.roster.get(jid).copied().unwrap_or_default()
    }

    /// Takes a roster item from the server (the roster retrieved at login,
    /// or a roster push), so friendship follows what the server holds.
    pub fn apply_roster_item(&mut self, jid: BareJid, subscription: Subscription) {
        if subscription == Subscription::None {
            self.roster.remove(&jid);
        } else {
            self.roster.insert(jid, subscription);
        }
        self.save();
    }

    /// Takes a change of the roster the connection keeps
    /// ([`iot_xmpp::roster::Roster`]: the result at login, then each
    /// push), so friendship follows what the server holds without the
    /// caller translating items.
    pub fn apply_roster_change(&mut self, change: &iot_xmpp::roster::RosterChange) {
        match change {
            iot_xmpp::roster::RosterChange::Updated(item) => {
                self.apply_roster_item(item.jid.clone(), item.subscription);
            }
            iot_xmpp::roster::RosterChange::Removed(jid) => {
                self.apply_roster_item(jid.clone(), Subscription::None);
            }
        }
    }

    /// Reads a received stanza; whether it was one for this machine.
    fn handle(&mut self, now: I, stanza: &Stanza) -> bool {
        if let Some(request) = SubscriptionRequest::of(stanza) {
            self.subscription_request(now, stanza, request);
            return true;
        }
        match stanza.kind {
            StanzaKind::Iq => self.iq(stanza),
            StanzaKind::Message => self.message(stanza),
            StanzaKind::Presence => false,
        }
    }

    fn is_from_provisioning(&self, stanza: &Stanza) -> bool {
        is_from_service(&self.config.provisioning, self.config.any_resource, stanza)
    }

    fn spoofed(&mut self, stanza: &Stanza, what: &'static str) {
        self.out.event(ThingEvent::Spoofed {
            from: stanza.from.clone(),
            what,
        });
    }

    fn subscription_request(&mut self, now: I, stanza: &Stanza, request: SubscriptionRequest) {
        let Some(from) = stanza.from.as_ref().map(Jid::to_bare) else {
            return;
        };
        match request {
            // Servers stamp subscription presence with the bare JID (RFC
            // 6121 3.1.2), so here the bare JIDs are compared.
            SubscriptionRequest::Subscribe if from == self.config.provisioning.to_bare() => {
                // Section 4: always approve the provisioning service.
                self.approve(&from);
            }
            SubscriptionRequest::Subscribe
                if self.is_friend(&from) || self.owner.as_ref() == Some(&from) =>
            {
                self.approve(&from);
            }
            SubscriptionRequest::Subscribe if self.registered => {
                let id = self.asked.id();
                let query = SiotPayload::IsFriendQuery { jid: from.clone() };
                self.out
                    .send(query.to_stanza(self.config.provisioning.clone(), &id));
                let deadline = now + self.config.iq_timeout;
                self.asked.wait(id, Ask::IsFriend(from), deadline);
            }
            SubscriptionRequest::Subscribe => {
                // Nobody can decide for an unregistered thing.
                self.refuse(&from);
            }
            SubscriptionRequest::Unsubscribe => {
                let s = self.subscription(&from).without_from();
                self.apply_roster_item(from, s);
            }
            SubscriptionRequest::Subscribed => {
                let s = self.subscription(&from).with_to();
                self.apply_roster_item(from, s);
            }
            SubscriptionRequest::Unsubscribed => {
                let s = self.subscription(&from).without_to();
                self.apply_roster_item(from, s);
            }
        }
    }

    fn approve(&mut self, jid: &BareJid) {
        let id = self.asked.id();
        self.out.send(SubscriptionRequest::Subscribed.to(jid, &id));
        let was = self.is_friend(jid);
        let s = self.subscription(jid).with_from();
        self.apply_roster_item(jid.clone(), s);
        self.held.remove(jid);
        if !was && *jid != self.config.provisioning.to_bare() {
            self.out.event(ThingEvent::FriendAdded(jid.clone()));
        }
    }

    fn refuse(&mut self, jid: &BareJid) {
        let id = self.asked.id();
        self.out
            .send(SubscriptionRequest::Unsubscribed.to(jid, &id));
        self.held.remove(jid);
        self.out.event(ThingEvent::FriendRemoved(jid.clone()));
    }

    fn revoke(&mut self, jid: &BareJid) {
        let id = self.asked.id();
        self.out
            .send(SubscriptionRequest::Unsubscribed.to(jid, &id));
        let s = self.subscription(jid).without_from();
        self.apply_roster_item(jid.clone(), s);
        self.held.remove(jid);
        self.out.event(ThingEvent::FriendRemoved(jid.clone()));
    }

    fn iq(&mut self, stanza: &Stanza) -> bool {
        let id = stanza.id.clone().unwrap_or_default();
        match stanza.iq_type() {
            Some(IqType::Result | IqType::Error) => {
                if self.asked.get(&id).is_none() {
                    return false;
                }
                if !self.is_from_provisioning(stanza) {
                    self.spoofed(stanza, "iq answer");
                    return true;
                }
                match self.asked.take(&id) {
                    Some(Ask::Register) => match stanza.error() {
                        None => {
                            self.registered = true;
                            self.out.event(ThingEvent::Registered);
                        }
                        Some(e) => {
                            let failure = IqFailure::Error(e.condition);
                            self.out.event(ThingEvent::RegistrationFailed(failure));
                        }
                    },
                    Some(Ask::IsFriend(requestor)) => {
                        let answer = match SiotPayload::from_stanza(stanza) {
                            Ok(Some(SiotPayload::IsFriendResult { friend })) => friend,
                            // An error or a malformed answer decides nothing
                            // in the requestor's favour.
                            _ => Friendship::No,
                        };
                        self.decide(requestor, answer);
                    }
                    None => {}
                }
                true
            }
            Some(IqType::Get | IqType::Set) => match SiotPayload::from_stanza(stanza) {
                Ok(None) => false,
                Ok(Some(p)) => {
                    // A thing answers no protocol request; claims and
                    // friendship changes go to the provisioning service.
                    if !self.is_from_provisioning(stanza) {
                        self.spoofed(stanza, p.name());
                    }
                    self.out.send(
                        stanza.error_reply(ErrorType::Cancel, DefinedCondition::ServiceUnavailable),
                    );
                    true
                }
                Err(_) => {
                    self.out
                        .send(stanza.error_reply(ErrorType::Modify, DefinedCondition::BadRequest));
                    true
                }
            },
            None => false,
        }
    }

    /// Acts on the provisioning service's answer about a requestor.
    fn decide(&mut self, requestor: BareJid, answer: Friendship) {
        match answer {
            Friendship::Yes => self.approve(&requestor),
            Friendship::No => self.refuse(&requestor),
            Friendship::Pending => {
                self.held.insert(requestor.clone());
                self.out.event(ThingEvent::RequestPending(requestor));
            }
        }
    }

    fn message(&mut self, stanza: &Stanza) -> bool {
        let payload = match SiotPayload::from_stanza(stanza) {
            Ok(Some(p)) => p,
            Ok(None) => return false,
            Err(_) => return true,
        };
        if !self.is_from_provisioning(stanza) {
            self.spoofed(stanza, payload.name());
            return true;
        }
        match payload {
            SiotPayload::Owner { jid } => {
                self.owner = Some(jid.clone());
                // The owner is always a friend (section 2.5).
                if !self.is_friend(&jid) {
                    self.approve(&jid);
                }
                self.out.event(ThingEvent::OwnerChanged(jid));
            }
            SiotPayload::FriendshipStates { items } => {
                for item in items {
                    let is_owner = self.owner.as_ref() == Some(&item.jid);
                    if item.friend {
                        if !self.is_friend(&item.jid) || self.held.contains(&item.jid) {
                            self.approve(&item.jid);
                        }
                    } else if !is_owner
                        && (self.is_friend(&item.jid) || self.held.contains(&item.jid))
                    {
                        self.revoke(&item.jid);
                    }
                }
            }
            _ => {}
        }
        true
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for Thing<I, R> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = ThingEvent;

    /// Reads a received stanza (others than this protocol's are ignored),
    /// or ends the session when the connection closed.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                if !self.keepalive.answer(now, stanza, &mut self.out) {
                    self.handle(now, stanza);
                    self.save();
                }
            }
            Input::PeerClosed => {
                self.asked.clear();
                self.keepalive.stop();
                self.out.end(End::PeerClosed);
            }
        }
    }

    /// A registration not answered in time fails with
    /// [`IqFailure::TimedOut`]; an is-friend query not answered in time is
    /// taken as `no`, as an error answer is.
    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        if self.keepalive.due(now, &mut self.out) {
            self.asked.clear();
            return;
        }
        for ask in self.asked.expire(now) {
            match ask {
                Ask::Register => self
                    .out
                    .event(ThingEvent::RegistrationFailed(IqFailure::TimedOut)),
                Ask::IsFriend(requestor) => self.decide(requestor, Friendship::No),
            }
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        self.keepalive.before(self.asked.next_deadline())
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, ThingEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant, R: CryptoRngCore> StanzaMachine for Thing<I, R> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.config.limits
    }
}
