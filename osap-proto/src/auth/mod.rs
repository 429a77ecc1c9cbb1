//! The ECDH authentication of draft section 5 (Figures 3 and 4, Table 3)
//! and the DAS redirect of section 6: the control messages ([`message`]),
//! and the device ([`DeviceAuth`]) and LBS ([`LbsAuth`]) state machines
//! under the family's contract ([`iot_sansio::Machine`]).
//!
//! Every message is a control frame in ECDH key mode (flags `0x3`) whose
//! variable header carries the negotiated protocol type and suite, whose
//! transaction content is the 16-byte nonce of the exchange (chosen by the
//! device, echoed by the LBS), and whose application payload is a list of
//! fields `tag (1) || length (2, big endian) || value`. Sealed fields are
//! [`crate::crypto::seal`]ed under the key Table 3's flow names, with the
//! message type and the nonce as associated data, so a response replayed
//! from another exchange does not open. See `PROFILE.md` for every body.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::End;
use rand_core::CryptoRngCore;

use crate::control::{ProtocolVersion, Suite};
use crate::crypto::{
    self, CryptoError, KEY_LEN, MasterKey, MasterKeyRule, SessionKey, ShareKeyParams,
};
use crate::error::FrameError;

mod device;
mod lbs;
pub mod message;

pub use device::{DeviceAuth, DeviceAuthEvent};
pub use lbs::{DeviceDirectory, LbsAuth, LbsAuthEvent};
pub use message::{AuthFrame, AuthKind, AuthMessage, AuthResult, NONCE_LEN};

/// Why the authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A malformed frame or message.
    #[error("malformed message: {0}")]
    Malformed(#[from] FrameError),
    /// A sealed field did not open: tampered, wrong key, or replayed from
    /// another exchange.
    #[error("{field}: {error}")]
    Crypto {
        /// The field.
        field: &'static str,
        /// Why.
        error: CryptoError,
    },
    /// A message that is not the one expected now (reordered, duplicated,
    /// or from the wrong side).
    #[error("expected {expected:?}, got {got:?}")]
    UnexpectedMessage {
        /// What was expected.
        expected: AuthKind,
        /// What came.
        got: AuthKind,
    },
    /// A response whose nonce is not the request's: replayed or stale.
    #[error("the response does not answer the current request")]
    NonceMismatch,
    /// A message with another protocol type or suite than negotiated.
    #[error("the message does not use the negotiated protocol")]
    ProtocolMismatch,
    /// A decrypted value is not what it must be (a devid that is not
    /// UTF-8, a session key of the wrong length).
    #[error("invalid decrypted {0}")]
    InvalidValue(&'static str),
}

pub(crate) fn crypto_err(field: &'static str) -> impl Fn(CryptoError) -> AuthError {
    move |error| AuthError::Crypto { field, error }
}

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

    pub(crate) fn seal(
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

    pub(crate) fn open(
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
    fn proves(
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
    fn open_text(
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
    fn open_session_key(
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

    fn frame(&self, nonce: [u8; NONCE_LEN], message: AuthMessage) -> Result<Vec<u8>, AuthError> {
        let frame = AuthFrame {
            protocol_type: self.protocol_type,
            suite: self.suite,
            version: self.version,
            nonce,
            message,
        };
        let mut out = Vec::new();
        frame.encode(&mut out)?;
        Ok(out)
    }

    fn check(&self, frame: &AuthFrame) -> Result<(), AuthError> {
        if frame.protocol_type != self.protocol_type || frame.suite != self.suite {
            return Err(AuthError::ProtocolMismatch);
        }
        Ok(())
    }
}

/// Turns the LBS's refusal into [`AuthRefusal::ByLbs`].
fn accepted(result: AuthResult) -> Result<(), AuthEnd> {
    match result {
        AuthResult::Accepted => Ok(()),
        AuthResult::Refused => Err(End::Refused(AuthRefusal::ByLbs)),
    }
}

/// Why an authentication was refused by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRefusal {
    /// Device side: the LBS refused. It does not say why, so that an
    /// unknown device and a wrong verification code look the same.
    ByLbs,
    /// LBS side: the serial number is not in the directory.
    UnknownDevice,
    /// LBS side: the device public key did not open under the sharekey:
    /// wrong verification code (or tampering).
    WrongVerificationCode,
    /// LBS side: the devid is unknown or its proof did not open.
    BadProof,
}

impl core::fmt::Display for AuthRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::ByLbs => "the LBS refused the authentication",
            Self::UnknownDevice => "unknown serial number",
            Self::WrongVerificationCode => "wrong verification code",
            Self::BadProof => "unknown devid or bad proof",
        })
    }
}

/// How an authentication ended other than by success.
pub type AuthEnd = End<AuthError, AuthRefusal>;

impl From<AuthError> for AuthEnd {
    fn from(error: AuthError) -> Self {
        End::PeerFault(error)
    }
}

impl From<FrameError> for AuthEnd {
    fn from(error: FrameError) -> Self {
        End::PeerFault(error.into())
    }
}
