//! A thing's durable state as data (section 3): what it must keep across
//! a reboot to come back as itself, so that the provisioning service does
//! not read its return as a factory reset and its owner keeps it.

use iot_sansio::Secret;
use serde::{Deserialize, Serialize};

/// What a thing keeps across a reboot: announced as
/// [`ThingEvent::Saved`](crate::thing::ThingEvent::Saved) whenever it
/// changes, taken back by [`Thing::restore`](crate::thing::Thing::restore).
/// It holds the thing's key: a [`Secret`] here (printed `<redacted>`),
/// serialized as its text for the store, which keeps it as the secret it
/// is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ThingState {
    /// The key, while set up.
    #[serde(with = "crate::stored")]
    pub key: Option<Secret<String>>,
    /// Whether the provisioning service accepted the registration.
    pub registered: bool,
    /// The owner's bare JID, once claimed.
    pub owner: Option<String>,
    /// The roster: each contact's bare JID and subscription (`to`, `from`,
    /// `both`), sorted.
    pub roster: Vec<(String, String)>,
}

/// Why a stored state cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThingStateError {
    /// The stored key is not a key.
    #[error("the stored key is not a key")]
    Key,
    /// A JID that does not parse.
    #[error("`{0}` is not a bare JID")]
    Jid(String),
    /// A subscription that is not one of RFC 6121's.
    #[error("`{0}` is not a subscription")]
    Subscription(String),
}
