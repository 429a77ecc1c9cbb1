//! Why a text is not a stanza this crate can read.

use core::fmt;

/// Why a text is not a stanza this crate can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StanzaReadError {
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
    /// An element with more attributes (namespace declarations
    /// included) than the limit.
    #[error("an element has more than {max} attributes")]
    TooManyAttributes {
        /// The limit.
        max: usize,
    },
    /// A character XML 1.0 forbids (section 2.2: a C0 control other than
    /// tab, line feed and carriage return, U+FFFE or U+FFFF), literal or
    /// as a character reference.
    #[error("character U+{:04X} is not allowed in XML", u32::from(*.0))]
    Char(char),
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

pub(crate) fn xml_err(e: impl fmt::Display) -> StanzaReadError {
    StanzaReadError::Xml(e.to_string())
}

impl StanzaReadError {
    /// The stream error condition (RFC 6120 4.9.3) a stream carrying this
    /// text ends with.
    #[must_use]
    pub fn stream_condition(&self) -> &'static str {
        match self {
            Self::TooLong { .. }
            | Self::TooDeep { .. }
            | Self::TooManyElements { .. }
            | Self::TooManyAttributes { .. } => "policy-violation",
            Self::Namespace(_) => "invalid-namespace",
            Self::NotAStanza(_) => "unsupported-stanza-type",
            Self::Jid { .. } => "improper-addressing",
            Self::Char(_) | Self::Xml(_) | Self::TrailingContent => "not-well-formed",
        }
    }
}
