//! The limits the machines of this crate read with.

/// The most friendship requests a provisioning service keeps waiting for
/// one owner by default ([`ProvisioningConfig::max_pending_per_owner`](crate::ProvisioningConfig::max_pending_per_owner)).
pub const MAX_PENDING_PER_OWNER: usize = 1024;

/// The stanza limits every machine of this crate reads with by default:
/// the workspace's defaults, with room for a pending list (section 7) or
/// a friend state update (section 8) of [`MAX_PENDING_PER_OWNER`] entries,
/// so that what the service builds, the owner reads, and what the owner
/// sends, the service reads. In bytes as well: each machine sends no list
/// longer than its own `max_len` (the same 256 KiB by default), cutting a
/// long one into several stanzas, or, for the pending list, answering with
/// the first part and the rest once the owner decided those.
#[must_use]
pub fn stanza_limits() -> iot_xmpp::StanzaLimits {
    let defaults = iot_xmpp::StanzaLimits::default();
    iot_xmpp::StanzaLimits {
        // The iq, the list element and one element per entry.
        max_elements: defaults.max_elements.max(MAX_PENDING_PER_OWNER + 8),
        ..defaults
    }
}

/// Splits `items` into runs whose stanza stays within `max_len` bytes:
/// `base` is the stanza's length with no item (its list element written
/// open and closed), `item_len` each item's written length. An item too
/// long to fit even alone goes alone. Linear in the items.
pub(crate) fn runs<T>(
    items: &[T],
    base: usize,
    max_len: usize,
    item_len: impl Fn(&T) -> usize,
) -> Vec<&[T]> {
    let budget = max_len.saturating_sub(base);
    let mut out = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let len = item_len(item);
        if i > start && used + len > budget {
            out.extend(items.get(start..i));
            (start, used) = (i, 0);
        }
        used += len;
    }
    if start < items.len() {
        out.extend(items.get(start..));
    }
    out
}

/// The written length of a list's stanza with no item in it: `empty` as
/// written, its list element closing itself, plus what opening and closing
/// that element `name` separately adds.
pub(crate) fn list_base(empty: &iot_xmpp::Stanza, name: &str) -> usize {
    empty.to_xml().len() + name.len() + 3
}

/// The written length of a list item `<name jid="..." extra/>`.
pub(crate) fn item_len(name: &str, jid: &iot_xmpp::BareJid, extra: usize) -> usize {
    name.len() + 10 + iot_xmpp::escape_attr(jid.as_str()).len() + extra
}
