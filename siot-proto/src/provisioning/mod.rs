//! The provisioning service's state machine (sections 4-9): a registry of
//! things by name and key, claims, one owner per thing, is-friend answers,
//! pending requests per owner with notifications, friend state updates from
//! owners, and friendship-state notifications to things.
//!
//! Neither the pending-requests query nor the friend state update names a
//! thing (sections 7 and 8), so pending requests are kept per owner, each
//! with the things the requestor asked about: an owner's `friend` decision
//! on a pending requestor is granted on those things only; on a requestor
//! who asked nothing (a friend the owner adds unprompted), on every thing
//! the owner has; a `non-friend` decision is applied to every thing the
//! owner has.

use core::marker::PhantomData;
use std::collections::{BTreeSet, HashMap};

use iot_sansio::{End, Input, Instant, Machine, Never, Outbox, Outgoing, QueueMark, WriteToken};
use iot_xmpp::{
    BareJid, DefinedCondition, ErrorType, IqType, Jid, Stanza, StanzaLimits, StanzaMachine,
};

mod claims;
mod records;

pub use records::{OwnerEntry, Record, RestoreError, ThingEntry};
use records::{OwnerRecord, ThingRecord};

use crate::limits::{item_len, list_base, runs};
use crate::payload::{FriendItem, Friendship, SiotPayload};
use crate::roster::SubscriptionRequest;
use iot_xmpp::request::Ids;

/// Settings of a [`ProvisioningService`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningConfig {
    /// The most requests waiting for one owner's decision (default 1024);
    /// beyond it, new requestors are answered `no`.
    pub max_pending_per_owner: usize,
    /// Limits on received stanzas.
    pub limits: StanzaLimits,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        Self {
            max_pending_per_owner: crate::limits::MAX_PENDING_PER_OWNER,
            limits: crate::limits::stanza_limits(),
        }
    }
}

/// What the provisioning service reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisioningEvent {
    /// A thing registered (or registered again with a new key, which
    /// clears its owner and friends: a factory reset).
    Registered(BareJid),
    /// A thing approved the service's presence subscription.
    Subscribed(BareJid),
    /// An owner claimed a thing.
    Claimed {
        /// The thing.
        thing: BareJid,
        /// The owner.
        owner: BareJid,
    },
    /// A claim was refused: the stanza error condition sent.
    ClaimRefused {
        /// Who claimed.
        by: BareJid,
        /// `item-not-found` (unknown thing or wrong key, which look the
        /// same) or `conflict` (owned by someone else).
        condition: DefinedCondition,
    },
    /// An owner changed friendships.
    FriendsUpdated {
        /// The owner.
        owner: BareJid,
        /// The changes.
        items: Vec<FriendItem>,
    },
    /// A request that only a registered thing or an owner may make came
    /// from someone else; it was refused with `forbidden`.
    Refused {
        /// Who sent it.
        from: Option<Jid>,
        /// The element.
        what: &'static str,
    },
    /// A durable record changed: store it under [`Record::key`], then
    /// confirm with [`Machine::persisted`]
    /// and `write`, so that a restarted service
    /// ([`ProvisioningService::restore`]) loses nothing. What the service
    /// answered in the same input (a claim result, the thing's
    /// registration result, a friend decision's result) is sent only once
    /// every record it changed is confirmed: nobody is told of a change a
    /// crash could still lose.
    Saved {
        /// The record as it is now.
        record: Record,
        /// The write to confirm.
        write: WriteToken,
    },
    /// The connection ended ([`Input::PeerClosed`]). The registry stays.
    Ended(ProvisioningEnd),
}

/// How a provisioning service's session ends: only with its connection.
pub type ProvisioningEnd = End<Never>;

impl From<ProvisioningEnd> for ProvisioningEvent {
    fn from(end: ProvisioningEnd) -> Self {
        Self::Ended(end)
    }
}

