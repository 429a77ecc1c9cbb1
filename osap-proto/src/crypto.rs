//! The keys and ciphers of the authentication (draft section 5): the
//! sharekey, the ECDH masterkey on secp384r1, the sessionkey, and AES-128
//! protection of payloads with the suites of the protocol group.
//!
//! Every key type wipes itself on drop, prints as redacted, and compares in
//! constant time.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use p384::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_LEN]);

        impl $name {
            /// Wraps key bytes.
            #[must_use]
            pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
                Self(bytes)
            }

            /// The key bytes, for the moment they must be used.
            #[must_use]
            pub fn expose(&self) -> &[u8; KEY_LEN] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl Eq for $name {}
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
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }
}

/// A device verification code: a secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// Wraps a verification code.
    #[must_use]
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// The code, for the moment it must be used.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(<redacted>)")
    }
}

impl PartialEq for VerificationCode {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for VerificationCode {}

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
        let mut key = [0u8; KEY_LEN];
        share_key_material(code, serial, params, &mut key);
        Self(key)
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

/// An ECDH key pair on secp384r1 (`ecdh_NID_secp384r1`, section 5).
#[derive(Clone)]
pub struct EcdhKeyPair {
    secret: p384::SecretKey,
}

impl fmt::Debug for EcdhKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EcdhKeyPair(<redacted>)")
    }
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

    /// The 48-byte ECDH shared secret with a peer's SEC1 public key.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidPublicKey`].
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Zeroizing<[u8; 48]>, CryptoError> {
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
        let mut key = [0u8; KEY_LEN];
        match rule {
            MasterKeyRule::Sha256 => {
                let digest = Zeroizing::new(Sha256::digest(shared.as_slice()));
                key.copy_from_slice(digest.get(..KEY_LEN).unwrap_or(&[0; KEY_LEN]));
            }
            MasterKeyRule::Truncate => {
                key.copy_from_slice(shared.get(..KEY_LEN).unwrap_or(&[0; KEY_LEN]));
            }
        }
        Ok(MasterKey(key))
    }
}

/// The length of an authentication tag.
pub const TAG_LEN: usize = 16;
const GCM_NONCE_LEN: usize = 12;
const BLOCK: usize = 16;

