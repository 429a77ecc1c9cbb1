//! The parameters both sides of an authentication share, and the sealing
//! and opening of fields under them.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::Outbox;
use rand_core::CryptoRngCore;

use super::directory::Enrolled;
use super::error::{AuthFault, crypto_err};
use super::message::{AuthFrame, AuthKind, AuthMessage, NONCE_LEN};
use crate::control::{ProtocolVersion, Suite};
use crate::negotiation::Negotiated;

/// The longest associated data of a sealed authentication field.
const AAD_MAX: usize = 1 + NONCE_LEN + Negotiated::TRANSCRIPT_LEN;
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
    /// The negotiation that ran on this connection, bound into every
    /// sealed field (`PROFILE.md` section 8); `None` on a connection that
    /// began with a refresh (Figure 4), where nothing was negotiated.
    pub negotiated: Option<Negotiated>,
    /// LBS side: how long a sessionkey it issues is accepted by the DAS
    /// (default 24 hours; `None`: until the next one). Processes that
    /// share records must share the clock the instants come from.
    pub session_key_lifetime: Option<Duration>,
    /// LBS side: how long it waits for its directory to answer a request
    /// (default 5 s); then the device is told to retry later.
    pub store_timeout: Duration,
    /// LBS side: how many times the write of a sessionkey record may find
    /// it changed under it before the device is told to retry later
    /// (default 3).
    pub max_conflicts: u8,
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
            negotiated: None,
            session_key_lifetime: Some(Duration::from_secs(24 * 3600)),
            store_timeout: Duration::from_secs(5),
            max_conflicts: 3,
        }
    }

    /// The parameters for the authentication that follows `negotiated` on
    /// the same connection: its protocol type, suite and version, with the
    /// negotiation bound into every sealed field, so that a negotiation
    /// changed on the way makes the authentication fail.
    #[must_use]
    pub fn after(negotiated: Negotiated) -> Self {
        Self::new(negotiated.protocol_type, negotiated.suite).bound(negotiated)
    }

    /// These parameters (key derivation, timeout) for the authentication
    /// that follows `negotiated`, as [`AuthConfig::after`]: its protocol
    /// type, suite and version replace this configuration's.
    #[must_use]
    pub fn bound(self, negotiated: Negotiated) -> Self {
        Self {
            protocol_type: negotiated.protocol_type,
            suite: negotiated.suite,
            version: negotiated.version,
            negotiated: Some(negotiated),
            ..self
        }
    }

    /// These parameters (key derivation, timeout) for a reauthentication,
    /// as [`AuthConfig::refresh`]: the enrolled protocol type and suite
    /// replace this configuration's, and nothing negotiated is bound.
    #[must_use]
    pub fn enrolled_with(self, enrolled: &Enrolled) -> Self {
        Self {
            protocol_type: enrolled.protocol_type,
            suite: enrolled.suite,
            negotiated: None,
            ..self
        }
    }

    /// The parameters of a reauthentication (Figure 4) on a connection
    /// where nothing is negotiated: the protocol type and suite the device
    /// enrolled with.
    #[must_use]
    pub fn refresh(enrolled: &Enrolled) -> Self {
        Self::new(enrolled.protocol_type, enrolled.suite).enrolled_with(enrolled)
    }

    /// The associated data of a sealed field of message `k` in exchange
    /// `nonce`: type byte || nonce || the negotiation's transcript, if one
    /// ran on this connection.
    fn aad(&self, k: AuthKind, nonce: &[u8; NONCE_LEN]) -> ([u8; AAD_MAX], usize) {
        let mut aad = [0u8; AAD_MAX];
        let head = AuthFrame::aad(k, nonce);
        aad[..head.len()].copy_from_slice(&head);
        let mut len = head.len();
        if let Some(n) = &self.negotiated {
            aad[len..].copy_from_slice(&n.transcript());
            len = AAD_MAX;
        }
        (aad, len)
    }

    pub(super) fn seal(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        plain: &[u8],
        rng: &mut impl CryptoRngCore,
        field: &'static str,
    ) -> Result<Vec<u8>, AuthFault> {
        let (aad, len) = self.aad(k, nonce);
        crypto::seal(self.suite, key, &aad[..len], plain, rng).map_err(crypto_err(field))
    }

    pub(super) fn open(
        &self,
        key: &[u8; KEY_LEN],
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
        field: &'static str,
    ) -> Result<Vec<u8>, AuthFault> {
        let (aad, len) = self.aad(k, nonce);
        crypto::open(self.suite, key, &aad[..len], sealed).map_err(crypto_err(field))
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
    ) -> Result<String, AuthFault> {
        String::from_utf8(self.open(key, k, nonce, sealed, field)?)
            .map_err(|_| AuthFault::InvalidValue(field))
    }

    /// Opens a sealed sessionkey (sealed under the masterkey).
    pub(super) fn open_session_key(
        &self,
        master: &MasterKey,
        k: AuthKind,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
    ) -> Result<SessionKey, AuthFault> {
        let bytes =
            zeroize::Zeroizing::new(self.open(master.expose(), k, nonce, sealed, "session key")?);
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice())
            .map_err(|_| AuthFault::InvalidValue("session key"))?;
        Ok(SessionKey::from_bytes(key))
    }

    /// Frames a message for the exchange `nonce` and queues it in `out`.
    pub(super) fn send<E>(
        &self,
        out: &mut Outbox<Vec<u8>, E>,
        nonce: [u8; NONCE_LEN],
        message: AuthMessage,
    ) -> Result<(), AuthFault> {
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

    pub(super) fn check(&self, frame: &AuthFrame) -> Result<(), AuthFault> {
        if frame.protocol_type != self.protocol_type || frame.suite != self.suite {
            return Err(AuthFault::ProtocolMismatch);
        }
        Ok(())
    }
}