/// The provisioning service (section 2.4).
///
/// The service sends no `iq` request (only answers, messages and presence
/// subscriptions), so it sets no timer.
///
/// ```
/// use std::time::Duration;
/// use siot_proto::{Machine, StanzaMachine};
/// use siot_proto::provisioning::{ProvisioningService, ProvisioningEvent};
/// use siot_proto::stanza::{IqType, PresenceType};
///
/// let mut ps = ProvisioningService::<Duration>::new(Default::default());
/// let register = "<iq type='set' from='thing@example.org/f65dece8' to='provisioning.example.org' id='register-1'>\
///     <register xmlns='urn:xmpp:siot:1' key='TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW'><name>Bulb</name></register></iq>";
/// ps.handle_stanza(Duration::ZERO, register)?;
/// assert_eq!(ps.poll_event(), Some(ProvisioningEvent::Registered("thing@example.org".parse()?)));
/// // The new thing's durable record, for the runtime to store; the result
/// // waits until it is.
/// let Some(ProvisioningEvent::Saved { record, write }) = ps.poll_event() else { panic!() };
/// assert_eq!(record.key(), "thing:thing@example.org");
/// assert!(ps.poll_transmit().is_none());
/// ps.persisted(Duration::ZERO, write);
/// let result = ps.poll_transmit().unwrap();
/// assert_eq!((result.iq_type(), result.id.as_deref()), (Some(IqType::Result), Some("register-1")));
/// let subscribe = ps.poll_transmit().unwrap();
/// assert_eq!(subscribe.presence_type(), Some(PresenceType::Subscribe));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ProvisioningService<I> {
    config: ProvisioningConfig,
    things: HashMap<BareJid, ThingRecord>,
    /// The thing each (name, key) claims.
    by_claim: HashMap<claims::ClaimIndex, BareJid>,
    owners: HashMap<BareJid, OwnerRecord>,
    ids: Ids,
    /// The contacts whose presence the service's roster says it has
    /// (subscription `to` or `both`), as the runtime passes the roster in.
    roster_to: BTreeSet<BareJid>,
    /// Things and owners changed by the input being handled.
    dirty_things: BTreeSet<BareJid>,
    dirty_owners: BTreeSet<BareJid>,
    out: Outbox<Stanza, ProvisioningEvent>,
    instant: PhantomData<fn() -> I>,
}

impl<I: Instant> ProvisioningService<I> {
    /// A service with no things.
    #[must_use]
    pub fn new(config: ProvisioningConfig) -> Self {
        Self {
            config,
            things: HashMap::new(),
            by_claim: HashMap::new(),
            owners: HashMap::new(),
            roster_to: BTreeSet::new(),
            ids: Ids::new("ps"),
            dirty_things: BTreeSet::new(),
            dirty_owners: BTreeSet::new(),
            out: Outbox::new(),
            instant: PhantomData,
        }
    }

    /// A service rebuilt from the records it announced
    /// ([`ProvisioningEvent::Saved`]) and the runtime stored, the latest of
    /// each key, in any
    /// order: after a restart it knows every thing, owner, friendship and
    /// pending request it knew.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] for a record that does not read back.
    pub fn restore(config: ProvisioningConfig, records: &[Record]) -> Result<Self, RestoreError> {
        let mut service = Self::new(config);
        for record in records {
            match record {
                Record::Thing(entry) => {
                    let (jid, thing) = ThingRecord::from_entry(entry)?;
                    service.index(&jid, &thing);
                    service.things.insert(jid, thing);
                }
                Record::Owner(entry) => {
                    let (jid, owner) = OwnerRecord::from_entry(entry)?;
                    service.owners.insert(jid, owner);
                }
            }
        }
        Ok(service)
    }

    /// Every durable record, sorted by key: what a store holds after the
    /// [`ProvisioningEvent::Saved`] events so far.
    #[must_use]
    pub fn records(&self) -> Vec<Record> {
        let mut all: Vec<Record> = self
            .things
            .iter()
            .map(|(j, t)| Record::Thing(t.entry(j)))
            .chain(self.owners.iter().map(|(j, o)| Record::Owner(o.entry(j))))
            .collect();
        all.sort_by_key(Record::key);
        all
    }

    /// Announces the records the last input changed, each a write that
    /// what the input queued since `mark` waits for.
    fn save(&mut self, mark: QueueMark) {
        let mut saved = Vec::new();
        for jid in core::mem::take(&mut self.dirty_things) {
            if let Some(t) = self.things.get(&jid) {
                saved.push(Record::Thing(t.entry(&jid)));
            }
        }
        for jid in core::mem::take(&mut self.dirty_owners) {
            let entry = self
                .owners
                .get(&jid)
                .cloned()
                .unwrap_or_default()
                .entry(&jid);
            saved.push(Record::Owner(entry));
        }
        for record in saved {
            let write = self.out.hold_since(mark);
            self.out.event(ProvisioningEvent::Saved { record, write });
        }
    }

    /// Takes a change of the service's roster, as the runtime reads it
    /// from the server (the roster result and pushes, RFC 6121 2): a thing
    /// the roster shows the service subscribed to (`to` or `both`) is
    /// subscribed, whether or not its `subscribed` presence reached the
    /// service. The runtime must ask for the roster before it sends
    /// presence (RFC 6121 2.2): a resource that did not is no interested
    /// resource, the server need not deliver it that presence (RFC 6121
    /// 3.1.6), and a subscription approved before the service connected
    /// (or auto-approved by the server, 3.1.3) would never be known.
    pub fn apply_roster_change(&mut self, change: &iot_xmpp::roster::RosterChange) {
        use iot_xmpp::Subscription;
        let (jid, to) = match change {
            iot_xmpp::roster::RosterChange::Updated(item) => (
                item.jid.clone(),
                matches!(item.subscription, Subscription::To | Subscription::Both),
            ),
            iot_xmpp::roster::RosterChange::Removed(jid) => (jid.clone(), false),
        };
        if !to {
            self.roster_to.remove(&jid);
            return;
        }
        self.roster_to.insert(jid.clone());
        let mark = self.out.mark();
        self.roster_subscribed(&jid);
        self.save(mark);
    }

