//! Thing keys (section 4): 24 characters of the alphabet without `O` and
//! `0`, in four-character groups joined by `-`, such as
//! `TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW`.
//!
//! The XEP leaves the entropy "TODO"; 24 characters of a 34-letter alphabet
//! carry 24 * log2(34), about 122 bits.

use rand_core::{CryptoRng, RngCore};

use iot_sansio::Secret;

/// The alphabet of section 4: digits 1-9 and capital letters without `O`.
pub const ALPHABET: &[u8; 34] = b"123456789ABCDEFGHIJKLMNPQRSTUVWXYZ";
/// Characters in a key, separators not counted.
pub const KEY_CHARS: usize = 24;
/// Characters in a group.
pub const GROUP_LEN: usize = 4;
/// The length of a key's text: 24 characters and 5 separators.
pub const KEY_TEXT_LEN: usize = KEY_CHARS + KEY_CHARS / GROUP_LEN - 1;

/// Why a text is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text does not have 29 characters.
    #[error("a key has {expected} characters, not {len}", expected = KEY_TEXT_LEN)]
    Length {
        /// Its length in characters.
        len: usize,
    },
    /// A `-` is missing where a group ends, or stands inside a group.
    #[error("position {position}: groups of {GROUP_LEN} must be joined by `-`")]
    Grouping {
        /// The position (0-based, in characters).
        position: usize,
    },
    /// A character outside the alphabet (`O`, `0`, punctuation,
    /// non-ASCII; a lower-case letter is read as its upper case).
    /// The character itself is not reported: keys are secret.
    #[error("position {position}: not in the key alphabet (1-9, A-Z without O)")]
    Character {
        /// The position (0-based, in characters).
        position: usize,
    },
}

/// A thing's key: a secret (the family's [`Secret`]), wiped on drop,
/// redacted in `Debug`, compared in constant time.
///
/// ```
/// use siot_proto::key::Key;
///
/// let key = Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW")?;
/// assert!(!format!("{key:?}").contains("TWNK"));
/// assert!(Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVT0").is_err());
/// # Ok::<(), siot_proto::key::KeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(Secret<String>);

impl Key {
    /// A new random key (section 3: a thing makes one at setup) from the
    /// caller's cryptographic RNG, each character uniform over the
    /// alphabet (rejection sampling, no modulo bias).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut text = String::with_capacity(KEY_TEXT_LEN);
        let mut n = 0;
        while n < KEY_CHARS {
            let mut byte = [0u8; 1];
            rng.fill_bytes(&mut byte);
            // 34 * 7 = 238: bytes from 238 up would favour some letters.
            if byte[0] >= 238 {
                continue;
            }
            if n > 0 && n % GROUP_LEN == 0 {
                text.push('-');
            }
            text.push(char::from(ALPHABET[usize::from(byte[0] % 34)]));
            n += 1;
        }
        Self(Secret::new(text))
    }

    /// Reads a key: 29 characters, groups of four joined by `-`, the
    /// alphabet of section 4 only. A key typed in lower case is read as
    /// its upper-case form (the alphabet has no lower-case letters, so
    /// nothing else could be meant); everything else that is not a key is
    /// refused, `O` and `0` included.
    ///
    /// # Errors
    ///
    /// [`KeyError`], naming the first position that is wrong but never the
    /// character.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let upper = zeroize::Zeroizing::new(text.to_ascii_uppercase());
        let text = upper.as_str();
        let len = text.chars().count();
        if len != KEY_TEXT_LEN {
            return Err(KeyError::Length { len });
        }
        for (position, c) in text.chars().enumerate() {
            let separator = position % (GROUP_LEN + 1) == GROUP_LEN;
            match (separator, c) {
                (true, '-') => {}
                (true, _) | (false, '-') => return Err(KeyError::Grouping { position }),
                (false, c) if c.is_ascii() && ALPHABET.contains(&(c as u8)) => {}
                (false, _) => return Err(KeyError::Character { position }),
            }
        }
        Ok(Self(Secret::new(text)))
    }

    /// The text, for the moment it must be used (shown to the user, put in
    /// a stanza).
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}
