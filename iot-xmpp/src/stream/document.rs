//! Where a document ends, in bytes that arrive in pieces.

use super::error::StreamReadError;
use super::reader::{StreamItem, StreamReader};
use crate::limits::StanzaLimits;

/// Finds where one XML document ends in bytes that arrive in pieces (the
/// blocks of an In-Band Bytestream message, say), without keeping them:
/// the stream reader's scanner, so each byte is looked at once, in time
/// linear in the document, within [`StanzaLimits`].
///
/// ```
/// use iot_xmpp::stream::DocumentEnd;
///
/// let mut end = DocumentEnd::default();
/// assert_eq!(end.scan(b"<?xml version='1.0'?><rest><url>a</u"), Ok(None));
/// assert_eq!(end.scan(b"rl></rest>  "), Ok(Some(10)));
/// ```
#[derive(Debug, Clone)]
pub struct DocumentEnd {
    reader: StreamReader,
}

impl Default for DocumentEnd {
    fn default() -> Self {
        Self::new(StanzaLimits::default())
    }
}

impl DocumentEnd {
    /// A scanner within `limits` (`max_len` bounds the document).
    #[must_use]
    pub fn new(limits: StanzaLimits) -> Self {
        Self {
            reader: StreamReader::fragments(limits, false),
        }
    }

    /// Scans the next bytes of the document: `Some(n)` when its root
    /// element closed at `n` bytes into `data`.
    ///
    /// # Errors
    ///
    /// A [`StreamReadError`] when the bytes are not a document the
    /// scanner reads (a comment among them, say): the caller falls back
    /// to its other ways of knowing where the document ends.
    pub fn scan(&mut self, data: &[u8]) -> Result<Option<usize>, StreamReadError> {
        let mut ended = false;
        let used = self.reader.feed(data, |item| {
            ended = matches!(item, StreamItem::Element(_));
            Ok::<_, StreamReadError>(!ended)
        })?;
        Ok(ended.then_some(used))
    }
}
