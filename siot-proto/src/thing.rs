//! The thing's state machine (sections 3-9): setup with a new key and
//! registration, approval of the provisioning service's subscription,
//! friendship requests decided through is-friend queries, friendship-state
//! notifications applied to its roster subscriptions, and factory reset.

use std::collections::{HashMap, HashSet};

use iot_xmpp::{BareJid, Jid, Stanza, StanzaError, StanzaKind, StanzaLimits};
use rand_core::{CryptoRng, RngCore};

use crate::key::Key;
use crate::payload::{Friendship, Name, SiotPayload};
use crate::roster::{Outbox, Subscription, SubscriptionRequest, is_from};

/// A thing's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingConfig {
    /// The provisioning service's JID: every stanza that claims to come
    /// from it is checked against this (section 10).
    pub provisioning: Jid,
    /// The names it registers with (section 4), at least one.
    pub names: Vec<Name>,
    /// Limits on received stanzas.
    pub limits: StanzaLimits,
}

/// What a thing reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThingEvent {
    /// The provisioning service accepted the registration.
    Registered,
    /// It refused it: the stanza error condition.
    RegistrationFailed(String),
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
        what: String,
    },
}

/// A thing (section 2.1): a bare JID, a key while set up, an owner once
/// claimed, and friends in its roster.
///
/// ```
/// use siot_proto::thing::{Thing, ThingConfig};
/// use siot_proto::payload::Name;
/// # use rand_core::{RngCore, CryptoRng, impls};
/// # struct Rng(u64);
/// # impl RngCore for Rng {
/// #     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
/// #     fn next_u64(&mut self) -> u64 { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1); self.0 >> 11 }
/// #     fn fill_bytes(&mut self, d: &mut [u8]) { impls::fill_bytes_via_next(self, d) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { self.fill_bytes(d); Ok(()) }
/// # }
/// # impl CryptoRng for Rng {}
///
/// let config = ThingConfig {
///     provisioning: "provisioning.example.org".parse()?,
///     names: vec![Name { lang: None, text: "Futuretec Light Bulb 10X".into() }],
///     limits: Default::default(),
/// };
/// let mut bulb = Thing::new(config);
/// let key = bulb.setup(&mut Rng(1)).expose().to_owned(); // shown to the customer
/// assert_eq!(key.len(), 29);
/// let register = bulb.poll_transmit().unwrap();
/// assert!(register.contains("<register xmlns=\"urn:xmpp:siot:1\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Thing {
    config: ThingConfig,
    key: Option<Key>,
    registered: bool,
    register_id: Option<String>,
    owner: Option<BareJid>,
    roster: HashMap<BareJid, Subscription>,
    /// Is-friend queries waiting for an answer: iq id to requestor.
    queries: HashMap<String, BareJid>,
    /// Requests the owner has not decided.
    held: HashSet<BareJid>,
    out: Outbox<ThingEvent>,
}

impl Thing {
    /// A thing that has not been set up.
    #[must_use]
    pub fn new(config: ThingConfig) -> Self {
        Self {
            config,
            key: None,
            registered: false,
            register_id: None,
            owner: None,
            roster: HashMap::new(),
            queries: HashMap::new(),
            held: HashSet::new(),
            out: Outbox::new("thing"),
        }
    }

    /// Initial setup (section 3): a new random key, then registration with
    /// the provisioning service. Returns the key, to show to the customer.
    pub fn setup<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> &Key {
        let key = Key::generate(rng);
        let id = self.out.id();
        let register = SiotPayload::Register {
            key: key.clone(),
            names: self.config.names.clone(),
        };
        self.out
            .send(&register.to_stanza(self.config.provisioning.clone(), &id));
        self.register_id = Some(id);
        self.registered = false;
        self.key.insert(key)
    }

    /// Factory reset (section 3): forgets the key, the registration and the
    /// owner, and revokes every friendship but the provisioning service's,
    /// so that a new owner starts afresh; the XMPP account stays. Call
    /// [`Thing::setup`] to register again.
    pub fn factory_reset(&mut self) {
        self.key = None;
        self.registered = false;
        self.register_id = None;
        self.owner = None;
        self.queries.clear();
        self.held.clear();
        let provisioning = self.config.provisioning.to_bare();
        let friends: Vec<BareJid> = self
            .roster
            .iter()
            .filter(|(j, s)| s.is_friend() && **j != provisioning)
            .map(|(j, _)| j.clone())
            .collect();
        for jid in friends {
            self.revoke(&jid);
        }
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
        self.roster.get(jid).is_some_and(|s| s.is_friend())
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
    }

