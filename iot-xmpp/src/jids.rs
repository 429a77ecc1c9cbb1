//! Reading JIDs from the wire, strictly.
//!
//! RFC 6122 section 2 prepares each part of a JID with a stringprep
//! profile (Nodeprep, Nameprep, Resourceprep), and RFC 3454 section 7
//! excludes code points unassigned in Unicode 3.2 from stored strings such
//! as JIDs. The `jid` crate prepares with today's Unicode and lets such
//! code points through, and for some of them preparing is not idempotent:
//! U+03F9 (GREEK CAPITAL LUNATE SIGMA SYMBOL, Unicode 4.0) prepares to
//! U+03A3, which prepares again to U+03C3. A JID read as one value would be
//! written as text that reads as another, and two peers could hold one
//! account under two names. [`read_jid`] refuses such a JID; every reader
//! of the XMPP crates reads JIDs through it.

use jid::{BareJid, FullJid, Jid};

/// A JID type that [`read_jid`] reads: [`Jid`], [`BareJid`] or [`FullJid`].
pub trait ReadJid: Sized {
    /// Prepares and checks `text` as this type (the `jid` crate's `new`).
    ///
    /// # Errors
    ///
    /// The `jid` crate's error.
    fn prepare(text: &str) -> Result<Self, jid::Error>;
    /// The prepared text.
    fn prepared(&self) -> &str;
}

macro_rules! read_jid_for {
    ($($t:ty),*) => {$(
        impl ReadJid for $t {
            fn prepare(text: &str) -> Result<Self, jid::Error> {
                <$t>::new(text)
            }
            fn prepared(&self) -> &str {
                self.as_str()
            }
        }
    )*};
}

read_jid_for!(Jid, BareJid, FullJid);

/// Why text is not a JID.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JidError {
    /// The `jid` crate refused it (RFC 6122 syntax or a stringprep
    /// prohibition).
    #[error("{0}")]
    Invalid(jid::Error),
    /// Its prepared form is not stable: preparing it again gives another
    /// JID (a code point unassigned in Unicode 3.2; RFC 3454 section 7).
    #[error(
        "prepared as `{prepared}`, which prepares again as `{again}` (a code point unassigned in Unicode 3.2)"
    )]
    Unstable {
        /// The JID as prepared once.
        prepared: String,
        /// The same, prepared again.
        again: String,
    },
}

/// Reads a JID received from a peer or a store: prepared as RFC 6122 asks,
/// and refused when its prepared form does not prepare to itself, so that
/// a JID read, written and read again is the same JID.
///
/// ```
/// use iot_xmpp::jids::{JidError, read_jid};
/// use iot_xmpp::BareJid;
///
/// let jid: BareJid = read_jid("Juliet@Example.COM")?;
/// assert_eq!(jid.as_str(), "juliet@example.com");
/// assert!(matches!(read_jid::<BareJid>("\u{3f9}@example.org"), Err(JidError::Unstable { .. })));
/// # Ok::<(), JidError>(())
/// ```
///
/// # Errors
///
/// [`JidError::Invalid`] for what the `jid` crate refuses,
/// [`JidError::Unstable`] for a prepared form that is not stable.
pub fn read_jid<J: ReadJid>(text: &str) -> Result<J, JidError> {
    let jid = J::prepare(text).map_err(JidError::Invalid)?;
    if jid.prepared() != text {
        let again = J::prepare(jid.prepared()).map_err(JidError::Invalid)?;
        if again.prepared() != jid.prepared() {
            return Err(JidError::Unstable {
                prepared: jid.prepared().to_owned(),
                again: again.prepared().to_owned(),
            });
        }
    }
    Ok(jid)
}
