//! AES-128 protection of payloads with the suites of the protocol group
//! (draft section 5; the layouts are in `PROFILE.md`).

use alloc::boxed::Box;
use alloc::vec::Vec;

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Nonce, Tag};
use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::keys::{CryptoError, KEY_LEN, SessionKey};
use crate::control::Suite;

/// The length of an authentication tag.
pub const TAG_LEN: usize = 16;
pub(super) const GCM_NONCE_LEN: usize = 12;
pub(super) const BLOCK: usize = 16;

/// The bytes a sealed payload adds to its plaintext, at most.
#[must_use]
pub fn overhead(suite: Suite) -> usize {
    match suite {
        Suite::Aes128Gcm => GCM_NONCE_LEN + TAG_LEN,
        Suite::Aes128Cbc => BLOCK + BLOCK + TAG_LEN,
        Suite::Aes128Ecb | Suite::Reserved8 => BLOCK + TAG_LEN,
    }
}

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with `key` (at most 64 bytes): the key is zero-padded
/// to the block size, which is what HMAC does with a shorter key, so this
/// construction cannot fail.
pub(super) fn hmac(key: &[u8]) -> HmacSha256 {
    let mut block = Zeroizing::new([0u8; 64]);
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    <HmacSha256 as KeyInit>::new(&(*block).into())
}