    /// A thing the roster shows subscribed becomes so.
    fn roster_subscribed(&mut self, jid: &BareJid) {
        if let Some(t) = self.things.get_mut(jid)
            && !t.subscribed
            && self.roster_to.contains(jid)
        {
            t.subscribed = true;
            self.dirty_things.insert(jid.clone());
            self.out.event(ProvisioningEvent::Subscribed(jid.clone()));
        }
    }

    /// How many things are registered.
    #[must_use]
    pub fn thing_count(&self) -> usize {
        self.things.len()
    }

    /// Whether a thing approved the service's presence subscription
    /// (section 4).
    #[must_use]
    pub fn is_subscribed(&self, thing: &BareJid) -> bool {
        self.things.get(thing).is_some_and(|t| t.subscribed)
    }

    /// A thing's owner.
    #[must_use]
    pub fn owner_of(&self, thing: &BareJid) -> Option<&BareJid> {
        self.things.get(thing)?.owner.as_ref()
    }

    /// The answer an is-friend query would get, without recording
    /// anything: `Pending` means the owner has not decided.
    #[must_use]
    pub fn friendship(&self, thing: &BareJid, requestor: &BareJid) -> Friendship {
        let Some(t) = self.things.get(thing) else {
            return Friendship::No;
        };
        match &t.owner {
            None => Friendship::No,
            Some(o) if o == requestor => Friendship::Yes,
            Some(_) if t.friends.contains(requestor) => Friendship::Yes,
            Some(_) if t.refused.contains(requestor) => Friendship::No,
            Some(_) => Friendship::Pending,
        }
    }

