//! The limits a received stanza is read within.

/// Limits on a received stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StanzaLimits {
    /// The longest stanza text, in bytes (default 256 KiB, the default
    /// client stanza limit of common servers; an In-Band Bytestream block
    /// of 65535 bytes is about 87 KiB of base64).
    pub max_len: usize,
    /// The deepest nesting of elements, the stanza itself at depth 1
    /// (default 16; never more than [`DEPTH_CEILING`](crate::tree::DEPTH_CEILING), whatever this
    /// says).
    pub max_depth: usize,
    /// The most elements in the stanza, itself included (default 256).
    pub max_elements: usize,
    /// The most attributes on one element, namespace declarations
    /// included (default 64).
    pub max_attributes: usize,
}

impl Default for StanzaLimits {
    fn default() -> Self {
        Self {
            max_len: 256 * 1024,
            max_depth: 16,
            max_elements: 256,
            max_attributes: 64,
        }
    }
}
