//! The ECDH authentication of draft section 5 (Figures 3 and 4, Table 3)
//! and the DAS redirect of section 6: the control messages, and the device
//! and LBS state machines.
//!
//! Every message is a control frame in ECDH key mode (flags `0x3`) whose
//! variable header carries the negotiated protocol type and suite, whose
//! transaction content is the 16-byte nonce of the exchange (chosen by the
//! device, echoed by the LBS), and whose application payload is a list of
//! fields `tag (1) || length (2, big endian) || value`. Sealed fields are
//! [`crate::crypto::seal`]ed under the key Table 3's flow names, with the
//! message type and the nonce as associated data, so a response replayed
//! from another exchange does not open. See `PROFILE.md` for every body.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Add;
use core::time::Duration;

use rand_core::CryptoRngCore;

use crate::control::{ControlFlags, ControlFrame, ProtocolGroup, ProtocolVersion, Suite};
use crate::crypto::{
    self, CryptoError, EcdhKeyPair, KEY_LEN, MasterKey, MasterKeyRule, SessionKey, ShareKey,
    ShareKeyParams, VerificationCode,
};
use crate::decoder::FrameDecoder;
use crate::error::{Error, Reason};

/// The control message types of Table 3 (ECDH key mode), and the two this
/// crate adds for the DAS address exchange of section 6.
pub mod auth_kind {
    /// `Authentication_ECDH_Req`, device to LBS: the sealed device public key.
    pub const ECDH_REQ: u8 = 0x1;
    /// `Authentication_ECDH_Rsp`, LBS to device: the sealed LBS public key.
    pub const ECDH_RSP: u8 = 0x2;
    /// Reserved.
    pub const RESERVED_3: u8 = 0x3;
    /// `Refresh_SessionKey_Req`, device to LBS.
    pub const REFRESH_REQ: u8 = 0x4;
    /// Reserved.
    pub const RESERVED_5: u8 = 0x5;
    /// `Refresh_SessionKey_Rsp`, LBS to device.
    pub const REFRESH_RSP: u8 = 0x6;
    /// `Authentication_apply_devid_Req`, device to LBS.
    pub const APPLY_DEVID_REQ: u8 = 0x7;
    /// `Authentication_apply_devid_Rsp`, LBS to device.
    pub const APPLY_DEVID_RSP: u8 = 0x8;
    /// `Authentication_apply_devid_Cfm`, device to LBS.
    pub const APPLY_DEVID_CFM: u8 = 0x9;
    /// Get DAS address request (section 6, F1), device to LBS.
    pub const DAS_REQ: u8 = 0xa;
    /// Get DAS address response (section 6, F2), LBS to device.
    pub const DAS_RSP: u8 = 0xb;
}

use auth_kind as kind;

/// Field tags of the message bodies.
mod tag {
    pub(super) const SERIAL: u8 = 0x01;
    pub(super) const DEVICE_PUBLIC_KEY: u8 = 0x02;
    pub(super) const LBS_PUBLIC_KEY: u8 = 0x03;
    pub(super) const PROOF: u8 = 0x04;
    pub(super) const DEVID: u8 = 0x05;
    pub(super) const SESSION_KEY: u8 = 0x06;
    pub(super) const DEVID_CLEAR: u8 = 0x07;
    pub(super) const DAS_ADDRESS: u8 = 0x0a;
    pub(super) const RESULT: u8 = 0x10;
}

/// The length of the nonce of one exchange.
pub const NONCE_LEN: usize = 16;

/// A response's result field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AuthResult {
    /// 0: accepted; the sealed fields follow.
    Accepted,
    /// 1: refused. The LBS says no more, so that an unknown device and a
    /// wrong verification code look the same.
    Refused,
}

/// One authentication control message (Table 3 and section 6). Sealed
/// fields are shown as the bytes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AuthMessage {
    /// 0x1: the serial number, and the device public key sealed under the
    /// sharekey.
    EcdhRequest {
        /// The device serial number.
        serial: String,
        /// The sealed device public key.
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_public_key: Vec<u8>,
    },
    /// 0x2: the result, and the LBS public key sealed under the sharekey.
    EcdhResponse {
        /// The result.
        result: AuthResult,
        /// The sealed LBS public key (when accepted).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_public_key: Vec<u8>,
    },
    /// 0x4: the devid, and a proof sealed under the masterkey.
    RefreshRequest {
        /// The devid.
        devid: String,
        /// The devid sealed under the masterkey.
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        proof: Vec<u8>,
    },
    /// 0x6: the result, and the new sessionkey sealed under the masterkey.
    RefreshResponse {
        /// The result.
        result: AuthResult,
        /// The sealed sessionkey (when accepted).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_session_key: Vec<u8>,
    },
    /// 0x7: the serial number, and a proof sealed under the masterkey.
    ApplyDevidRequest {
        /// The device serial number.
        serial: String,
        /// The serial number sealed under the masterkey.
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        proof: Vec<u8>,
    },
    /// 0x8: the result, the devid and the sessionkey sealed under the
    /// masterkey.
    ApplyDevidResponse {
        /// The result.
        result: AuthResult,
        /// The sealed devid (when accepted).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_devid: Vec<u8>,
        /// The sealed sessionkey (when accepted).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_session_key: Vec<u8>,
    },
    /// 0x9: the devid, and a proof sealed under the sessionkey.
    ApplyDevidConfirm {
        /// The devid.
        devid: String,
        /// The devid sealed under the sessionkey.
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        proof: Vec<u8>,
    },
    /// 0xA: the devid, and a proof sealed under the sessionkey.
    DasRequest {
        /// The devid.
        devid: String,
        /// The devid sealed under the sessionkey.
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        proof: Vec<u8>,
    },
    /// 0xB: the result, and the DAS address sealed under the sessionkey.
    DasResponse {
        /// The result.
        result: AuthResult,
        /// The sealed DAS address, `host:port` (when accepted).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::vec"))]
        sealed_address: Vec<u8>,
    },
}