/// A key for one purpose, derived from `key`: HMAC-SHA256 of the
/// purpose's label under it, so that no key serves two primitives.
pub(super) fn derived_key(key: &[u8; KEY_LEN], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = hmac(key);
    mac.update(label);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The MAC key of the encrypt-then-MAC suites.
pub(super) fn mac_key(key: &[u8; KEY_LEN]) -> Zeroizing<[u8; 32]> {
    derived_key(key, b"osap-proto encrypt-then-mac")
}

/// HMAC-SHA256 under the key [`derived_key`] gives for `label`.
#[cfg(feature = "business")]
pub(crate) fn keyed_mac(key: &[u8; KEY_LEN], label: &[u8]) -> HmacSha256 {
    hmac(derived_key(key, label).as_slice())
}

pub(super) fn mac_tag(key: &[u8; KEY_LEN], aad: &[u8], body: &[u8]) -> HmacSha256 {
    let mk = mac_key(key);
    let mut mac = hmac(mk.as_slice());
    let aad_len = u64::try_from(aad.len()).unwrap_or(u64::MAX);
    mac.update(&aad_len.to_be_bytes());
    mac.update(aad);
    mac.update(body);
    mac
}

/// AES-128-ECB encryption of whole blocks in place (SP 800-38A 6.1).
pub(super) fn ecb_encrypt(cipher: &Aes128, data: &mut [u8]) {
    for block in data.chunks_exact_mut(BLOCK) {
        cipher.encrypt_block(block.into());
    }
}

pub(super) fn ecb_decrypt(cipher: &Aes128, data: &mut [u8]) {
    for block in data.chunks_exact_mut(BLOCK) {
        cipher.decrypt_block(block.into());
    }
}

/// AES-128-CBC encryption of whole blocks in place (SP 800-38A 6.2).
pub(super) fn cbc_encrypt(cipher: &Aes128, iv: &[u8; BLOCK], data: &mut [u8]) {
    let mut prev = *iv;
    for block in data.chunks_exact_mut(BLOCK) {
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        cipher.encrypt_block(block.into());
        prev.copy_from_slice(block);
    }
}

pub(super) fn cbc_decrypt(cipher: &Aes128, iv: &[u8; BLOCK], data: &mut [u8]) {
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
pub(super) fn pad(data: &mut Vec<u8>) {
    let n = BLOCK - data.len() % BLOCK;
    let byte = u8::try_from(n).unwrap_or(16);
    data.extend(core::iter::repeat_n(byte, n));
}

/// Removes PKCS#7 padding (only after the tag has been checked).
pub(super) fn unpad(data: &mut Vec<u8>) -> Result<(), CryptoError> {
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
    seal_expanded(
        &Expanded::new(suite, key)?,
        key,
        aad,
        plaintext,
        rng,
        &mut out,
    )?;
    Ok(out)
}

/// The AES key schedule of one key, expanded once (and wiped on drop, with
/// the `zeroize` features of `aes` and `aes-gcm`), for the suite it serves.
#[derive(Clone)]
enum Expanded {
    Gcm(Box<Aes128Gcm>),
    Cbc(Box<Aes128>),
    Ecb(Box<Aes128>),
}

impl Expanded {
    fn new(suite: Suite, key: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        let block = || Box::new(Aes128::new(key.into()));
        match suite {
            Suite::Aes128Gcm => Ok(Self::Gcm(Box::new(Aes128Gcm::new(key.into())))),
            Suite::Aes128Cbc => Ok(Self::Cbc(block())),
            Suite::Aes128Ecb => Ok(Self::Ecb(block())),
            Suite::Reserved8 => Err(CryptoError::UnsupportedSuite(suite)),
        }
    }
}

/// [`seal`] with the key schedule already expanded, appending to `out`
/// (which is left as it was on error).
fn seal_expanded(
    expanded: &Expanded,
    key: &[u8; KEY_LEN],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRngCore,
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let start = out.len();
    let (cipher, iv) = match expanded {
        Expanded::Gcm(cipher) => {
            out.reserve(GCM_NONCE_LEN + plaintext.len() + TAG_LEN);
            let mut nonce = [0u8; GCM_NONCE_LEN];
            rng.fill_bytes(&mut nonce);
            out.extend_from_slice(&nonce);
            out.extend_from_slice(plaintext);
            let body = out.get_mut(start + GCM_NONCE_LEN..).unwrap_or_default();
            match cipher.encrypt_in_place_detached(&Nonce::from(nonce), aad, body) {
                Ok(tag) => out.extend_from_slice(&tag),
                Err(_) => {
                    out.truncate(start);
                    return Err(CryptoError::Authentication);
                }
            }
            return Ok(());
        }
        Expanded::Cbc(cipher) => {
            let mut iv = [0u8; BLOCK];
            rng.fill_bytes(&mut iv);
            (cipher, Some(iv))
        }
        Expanded::Ecb(cipher) => (cipher, None),
    };
    out.reserve(BLOCK + plaintext.len() + BLOCK + TAG_LEN);
    out.extend_from_slice(iv.as_ref().map_or(&[][..], |iv| &iv[..]));
    // Padding applies to the plaintext part only.
    let mut body = plaintext.to_vec();
    pad(&mut body);
    match iv {
        Some(iv) => cbc_encrypt(cipher, &iv, &mut body),
        None => ecb_encrypt(cipher, &mut body),
    }
    out.extend_from_slice(&body);
    let tag = mac_tag(key, aad, out.get(start..).unwrap_or_default())
        .finalize()
        .into_bytes();
    out.extend_from_slice(tag.get(..TAG_LEN).unwrap_or_default());
    Ok(())
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
    open_expanded(&Expanded::new(suite, key)?, key, aad, sealed)
}

/// [`open`] with the key schedule already expanded.
fn open_expanded(
    expanded: &Expanded,
    key: &[u8; KEY_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let min = match expanded {
        Expanded::Gcm(_) => GCM_NONCE_LEN + TAG_LEN,
        Expanded::Cbc(_) => BLOCK + BLOCK + TAG_LEN,
        Expanded::Ecb(_) => BLOCK + TAG_LEN,
    };
    if sealed.len() < min {
        return Err(CryptoError::Truncated {
            len: sealed.len(),
            min,
        });
    }
    let (head, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    let (cipher, cbc) = match expanded {
        Expanded::Gcm(cipher) => {
            let (nonce, body) = head.split_at(GCM_NONCE_LEN);
            let nonce =
                <[u8; GCM_NONCE_LEN]>::try_from(nonce).map_err(|_| CryptoError::Authentication)?;
            let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| CryptoError::Authentication)?;
            let mut plain = body.to_vec();
            cipher
                .decrypt_in_place_detached(&Nonce::from(nonce), aad, &mut plain, &Tag::from(tag))
                .map_err(|_| CryptoError::Authentication)?;
            return Ok(plain);
        }
        Expanded::Cbc(cipher) => (cipher, true),
        Expanded::Ecb(cipher) => (cipher, false),
    };
    mac_tag(key, aad, head)
        .verify_truncated_left(tag)
        .map_err(|_| CryptoError::Authentication)?;
    let (iv, body) = if cbc {
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
        Some(iv) => cbc_decrypt(cipher, &iv, &mut plain),
        None => ecb_decrypt(cipher, &mut plain),
    }
    unpad(&mut plain)?;
    Ok(plain)
}

/// The protection of business messages (section 6: "Business message:
/// AES128(message)" under the sessionkey) with the negotiated suite.
///
/// ```
/// use osap_proto::Suite;
/// use osap_proto::crypto::{PayloadCipher, SessionKey};
/// use iot_sansio::testing::rng;
///
/// let cipher = PayloadCipher::new(Suite::Aes128Gcm, SessionKey::from_bytes([7; 16]));
/// let sealed = cipher.seal(b"dev/1/attr", br#"{"power":"on"}"#, &mut rng(1))?;
/// assert_eq!(cipher.open(b"dev/1/attr", &sealed)?, br#"{"power":"on"}"#);
/// assert!(cipher.open(b"dev/2/attr", &sealed).is_err());
/// # Ok::<(), osap_proto::crypto::CryptoError>(())
/// ```
///
/// The AES key schedule is expanded once, when the cipher is made, and
/// wiped when it is dropped.
#[derive(Clone)]
pub struct PayloadCipher {
    suite: Suite,
    key: SessionKey,
    expanded: Option<Expanded>,
}

impl core::fmt::Debug for PayloadCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PayloadCipher")
            .field("suite", &self.suite)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl PayloadCipher {
    /// A cipher for the negotiated suite and the issued sessionkey.
    #[must_use]
    pub fn new(suite: Suite, key: SessionKey) -> Self {
        let expanded = Expanded::new(suite, key.expose()).ok();
        Self {
            suite,
            key,
            expanded,
        }
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
        let mut out = Vec::new();
        self.seal_into(aad, plaintext, rng, &mut out)?;
        Ok(out)
    }

    /// As [`PayloadCipher::seal`], appending the sealed payload to `out`
    /// instead of allocating: a runtime that reuses its buffer seals
    /// without allocating. `out` is left as it was on error.
    ///
    /// # Errors
    ///
    /// As [`seal`].
    pub fn seal_into(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let expanded = self
            .expanded
            .as_ref()
            .ok_or(CryptoError::UnsupportedSuite(self.suite))?;
        seal_expanded(expanded, self.key.expose(), aad, plaintext, rng, out)
    }

    /// Opens a business payload sealed with the same `aad`.
    ///
    /// # Errors
    ///
    /// As [`open`].
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let expanded = self
            .expanded
            .as_ref()
            .ok_or(CryptoError::UnsupportedSuite(self.suite))?;
        open_expanded(expanded, self.key.expose(), aad, sealed)
    }
}
