//! The keys of section 5: the sharekey, the ECDH masterkey on secp384r1
//! and the sessionkey, and the verification code the sharekey comes from.

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::Secret;
use md5::{Digest, Md5};
use p384::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::control::Suite;

/// The length of every AES-128 key.
pub const KEY_LEN: usize = 16;

/// The length of an uncompressed SEC1 secp384r1 public key.
pub const PUBLIC_KEY_LEN: usize = 97;

/// The text the draft appends before the second MD5 of the sharekey
/// (section 5).
pub const SHAREKEY_CONSTANT: &str = "www.88075998.com";

/// Why a cryptographic operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The sealed payload is shorter than its suite's overhead.
    #[error("sealed payload of {len} bytes is shorter than the {min} the suite needs")]
    Truncated {
        /// Its length.
        len: usize,
        /// The least the suite needs.
        min: usize,
    },
    /// The authentication tag does not match: the payload was tampered
    /// with, truncated, or sealed under another key or for another message.
    #[error("authentication failed: tampered payload or wrong key")]
    Authentication,
    /// A public key that is not a point of secp384r1.
    #[error("not a valid secp384r1 public key")]
    InvalidPublicKey,
    /// A suite this crate does not implement (bit 8 is reserved).
    #[error("suite {0:?} is not implemented")]
    UnsupportedSuite(Suite),
}

macro_rules! key_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(Secret<[u8; KEY_LEN]>);

        impl $name {
            /// Wraps key bytes.
            #[must_use]
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(Secret::new(bytes))
            }

            /// The key bytes, for the moment they must be used.
            #[must_use]
            pub fn expose(&self) -> &[u8; KEY_LEN] {
                self.0.expose()
            }
        }
    };
}

key_type!(
    /// The sharekey (section 5): derived from the verification code and
    /// the serial number; protects the public keys of the ECDH exchange.
    ShareKey
);
key_type!(
    /// The masterkey (section 5): from the ECDH shared secret; protects
    /// the devid, the sessionkey and their refresh.
    MasterKey
);
key_type!(
    /// The sessionkey (sections 5 and 6): issued by the LBS; protects the
    /// DAS address exchange and every business message.
    SessionKey
);

impl SessionKey {
    /// A fresh random session key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self(Secret::init_with(|key: &mut [u8; KEY_LEN]| {
            rng.fill_bytes(key);
        }))
    }
}

/// A device verification code: a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCode(Secret<String>);

impl VerificationCode {
    /// Wraps a verification code.
    #[must_use]
    pub fn new(code: impl Into<String>) -> Self {
        Self(Secret::new(code))
    }

    /// The code, for the moment it must be used.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// The PBKDF2 salt of the sharekey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Salt {
    /// The device serial number as UTF-8 (the default).
    SerialNumber,
    /// Fixed bytes.
    Fixed(Vec<u8>),
}

/// How the MD5 results of the sharekey chain are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Md5Form {
    /// Lowercase hexadecimal text (the default).
    LowerHex,
    /// The 16 raw digest bytes.
    Raw,
}

/// The parameters of the sharekey that the draft leaves open (section 5:
/// `pdkdf2_SHA256(md5(md5(MD5(verification code + device serial
/// number)+www.88075998.com)))`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareKeyParams {
    /// The PBKDF2 salt (default: the serial number).
    pub salt: Salt,
    /// The PBKDF2 iteration count (default 1,000).
    pub iterations: u32,
    /// How each MD5 result feeds the next step (default lowercase hex).
    pub md5_form: Md5Form,
}

impl Default for ShareKeyParams {
    fn default() -> Self {
        Self {
            salt: Salt::SerialNumber,
            iterations: 1_000,
            md5_form: Md5Form::LowerHex,
        }
    }
}

fn md5_step(input: &[u8], form: Md5Form) -> Zeroizing<Vec<u8>> {
    let digest = Md5::digest(input);
    let mut out = Zeroizing::new(Vec::with_capacity(32));
    match form {
        Md5Form::Raw => out.extend_from_slice(&digest),
        Md5Form::LowerHex => {
            for b in digest {
                for nibble in [b >> 4, b & 0xf] {
                    out.push(if nibble < 10 {
                        b'0' + nibble
                    } else {
                        b'a' + nibble - 10
                    });
                }
            }
        }
    }
    out
}

/// Fills `out` with PBKDF2-HMAC-SHA256 of the section 5 MD5 chain: the
/// general form of the sharekey derivation, for any output length.
pub fn share_key_material(
    code: &VerificationCode,
    serial: &str,
    params: &ShareKeyParams,
    out: &mut [u8],
) {
    let mut input = Zeroizing::new(Vec::new());
    input.extend_from_slice(code.expose().as_bytes());
    input.extend_from_slice(serial.as_bytes());
    let first = md5_step(&input, params.md5_form);
    let mut second_input = Zeroizing::new(first.to_vec());
    second_input.extend_from_slice(SHAREKEY_CONSTANT.as_bytes());
    let second = md5_step(&second_input, params.md5_form);
    let third = md5_step(&second, params.md5_form);
    let salt = match &params.salt {
        Salt::SerialNumber => serial.as_bytes(),
        Salt::Fixed(bytes) => bytes,
    };
    pbkdf2::pbkdf2_hmac::<Sha256>(&third, salt, params.iterations, out);
}

