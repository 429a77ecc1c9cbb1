//! The authentication control messages of Table 3 and the DAS address
//! exchange of section 6, as typed values that build to and parse from
//! control frames (the layout is in `PROFILE.md`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::control::{ControlFlags, ControlFrame, ProtocolGroup, ProtocolVersion, Suite};
use crate::error::{FieldError, FrameError};

/// The control message types of Table 3 (ECDH key mode), and the two this
/// crate adds for the DAS address exchange of section 6. Types 0x3 and 0x5
/// are reserved by Table 3 and have no kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AuthKind {
    /// 0x1 `Authentication_ECDH_Req`, device to LBS: the sealed device
    /// public key.
    EcdhRequest,
    /// 0x2 `Authentication_ECDH_Rsp`, LBS to device: the sealed LBS public
    /// key.
    EcdhResponse,
    /// 0x4 `Refresh_SessionKey_Req`, device to LBS.
    RefreshRequest,
    /// 0x6 `Refresh_SessionKey_Rsp`, LBS to device.
    RefreshResponse,
    /// 0x7 `Authentication_apply_devid_Req`, device to LBS.
    ApplyDevidRequest,
    /// 0x8 `Authentication_apply_devid_Rsp`, LBS to device.
    ApplyDevidResponse,
    /// 0x9 `Authentication_apply_devid_Cfm`, device to LBS.
    ApplyDevidConfirm,
    /// 0xA: get DAS address request (section 6, F1), device to LBS.
    DasRequest,
    /// 0xB: get DAS address response (section 6, F2), LBS to device.
    DasResponse,
}

impl AuthKind {
    /// Every kind, in order of type.
    pub const ALL: [Self; 9] = [
        Self::EcdhRequest,
        Self::EcdhResponse,
        Self::RefreshRequest,
        Self::RefreshResponse,
        Self::ApplyDevidRequest,
        Self::ApplyDevidResponse,
        Self::ApplyDevidConfirm,
        Self::DasRequest,
        Self::DasResponse,
    ];

    /// The control message type on the wire.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::EcdhRequest => 0x1,
            Self::EcdhResponse => 0x2,
            Self::RefreshRequest => 0x4,
            Self::RefreshResponse => 0x6,
            Self::ApplyDevidRequest => 0x7,
            Self::ApplyDevidResponse => 0x8,
            Self::ApplyDevidConfirm => 0x9,
            Self::DasRequest => 0xa,
            Self::DasResponse => 0xb,
        }
    }

    /// The kind with this control message type, if any (none for the
    /// reserved 0x3 and 0x5).
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Control message types Table 3 reserves.
const RESERVED: [u8; 2] = [0x3, 0x5];

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
    /// 2: not now (this profile, PROFILE.md section 8): the LBS's
    /// directory could not answer; the device retries later with what it
    /// holds, rather than enrolling again.
    RetryLater,
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
    fn parse(mut body: &'a [u8]) -> Result<Self, FrameError> {
        let mut fields = Vec::new();
        while !body.is_empty() {
            let (rest, t) = crate::wire::u8_field(body, "field tag")?;
            let (rest, value) = crate::wire::prefixed(rest, "field value")?;
            if value.len() > MAX_FIELD {
                return Err(FrameError::field(
                    "field value",
                    FieldError::TooLong(value.len()),
                ));
            }
            if fields.iter().any(|(seen, _)| *seen == t) {
                return Err(FrameError::field(
                    "field tag",
                    FieldError::Invalid("a field appears twice"),
                ));
            }
            fields.push((t, value));
            body = rest;
        }
        Ok(Self(fields))
    }

    fn take(&mut self, t: u8, name: &'static str) -> Result<&'a [u8], FrameError> {
        let i = self
            .0
            .iter()
            .position(|(seen, _)| *seen == t)
            .ok_or(FrameError::field(name, FieldError::Truncated))?;
        Ok(self.0.remove(i).1)
    }

    fn text(&mut self, t: u8, name: &'static str) -> Result<String, FrameError> {
        Ok(String::from(crate::wire::check_str(
            self.take(t, name)?,
            name,
        )?))
    }

    fn result(&mut self) -> Result<AuthResult, FrameError> {
        match self.take(tag::RESULT, "result")? {
            [0] => Ok(AuthResult::Accepted),
            [1] => Ok(AuthResult::Refused),
            [2] => Ok(AuthResult::RetryLater),
            [other] => Err(FrameError::field(
                "result",
                FieldError::OutOfRange(u32::from(*other)),
            )),
            _ => Err(FrameError::field(
                "result",
                FieldError::Invalid("must be one byte"),
            )),
        }
    }

    fn optional(&mut self, t: u8, name: &'static str) -> Result<Vec<u8>, FrameError> {
        match self.take(t, name) {
            Ok(v) => Ok(v.to_vec()),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn end(self) -> Result<(), FrameError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(FrameError::field(
                "body",
                FieldError::Invalid("unknown field"),
            ))
        }
    }
}

