//! The provisioning service's durable state as data: one record per thing
//! and per owner, announced whenever it changes, from which a service is
//! rebuilt after a restart.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use iot_sansio::Secret;
use iot_xmpp::{BareJid, Jid};
use serde::{Deserialize, Serialize};

use crate::key::Key;
use crate::payload::Name;

/// What the service keeps of a registered thing.
#[derive(Debug, Clone)]
pub(crate) struct ThingRecord {
    /// Where the thing registered from (its full JID).
    pub(crate) address: Jid,
    pub(crate) names: Vec<Name>,
    pub(crate) key: Key,
    pub(crate) owner: Option<BareJid>,
    pub(crate) friends: HashSet<BareJid>,
    pub(crate) refused: HashSet<BareJid>,
    pub(crate) subscribed: bool,
}

/// What the service keeps of an owner.
#[derive(Debug, Clone, Default)]
pub(crate) struct OwnerRecord {
    pub(crate) things: BTreeSet<BareJid>,
    /// The requestors waiting for the owner's decision, each with the
    /// things of this owner it asked about: a `friend` decision is granted
    /// on those only (sections 2.3 and 8).
    pub(crate) pending: BTreeMap<BareJid, BTreeSet<BareJid>>,
}

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

/// An owner's durable record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerEntry {
    /// The owner's bare JID.
    pub jid: String,
    /// The things it owns, sorted.
    pub things: Vec<String>,
    /// The requests waiting for its decision, sorted: each requestor with
    /// the things it asked about, sorted.
    pub pending: Vec<(String, Vec<String>)>,
}

/// One change of the service's durable state, announced as
/// [`ProvisioningEvent::Saved`](super::ProvisioningEvent::Saved): store
/// it under its key (the thing's or owner's JID), replacing what was
/// there, and confirm the write. [`ProvisioningService::restore`](super::ProvisioningService::restore)
/// takes the stored records back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// A thing as it is now.
    Thing(ThingEntry),
    /// An owner as it is now; an owner with no thing and nothing pending
    /// may be deleted.
    Owner(OwnerEntry),
}

impl Record {
    /// The key to store it under: `thing:` or `owner:` and the bare JID.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Thing(t) => format!("thing:{}", t.jid),
            Self::Owner(o) => format!("owner:{}", o.jid),
        }
    }
}

/// Why stored records cannot be restored.
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

fn sorted(set: &HashSet<BareJid>) -> Vec<String> {
    let mut v: Vec<String> = set.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

pub(crate) fn bare(text: &str) -> Result<BareJid, RestoreError> {
    iot_xmpp::jids::read_jid::<BareJid>(text).map_err(|_| RestoreError::Jid(text.to_owned()))
}

fn bares(texts: &[String]) -> Result<HashSet<BareJid>, RestoreError> {
    texts.iter().map(|t| bare(t)).collect()
}

impl ThingRecord {
    pub(crate) fn entry(&self, jid: &BareJid) -> ThingEntry {
        ThingEntry {
            jid: jid.to_string(),
            address: self.address.to_string(),
            names: self
                .names
                .iter()
                .map(|n| (n.lang.clone(), n.text.clone()))
                .collect(),
            key: Secret::new(self.key.expose()),
            owner: self.owner.as_ref().map(ToString::to_string),
            friends: sorted(&self.friends),
            refused: sorted(&self.refused),
            subscribed: self.subscribed,
        }
    }

    pub(crate) fn from_entry(e: &ThingEntry) -> Result<(BareJid, Self), RestoreError> {
        Ok((
            bare(&e.jid)?,
            Self {
                address: iot_xmpp::jids::read_jid::<Jid>(&e.address)
                    .map_err(|_| RestoreError::Jid(e.address.clone()))?,
                names: e
                    .names
                    .iter()
                    .map(|(lang, text)| Name {
                        lang: lang.clone(),
                        text: text.clone(),
                    })
                    .collect(),
                key: Key::parse(e.key.expose()).map_err(|_| RestoreError::Key)?,
                owner: e.owner.as_deref().map(bare).transpose()?,
                friends: bares(&e.friends)?,
                refused: bares(&e.refused)?,
                subscribed: e.subscribed,
            },
        ))
    }
}

impl OwnerRecord {
    pub(crate) fn entry(&self, jid: &BareJid) -> OwnerEntry {
        OwnerEntry {
            jid: jid.to_string(),
            things: self.things.iter().map(ToString::to_string).collect(),
            pending: self
                .pending
                .iter()
                .map(|(r, things)| {
                    (
                        r.to_string(),
                        things.iter().map(ToString::to_string).collect(),
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn from_entry(e: &OwnerEntry) -> Result<(BareJid, Self), RestoreError> {
        Ok((
            bare(&e.jid)?,
            Self {
                things: e.things.iter().map(|t| bare(t)).collect::<Result<_, _>>()?,
                pending: e
                    .pending
                    .iter()
                    .map(|(r, things)| {
                        let things = things.iter().map(|t| bare(t)).collect::<Result<_, _>>()?;
                        Ok((bare(r)?, things))
                    })
                    .collect::<Result<_, RestoreError>>()?,
            },
        ))
    }
}
