//! The keys and ciphers of the authentication (draft section 5): the
//! sharekey, the ECDH masterkey on secp384r1, the sessionkey, and AES-128
//! protection of payloads with the suites of the protocol group.
//!
//! Every key type wipes itself on drop, prints as redacted, and compares in
//! constant time.

mod cipher;
mod keys;
#[cfg(test)]
mod tests;

#[cfg(feature = "business")]
pub(crate) use cipher::keyed_mac;
pub use cipher::{PayloadCipher, TAG_LEN, open, overhead, seal};
#[cfg(feature = "serde")]
pub(crate) use keys::stored;
pub use keys::{
    CryptoError, EcdhKeyPair, KEY_LEN, MasterKey, MasterKeyRule, Md5Form, PUBLIC_KEY_LEN,
    SHAREKEY_CONSTANT, Salt, SessionKey, ShareKey, ShareKeyParams, VerificationCode,
    share_key_material,
};