/// The bytes a sealed payload adds to its plaintext, at most.
#[must_use]
pub fn overhead(suite: Suite) -> usize {
    match suite {
        Suite::Aes128Gcm => GCM_NONCE_LEN + TAG_LEN,
        Suite::Aes128Cbc => BLOCK + BLOCK + TAG_LEN,
        Suite::Aes128Ecb | Suite::Reserved8 => BLOCK + TAG_LEN,
    }
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with `key` (at most 64 bytes): the key is zero-padded
/// to the block size, which is what HMAC does with a shorter key, so this
/// construction cannot fail.
fn hmac(key: &[u8]) -> HmacSha256 {
    let mut block = Zeroizing::new([0u8; 64]);
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    <HmacSha256 as KeyInit>::new(&(*block).into())
}

/// The MAC key of the encrypt-then-MAC suites: HMAC-SHA256 of a label
/// under the encryption key.
fn mac_key(key: &[u8; KEY_LEN]) -> Zeroizing<[u8; 32]> {
    let mut mac = hmac(key);
    mac.update(b"osap-proto encrypt-then-mac");
    Zeroizing::new(mac.finalize().into_bytes().into())
}

fn mac_tag(key: &[u8; KEY_LEN], aad: &[u8], body: &[u8]) -> HmacSha256 {
    let mk = mac_key(key);
    let mut mac = hmac(mk.as_slice());
    let aad_len = u64::try_from(aad.len()).unwrap_or(u64::MAX);
    mac.update(&aad_len.to_be_bytes());
    mac.update(aad);
    mac.update(body);
    mac
}

/// AES-128-ECB encryption of whole blocks in place (SP 800-38A 6.1).
fn ecb_encrypt(cipher: &Aes128, data: &mut [u8]) {
    for block in data.chunks_exact_mut(BLOCK) {
        cipher.encrypt_block(block.into());
    }
}

fn ecb_decrypt(cipher: &Aes128, data: &mut [u8]) {
    for block in data.chunks_exact_mut(BLOCK) {
        cipher.decrypt_block(block.into());
    }
}

/// AES-128-CBC encryption of whole blocks in place (SP 800-38A 6.2).
fn cbc_encrypt(cipher: &Aes128, iv: &[u8; BLOCK], data: &mut [u8]) {
    let mut prev = *iv;
    for block in data.chunks_exact_mut(BLOCK) {
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        cipher.encrypt_block(block.into());
        prev.copy_from_slice(block);
    }
}

fn cbc_decrypt(cipher: &Aes128, iv: &[u8; BLOCK], data: &mut [u8]) {
    let mut prev = *iv;
    for block in data.chunks_exact_mut(BLOCK) {
        let mut this = [0u8; BLOCK];
        this.copy_from_slice(block);
        cipher.decrypt_block(block.into());
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        prev = this;
    }
}

/// Appends PKCS#7 padding.
fn pad(data: &mut Vec<u8>) {
    let n = BLOCK - data.len() % BLOCK;
    let byte = u8::try_from(n).unwrap_or(16);
    data.extend(core::iter::repeat_n(byte, n));
}

/// Removes PKCS#7 padding (only after the tag has been checked).
fn unpad(data: &mut Vec<u8>) -> Result<(), CryptoError> {
    let n = usize::from(*data.last().ok_or(CryptoError::Authentication)?);
    if n == 0 || n > BLOCK || n > data.len() {
        return Err(CryptoError::Authentication);
    }
    data.truncate(data.len() - n);
    Ok(())
}

/// Seals `plaintext` under `key` with `suite`, binding `aad` (data sent in
/// clear that the payload belongs to). Nonces and IVs come from `rng`.
///
/// Layouts (see `PROFILE.md`):
///
/// * AES-128-GCM: `nonce (12) || ciphertext || tag (16)`;
/// * AES-128-CBC: `IV (16) || ciphertext (PKCS#7) || tag (16)`;
/// * AES-128-ECB: `ciphertext (PKCS#7) || tag (16)`;
///
/// where the CBC and ECB tag is HMAC-SHA256 (truncated to 16 bytes), under a
/// key derived from `key`, over the length of `aad`, `aad`, and everything
/// before the tag (encrypt-then-MAC), so that every suite detects tampering.
///
/// # Errors
///
/// [`CryptoError::UnsupportedSuite`] for bit 8.
pub fn seal(
    suite: Suite,
    key: &[u8; KEY_LEN],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(plaintext.len() + overhead(suite));
    match suite {
        Suite::Aes128Gcm => {
            let mut nonce = [0u8; GCM_NONCE_LEN];
            rng.fill_bytes(&mut nonce);
            out.extend_from_slice(&nonce);
            out.extend_from_slice(plaintext);
            let cipher = Aes128Gcm::new(key.into());
            let body = out.get_mut(GCM_NONCE_LEN..).unwrap_or_default();
            let tag = cipher
                .encrypt_in_place_detached(&Nonce::from(nonce), aad, body)
                .map_err(|_| CryptoError::Authentication)?;
            out.extend_from_slice(&tag);
        }
        Suite::Aes128Cbc | Suite::Aes128Ecb => {
            let cipher = Aes128::new(key.into());
            let start = if suite == Suite::Aes128Cbc {
                let mut iv = [0u8; BLOCK];
                rng.fill_bytes(&mut iv);
                out.extend_from_slice(&iv);
                BLOCK
            } else {
                0
            };
            out.extend_from_slice(plaintext);
            // Padding applies to the plaintext part only.
            let mut body = out.split_off(start);
            pad(&mut body);
            match out
                .get(..BLOCK)
                .and_then(|iv| <[u8; BLOCK]>::try_from(iv).ok())
            {
                Some(iv) => cbc_encrypt(&cipher, &iv, &mut body),
                None => ecb_encrypt(&cipher, &mut body),
            }
            out.extend_from_slice(&body);
            let tag = mac_tag(key, aad, &out).finalize().into_bytes();
            out.extend_from_slice(tag.get(..TAG_LEN).unwrap_or_default());
        }
        Suite::Reserved8 => return Err(CryptoError::UnsupportedSuite(suite)),
    }
    Ok(out)
}

/// Opens a payload sealed by [`seal`] with the same suite, key and `aad`.
///
/// # Errors
///
/// [`CryptoError::Truncated`] when it is shorter than the suite's overhead,
/// [`CryptoError::Authentication`] when the tag does not match (tampered,
/// truncated, wrong key, wrong `aad`), [`CryptoError::UnsupportedSuite`] for
/// bit 8. No plaintext is returned unless the tag matches.
pub fn open(
    suite: Suite,
    key: &[u8; KEY_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let min = match suite {
        Suite::Aes128Gcm => GCM_NONCE_LEN + TAG_LEN,
        Suite::Aes128Cbc => BLOCK + BLOCK + TAG_LEN,
        Suite::Aes128Ecb => BLOCK + TAG_LEN,
        Suite::Reserved8 => return Err(CryptoError::UnsupportedSuite(suite)),
    };
    if sealed.len() < min {
        return Err(CryptoError::Truncated {
            len: sealed.len(),
            min,
        });
    }
    let (head, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    match suite {
        Suite::Aes128Gcm => {
            let (nonce, body) = head.split_at(GCM_NONCE_LEN);
            let nonce =
                <[u8; GCM_NONCE_LEN]>::try_from(nonce).map_err(|_| CryptoError::Authentication)?;
            let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| CryptoError::Authentication)?;
            let mut plain = body.to_vec();
            Aes128Gcm::new(key.into())
                .decrypt_in_place_detached(&Nonce::from(nonce), aad, &mut plain, &Tag::from(tag))
                .map_err(|_| CryptoError::Authentication)?;
            Ok(plain)
        }
        _ => {
            mac_tag(key, aad, head)
                .verify_truncated_left(tag)
                .map_err(|_| CryptoError::Authentication)?;
            let cipher = Aes128::new(key.into());
            let (iv, body) = if suite == Suite::Aes128Cbc {
                let (iv, body) = head.split_at(BLOCK);
                (<[u8; BLOCK]>::try_from(iv).ok(), body)
            } else {
                (None, head)
            };
            if body.len() % BLOCK != 0 {
                return Err(CryptoError::Authentication);
            }
            let mut plain = body.to_vec();
            match iv {
                Some(iv) => cbc_decrypt(&cipher, &iv, &mut plain),
                None => ecb_decrypt(&cipher, &mut plain),
            }
            unpad(&mut plain)?;
            Ok(plain)
        }
    }
}

/// The protection of business messages (section 6: "Business message:
/// AES128(message)" under the sessionkey) with the negotiated suite.
///
/// ```
/// use osap_proto::Suite;
/// use osap_proto::crypto::{PayloadCipher, SessionKey};
/// use rand_core::OsRng;
///
/// let cipher = PayloadCipher::new(Suite::Aes128Gcm, SessionKey::from_bytes([7; 16]));
/// let sealed = cipher.seal(b"dev/1/attr", br#"{"power":"on"}"#, &mut OsRng)?;
/// assert_eq!(cipher.open(b"dev/1/attr", &sealed)?, br#"{"power":"on"}"#);
/// assert!(cipher.open(b"dev/2/attr", &sealed).is_err());
/// # Ok::<(), osap_proto::crypto::CryptoError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PayloadCipher {
    suite: Suite,
    key: SessionKey,
}

impl PayloadCipher {
    /// A cipher for the negotiated suite and the issued sessionkey.
    #[must_use]
    pub fn new(suite: Suite, key: SessionKey) -> Self {
        Self { suite, key }
    }

    /// Seals a business payload, bound to `aad` (for example its topic).
    ///
    /// # Errors
    ///
    /// As [`seal`].
    pub fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, CryptoError> {
        seal(self.suite, self.key.expose(), aad, plaintext, rng)
    }

    /// Opens a business payload sealed with the same `aad`.
    ///
    /// # Errors
    ///
    /// As [`open`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open(self.suite, self.key.expose(), aad, sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// FIPS-197 Appendix C.1 (AES-128).
    #[test]
    fn fips_197_c1() {
        let cipher = Aes128::new_from_slice(&hex("000102030405060708090a0b0c0d0e0f")).unwrap();
        let mut block = hex("00112233445566778899aabbccddeeff");
        ecb_encrypt(&cipher, &mut block);
        assert_eq!(block, hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
        ecb_decrypt(&cipher, &mut block);
        assert_eq!(block, hex("00112233445566778899aabbccddeeff"));
    }

    const SP800_38A_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const SP800_38A_PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                                   30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

    /// NIST SP 800-38A F.1.1 (ECB-AES128.Encrypt).
    #[test]
    fn sp800_38a_ecb() {
        let cipher = Aes128::new_from_slice(&hex(SP800_38A_KEY)).unwrap();
        let mut data = hex(SP800_38A_PLAIN);
        ecb_encrypt(&cipher, &mut data);
        assert_eq!(
            data,
            hex(
                "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
                 43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"
            )
        );
        ecb_decrypt(&cipher, &mut data);
        assert_eq!(data, hex(SP800_38A_PLAIN));
    }

    /// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt).
    #[test]
    fn sp800_38a_cbc() {
        let cipher = Aes128::new_from_slice(&hex(SP800_38A_KEY)).unwrap();
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let mut data = hex(SP800_38A_PLAIN);
        cbc_encrypt(&cipher, &iv, &mut data);
        assert_eq!(
            data,
            hex(
                "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
                 73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7"
            )
        );
        cbc_decrypt(&cipher, &iv, &mut data);
        assert_eq!(data, hex(SP800_38A_PLAIN));
    }

    /// A fixed "RNG" that yields the given bytes, to pin nonces in
    /// known-answer tests.
    struct Fixed(Vec<u8>);
    impl rand_core::RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            let n = dest.len();
            dest.copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Fixed {}

    /// GCM test cases 1 and 2 of the GCM specification by `McGrew` and `Viega` (the
    /// vectors NIST SP 800-38D's validation uses): zero key, zero nonce.
    #[test]
    fn gcm_test_cases_1_and_2() {
        let key = [0u8; 16];
        let sealed = seal(Suite::Aes128Gcm, &key, b"", b"", &mut Fixed(vec![0; 12])).unwrap();
        assert_eq!(sealed[12..], hex("58e2fccefa7e3061367f1d57a4e7455a")[..]);
        let sealed = seal(
            Suite::Aes128Gcm,
            &key,
            b"",
            &[0u8; 16],
            &mut Fixed(vec![0; 12]),
        )
        .unwrap();
        assert_eq!(
            sealed[12..],
            hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")[..]
        );
        assert_eq!(
            open(Suite::Aes128Gcm, &key, b"", &sealed).unwrap(),
            [0u8; 16]
        );
    }

    #[test]
    fn every_suite_detects_tampering_truncation_wrong_key_and_wrong_aad() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        use rand_core::SeedableRng;
        let key = [7u8; 16];
        for suite in [Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb] {
            for len in [0usize, 1, 15, 16, 17, 100] {
                let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 256).unwrap()).collect();
                let sealed = seal(suite, &key, b"aad", &plain, &mut rng).unwrap();
                assert!(sealed.len() <= plain.len() + overhead(suite));
                assert_eq!(
                    open(suite, &key, b"aad", &sealed).unwrap(),
                    plain,
                    "{suite:?} {len}"
                );
                for i in 0..sealed.len() {
                    let mut t = sealed.clone();
                    t[i] ^= 0x01;
                    assert_eq!(
                        open(suite, &key, b"aad", &t),
                        Err(CryptoError::Authentication),
                        "{suite:?} byte {i}"
                    );
                }
                assert!(open(suite, &key, b"aad", &sealed[..sealed.len() - 1]).is_err());
                assert_eq!(
                    open(suite, &[8u8; 16], b"aad", &sealed),
                    Err(CryptoError::Authentication)
                );
                assert_eq!(
                    open(suite, &key, b"aae", &sealed),
                    Err(CryptoError::Authentication)
                );
            }
            assert!(matches!(
                open(suite, &key, b"", &[0u8; 3]),
                Err(CryptoError::Truncated { .. })
            ));
        }
        assert_eq!(
            seal(Suite::Reserved8, &key, b"", b"", &mut rng),
            Err(CryptoError::UnsupportedSuite(Suite::Reserved8))
        );
    }

    #[test]
    fn nonces_differ_between_seals() {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let a = seal(Suite::Aes128Gcm, &[1; 16], b"", b"same", &mut rng).unwrap();
        let b = seal(Suite::Aes128Gcm, &[1; 16], b"", b"same", &mut rng).unwrap();
        assert_ne!(a[..12], b[..12]);
    }

    /// RFC 5903 section 8.2: the 384-bit random ECP group.
    #[test]
    fn rfc_5903_p384_ecdh() {
        let i = EcdhKeyPair::from_scalar(&hex(
            "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
        ))
        .unwrap();
        let r = EcdhKeyPair::from_scalar(&hex(
            "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
        ))
        .unwrap();
        let gi = hex(
            "04667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa\
             9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
        );
        let gr = hex(
            "04e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571\
             dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
        );
        assert_eq!(i.public_key()[..], gi[..]);
        assert_eq!(r.public_key()[..], gr[..]);
        let gir = hex(
            "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746",
        );
        assert_eq!(i.shared_secret(&gr).unwrap()[..], gir[..]);
        assert_eq!(r.shared_secret(&gi).unwrap()[..], gir[..]);
        // Device and server masterkeys agree, under either rule.
        for rule in [MasterKeyRule::Sha256, MasterKeyRule::Truncate] {
            assert_eq!(
                i.master_key(&gr, rule).unwrap(),
                r.master_key(&gi, rule).unwrap()
            );
        }
        assert_eq!(
            i.master_key(&gr, MasterKeyRule::Truncate).unwrap().expose()[..],
            gir[..16]
        );
        assert_eq!(
            i.master_key(&gr, MasterKeyRule::Sha256).unwrap().expose()[..],
            Sha256::digest(&gir)[..16]
        );
        assert_eq!(
            i.master_key(&[4u8; 97], MasterKeyRule::Sha256),
            Err(CryptoError::InvalidPublicKey)
        );
        assert!(EcdhKeyPair::from_scalar(&[0u8; 48]).is_err());
    }

    /// The sharekey against Python's hashlib, run once:
    ///
    /// ```text
    /// python3 -c "
    /// import hashlib
    /// code, serial = '123456', 'SN-0001'
    /// a = hashlib.md5((code + serial).encode()).hexdigest()
    /// b = hashlib.md5((a + 'www.88075998.com').encode()).hexdigest()
    /// c = hashlib.md5(b.encode()).hexdigest()
    /// print(hashlib.pbkdf2_hmac('sha256', c.encode(), serial.encode(), 1000, 16).hex())
    /// print(hashlib.pbkdf2_hmac('sha256', c.encode(), serial.encode(), 1000, 32).hex())
    /// a = hashlib.md5((code + serial).encode()).digest()
    /// b = hashlib.md5(a + b'www.88075998.com').digest()
    /// c = hashlib.md5(b).digest()
    /// print(hashlib.pbkdf2_hmac('sha256', c, b'fixed-salt', 2000, 16).hex())"
    /// ```
    #[test]
    fn sharekey_against_hashlib() {
        let code = VerificationCode::new("123456");
        let defaults = ShareKeyParams::default();
        assert_eq!(
            ShareKey::derive(&code, "SN-0001", &defaults).expose()[..],
            hex("2f5f55aef80b6dd9ee7d0d595e5847c5")[..]
        );
        let mut long = [0u8; 32];
        share_key_material(&code, "SN-0001", &defaults, &mut long);
        assert_eq!(
            long[..],
            hex("2f5f55aef80b6dd9ee7d0d595e5847c57c92dc7296bdfff5e2942a12e5e2b30d")[..]
        );
        let other = ShareKeyParams {
            salt: Salt::Fixed(b"fixed-salt".to_vec()),
            iterations: 2_000,
            md5_form: Md5Form::Raw,
        };
        assert_eq!(
            ShareKey::derive(&code, "SN-0001", &other).expose()[..],
            hex("f2a669e173f4c2020b51fc5b321728e1")[..]
        );
        assert_ne!(
            ShareKey::derive(&VerificationCode::new("123457"), "SN-0001", &defaults),
            ShareKey::derive(&code, "SN-0001", &defaults)
        );
    }

    #[test]
    fn keys_are_redacted() {
        assert_eq!(
            format!("{:?}", SessionKey::from_bytes([1; 16])),
            "SessionKey(<redacted>)"
        );
        assert_eq!(
            format!("{:?}", VerificationCode::new("1234")),
            "VerificationCode(<redacted>)"
        );
        assert_ne!(
            MasterKey::from_bytes([1; 16]),
            MasterKey::from_bytes([2; 16])
        );
    }
}
