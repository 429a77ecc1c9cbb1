//! Presence (RFC 6121 sections 3 and 4): subscription requests and their
//! answers, and a tracker of which full JIDs of each contact are online.

use std::collections::BTreeMap;

use jid::{BareJid, FullJid};

use crate::stanza::Stanza;
use crate::vocab::{PresenceType, StanzaKind};

/// The presence stanzas of subscription management (RFC 6121 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionRequest {
    /// `subscribe`: asks to see the addressee's presence.
    Subscribe,
    /// `subscribed`: approves (or pre-approves) such a request.
    Subscribed,
    /// `unsubscribe`: stops seeing the addressee's presence.
    Unsubscribe,
    /// `unsubscribed`: refuses a request or revokes an approval.
    Unsubscribed,
}

impl SubscriptionRequest {
    /// The presence `type`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.presence_type().as_str()
    }

    /// The presence type of the vocabulary.
    #[must_use]
    pub fn presence_type(self) -> PresenceType {
        match self {
            Self::Subscribe => PresenceType::Subscribe,
            Self::Subscribed => PresenceType::Subscribed,
            Self::Unsubscribe => PresenceType::Unsubscribe,
            Self::Unsubscribed => PresenceType::Unsubscribed,
        }
    }

    /// The subscription request a stanza is, if it is one.
    #[must_use]
    pub fn of(stanza: &Stanza) -> Option<Self> {
        match stanza.presence_type()? {
            PresenceType::Subscribe => Some(Self::Subscribe),
            PresenceType::Subscribed => Some(Self::Subscribed),
            PresenceType::Unsubscribe => Some(Self::Unsubscribe),
            PresenceType::Unsubscribed => Some(Self::Unsubscribed),
            _ => None,
        }
    }

    /// The presence stanza, to a bare JID (RFC 6121 section 3.1.1).
    #[must_use]
    pub fn to(self, to: &BareJid, id: &str) -> Stanza {
        Stanza::new(StanzaKind::Presence)
            .with_to(to.clone())
            .with_id(id)
            .with_type(self.as_str())
    }
}

/// A contact's resource coming online or going offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceChange {
    /// The resource is available (or changed its priority).
    Online {
        /// The resource.
        jid: FullJid,
        /// Its priority (RFC 6121 section 4.7.2.3; 0 when absent).
        priority: i8,
    },
    /// The resource went unavailable (RFC 6121 section 4.5), or its
    /// presence was an error (section 4.6.3 treats it as unavailable).
    Offline(FullJid),
}

/// Who is online: for each contact, the full JIDs that sent available
/// presence and have not left, with their priority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceTracker {
    online: BTreeMap<BareJid, BTreeMap<String, i8>>,
}

impl PresenceTracker {
    /// Nobody online.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a presence stanza; returns what changed, if anything (an
    /// available presence from a bare JID, a subscription request or a
    /// probe changes nothing here).
    pub fn take(&mut self, stanza: &Stanza) -> Option<PresenceChange> {
        if stanza.kind != StanzaKind::Presence {
            return None;
        }
        let Some(from) = stanza
            .from
            .as_ref()
            .and_then(|j| j.try_as_full().ok())
            .cloned()
        else {
            // From a bare JID: an error about a contact as a whole makes
            // every resource of it unavailable.
            if stanza.presence_type() == Some(PresenceType::Error)
                && let Some(from) = &stanza.from
            {
                self.online.remove(&from.to_bare());
            }
            return None;
        };
        let bare = from.to_bare();
        let resource = from.resource().as_str().to_owned();
        match stanza.presence_type() {
            None => {
                let priority = stanza
                    .payloads
                    .iter()
                    .find(|p| p.name == "priority")
                    .and_then(|p| p.text.trim().parse::<i8>().ok())
                    .unwrap_or(0);
                let resources = self.online.entry(bare).or_default();
                if resources.insert(resource, priority) == Some(priority) {
                    return None;
                }
                Some(PresenceChange::Online {
                    jid: from,
                    priority,
                })
            }
            Some(PresenceType::Unavailable | PresenceType::Error) => {
                let resources = self.online.get_mut(&bare)?;
                resources.remove(&resource)?;
                if resources.is_empty() {
                    self.online.remove(&bare);
                }
                Some(PresenceChange::Offline(from))
            }
            Some(_) => None,
        }
    }

    /// Whether this full JID is online.
    #[must_use]
    pub fn is_online(&self, jid: &FullJid) -> bool {
        self.online
            .get(&jid.to_bare())
            .is_some_and(|r| r.contains_key(jid.resource().as_str()))
    }

    /// The online resources of a contact, highest priority first.
    #[must_use]
    pub fn resources(&self, contact: &BareJid) -> Vec<(FullJid, i8)> {
        let mut list: Vec<(FullJid, i8)> = self
            .online
            .get(contact)
            .into_iter()
            .flatten()
            .filter_map(|(r, p)| {
                FullJid::new(&format!("{contact}/{r}"))
                    .ok()
                    .map(|j| (j, *p))
            })
            .collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list
    }

    /// Every full JID online.
    pub fn all(&self) -> impl Iterator<Item = (BareJid, &str, i8)> + '_ {
        self.online
            .iter()
            .flat_map(|(b, rs)| rs.iter().map(move |(r, p)| (b.clone(), r.as_str(), *p)))
    }

    /// Forgets everyone: the connection was lost, and every presence is
    /// unknown until the server sends it again. Returns who went offline.
    pub fn clear(&mut self) -> Vec<FullJid> {
        let gone = self
            .all()
            .filter_map(|(b, r, _)| FullJid::new(&format!("{b}/{r}")).ok())
            .collect();
        self.online.clear();
        gone
    }
}