impl AuthMessage {
    /// The control message type.
    #[must_use]
    pub fn kind(&self) -> AuthKind {
        match self {
            Self::EcdhRequest { .. } => AuthKind::EcdhRequest,
            Self::EcdhResponse { .. } => AuthKind::EcdhResponse,
            Self::RefreshRequest { .. } => AuthKind::RefreshRequest,
            Self::RefreshResponse { .. } => AuthKind::RefreshResponse,
            Self::ApplyDevidRequest { .. } => AuthKind::ApplyDevidRequest,
            Self::ApplyDevidResponse { .. } => AuthKind::ApplyDevidResponse,
            Self::ApplyDevidConfirm { .. } => AuthKind::ApplyDevidConfirm,
            Self::DasRequest { .. } => AuthKind::DasRequest,
            Self::DasResponse { .. } => AuthKind::DasResponse,
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let result = |r: &AuthResult| {
            [match r {
                AuthResult::Accepted => 0,
                AuthResult::Refused => 1,
                AuthResult::RetryLater => 2,
            }]
        };
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

    fn from_body(code: u8, body: &[u8]) -> Result<Self, FrameError> {
        let Some(k) = AuthKind::from_code(code) else {
            return Err(if RESERVED.contains(&code) {
                FrameError::field(
                    "control message type",
                    FieldError::Invalid("reserved by Table 3"),
                )
            } else {
                FrameError::UnknownType(code)
            });
        };
        let mut f = Fields::parse(body)?;
        let message = match k {
            AuthKind::EcdhRequest => Self::EcdhRequest {
                serial: f.text(tag::SERIAL, "serial")?,
                sealed_public_key: f
                    .take(tag::DEVICE_PUBLIC_KEY, "device public key")?
                    .to_vec(),
            },
            AuthKind::EcdhResponse => Self::EcdhResponse {
                result: f.result()?,
                sealed_public_key: f.optional(tag::LBS_PUBLIC_KEY, "LBS public key")?,
            },
            AuthKind::RefreshRequest | AuthKind::ApplyDevidConfirm | AuthKind::DasRequest => {
                let devid = f.text(tag::DEVID_CLEAR, "devid")?;
                let proof = f.take(tag::PROOF, "proof")?.to_vec();
                match k {
                    AuthKind::RefreshRequest => Self::RefreshRequest { devid, proof },
                    AuthKind::ApplyDevidConfirm => Self::ApplyDevidConfirm { devid, proof },
                    _ => Self::DasRequest { devid, proof },
                }
            }
            AuthKind::RefreshResponse => Self::RefreshResponse {
                result: f.result()?,
                sealed_session_key: f.optional(tag::SESSION_KEY, "session key")?,
            },
            AuthKind::ApplyDevidRequest => Self::ApplyDevidRequest {
                serial: f.text(tag::SERIAL, "serial")?,
                proof: f.take(tag::PROOF, "proof")?.to_vec(),
            },
            AuthKind::ApplyDevidResponse => Self::ApplyDevidResponse {
                result: f.result()?,
                sealed_devid: f.optional(tag::DEVID, "devid")?,
                sealed_session_key: f.optional(tag::SESSION_KEY, "session key")?,
            },
            AuthKind::DasResponse => Self::DasResponse {
                result: f.result()?,
                sealed_address: f.optional(tag::DAS_ADDRESS, "DAS address")?,
            },
        };
        f.end()?;
        Ok(message)
    }
}

impl AuthFrame {
    /// The associated data that binds a sealed field to its message: the
    /// message type and the exchange nonce.
    #[must_use]
    pub fn aad(kind: AuthKind, nonce: &[u8; NONCE_LEN]) -> [u8; NONCE_LEN + 1] {
        let mut aad = [0u8; NONCE_LEN + 1];
        aad[0] = kind.code();
        aad[1..].copy_from_slice(nonce);
        aad
    }

    /// The control frame carrying this message.
    #[must_use]
    pub fn to_control(&self) -> ControlFrame<'static> {
        ControlFrame {
            kind: self.message.kind().code(),
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
    pub fn encode(&self, out: &mut impl bytes::BufMut) -> Result<(), FrameError> {
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
    pub fn from_control(frame: &ControlFrame<'_>) -> Result<Self, FrameError> {
        if frame.flags != ControlFlags::ECDH {
            return Err(FrameError::field(
                "control flags",
                FieldError::Invalid("authentication uses ECDH key mode 0x3"),
            ));
        }
        let suite = frame.protocol_group.as_single().ok_or(FrameError::field(
            "protocol group",
            FieldError::Invalid("must name the one negotiated suite"),
        ))?;
        let nonce = <[u8; NONCE_LEN]>::try_from(frame.content.as_ref())
            .map_err(|_| FrameError::field("nonce", FieldError::Invalid("must be 16 bytes")))?;
        Ok(Self {
            protocol_type: frame.protocol_type,
            suite,
            version: frame.version,
            nonce,
            message: AuthMessage::from_body(frame.kind, &frame.application)?,
        })
    }
}