/// An authentication message with its exchange nonce: one control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthFrame {
    /// The negotiated protocol type.
    pub protocol_type: u8,
    /// The negotiated suite.
    pub suite: Suite,
    /// The negotiated PROTOCOL-VERSION.
    pub version: ProtocolVersion,
    /// The nonce of the exchange.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex::array16"))]
    pub nonce: [u8; NONCE_LEN],
    /// The message.
    pub message: AuthMessage,
}

/// The most bytes one field may hold.
const MAX_FIELD: usize = 1024;

fn put_field(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.get(..usize::from(len)).unwrap_or(value));
}

/// The fields of a body, each tag at most once, in order.
struct Fields<'a>(Vec<(u8, &'a [u8])>);

impl<'a> Fields<'a> {
    fn parse(mut body: &'a [u8]) -> Result<Self, Error> {
        let mut fields = Vec::new();
        while !body.is_empty() {
            let (rest, t) = crate::wire::u8_field(body, "field tag")?;
            let (rest, value) = crate::wire::prefixed(rest, "field value")?;
            if value.len() > MAX_FIELD {
                return Err(Error::field("field value", Reason::TooLong(value.len())));
            }
            if fields.iter().any(|(seen, _)| *seen == t) {
                return Err(Error::field(
                    "field tag",
                    Reason::Invalid("a field appears twice"),
                ));
            }
            fields.push((t, value));
            body = rest;
        }
        Ok(Self(fields))
    }

