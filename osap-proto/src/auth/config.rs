//! The parameters both sides of an authentication share, and the sealing
//! and opening of fields under them.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::Outbox;
use rand_core::CryptoRngCore;

use super::error::{AuthError, crypto_err};
use super::message::{AuthFrame, AuthKind, AuthMessage, NONCE_LEN};
use crate::control::{ProtocolVersion, Suite};
use crate::crypto::{self, KEY_LEN, MasterKey, MasterKeyRule, SessionKey, ShareKeyParams};

/// The negotiated parameters both sides share, and how long each waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The negotiated protocol type.
    pub protocol_type: u8,
    /// The negotiated suite.
    pub suite: Suite,
    /// The PROTOCOL-VERSION to send.
    pub version: ProtocolVersion,
    /// The sharekey parameters.
    pub share_key: ShareKeyParams,
    /// How the masterkey comes from the ECDH secret.
    pub master_key: MasterKeyRule,
    /// How long to wait for the peer's next message (default 10 s).
    pub timeout: Duration,
}

impl AuthConfig {
    /// The parameters for a negotiated protocol type and suite, with the
    /// default version, key derivation and a 10 s timeout.
    #[must_use]
    pub fn new(protocol_type: u8, suite: Suite) -> Self {
        Self {
            protocol_type,
            suite,
            version: ProtocolVersion::DEFAULT,
            share_key: ShareKeyParams::default(),
            master_key: MasterKeyRule::default(),
            timeout: Duration::from_secs(10),
        }
    }

    pub(super) fn seal(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        plain: &[u8],
        rng: &mut impl CryptoRngCore,
        field: &'static str,
    ) -> Result<Vec<u8>, AuthError> {
        crypto::seal(self.suite, key, &AuthFrame::aad(k, nonce), plain, rng)
            .map_err(crypto_err(field))
    }

    pub(super) fn open(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
        field: &'static str,
    ) -> Result<Vec<u8>, AuthError> {
        crypto::open(self.suite, key, &AuthFrame::aad(k, nonce), sealed).map_err(crypto_err(field))
    }

    /// Whether `proof` opens under `key` to `expected`: the proofs of
    /// apply devid, confirm, refresh and DAS request.
    pub(super) fn proves(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        proof: &[u8],
        expected: &[u8],
    ) -> bool {
        self.open(key, k, nonce, proof, "proof")
            .is_ok_and(|p| p == expected)
    }

    /// Opens a sealed UTF-8 text field.
    pub(super) fn open_text(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
        field: &'static str,
    ) -> Result<String, AuthError> {
        String::from_utf8(self.open(key, k, nonce, sealed, field)?)
            .map_err(|_| AuthError::InvalidValue(field))
    }

    /// Opens a sealed sessionkey (sealed under the masterkey).
    pub(super) fn open_session_key(
        &self,
        master: &MasterKey,
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
    ) -> Result<SessionKey, AuthError> {
        let bytes =
            zeroize::Zeroizing::new(self.open(master.expose(), k, nonce, sealed, "session key")?);
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice())
            .map_err(|_| AuthError::InvalidValue("session key"))?;
        Ok(SessionKey::from_bytes(key))
    }

    /// Frames a message for the exchange `nonce` and queues it in `out`.
    pub(super) fn send<E>(
        &self,
        out: &mut Outbox<Vec<u8>, E>,
        nonce: [u8; NONCE_LEN],
        message: AuthMessage,
    ) -> Result<(), AuthError> {
        let frame = AuthFrame {
            protocol_type: self.protocol_type,
            suite: self.suite,
            version: self.version,
            nonce,
            message,
        };
        out.send_with(|buf| frame.encode(buf))?;
        Ok(())
    }

    pub(super) fn check(&self, frame: &AuthFrame) -> Result<(), AuthError> {
        if frame.protocol_type != self.protocol_type || frame.suite != self.suite {
            return Err(AuthError::ProtocolMismatch);
        }
        Ok(())
    }
}
