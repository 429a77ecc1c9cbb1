//! What the provisioning service is configured with and reports, and
//! what its steps share.

use core::time::Duration;
use std::collections::BTreeSet;

use iot_sansio::store::StoreRequest;
use iot_sansio::{End, Never};
use iot_xmpp::keepalive::KeepaliveConfig;
use iot_xmpp::request::Ids;
use iot_xmpp::{BareJid, DefinedCondition, Jid, Stanza, StanzaLimits};

use super::records::Record;

/// Settings of a `ProvisioningService`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningConfig {
    /// The most requests waiting for one owner's decision (default 1024);
    /// beyond it, new requestors are answered `no`.
    pub max_pending_per_owner: usize,
    /// Limits on received stanzas.
    pub limits: StanzaLimits,
    /// How long the store has to answer a request (default 5 s); beyond
    /// it, the input is answered "retry later" and the late answer is
    /// not taken.
    pub store_timeout: Duration,
    /// How many times an input whose write conflicted is run again
    /// (default 3) before it is answered "retry later".
    pub max_conflicts: u8,
    /// The most inputs kept while the store is asked for an earlier one
    /// (default 256); beyond it, a request is answered "retry later" at
    /// once.
    pub max_queued: usize,
    /// A keepalive on the connection (XEP-0199, `iot_xmpp::keepalive`),
    /// off by default: with one, the machine pings the server after
    /// `interval` of silence, answers the server's pings, and ends with
    /// `End::TimedOut` when a ping goes unanswered, for its runtime to
    /// reconnect (PROFILE.md, "A lost connection").
    pub keepalive: Option<KeepaliveConfig>,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        Self {
            max_pending_per_owner: crate::limits::MAX_PENDING_PER_OWNER,
            limits: crate::limits::stanza_limits(),
            store_timeout: Duration::from_secs(5),
            max_conflicts: 3,
            max_queued: 256,
            keepalive: None,
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
        items: Vec<crate::payload::FriendItem>,
    },
    /// A request that only a registered thing or an owner may make came
    /// from someone else; it was refused with `forbidden`.
    Refused {
        /// Who sent it.
        from: Option<Jid>,
        /// The element.
        what: &'static str,
    },
    /// The service asks its store: answer with
    /// `ProvisioningService::provide` and the request's id. A read
    /// ([`StoreOp::Get`](iot_sansio::store::StoreOp::Get)) is answered `Found`, `Missing` or
    /// `Unavailable`; a write ([`StoreOp::Put`](iot_sansio::store::StoreOp::Put)) `Stored` once it is
    /// durable, `Conflict` when the record is no longer at the version
    /// expected, or `Unavailable`. What an input answers goes out only
    /// once each of its writes is `Stored`.
    Store(Box<StoreRequest<String, Record>>),
    /// A request was answered "retry later" (`wait`,
    /// `resource-constraint`): the store was unavailable or silent, the
    /// input's writes kept conflicting, or too many inputs were waiting.
    RetryLater {
        /// Who sent it.
        from: Option<Jid>,
    },
    /// The connection ended ([`Input::PeerClosed`](iot_sansio::Input::PeerClosed)). The store stays.
    Ended(ProvisioningEnd),
}

/// How a provisioning service's session ends: only with its connection.
pub type ProvisioningEnd = End<Never>;

impl From<ProvisioningEnd> for ProvisioningEvent {
    fn from(end: ProvisioningEnd) -> Self {
        Self::Ended(end)
    }
}

/// What the service's steps share beside the store.
#[derive(Debug)]
pub(super) struct Ctx {
    pub(super) config: ProvisioningConfig,
    pub(super) ids: Ids,
    /// The contacts whose presence the service's roster says it has
    /// (subscription `to` or `both`), as the runtime passes the roster in.
    pub(super) roster_to: BTreeSet<BareJid>,
}

/// One input the service serves.
#[derive(Debug, Clone)]
pub(super) enum Work {
    /// A received stanza.
    Stanza(Stanza),
    /// A thing the roster shows subscribed.
    Subscribed(BareJid),
}
