//! Why a text is not a stanza this crate can read.

use core::fmt;

/// Why a text is not a stanza this crate can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StanzaError {
    /// The stanza is longer than the limit.
    #[error("stanza of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Elements nest deeper than the limit.
    #[error("elements nest deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More elements than the limit.
    #[error("more than {max} elements")]
    TooManyElements {
        /// The limit.
        max: usize,
    },
    /// Not well-formed XML, or markup a stanza cannot hold (a DOCTYPE, a
    /// processing instruction, an unknown entity).
    #[error("malformed XML: {0}")]
    Xml(String),
    /// The top element is not `<iq>`, `<message>` or `<presence>`.
    #[error("<{0}> is not a stanza")]
    NotAStanza(String),
    /// The stanza is in a namespace other than `jabber:client` or
    /// `jabber:server`.
    #[error("stanza namespace `{0}` is not jabber:client or jabber:server")]
    Namespace(String),
    /// A `from` or `to` that is not a JID.
    #[error("`{attribute}` is not a JID: {reason}")]
    Jid {
        /// `from` or `to`.
        attribute: &'static str,
        /// Why.
        reason: String,
    },
    /// Something after the stanza's end.
    #[error("content after the end of the stanza")]
    TrailingContent,
}

pub(crate) fn xml_err(e: impl fmt::Display) -> StanzaError {
    StanzaError::Xml(e.to_string())
}
