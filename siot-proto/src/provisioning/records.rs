//! The provisioning service's durable state as data: one record per
//! thing, per owner and per claim index entry, each under its own key in
//! the runtime's store, read and written by the service as requests
//! ([`iot_sansio::store`]).

use iot_sansio::Secret;
use iot_xmpp::{BareJid, Jid};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::key::Key;

/// A thing's durable record. It holds the thing's key: store it as the
/// secret it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThingEntry {
    /// The thing's bare JID.
    pub jid: String,
    /// The full JID it registered from.
    pub address: String,
    /// Its names: `(language, text)`.
    pub names: Vec<(Option<String>, String)>,
    /// Its key: a [`Secret`] here (printed `<redacted>`), serialized as
    /// its text for the store.
    #[serde(with = "crate::stored::required")]
    pub key: Secret<String>,
    /// Its owner, once claimed.
    pub owner: Option<String>,
    /// Who the owner made a friend, sorted.
    pub friends: Vec<String>,
    /// Who the owner refused, sorted.
    pub refused: Vec<String>,
    /// Whether the thing approved the service's presence subscription.
    pub subscribed: bool,
}

/// An owner's durable record: the index of its things (the things'
/// records decide who owns them) and the requests waiting for it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OwnerEntry {
    /// The owner's bare JID.
    pub jid: String,
    /// The things it owns, sorted.
    pub things: Vec<String>,
    /// The requests waiting for its decision, sorted: each requestor with
    /// the things it asked about, sorted.
    pub pending: Vec<(String, Vec<String>)>,
}

/// Where a claim finds its thing (section 5): under a digest of a name
/// and the key it must match, the thing that registered with both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimEntry {
    /// The digest, in hexadecimal: SHA-256 over the name's length (eight
    /// bytes, big-endian), the name and the key.
    pub index: String,
    /// The thing's bare JID.
    pub thing: String,
}

/// One record of the service's durable state, stored under
/// [`Record::key`]. The service reads the records it needs with
/// [`StoreOp::Get`](iot_sansio::store::StoreOp::Get) and writes them with
/// [`StoreOp::Put`](iot_sansio::store::StoreOp::Put), compare-and-set on
/// the version it read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// A thing as it is now.
    Thing(ThingEntry),
    /// An owner as it is now; an owner with no thing and nothing pending
    /// may be deleted.
    Owner(OwnerEntry),
    /// A claim index entry: a later thing with the same name and key
    /// takes its place, and an entry whose thing no longer has that name
    /// and key finds nothing.
    Claim(ClaimEntry),
}

impl Record {
    /// The key to store it under: `thing:` or `owner:` and the bare JID,
    /// or `claim:` and the index.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Thing(t) => thing_key(&t.jid),
            Self::Owner(o) => owner_key(&o.jid),
            Self::Claim(c) => claim_key(&c.index),
        }
    }

    /// Checks that every JID and key in the record reads back.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] for the first that does not.
    pub fn check(&self) -> Result<(), RestoreError> {
        match self {
            Self::Thing(t) => {
                bare(&t.jid)?;
                iot_xmpp::jids::read_jid::<Jid>(&t.address)
                    .map_err(|_| RestoreError::Jid(t.address.clone()))?;
                Key::parse(t.key.expose()).map_err(|_| RestoreError::Key)?;
                t.owner
                    .iter()
                    .chain(&t.friends)
                    .chain(&t.refused)
                    .try_for_each(|j| bare(j).map(drop))
            }
            Self::Owner(o) => {
                bare(&o.jid)?;
                o.things.iter().try_for_each(|j| bare(j).map(drop))?;
                o.pending.iter().try_for_each(|(r, things)| {
                    bare(r)?;
                    things.iter().try_for_each(|j| bare(j).map(drop))
                })
            }
            Self::Claim(c) => bare(&c.thing).map(drop),
        }
    }
}

pub(crate) fn thing_key(jid: &str) -> String {
    format!("thing:{jid}")
}

pub(crate) fn owner_key(jid: &str) -> String {
    format!("owner:{jid}")
}

pub(crate) fn claim_key(index: &str) -> String {
    format!("claim:{index}")
}

/// Why stored records cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// A JID that does not parse.
    #[error("`{0}` in a record is not a JID")]
    Jid(String),
    /// A key that does not parse.
    #[error("a thing's stored key is not a key")]
    Key,
}

pub(crate) fn bare(text: &str) -> Result<BareJid, RestoreError> {
    iot_xmpp::jids::read_jid::<BareJid>(text).map_err(|_| RestoreError::Jid(text.to_owned()))
}

impl ThingEntry {
    /// Whether `key` is this thing's key, compared in constant time.
    pub(crate) fn has_key(&self, key: &Key) -> bool {
        self.key
            .expose()
            .as_bytes()
            .ct_eq(key.expose().as_bytes())
            .into()
    }

    /// Whether one of its names is `name`.
    pub(crate) fn has_name(&self, name: &str) -> bool {
        self.names.iter().any(|(_, text)| text == name)
    }
}

/// Adds `item` to a sorted list; whether it was not there.
pub(crate) fn insert_sorted(list: &mut Vec<String>, item: &str) -> bool {
    match list.binary_search_by(|x| x.as_str().cmp(item)) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, item.to_owned());
            true
        }
    }
}

/// Removes `item` from a sorted list; whether it was there.
pub(crate) fn remove_sorted(list: &mut Vec<String>, item: &str) -> bool {
    match list.binary_search_by(|x| x.as_str().cmp(item)) {
        Ok(at) => {
            list.remove(at);
            true
        }
        Err(_) => false,
    }
}

/// Whether a sorted list holds `item`.
pub(crate) fn contains_sorted(list: &[String], item: &str) -> bool {
    list.binary_search_by(|x| x.as_str().cmp(item)).is_ok()
}
