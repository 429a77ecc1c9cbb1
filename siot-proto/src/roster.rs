//! Presence subscriptions (RFC 6121 section 3) as the protocol uses them:
//! friendship is a roster item of subscription `from` or `both` (section
//! 2.3), and what the state machines share to build and check stanzas.

use iot_xmpp::{Jid, Stanza};

pub use iot_xmpp::Subscription;

/// Section 2.3: a contact is a friend when its roster item's subscription
/// is `from` or `both` (it sees the thing's presence).
#[must_use]
pub fn is_friend(subscription: Subscription) -> bool {
    subscription.contact_sees_owner()
}

/// The presence stanzas of subscription management (RFC 6121 3), shared
/// with every XMPP crate of the family.
pub use iot_xmpp::presence::SubscriptionRequest;

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

/// [`is_from`], or with `any_resource` any resource of the configured
/// JID's account: a service run as several resources of one account.
#[must_use]
pub fn is_from_service(configured: &Jid, any_resource: bool, stanza: &Stanza) -> bool {
    is_from(configured, stanza)
        || (any_resource
            && stanza
                .from
                .as_ref()
                .is_some_and(|from| from.to_bare() == configured.to_bare()))
}