    fn take(&mut self, t: u8, name: &'static str) -> Result<&'a [u8], Error> {
        let i = self
            .0
            .iter()
            .position(|(seen, _)| *seen == t)
            .ok_or(Error::field(name, Reason::Truncated))?;
        Ok(self.0.remove(i).1)
    }

    fn text(&mut self, t: u8, name: &'static str) -> Result<String, Error> {
        Ok(String::from(crate::wire::check_str(
            self.take(t, name)?,
            name,
        )?))
    }

    fn result(&mut self) -> Result<AuthResult, Error> {
        match self.take(tag::RESULT, "result")? {
            [0] => Ok(AuthResult::Accepted),
            [1] => Ok(AuthResult::Refused),
            [other] => Err(Error::field(
                "result",
                Reason::OutOfRange(u32::from(*other)),
            )),
            _ => Err(Error::field("result", Reason::Invalid("must be one byte"))),
        }
    }

    fn optional(&mut self, t: u8, name: &'static str) -> Result<Vec<u8>, Error> {
        match self.take(t, name) {
            Ok(v) => Ok(v.to_vec()),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn end(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::field("body", Reason::Invalid("unknown field")))
        }
    }
}

impl AuthMessage {
    /// The control message type.
    #[must_use]
    pub fn kind(&self) -> u8 {
        match self {
            Self::EcdhRequest { .. } => kind::ECDH_REQ,
            Self::EcdhResponse { .. } => kind::ECDH_RSP,
            Self::RefreshRequest { .. } => kind::REFRESH_REQ,
            Self::RefreshResponse { .. } => kind::REFRESH_RSP,
            Self::ApplyDevidRequest { .. } => kind::APPLY_DEVID_REQ,
            Self::ApplyDevidResponse { .. } => kind::APPLY_DEVID_RSP,
            Self::ApplyDevidConfirm { .. } => kind::APPLY_DEVID_CFM,
            Self::DasRequest { .. } => kind::DAS_REQ,
            Self::DasResponse { .. } => kind::DAS_RSP,
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let result = |r: &AuthResult| [u8::from(*r == AuthResult::Refused)];
        match self {
            Self::EcdhRequest {
                serial,
                sealed_public_key,
            } => {
                put_field(&mut out, tag::SERIAL, serial.as_bytes());
                put_field(&mut out, tag::DEVICE_PUBLIC_KEY, sealed_public_key);
            }
            Self::EcdhResponse {
                result: r,
                sealed_public_key,
            } => {
                put_field(&mut out, tag::RESULT, &result(r));
                if !sealed_public_key.is_empty() {
                    put_field(&mut out, tag::LBS_PUBLIC_KEY, sealed_public_key);
                }
            }
            Self::RefreshRequest { devid, proof }
            | Self::ApplyDevidConfirm { devid, proof }
            | Self::DasRequest { devid, proof } => {
                put_field(&mut out, tag::DEVID_CLEAR, devid.as_bytes());
                put_field(&mut out, tag::PROOF, proof);
            }
            Self::RefreshResponse {
                result: r,
                sealed_session_key,
            } => {
                put_field(&mut out, tag::RESULT, &result(r));
                if !sealed_session_key.is_empty() {
                    put_field(&mut out, tag::SESSION_KEY, sealed_session_key);
                }
            }
            Self::ApplyDevidRequest { serial, proof } => {
                put_field(&mut out, tag::SERIAL, serial.as_bytes());
                put_field(&mut out, tag::PROOF, proof);
            }
            Self::ApplyDevidResponse {
                result: r,
                sealed_devid,
                sealed_session_key,
            } => {
                put_field(&mut out, tag::RESULT, &result(r));
                if !sealed_devid.is_empty() {
                    put_field(&mut out, tag::DEVID, sealed_devid);
                }
                if !sealed_session_key.is_empty() {
                    put_field(&mut out, tag::SESSION_KEY, sealed_session_key);
                }
            }
            Self::DasResponse {
                result: r,
                sealed_address,
            } => {
                put_field(&mut out, tag::RESULT, &result(r));
                if !sealed_address.is_empty() {
                    put_field(&mut out, tag::DAS_ADDRESS, sealed_address);
                }
            }
        }
        out
    }

    fn from_body(k: u8, body: &[u8]) -> Result<Self, Error> {
        let mut f = Fields::parse(body)?;
        let message = match k {
            kind::ECDH_REQ => Self::EcdhRequest {
                serial: f.text(tag::SERIAL, "serial")?,
                sealed_public_key: f
                    .take(tag::DEVICE_PUBLIC_KEY, "device public key")?
                    .to_vec(),
            },
            kind::ECDH_RSP => Self::EcdhResponse {
                result: f.result()?,
                sealed_public_key: f.optional(tag::LBS_PUBLIC_KEY, "LBS public key")?,
            },
            kind::REFRESH_REQ | kind::APPLY_DEVID_CFM | kind::DAS_REQ => {
                let devid = f.text(tag::DEVID_CLEAR, "devid")?;
                let proof = f.take(tag::PROOF, "proof")?.to_vec();
                match k {
                    kind::REFRESH_REQ => Self::RefreshRequest { devid, proof },
                    kind::APPLY_DEVID_CFM => Self::ApplyDevidConfirm { devid, proof },
                    _ => Self::DasRequest { devid, proof },
                }
            }
            kind::REFRESH_RSP => Self::RefreshResponse {
                result: f.result()?,
                sealed_session_key: f.optional(tag::SESSION_KEY, "session key")?,
            },
            kind::APPLY_DEVID_REQ => Self::ApplyDevidRequest {
                serial: f.text(tag::SERIAL, "serial")?,
                proof: f.take(tag::PROOF, "proof")?.to_vec(),
            },
            kind::APPLY_DEVID_RSP => Self::ApplyDevidResponse {
                result: f.result()?,
                sealed_devid: f.optional(tag::DEVID, "devid")?,
                sealed_session_key: f.optional(tag::SESSION_KEY, "session key")?,
            },
            kind::DAS_RSP => Self::DasResponse {
                result: f.result()?,
                sealed_address: f.optional(tag::DAS_ADDRESS, "DAS address")?,
            },
            kind::RESERVED_3 | kind::RESERVED_5 => {
                return Err(Error::field(
                    "control message type",
                    Reason::Invalid("reserved by Table 3"),
                ));
            }
            other => return Err(Error::UnknownType(other)),
        };
        f.end()?;
        Ok(message)
    }
}

impl AuthFrame {
    /// The associated data that binds a sealed field to its message: the
    /// message type and the exchange nonce.
    #[must_use]
    pub fn aad(kind: u8, nonce: &[u8; NONCE_LEN]) -> [u8; NONCE_LEN + 1] {
        let mut aad = [0u8; NONCE_LEN + 1];
        aad[0] = kind;
        aad[1..].copy_from_slice(nonce);
        aad
    }

    /// The control frame carrying this message.
    #[must_use]
    pub fn to_control(&self) -> ControlFrame<'static> {
        ControlFrame {
            kind: self.message.kind(),
            flags: ControlFlags::ECDH,
            protocol_type: self.protocol_type,
            protocol_group: ProtocolGroup::single(self.suite),
            version: self.version,
            content: self.nonce.to_vec().into(),
            application: self.message.body().into(),
        }
    }

    /// Writes the frame.
    ///
    /// # Errors
    ///
    /// As [`ControlFrame::encode`].
    pub fn encode(&self, out: &mut impl bytes::BufMut) -> Result<(), Error> {
        self.to_control().encode(out)
    }

