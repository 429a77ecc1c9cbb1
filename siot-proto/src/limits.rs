//! The limits the machines of this crate read with.

/// The most friendship requests a provisioning service keeps waiting for
/// one owner by default ([`ProvisioningConfig::max_pending_per_owner`](crate::ProvisioningConfig::max_pending_per_owner)).
pub const MAX_PENDING_PER_OWNER: usize = 1024;

/// The stanza limits every machine of this crate reads with by default:
/// the workspace's defaults, with room for a pending list (section 7) or
/// a friend state update (section 8) of [`MAX_PENDING_PER_OWNER`] entries,
/// so that what the service builds, the owner reads, and what the owner
/// sends, the service reads.
#[must_use]
pub fn stanza_limits() -> iot_xmpp::StanzaLimits {
    let defaults = iot_xmpp::StanzaLimits::default();
    iot_xmpp::StanzaLimits {
        // The iq, the list element and one element per entry.
        max_elements: defaults.max_elements.max(MAX_PENDING_PER_OWNER + 8),
        ..defaults
    }
}
