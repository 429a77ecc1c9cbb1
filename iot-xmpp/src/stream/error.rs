//! Why bytes are not a stream the reader accepts.

/// Why the bytes are not an XML stream this reader accepts; each maps to
/// a stream error condition (RFC 6120 section 4.9.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamReadError {
    /// A top-level element over [`StanzaLimits::max_len`](crate::StanzaLimits::max_len), found before
    /// more than the limit was buffered (`policy-violation`).
    #[error("a top-level element exceeds {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Elements nest deeper than [`StanzaLimits::max_depth`](crate::StanzaLimits::max_depth)
    /// (`policy-violation`).
    #[error("elements nest deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More elements in one top-level element than
    /// [`StanzaLimits::max_elements`](crate::StanzaLimits::max_elements) (`policy-violation`).
    #[error("more than {max} elements in one top-level element")]
    TooManyElements {
        /// The limit.
        max: usize,
    },
    /// A comment, a processing instruction or a DOCTYPE: RFC 6120 section
    /// 11.1 forbids them (`restricted-xml`).
    #[error("restricted XML: {0}")]
    Restricted(&'static str),
    /// Not well-formed (`not-well-formed`).
    #[error("not well-formed: {0}")]
    NotWellFormed(String),
    /// The stream header is not `<stream:stream>` in the stream namespace
    /// (`invalid-namespace`).
    #[error("bad stream header: {0}")]
    BadHeader(String),
}

impl StreamReadError {
    /// The stream error condition it maps to (RFC 6120 4.9.3).
    #[must_use]
    pub fn condition(&self) -> &'static str {
        match self {
            Self::TooLong { .. } | Self::TooDeep { .. } | Self::TooManyElements { .. } => {
                "policy-violation"
            }
            Self::Restricted(_) => "restricted-xml",
            Self::NotWellFormed(_) => "not-well-formed",
            Self::BadHeader(_) => "invalid-namespace",
        }
    }
}

pub(super) fn not_well_formed(what: &str) -> StreamReadError {
    StreamReadError::NotWellFormed(what.to_owned())
}
