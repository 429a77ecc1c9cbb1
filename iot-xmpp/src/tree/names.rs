//! The names, characters and limits every part of the element reader
//! shares.

use crate::error::StanzaReadError;

/// The namespace of the `xml` prefix (Namespaces in XML 1.0, section 3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of the `xmlns` prefix, which no element may use.
pub(crate) const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The deepest nesting any reader of the crate serves, whatever
/// [`StanzaLimits::max_depth`](crate::StanzaLimits::max_depth) says: the reader itself does not recurse,
/// but dropping, cloning, comparing and writing a tree do, one frame a
/// level, and this many frames fit a thread's smallest usual stack.
pub const DEPTH_CEILING: usize = 128;

/// Whether `c` is a character XML 1.0 allows (its `Char` production; a
/// `char` is never a surrogate).
#[must_use]
pub const fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks that a string holds only characters XML 1.0 allows.
///
/// # Errors
///
/// [`StanzaReadError::Char`] naming the first other one.
pub fn check_xml_chars(text: &str) -> Result<(), StanzaReadError> {
    // Every character XML forbids is a byte below 0x20 or starts with
    // EF BF (U+FFFE, U+FFFF) in UTF-8: a pass over the bytes clears the
    // common text without decoding it; the characters are decoded only
    // when such a byte is there.
    // Without an early exit, so that the pass vectorizes.
    let suspect = text.bytes().fold(false, |seen, b| {
        seen | ((b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)
    });
    if !suspect {
        return Ok(());
    }
    match text.chars().find(|&c| !is_xml_char(c)) {
        None => Ok(()),
        Some(c) => Err(StanzaReadError::Char(c)),
    }
}

/// A qualified name (Namespaces in XML 1.0, `QName`): an optional prefix
/// and a local name, each an `NCName`.
#[must_use]
pub fn split_qname(name: &str) -> Option<(Option<&str>, &str)> {
    match name.split_once(':') {
        Some((prefix, local)) => {
            (is_ncname(prefix) && is_ncname(local)).then_some((Some(prefix), local))
        }
        None => is_ncname(name).then_some((None, name)),
    }
}

/// Whether `name` is an XML name without a colon (Namespaces in XML 1.0,
/// `NCName`): a letter or `_`, then letters, digits, `-`, `.` and `_`
/// (non-ASCII letters and digits included; the rarer name characters of
/// XML 1.0 section 2.3, such as combining marks, are refused).
#[must_use]
pub fn is_ncname(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(feature = "testing")]
std::thread_local! {
    static WORK: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

#[cfg(feature = "testing")]
pub(crate) fn count_work(n: usize) {
    WORK.with(|w| w.set(w.get().saturating_add(n as u64)));
}

#[cfg(not(feature = "testing"))]
#[inline(always)]
pub(crate) fn count_work(_: usize) {}

/// The comparisons the readers of this thread have made between attribute
/// names so far (feature `testing`): a test reads it before and after a
/// read to check that the work grows with the input no faster than its
/// bound.
#[cfg(feature = "testing")]
#[must_use]
pub fn work() -> u64 {
    WORK.with(core::cell::Cell::get)
}