    /// The next stanza to send.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.out.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ThingEvent> {
        self.out.events.pop_front()
    }

    /// Reads a received stanza; `Ok(false)` when it is not for this
    /// machine.
    ///
    /// # Errors
    ///
    /// [`StanzaError`] when the text is not a stanza.
    pub fn handle_stanza(&mut self, xml: &str) -> Result<bool, StanzaError> {
        let stanza = Stanza::parse(xml, &self.config.limits)?;
        Ok(self.handle(&stanza))
    }

    /// As [`Thing::handle_stanza`], for a parsed stanza.
    pub fn handle(&mut self, stanza: &Stanza) -> bool {
        if let Some(request) = SubscriptionRequest::of(stanza) {
            self.subscription_request(stanza, request);
            return true;
        }
        match stanza.kind {
            StanzaKind::Iq => self.iq(stanza),
            StanzaKind::Message => self.message(stanza),
            StanzaKind::Presence => false,
        }
    }

    fn is_from_provisioning(&self, stanza: &Stanza) -> bool {
        is_from(&self.config.provisioning, stanza)
    }

    fn spoofed(&mut self, stanza: &Stanza, what: &str) {
        self.out.event(ThingEvent::Spoofed {
            from: stanza.from.clone(),
            what: what.to_owned(),
        });
    }

    fn subscription_request(&mut self, stanza: &Stanza, request: SubscriptionRequest) {
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
                let id = self.out.id();
                let query = SiotPayload::IsFriendQuery { jid: from.clone() };
                self.out
                    .send(&query.to_stanza(self.config.provisioning.clone(), &id));
                self.queries.insert(id, from);
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
        let id = self.out.id();
        self.out.send(&SubscriptionRequest::Subscribed.to(jid, &id));
        let was = self.is_friend(jid);
        let s = self.subscription(jid).with_from();
        self.apply_roster_item(jid.clone(), s);
        self.held.remove(jid);
        if !was && *jid != self.config.provisioning.to_bare() {
            self.out.event(ThingEvent::FriendAdded(jid.clone()));
        }
    }

    fn refuse(&mut self, jid: &BareJid) {
        let id = self.out.id();
        self.out
            .send(&SubscriptionRequest::Unsubscribed.to(jid, &id));
        self.held.remove(jid);
        self.out.event(ThingEvent::FriendRemoved(jid.clone()));
    }

    fn revoke(&mut self, jid: &BareJid) {
        let id = self.out.id();
        self.out
            .send(&SubscriptionRequest::Unsubscribed.to(jid, &id));
        let s = self.subscription(jid).without_from();
        self.apply_roster_item(jid.clone(), s);
        self.held.remove(jid);
        self.out.event(ThingEvent::FriendRemoved(jid.clone()));
    }

    fn iq(&mut self, stanza: &Stanza) -> bool {
        let id = stanza.id.clone().unwrap_or_default();
        match stanza.type_str() {
            "result" | "error" => {
                let ours = self.register_id.as_deref() == Some(id.as_str())
                    || self.queries.contains_key(&id);
                if !ours {
                    return false;
                }
                if !self.is_from_provisioning(stanza) {
                    self.spoofed(stanza, "iq answer");
                    return true;
                }
                if self.register_id.as_deref() == Some(id.as_str()) {
                    self.register_id = None;
                    match stanza.error() {
                        None => {
                            self.registered = true;
                            self.out.event(ThingEvent::Registered);
                        }
                        Some(e) => self.out.event(ThingEvent::RegistrationFailed(e.condition)),
                    }
                    return true;
                }
                let Some(requestor) = self.queries.remove(&id) else {
                    return true;
                };
                let answer = match SiotPayload::from_stanza(stanza) {
                    Ok(Some(SiotPayload::IsFriendResult { friend })) => friend,
                    // An error or a malformed answer decides nothing in the
                    // requestor's favour.
                    _ => Friendship::No,
                };
                match answer {
                    Friendship::Yes => self.approve(&requestor),
                    Friendship::No => self.refuse(&requestor),
                    Friendship::Pending => {
                        self.held.insert(requestor.clone());
                        self.out.event(ThingEvent::RequestPending(requestor));
                    }
                }
                true
            }
            "get" | "set" => match SiotPayload::from_stanza(stanza) {
                Ok(None) => false,
                Ok(Some(p)) => {
                    // A thing answers no protocol request; claims and
                    // friendship changes go to the provisioning service.
                    if !self.is_from_provisioning(stanza) {
                        self.spoofed(stanza, p.name());
                    }
                    self.out
                        .send(&stanza.error_reply("cancel", "service-unavailable"));
                    true
                }
                Err(_) => {
                    self.out.send(&stanza.error_reply("modify", "bad-request"));
                    true
                }
            },
            _ => false,
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
