//! How an authentication fails: the peer's faults ([`AuthFault`]), the
//! refusals of policy ([`AuthRefusal`]) and the one end reason both make.

use iot_sansio::End;

use super::message::{AuthKind, AuthResult};
use crate::crypto::CryptoError;
use crate::error::FrameError;

/// Why the authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFault {
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

pub(super) fn crypto_err(field: &'static str) -> impl Fn(CryptoError) -> AuthFault {
    move |error| AuthFault::Crypto { field, error }
}

/// Turns the LBS's refusal into [`AuthRefusal::ByLbs`].
pub(super) fn accepted(result: AuthResult) -> Result<(), AuthEnd> {
    match result {
        AuthResult::Accepted => Ok(()),
        AuthResult::Refused => Err(End::Refused(AuthRefusal::ByLbs)),
        AuthResult::RetryLater => Err(End::Refused(AuthRefusal::Unavailable)),
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
    /// LBS side: the device public key opened under the sharekey (the
    /// verification code was right) but is not a P-384 point in SEC1
    /// uncompressed form: 97 bytes, `04 || x || y`, on the curve, not the
    /// identity (PROFILE.md section 8).
    InvalidPublicKey,
    /// LBS side: the [`crate::DeviceDirectory`] refused (it could not
    /// propose or keep a devid, or has no DAS for the device), with its
    /// reason.
    Directory(&'static str),
    /// Both sides: the LBS's directory could not answer (down, slow, or
    /// contended), so the device was told to retry later
    /// ([`AuthResult::RetryLater`]). Nothing is wrong with the device: it
    /// keeps what it holds (its enrolment) and tries again.
    Unavailable,
}

impl core::fmt::Display for AuthRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::ByLbs => "the LBS refused the authentication",
            Self::UnknownDevice => "unknown serial number",
            Self::WrongVerificationCode => "wrong verification code",
            Self::BadProof => "unknown devid or bad proof",
            Self::InvalidPublicKey => "the device public key is not an uncompressed P-384 point",
            Self::Directory(reason) => return write!(f, "the directory refused: {reason}"),
            Self::Unavailable => "the LBS's directory is unavailable: retry later",
        })
    }
}

/// How an authentication ended other than by success.
pub type AuthEnd = End<AuthFault, AuthRefusal>;

impl From<AuthFault> for AuthEnd {
    fn from(error: AuthFault) -> Self {
        End::PeerFault(error)
    }
}

impl From<FrameError> for AuthEnd {
    fn from(error: FrameError) -> Self {
        End::PeerFault(error.into())
    }
}
