//! Presence subscriptions (RFC 6121 section 3) as the protocol uses them:
//! friendship is a roster item of subscription `from` or `both` (section
//! 2.3), and what the state machines share to build and check stanzas.

use iot_xmpp::{BareJid, Jid, PresenceType, Stanza, StanzaKind};

pub use iot_xmpp::Subscription;

/// Section 2.3: a contact is a friend when its roster item's subscription
/// is `from` or `both` (it sees the thing's presence).
#[must_use]
pub fn is_friend(subscription: Subscription) -> bool {
    subscription.contact_sees_owner()
}

/// The presence stanzas of subscription management (RFC 6121 3).
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

    /// The presence stanza, to a bare JID (RFC 6121 3.1.1).
    #[must_use]
    pub fn to(self, to: &BareJid, id: &str) -> Stanza {
        Stanza::new(StanzaKind::Presence)
            .with_to(to.clone())
            .with_id(id)
            .with_type(self.as_str())
    }
}

/// Whether a stanza's `from` is the configured peer: the same full JID
/// when the configuration names one, any resource of the bare JID (or the
/// domain itself, for a component) when it names a bare JID. A stanza
/// without `from` is not from the peer (section 10).
#[must_use]
pub fn is_from(configured: &Jid, stanza: &Stanza) -> bool {
    match (&stanza.from, configured.is_full()) {
        (None, _) => false,
        (Some(from), true) => from == configured,
        (Some(from), false) => from.to_bare() == configured.to_bare(),
    }
}