    /// The requests waiting for an owner's decision.
    #[must_use]
    pub fn pending(&self, owner: &BareJid) -> Vec<BareJid> {
        self.owners
            .get(owner)
            .map(|o| o.pending.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Reads a received stanza; whether it was one for this machine.
    fn handle(&mut self, stanza: &Stanza) -> bool {
        if SubscriptionRequest::of(stanza) == Some(SubscriptionRequest::Subscribed) {
            if let Some(t) = stanza
                .from
                .as_ref()
                .map(Jid::to_bare)
                .and_then(|b| self.things.get_mut(&b).map(|t| (b, t)))
            {
                t.1.subscribed = true;
                self.dirty_things.insert(t.0.clone());
                self.out.event(ProvisioningEvent::Subscribed(t.0));
            }
            return true;
        }
        if !matches!(stanza.iq_type(), Some(IqType::Get | IqType::Set)) {
            return false;
        }
        let payload = match SiotPayload::from_stanza(stanza) {
            Ok(Some(p)) => p,
            Ok(None) => return false,
            Err(_) => {
                self.out
                    .send(stanza.error_reply(ErrorType::Modify, DefinedCondition::BadRequest));
                return true;
            }
        };
        let Some(from) = stanza.from.clone() else {
            self.refuse(stanza, payload.name());
            return true;
        };
        match payload {
            SiotPayload::Register { key, names } => self.register(stanza, from, key, names),
            SiotPayload::Claim { name, key } => self.claim(stanza, &from.to_bare(), &name, &key),
            SiotPayload::IsFriendQuery { jid } => self.is_friend(stanza, &from.to_bare(), jid),
            SiotPayload::PendingFriendQuery => {
                let owner = from.to_bare();
                if self.owners.get(&owner).is_none_or(|o| o.things.is_empty()) {
                    self.refuse(stanza, "pending-friend-query");
                    return true;
                }
                // As many as the owner reads in one stanza; the rest once
                // it decided those and asks again.
                let jids = self.pending(&owner);
                let empty =
                    SiotPayload::PendingFriendRequests { jids: Vec::new() }.reply_to(stanza);
                let base = list_base(&empty, "pending-friend-requests");
                let first = runs(&jids, base, self.config.limits.max_len, |j| {
                    item_len("pending-friend", j, 0)
                })
                .first()
                .map(|r| r.to_vec())
                .unwrap_or_default();
                self.out
                    .send(SiotPayload::PendingFriendRequests { jids: first }.reply_to(stanza));
            }
            SiotPayload::FriendStateUpdate { items } => self.update(stanza, from.to_bare(), items),
            _ => {
                self.out.send(
                    stanza.error_reply(ErrorType::Cancel, DefinedCondition::FeatureNotImplemented),
                );
            }
        }
        true
    }

    fn refuse(&mut self, stanza: &Stanza, what: &'static str) {
        self.out
            .send(stanza.error_reply(ErrorType::Auth, DefinedCondition::Forbidden));
        self.out.event(ProvisioningEvent::Refused {
            from: stanza.from.clone(),
            what,
        });
    }

    fn is_friend(&mut self, stanza: &Stanza, thing: &BareJid, requestor: BareJid) {
        if !self.things.contains_key(thing) {
            self.refuse(stanza, "is-friend-query");
            return;
        }
        let mut answer = self.friendship(thing, &requestor);
        if answer == Friendship::Pending
            && let Some(owner) = self.things.get(thing).and_then(|t| t.owner.clone())
        {
            let record = self.owners.entry(owner.clone()).or_default();
            if let Some(asked) = record.pending.get_mut(&requestor) {
                // Already waiting, the owner told; this thing is one more
                // it asked about.
                if asked.insert(thing.clone()) {
                    self.dirty_owners.insert(owner);
                }
            } else if record.pending.len() >= self.config.max_pending_per_owner {
                answer = Friendship::No;
            } else {
                record
                    .pending
                    .insert(requestor, BTreeSet::from([thing.clone()]));
                self.dirty_owners.insert(owner.clone());
                let id = self.ids.next_id();
                self.out
                    .send(SiotPayload::PendingFriendNotification.to_stanza(owner, &id));
            }
        }
        self.out
            .send(SiotPayload::IsFriendResult { friend: answer }.reply_to(stanza));
    }

    fn update(&mut self, stanza: &Stanza, owner: BareJid, items: Vec<FriendItem>) {
        let Some(record) = self.owners.get_mut(&owner).filter(|o| !o.things.is_empty()) else {
            self.refuse(stanza, "friend-state-update");
            return;
        };
        // The owner is always a friend (section 2.5).
        if items.iter().any(|i| i.jid == owner && !i.friend) {
            self.out
                .send(stanza.error_reply(ErrorType::Modify, DefinedCondition::NotAcceptable));
            return;
        }
        // Each decision, with the things it applies to: a friend on the
        // things it asked about (all the owner's when it asked nothing), a
        // non-friend on all of them.
        let all: BTreeSet<BareJid> = record.things.clone();
        let decisions: Vec<(FriendItem, BTreeSet<BareJid>)> = items
            .iter()
            .map(|i| {
                let asked = record.pending.remove(&i.jid);
                let on = match asked {
                    Some(asked) if i.friend => asked.intersection(&all).cloned().collect(),
                    _ => all.clone(),
                };
                (i.clone(), on)
            })
            .collect();
        self.dirty_owners.insert(owner.clone());
        for thing in &all {
            let Some(t) = self.things.get_mut(thing) else {
                continue;
            };
            let mine: Vec<FriendItem> = decisions
                .iter()
                .filter(|(_, on)| on.contains(thing))
                .map(|(i, _)| i.clone())
                .collect();
            if mine.is_empty() {
                continue;
            }
            for i in &mine {
                if i.friend {
                    t.friends.insert(i.jid.clone());
                    t.refused.remove(&i.jid);
                } else {
                    t.friends.remove(&i.jid);
                    t.refused.insert(i.jid.clone());
                }
            }
            let address = t.address.clone();
            self.dirty_things.insert(thing.clone());
            // Within the bytes the thing reads: several notices if need be.
            let id = self.ids.next_id();
            let empty =
                SiotPayload::FriendshipStates { items: Vec::new() }.to_stanza(address.clone(), &id);
            let base = list_base(&empty, "friendship-states");
            for run in runs(&mine, base, self.config.limits.max_len, |i| {
                item_len("item", &i.jid, 13)
            }) {
                let notice = SiotPayload::FriendshipStates {
                    items: run.to_vec(),
                };
                self.out.send(notice.to_stanza(address.clone(), &id));
            }
        }
        self.out.send(stanza.result_reply());
        self.out
            .event(ProvisioningEvent::FriendsUpdated { owner, items });
    }
}

impl<I: Instant> Machine for ProvisioningService<I> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = ProvisioningEvent;

    /// Reads a received stanza (others than this protocol's are ignored),
    /// or ends the session when the connection closed.
    fn handle_input(&mut self, _now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                let mark = self.out.mark();
                self.handle(stanza);
                self.save(mark);
            }
            Input::PeerClosed => self.out.end(End::PeerClosed),
        }
    }

    /// The service has no timer.
    fn handle_timeout(&mut self, _now: I) {}

    fn poll_timeout(&self) -> Option<I> {
        None
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, ProvisioningEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant> StanzaMachine for ProvisioningService<I> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.config.limits
    }
}