    /// Reads an authentication message from a control frame.
    ///
    /// # Errors
    ///
    /// A frame not in ECDH key mode, with reserved flags, without exactly
    /// one suite, with a nonce that is not 16 bytes, of a reserved (0x3,
    /// 0x5) or unknown type, or with a malformed, repeated, missing or
    /// unknown field.
    pub fn from_control(frame: &ControlFrame<'_>) -> Result<Self, Error> {
        if frame.flags != ControlFlags::ECDH {
            return Err(Error::field(
                "control flags",
                Reason::Invalid("authentication uses ECDH key mode 0x3"),
            ));
        }
        let suite = frame.protocol_group.as_single().ok_or(Error::field(
            "protocol group",
            Reason::Invalid("must name the one negotiated suite"),
        ))?;
        let nonce = <[u8; NONCE_LEN]>::try_from(frame.content.as_ref())
            .map_err(|_| Error::field("nonce", Reason::Invalid("must be 16 bytes")))?;
        Ok(Self {
            protocol_type: frame.protocol_type,
            suite,
            version: frame.version,
            nonce,
            message: AuthMessage::from_body(frame.kind, &frame.application)?,
        })
    }
}

/// Why the authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A malformed frame or message.
    #[error("malformed message: {0}")]
    Malformed(#[from] Error),
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
    #[error("expected control message type {expected:#x}, got {got:#x}")]
    UnexpectedMessage {
        /// What was expected.
        expected: u8,
        /// What came.
        got: u8,
    },
    /// A response whose nonce is not the request's: replayed or stale.
    #[error("the response does not answer the current request")]
    NonceMismatch,
    /// A message with another protocol type or suite than negotiated.
    #[error("the message does not use the negotiated protocol")]
    ProtocolMismatch,
    /// The LBS refused: unknown device, wrong verification code, or a
    /// proof that did not open. The LBS does not say which.
    #[error("the LBS refused the authentication")]
    Refused,
    /// A decrypted value is not what it must be (a devid that is not
    /// UTF-8, a session key of the wrong length).
    #[error("invalid decrypted {0}")]
    InvalidValue(&'static str),
    /// The peer did not answer in time.
    #[error("the peer did not answer in time")]
    Timeout,
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    PeerClosed,
    /// Input arrived after the authentication ended.
    #[error("the authentication has ended")]
    Finished,
}

fn crypto_err(field: &'static str) -> impl Fn(CryptoError) -> AuthError {
    move |error| AuthError::Crypto { field, error }
}

/// The negotiated parameters both sides share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
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

impl AuthParams {
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

    fn seal(
        &self,
        key: &[u8; KEY_LEN],
        k: u8,
        nonce: &[u8; NONCE_LEN],
        plain: &[u8],
        rng: &mut impl CryptoRngCore,
        field: &'static str,
    ) -> Result<Vec<u8>, AuthError> {
        crypto::seal(self.suite, key, &AuthFrame::aad(k, nonce), plain, rng)
            .map_err(crypto_err(field))
    }

    fn open(
        &self,
        key: &[u8; KEY_LEN],
        k: u8,
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
        k: u8,
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
        k: u8,
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
        k: u8,
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

/// Turns a refusal into [`AuthError::Refused`].
fn accepted(result: AuthResult) -> Result<(), AuthError> {
    match result {
        AuthResult::Accepted => Ok(()),
        AuthResult::Refused => Err(AuthError::Refused),
    }
}

/// What the device side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAuthEvent {
    /// First authentication succeeded (Figure 3): keep `devid` and
    /// `master_key` for reauthentication.
    Registered {
        /// The device ID the LBS assigned.
        devid: String,
        /// The masterkey.
        master_key: MasterKey,
    },
    /// A sessionkey was issued (first authentication) or refreshed
    /// (Figure 4).
    SessionKey(SessionKey),
    /// The DAS address (section 6): connect there with the sessionkey.
    DasAddress(String),
    /// The authentication failed; close the connection.
    Failed(AuthError),
}

enum DeviceStep {
    Idle,
    AwaitEcdh { pair: EcdhKeyPair, share: ShareKey },
    AwaitDevid { master: MasterKey },
    AwaitRefresh { devid: String, master: MasterKey },
    AwaitDas { session: SessionKey },
    Done,
}

/// The device side of the authentication and DAS redirect, on the
/// connection where the negotiation ran.
///
/// ```
/// use core::time::Duration;
/// use osap_proto::auth::{AuthParams, DeviceAuth, DeviceAuthEvent, DeviceDirectory, LbsAuth};
/// use osap_proto::crypto::{MasterKey, VerificationCode};
/// use osap_proto::Suite;
/// use rand_core::OsRng;
/// # use std::collections::HashMap;
///
/// # #[derive(Default)] struct Directory { keys: HashMap<String, MasterKey> }
/// # impl DeviceDirectory for Directory {
/// #     fn verification_code(&self, serial: &str) -> Option<VerificationCode> {
/// #         (serial == "SN-1").then(|| VerificationCode::new("4711"))
/// #     }
/// #     fn master_key(&self, devid: &str) -> Option<MasterKey> { self.keys.get(devid).cloned() }
/// #     fn assign_devid(&mut self, serial: &str, master_key: &MasterKey) -> String {
/// #         let devid = format!("dev-{serial}");
/// #         self.keys.insert(devid.clone(), master_key.clone());
/// #         devid
/// #     }
/// #     fn das_address(&self, _devid: &str) -> String { "das1.example.com:8883".into() }
/// # }
/// let params = AuthParams::new(1, Suite::Aes128Gcm);
/// let now = Duration::ZERO;
/// let mut device = DeviceAuth::first(params.clone(), "SN-1", VerificationCode::new("4711"));
/// let mut lbs = LbsAuth::new(params, now);
/// let mut directory = Directory::default();
///
/// device.start(now, &mut OsRng);
/// loop {
///     let mut moved = false;
///     while let Some(bytes) = device.poll_transmit() {
///         lbs.handle_input(&bytes, now, &mut OsRng, &mut directory);
///         moved = true;
///     }
///     while let Some(bytes) = lbs.poll_transmit() {
///         device.handle_input(&bytes, now, &mut OsRng);
///         moved = true;
///     }
///     if !moved { break; }
/// }
/// let events: Vec<_> = std::iter::from_fn(|| device.poll_event()).collect();
/// assert!(matches!(events.last(), Some(DeviceAuthEvent::DasAddress(a)) if a == "das1.example.com:8883"));
/// ```
pub struct DeviceAuth<I> {
    params: AuthParams,
    serial: String,
    code: Option<VerificationCode>,
    stored: Option<(String, MasterKey)>,
    step: DeviceStep,
    nonce: [u8; NONCE_LEN],
    expect: u8,
    deadline: Option<I>,
    decoder: FrameDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<DeviceAuthEvent>,
}

impl<I> core::fmt::Debug for DeviceAuth<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceAuth")
            .field("serial", &self.serial)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl<I: Copy + Ord + Add<Duration, Output = I>> DeviceAuth<I> {
    fn with(
        params: AuthParams,
        serial: String,
        code: Option<VerificationCode>,
        stored: Option<(String, MasterKey)>,
    ) -> Self {
        Self {
            params,
            serial,
            code,
            stored,
            step: DeviceStep::Idle,
            nonce: [0; NONCE_LEN],
            expect: 0,
            deadline: None,
            decoder: FrameDecoder::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// First authentication (Figure 3) of a device with its serial number
    /// and verification code.
    #[must_use]
    pub fn first(params: AuthParams, serial: impl Into<String>, code: VerificationCode) -> Self {
        Self::with(params, serial.into(), Some(code), None)
    }

    /// Reauthentication (Figure 4) of a device that kept its devid and
    /// masterkey from a first authentication.
    #[must_use]
    pub fn reauthenticate(
        params: AuthParams,
        devid: impl Into<String>,
        master_key: MasterKey,
    ) -> Self {
        let devid = devid.into();
        Self::with(params, String::new(), None, Some((devid, master_key)))
    }

    /// Queues a request and waits, until the deadline, for `expect`.
    fn send(&mut self, message: AuthMessage, now: I, expect: u8) -> Result<(), AuthError> {
        let bytes = self.params.frame(self.nonce, message)?;
        self.transmit.push_back(bytes);
        self.expect = expect;
        self.deadline = Some(now + self.params.timeout);
        Ok(())
    }

    fn fresh_nonce(&mut self, rng: &mut impl CryptoRngCore) {
        rng.fill_bytes(&mut self.nonce);
    }

    fn fail(&mut self, error: AuthError) {
        self.step = DeviceStep::Done;
        self.deadline = None;
        self.events.push_back(DeviceAuthEvent::Failed(error));
    }

    /// Sends the first message: `Authentication_ECDH_Req` for a first
    /// authentication, `Refresh_SessionKey_Req` for a reauthentication.
    pub fn start(&mut self, now: I, rng: &mut impl CryptoRngCore) {
        if !matches!(self.step, DeviceStep::Idle) {
            return;
        }
        if let Err(e) = self.begin(now, rng) {
            self.fail(e);
        }
    }

    fn begin(&mut self, now: I, rng: &mut impl CryptoRngCore) -> Result<(), AuthError> {
        self.fresh_nonce(rng);
        if let Some((devid, master)) = self.stored.take() {
            let proof = self.params.seal(
                master.expose(),
                kind::REFRESH_REQ,
                &self.nonce,
                devid.as_bytes(),
                rng,
                "proof",
            )?;
            self.send(
                AuthMessage::RefreshRequest {
                    devid: devid.clone(),
                    proof,
                },
                now,
                kind::REFRESH_RSP,
            )?;
            self.step = DeviceStep::AwaitRefresh { devid, master };
            return Ok(());
        }
        let code = self.code.take().ok_or(AuthError::Finished)?;
        let pair = EcdhKeyPair::generate(rng);
        let share = ShareKey::derive(&code, &self.serial, &self.params.share_key);
        let sealed_public_key = self.params.seal(
            share.expose(),
            kind::ECDH_REQ,
            &self.nonce,
            &pair.public_key(),
            rng,
            "device public key",
        )?;
        self.send(
            AuthMessage::EcdhRequest {
                serial: self.serial.clone(),
                sealed_public_key,
            },
            now,
            kind::ECDH_RSP,
        )?;
        self.step = DeviceStep::AwaitEcdh { pair, share };
        Ok(())
    }

    /// Takes bytes received from the LBS.
    pub fn handle_input(&mut self, data: &[u8], now: I, rng: &mut impl CryptoRngCore) {
        if matches!(self.step, DeviceStep::Done) {
            return;
        }
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = decoder.feed_control(data, |frame| {
            self.handle_frame(&AuthFrame::from_control(frame)?, now, rng)?;
            Ok::<_, AuthError>(!matches!(self.step, DeviceStep::Done))
        });
        self.decoder = decoder;
        match result {
            Err(AuthError::Finished) | Ok(()) => {}
            Err(e) => self.fail(e),
        }
    }

    /// Takes one authentication message from the LBS.
    ///
    /// # Errors
    ///
    /// Any [`AuthError`]; the authentication has then failed (and
    /// [`DeviceAuth::handle_input`] reports it as an event), except for
    /// [`AuthError::Finished`], which changes nothing.
    pub fn handle_frame(
        &mut self,
        frame: &AuthFrame,
        now: I,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), AuthError> {
        if matches!(self.step, DeviceStep::Done | DeviceStep::Idle) {
            return Err(AuthError::Finished);
        }
        if frame.message.kind() != self.expect {
            return Err(AuthError::UnexpectedMessage {
                expected: self.expect,
                got: frame.message.kind(),
            });
        }
        self.params.check(frame)?;
        if frame.nonce != self.nonce {
            return Err(AuthError::NonceMismatch);
        }
        let nonce = self.nonce;
        let k = frame.message.kind();
        let step = core::mem::replace(&mut self.step, DeviceStep::Done);
        match (step, &frame.message) {
            (
                DeviceStep::AwaitEcdh { pair, share },
                AuthMessage::EcdhResponse {
                    result,
                    sealed_public_key,
                },
            ) => {
                accepted(*result)?;
                let lbs_public = self.params.open(
                    share.expose(),
                    k,
                    &nonce,
                    sealed_public_key,
                    "LBS public key",
                )?;
                let master = pair
                    .master_key(&lbs_public, self.params.master_key)
                    .map_err(crypto_err("LBS public key"))?;
                self.fresh_nonce(rng);
                let proof = self.params.seal(
                    master.expose(),
                    kind::APPLY_DEVID_REQ,
                    &self.nonce,
                    self.serial.as_bytes(),
                    rng,
                    "proof",
                )?;
                let serial = self.serial.clone();
                self.send(
                    AuthMessage::ApplyDevidRequest { serial, proof },
                    now,
                    kind::APPLY_DEVID_RSP,
                )?;
                self.step = DeviceStep::AwaitDevid { master };
            }
            (
                DeviceStep::AwaitDevid { master },
                AuthMessage::ApplyDevidResponse {
                    result,
                    sealed_devid,
                    sealed_session_key,
                },
            ) => {
                accepted(*result)?;
                let devid =
                    self.params
                        .open_text(master.expose(), k, &nonce, sealed_devid, "devid")?;
                let session =
                    self.params
                        .open_session_key(&master, k, &nonce, sealed_session_key)?;
                self.events.push_back(DeviceAuthEvent::Registered {
                    devid: devid.clone(),
                    master_key: master,
                });
                self.events
                    .push_back(DeviceAuthEvent::SessionKey(session.clone()));
                // Confirm (0x9), then ask for the DAS address in the same
                // connection (section 6).
                self.fresh_nonce(rng);
                let proof = self.params.seal(
                    session.expose(),
                    kind::APPLY_DEVID_CFM,
                    &self.nonce,
                    devid.as_bytes(),
                    rng,
                    "proof",
                )?;
                let bytes = self.params.frame(
                    self.nonce,
                    AuthMessage::ApplyDevidConfirm {
                        devid: devid.clone(),
                        proof,
                    },
                )?;
                self.transmit.push_back(bytes);
                self.request_das(&devid, session, now, rng)?;
            }
            (
                DeviceStep::AwaitRefresh { devid, master },
                AuthMessage::RefreshResponse {
                    result,
                    sealed_session_key,
                },
            ) => {
                accepted(*result)?;
                let session =
                    self.params
                        .open_session_key(&master, k, &nonce, sealed_session_key)?;
                self.events
                    .push_back(DeviceAuthEvent::SessionKey(session.clone()));
                self.request_das(&devid, session, now, rng)?;
            }
            (
                DeviceStep::AwaitDas { session, .. },
                AuthMessage::DasResponse {
                    result,
                    sealed_address,
                },
            ) => {
                accepted(*result)?;
                let address = self.params.open_text(
                    session.expose(),
                    k,
                    &nonce,
                    sealed_address,
                    "DAS address",
                )?;
                self.deadline = None;
                self.events.push_back(DeviceAuthEvent::DasAddress(address));
            }
            _ => {
                return Err(AuthError::UnexpectedMessage {
                    expected: self.expect,
                    got: k,
                });
            }
        }
        Ok(())
    }

    fn request_das(
        &mut self,
        devid: &str,
        session: SessionKey,
        now: I,
        rng: &mut impl CryptoRngCore,
    ) -> Result<(), AuthError> {
        self.fresh_nonce(rng);
        let proof = self.params.seal(
            session.expose(),
            kind::DAS_REQ,
            &self.nonce,
            devid.as_bytes(),
            rng,
            "proof",
        )?;
        self.send(
            AuthMessage::DasRequest {
                devid: String::from(devid),
                proof,
            },
            now,
            kind::DAS_RSP,
        )?;
        self.step = DeviceStep::AwaitDas { session };
        Ok(())
    }

    /// Tells the machine the LBS closed the connection.
    pub fn handle_disconnect(&mut self) {
        if !matches!(self.step, DeviceStep::Done | DeviceStep::Idle) {
            self.fail(AuthError::PeerClosed);
        }
    }

    /// Tells the machine the time; past the deadline it fails.
    pub fn handle_timeout(&mut self, now: I) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.fail(AuthError::Timeout);
        }
    }

    /// When [`DeviceAuth::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        self.deadline
    }

    /// The next frame to send to the LBS.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DeviceAuthEvent> {
        self.events.pop_front()
    }
}

/// What the LBS knows about devices, supplied by the caller.
pub trait DeviceDirectory {
    /// The verification code of the device with this serial number, if it
    /// is known.
    fn verification_code(&self, serial: &str) -> Option<VerificationCode>;
    /// The masterkey kept for this devid, if any (reauthentication).
    fn master_key(&self, devid: &str) -> Option<MasterKey>;
    /// Assigns a devid to an authenticated device and keeps its masterkey.
    fn assign_devid(&mut self, serial: &str, master_key: &MasterKey) -> String;
    /// The DAS address (`host:port`) this device should use.
    fn das_address(&self, devid: &str) -> String;
}

/// What the LBS side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsAuthEvent {
    /// A device completed first authentication and was given a devid.
    Registered {
        /// The devid.
        devid: String,
    },
    /// A sessionkey was issued to the device: hand it to the DAS, which
    /// protects the device's business messages with it.
    SessionIssued {
        /// The devid.
        devid: String,
        /// The sessionkey.
        session_key: SessionKey,
    },
    /// The device was sent its DAS address; the connection is done.
    Redirected {
        /// The devid.
        devid: String,
        /// The address sent.
        address: String,
    },
    /// The device was refused (the device is told only that).
    Refused(RefusalReason),
    /// The device sent something the authentication refuses; close.
    Failed(AuthError),
    /// The device was silent past the deadline; close.
    TimedOut,
}