impl ShareKey {
    /// Derives the sharekey: the first 16 bytes of
    /// [`share_key_material`], an AES-128 key.
    #[must_use]
    pub fn derive(code: &VerificationCode, serial: &str, params: &ShareKeyParams) -> Self {
        Self(Secret::init_with(|key: &mut [u8; KEY_LEN]| {
            share_key_material(code, serial, params, key);
        }))
    }
}

/// How the AES-128 masterkey is taken from the 48-byte ECDH shared secret
/// (the x-coordinate), which the draft does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MasterKeyRule {
    /// The first 16 bytes of SHA-256 of the shared secret (the default).
    #[default]
    Sha256,
    /// The first 16 bytes of the shared secret.
    Truncate,
}

/// An ECDH key pair on secp384r1 (`ecdh_NID_secp384r1`, section 5). The
/// private scalar is p384's `SecretKey`: wiped on drop, and its `Debug`
/// shows nothing of it.
#[derive(Debug, Clone)]
pub struct EcdhKeyPair {
    secret: p384::SecretKey,
}

impl EcdhKeyPair {
    /// A fresh key pair from the caller's RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            secret: p384::SecretKey::random(rng),
        }
    }

    /// The key pair of a known private scalar (48 bytes, big endian).
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicKey`] when the scalar is zero or not
    /// below the group order.
    pub fn from_scalar(scalar: &[u8]) -> Result<Self, CryptoError> {
        let secret =
            p384::SecretKey::from_slice(scalar).map_err(|_| CryptoError::InvalidPublicKey)?;
        Ok(Self { secret })
    }

    /// The public key, SEC1 uncompressed (97 bytes: `04 || x || y`).
    #[must_use]
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        let point = self.secret.public_key().to_encoded_point(false);
        let mut out = [0u8; PUBLIC_KEY_LEN];
        if let Some(dst) = out.get_mut(..point.len()) {
            dst.copy_from_slice(point.as_bytes());
        }
        out
    }

    /// The 48-byte ECDH shared secret with a peer's public key, SEC1
    /// uncompressed (97 bytes, `04 || x || y`), the only form the profile
    /// sends (PROFILE.md section 8).
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicKey`] for any other length or form
    /// (compressed included), a point off the curve, or the identity.
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Zeroizing<[u8; 48]>, CryptoError> {
        if peer.len() != PUBLIC_KEY_LEN || peer.first() != Some(&0x04) {
            return Err(CryptoError::InvalidPublicKey);
        }
        let peer =
            p384::PublicKey::from_sec1_bytes(peer).map_err(|_| CryptoError::InvalidPublicKey)?;
        let shared = p384::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
        let mut out = Zeroizing::new([0u8; 48]);
        out.copy_from_slice(shared.raw_secret_bytes());
        Ok(out)
    }

    /// The masterkey with a peer's public key (section 5: the device uses
    /// the LBS's public key, the LBS the device's; both get the same key).
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicKey`].
    pub fn master_key(&self, peer: &[u8], rule: MasterKeyRule) -> Result<MasterKey, CryptoError> {
        let shared = self.shared_secret(peer)?;
        Ok(MasterKey(Secret::init_with(
            |key: &mut [u8; KEY_LEN]| match rule {
                MasterKeyRule::Sha256 => {
                    let digest = Zeroizing::new(Sha256::digest(shared.as_slice()));
                    key.copy_from_slice(digest.get(..KEY_LEN).unwrap_or(&[0; KEY_LEN]));
                }
                MasterKeyRule::Truncate => {
                    key.copy_from_slice(shared.get(..KEY_LEN).unwrap_or(&[0; KEY_LEN]));
                }
            },
        )))
    }
}

/// Keys and codes in a durable record, in the clear: the runtime's store
/// keeps the record and must get the secret back whole, so the store is
/// the secret's keeper (a record printed for a person should not be).
#[cfg(feature = "serde")]
pub(crate) mod stored {
    use alloc::string::String;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{MasterKey, SessionKey, VerificationCode};

    /// A key type kept in records.
    pub(crate) trait StoredKey: Sized {
        fn bytes(&self) -> &[u8; 16];
        fn from_stored(bytes: [u8; 16]) -> Self;
    }

    impl StoredKey for SessionKey {
        fn bytes(&self) -> &[u8; 16] {
            self.expose()
        }
        fn from_stored(bytes: [u8; 16]) -> Self {
            Self::from_bytes(bytes)
        }
    }

    impl StoredKey for MasterKey {
        fn bytes(&self) -> &[u8; 16] {
            self.expose()
        }
        fn from_stored(bytes: [u8; 16]) -> Self {
            Self::from_bytes(bytes)
        }
    }

    /// The key's bytes in hexadecimal.
    pub(crate) fn serialize<K: StoredKey, S: Serializer>(
        key: &K,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        crate::hex::serialize(key.bytes(), serializer)
    }

    /// A key from its bytes in hexadecimal.
    pub(crate) fn deserialize<'de, K: StoredKey, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<K, D::Error> {
        crate::hex::array16::deserialize(deserializer).map(K::from_stored)
    }

    /// A verification code as its text.
    pub(crate) mod code {
        use super::{Deserialize, Deserializer, Serializer, String, VerificationCode};

        pub(crate) fn serialize<S: Serializer>(
            code: &VerificationCode,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(code.expose())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<VerificationCode, D::Error> {
            String::deserialize(deserializer).map(VerificationCode::new)
        }
    }
}