/// Why the LBS refused a device: for the operator's log, never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The serial number is not in the directory.
    UnknownDevice,
    /// The device public key did not open under the sharekey: wrong
    /// verification code (or tampering).
    WrongVerificationCode,
    /// The devid is unknown or its proof did not open.
    BadProof,
}

enum LbsStep {
    AwaitFirst,
    AwaitApplyDevid { serial: String, master: MasterKey },
    AwaitConfirm { devid: String, session: SessionKey },
    AwaitDas { devid: String, session: SessionKey },
    Done,
}

/// The LBS side of the authentication and DAS redirect.
pub struct LbsAuth<I> {
    params: AuthParams,
    step: LbsStep,
    deadline: Option<I>,
    decoder: FrameDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<LbsAuthEvent>,
}

impl<I> core::fmt::Debug for LbsAuth<I> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LbsAuth")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The verification code used for an unknown serial number, so that
/// refusing it costs the same work as refusing a wrong code.
const DECOY_CODE: &str = "unknown-device";

impl<I: Copy + Ord + Add<Duration, Output = I>> LbsAuth<I> {
    /// An LBS side waiting, from `now`, for the device's first message.
    #[must_use]
    pub fn new(params: AuthParams, now: I) -> Self {
        let deadline = Some(now + params.timeout);
        Self {
            params,
            step: LbsStep::AwaitFirst,
            deadline,
            decoder: FrameDecoder::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Frames a message for the exchange `nonce` and queues it.
    fn reply(&mut self, nonce: [u8; NONCE_LEN], message: AuthMessage) -> Result<(), AuthError> {
        let bytes = self.params.frame(nonce, message)?;
        self.transmit.push_back(bytes);
        Ok(())
    }

    fn refuse(&mut self, frame: &AuthFrame, reason: RefusalReason) -> Result<(), AuthError> {
        let message = match frame.message.kind() {
            kind::ECDH_REQ => AuthMessage::EcdhResponse {
                result: AuthResult::Refused,
                sealed_public_key: Vec::new(),
            },
            kind::REFRESH_REQ => AuthMessage::RefreshResponse {
                result: AuthResult::Refused,
                sealed_session_key: Vec::new(),
            },
            kind::APPLY_DEVID_REQ => AuthMessage::ApplyDevidResponse {
                result: AuthResult::Refused,
                sealed_devid: Vec::new(),
                sealed_session_key: Vec::new(),
            },
            _ => AuthMessage::DasResponse {
                result: AuthResult::Refused,
                sealed_address: Vec::new(),
            },
        };
        self.reply(frame.nonce, message)?;
        self.step = LbsStep::Done;
        self.deadline = None;
        self.events.push_back(LbsAuthEvent::Refused(reason));
        Ok(())
    }

    /// Takes bytes received from the device.
    pub fn handle_input(
        &mut self,
        data: &[u8],
        now: I,
        rng: &mut impl CryptoRngCore,
        directory: &mut impl DeviceDirectory,
    ) {
        if matches!(self.step, LbsStep::Done) {
            return;
        }
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = decoder.feed_control(data, |frame| {
            self.handle_frame(&AuthFrame::from_control(frame)?, now, rng, directory)?;
            Ok::<_, AuthError>(!matches!(self.step, LbsStep::Done))
        });
        self.decoder = decoder;
        match result {
            Err(AuthError::Finished) | Ok(()) => {}
            Err(e) => {
                self.step = LbsStep::Done;
                self.deadline = None;
                self.events.push_back(LbsAuthEvent::Failed(e));
            }
        }
    }

    /// Takes one authentication message from the device.
    ///
    /// # Errors
    ///
    /// Any [`AuthError`]; the authentication has then failed, except for
    /// [`AuthError::Finished`].
    pub fn handle_frame(
        &mut self,
        frame: &AuthFrame,
        now: I,
        rng: &mut impl CryptoRngCore,
        directory: &mut impl DeviceDirectory,
    ) -> Result<(), AuthError> {
        if matches!(self.step, LbsStep::Done) {
            return Err(AuthError::Finished);
        }
        self.params.check(frame)?;
        let k = frame.message.kind();
        let nonce = frame.nonce;
        let step = core::mem::replace(&mut self.step, LbsStep::Done);
        match (step, &frame.message) {
            (
                LbsStep::AwaitFirst,
                AuthMessage::EcdhRequest {
                    serial,
                    sealed_public_key,
                },
            ) => {
                let known = directory.verification_code(serial);
                let code = known
                    .clone()
                    .unwrap_or_else(|| VerificationCode::new(DECOY_CODE));
                let share = ShareKey::derive(&code, serial, &self.params.share_key);
                let opened = self.params.open(
                    share.expose(),
                    k,
                    &nonce,
                    sealed_public_key,
                    "device public key",
                );
                let device_public = match (known, opened) {
                    (None, _) => return self.refuse(frame, RefusalReason::UnknownDevice),
                    (Some(_), Err(_)) => {
                        return self.refuse(frame, RefusalReason::WrongVerificationCode);
                    }
                    (Some(_), Ok(public)) => public,
                };
                let pair = EcdhKeyPair::generate(rng);
                let Ok(master) = pair.master_key(&device_public, self.params.master_key) else {
                    return self.refuse(frame, RefusalReason::WrongVerificationCode);
                };
                let sealed_public_key = self.params.seal(
                    share.expose(),
                    kind::ECDH_RSP,
                    &nonce,
                    &pair.public_key(),
                    rng,
                    "LBS public key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::EcdhResponse {
                        result: AuthResult::Accepted,
                        sealed_public_key,
                    },
                )?;
                self.step = LbsStep::AwaitApplyDevid {
                    serial: serial.clone(),
                    master,
                };
            }
            (
                LbsStep::AwaitApplyDevid { serial, master },
                AuthMessage::ApplyDevidRequest {
                    serial: claimed,
                    proof,
                },
            ) => {
                if *claimed != serial
                    || !self
                        .params
                        .proves(master.expose(), k, &nonce, proof, serial.as_bytes())
                {
                    return self.refuse(frame, RefusalReason::BadProof);
                }
                let devid = directory.assign_devid(&serial, &master);
                let session = SessionKey::generate(rng);
                let sealed_devid = self.params.seal(
                    master.expose(),
                    kind::APPLY_DEVID_RSP,
                    &nonce,
                    devid.as_bytes(),
                    rng,
                    "devid",
                )?;
                let sealed_session_key = self.params.seal(
                    master.expose(),
                    kind::APPLY_DEVID_RSP,
                    &nonce,
                    session.expose(),
                    rng,
                    "session key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::ApplyDevidResponse {
                        result: AuthResult::Accepted,
                        sealed_devid,
                        sealed_session_key,
                    },
                )?;
                self.events.push_back(LbsAuthEvent::Registered {
                    devid: devid.clone(),
                });
                self.events.push_back(LbsAuthEvent::SessionIssued {
                    devid: devid.clone(),
                    session_key: session.clone(),
                });
                self.step = LbsStep::AwaitConfirm { devid, session };
            }
            (
                LbsStep::AwaitConfirm { devid, session },
                AuthMessage::ApplyDevidConfirm {
                    devid: claimed,
                    proof,
                },
            ) => {
                if *claimed != devid
                    || !self
                        .params
                        .proves(session.expose(), k, &nonce, proof, devid.as_bytes())
                {
                    return self.refuse(frame, RefusalReason::BadProof);
                }
                self.step = LbsStep::AwaitDas { devid, session };
            }
            (LbsStep::AwaitFirst, AuthMessage::RefreshRequest { devid, proof }) => {
                let proven = directory.master_key(devid).filter(|m| {
                    self.params
                        .proves(m.expose(), k, &nonce, proof, devid.as_bytes())
                });
                let Some(master) = proven else {
                    return self.refuse(frame, RefusalReason::BadProof);
                };
                let session = SessionKey::generate(rng);
                let sealed_session_key = self.params.seal(
                    master.expose(),
                    kind::REFRESH_RSP,
                    &nonce,
                    session.expose(),
                    rng,
                    "session key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::RefreshResponse {
                        result: AuthResult::Accepted,
                        sealed_session_key,
                    },
                )?;
                self.events.push_back(LbsAuthEvent::SessionIssued {
                    devid: devid.clone(),
                    session_key: session.clone(),
                });
                self.step = LbsStep::AwaitDas {
                    devid: devid.clone(),
                    session,
                };
            }
            (
                LbsStep::AwaitDas { devid, session },
                AuthMessage::DasRequest {
                    devid: claimed,
                    proof,
                },
            ) => {
                if *claimed != devid
                    || !self
                        .params
                        .proves(session.expose(), k, &nonce, proof, devid.as_bytes())
                {
                    return self.refuse(frame, RefusalReason::BadProof);
                }
                let address = directory.das_address(&devid);
                let sealed_address = self.params.seal(
                    session.expose(),
                    kind::DAS_RSP,
                    &nonce,
                    address.as_bytes(),
                    rng,
                    "DAS address",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::DasResponse {
                        result: AuthResult::Accepted,
                        sealed_address,
                    },
                )?;
                self.deadline = None;
                self.events
                    .push_back(LbsAuthEvent::Redirected { devid, address });
                return Ok(());
            }
            (step, message) => {
                let expected = match step {
                    LbsStep::AwaitFirst => kind::ECDH_REQ,
                    LbsStep::AwaitApplyDevid { .. } => kind::APPLY_DEVID_REQ,
                    LbsStep::AwaitConfirm { .. } => kind::APPLY_DEVID_CFM,
                    LbsStep::AwaitDas { .. } | LbsStep::Done => kind::DAS_REQ,
                };
                return Err(AuthError::UnexpectedMessage {
                    expected,
                    got: message.kind(),
                });
            }
        }
        self.deadline = Some(now + self.params.timeout);
        Ok(())
    }

    /// Tells the machine the time; past the deadline it gives up.
    pub fn handle_timeout(&mut self, now: I) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.step = LbsStep::Done;
            self.deadline = None;
            self.events.push_back(LbsAuthEvent::TimedOut);
        }
    }

    /// When [`LbsAuth::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        self.deadline
    }

    /// The next frame to send to the device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<LbsAuthEvent> {
        self.events.pop_front()
    }
}
