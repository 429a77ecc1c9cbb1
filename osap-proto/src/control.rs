//! OSAP control frames (draft section 5): the layout every control message
//! on the load-balance service (LBS) connection shares, and the protocol
//! negotiation messages of Figures 1 and 2.
//!
//! Body layout (see `PROFILE.md` for the byte-by-byte description):
//!
//! ```text
//! variable header : protocol type (1 byte), protocol group (1 byte)
//! general payload : LEN (2 bytes, big endian), then LEN bytes:
//!                   PROTOCOL-VERSION (3 bytes: form, high type, low type)
//!                   and the transaction content
//! application     : the rest of the frame
//! ```

use alloc::borrow::Cow;
use core::fmt;

use bytes::BufMut;

use crate::error::{FieldError, FrameError};
use crate::frame::{FixedHeader, RawFrame, put_header, remaining_length_len};
use crate::wire::{bytes_field, u8_field, u16_field};

/// PROTOCOL-VERSION (section 5, Table 2): the version of the protocol form
/// and the high and low version of the protocol type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProtocolVersion {
    /// FORM_VERSION.
    pub form: u8,
    /// HIGH_TYPE_VERSION.
    pub high: u8,
    /// LOW_TYPE_VERSION.
    pub low: u8,
}

impl ProtocolVersion {
    /// The version this crate sends unless told otherwise: form 1, type
    /// 1.0 (the draft gives no value; see `PROFILE.md`).
    pub const DEFAULT: Self = Self {
        form: 1,
        high: 1,
        low: 0,
    };
}

impl Default for ProtocolVersion {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One member of a protocol group: a bit of the group byte that names a
/// security suite (section 5, "protocol group:(1,2,4,8)").
///
/// The draft does not say what each bit means; this crate's default
/// reading (see `PROFILE.md`) is the one named by each variant, with a
/// higher bit being more secure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub enum Suite {
    /// Bit 1: AES-128-ECB.
    Aes128Ecb = 1,
    /// Bit 2: AES-128-CBC with a random IV sent first.
    Aes128Cbc = 2,
    /// Bit 4: AES-128-GCM.
    Aes128Gcm = 4,
    /// Bit 8: reserved for a stronger suite.
    Reserved8 = 8,
}

impl Suite {
    /// Every suite, lowest bit first.
    pub const ALL: [Self; 4] = [
        Self::Aes128Ecb,
        Self::Aes128Cbc,
        Self::Aes128Gcm,
        Self::Reserved8,
    ];

    /// The suite's bit.
    #[must_use]
    pub fn bit(self) -> u8 {
        self as u8
    }

    /// The suite with this bit.
    #[must_use]
    pub fn from_bit(bit: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.bit() == bit)
    }
}

impl From<Suite> for u8 {
    fn from(s: Suite) -> u8 {
        s.bit()
    }
}

impl TryFrom<u8> for Suite {
    type Error = FrameError;
    fn try_from(bit: u8) -> Result<Self, FrameError> {
        Self::from_bit(bit).ok_or(FrameError::field(
            "suite",
            FieldError::OutOfRange(u32::from(bit)),
        ))
    }
}

/// A protocol group: a set of [`Suite`]s, carried as one byte whose low
/// four bits are 1, 2, 4 and 8.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub struct ProtocolGroup(u8);

impl ProtocolGroup {
    /// The empty group.
    pub const EMPTY: Self = Self(0);
    /// The group of every suite, `(1,2,4,8)`.
    pub const ALL: Self = Self(0x0f);

    /// The group with these bits.
    ///
    /// # Errors
    ///
    /// [`FieldError::ReservedBits`] for bits above the low four.
    pub fn from_bits(bits: u8) -> Result<Self, FrameError> {
        if bits & 0xf0 != 0 {
            return Err(FrameError::field(
                "protocol group",
                FieldError::ReservedBits(bits & 0xf0),
            ));
        }
        Ok(Self(bits))
    }

    /// The group of these suites.
    #[must_use]
    pub fn of(suites: &[Suite]) -> Self {
        Self(suites.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// The group holding one suite.
    #[must_use]
    pub fn single(suite: Suite) -> Self {
        Self(suite.bit())
    }

    /// The group byte.
    #[must_use]
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether the group holds `suite`.
    #[must_use]
    pub fn contains(self, suite: Suite) -> bool {
        self.0 & suite.bit() != 0
    }

    /// The suites both groups hold.
    #[must_use]
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether the group is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The only suite of a one-suite group.
    #[must_use]
    pub fn as_single(self) -> Option<Suite> {
        Suite::from_bit(self.0)
    }

    /// The suites, lowest bit first.
    pub fn iter(self) -> impl Iterator<Item = Suite> {
        Suite::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Debug for ProtocolGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", s.bit())?;
        }
        f.write_str(")")
    }
}

impl From<ProtocolGroup> for u8 {
    fn from(g: ProtocolGroup) -> u8 {
        g.0
    }
}

impl TryFrom<u8> for ProtocolGroup {
    type Error = FrameError;
    fn try_from(bits: u8) -> Result<Self, FrameError> {
        Self::from_bits(bits)
    }
}

/// The control flags of a control frame: the low nibble of its first byte.
///
/// Bit 0 is set in every control frame the draft shows; bit 1 selects the
/// ECDH key mode (section 5); bits 2 and 3 are reserved. Building never
/// sets a reserved bit; parsing keeps them, so a caller sees them
/// ([`ControlFlags::reserved_bits`]) and the state machines refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub struct ControlFlags(u8);

impl ControlFlags {
    /// Bit 0 alone: the flags of the original (non-ECDH) mode, `0x1`.
    pub const ORIGINAL: Self = Self(0x1);
    /// Bits 0 and 1: ECDH key mode, `0x3`.
    pub const ECDH: Self = Self(0x3);

    /// The flags for the original or the ECDH key mode.
    #[must_use]
    pub fn new(ecdh: bool) -> Self {
        if ecdh { Self::ECDH } else { Self::ORIGINAL }
    }

    /// The flags of a parsed frame.
    ///
    /// # Errors
    ///
    /// When bit 0 is clear or a bit above the low four is set.
    pub fn from_bits(bits: u8) -> Result<Self, FrameError> {
        if bits & 0xf0 != 0 {
            return Err(FrameError::field(
                "control flags",
                FieldError::OutOfRange(u32::from(bits)),
            ));
        }
        if bits & 0x1 == 0 {
            return Err(FrameError::field(
                "control flags",
                FieldError::Invalid("bit 0 must be set"),
            ));
        }
        Ok(Self(bits))
    }

    /// The four flag bits.
    #[must_use]
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether bit 1, ECDH key mode, is set.
    #[must_use]
    pub fn ecdh(self) -> bool {
        self.0 & 0x2 != 0
    }

    /// The reserved bits (2 and 3) that are set.
    #[must_use]
    pub fn reserved_bits(self) -> u8 {
        self.0 & 0xc
    }
}

impl From<ControlFlags> for u8 {
    fn from(f: ControlFlags) -> u8 {
        f.0
    }
}

impl TryFrom<u8> for ControlFlags {
    type Error = FrameError;
    fn try_from(bits: u8) -> Result<Self, FrameError> {
        Self::from_bits(bits)
    }
}

/// One control frame on the LBS connection.
///
/// ```
/// use osap_proto::{ControlFlags, ControlFrame, ProtocolGroup, ProtocolVersion};
///
/// let frame = ControlFrame {
///     kind: 0x1,
///     flags: ControlFlags::ORIGINAL,
///     protocol_type: 1,
///     protocol_group: ProtocolGroup::ALL,
///     version: ProtocolVersion::DEFAULT,
///     content: b"tx-1".as_slice().into(),
///     application: b"".as_slice().into(),
/// };
/// let mut wire = Vec::new();
/// frame.encode(&mut wire)?;
/// assert_eq!(wire, [0x11, 0x0b, 0x01, 0x0f, 0x00, 0x07, 0x01, 0x01, 0x00, b't', b'x', b'-', b'1']);
/// assert_eq!(ControlFrame::parse(&wire)?, frame);
/// # Ok::<(), osap_proto::FrameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ControlFrame<'a> {
    /// The control message type, 1 to 15.
    pub kind: u8,
    /// The control flags.
    pub flags: ControlFlags,
    /// The protocol type (variable header, first byte).
    pub protocol_type: u8,
    /// The protocol group (variable header, second byte).
    pub protocol_group: ProtocolGroup,
    /// PROTOCOL-VERSION, the start of the general payload.
    pub version: ProtocolVersion,
    /// The rest of the general payload: the transaction content.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub content: Cow<'a, [u8]>,
    /// The application payload: the rest of the frame.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub application: Cow<'a, [u8]>,
}

impl<'a> ControlFrame<'a> {
    /// Parses exactly one control frame.
    ///
    /// # Errors
    ///
    /// The framing errors of [`RawFrame::parse`] and those of
    /// [`ControlFrame::from_raw`].
    pub fn parse(input: &'a [u8]) -> Result<Self, FrameError> {
        Self::from_raw(RawFrame::parse(input)?)
    }

    /// Reads a control frame's body.
    ///
    /// # Errors
    ///
    /// [`FrameError::UnknownType`] for type 0; a malformed control flags, protocol
    /// group, LEN (below 3, or past the frame) or truncated field.
    pub fn from_raw(raw: RawFrame<'a>) -> Result<Self, FrameError> {
        if raw.header.kind == 0 {
            return Err(FrameError::UnknownType(0));
        }
        let flags = ControlFlags::from_bits(raw.header.flags)?;
        let (rest, protocol_type) = u8_field(raw.body, "protocol type")?;
        let (rest, group) = u8_field(rest, "protocol group")?;
        let protocol_group = ProtocolGroup::from_bits(group)?;
        let (rest, len) = u16_field(rest, "general payload length")?;
        if len < 3 {
            return Err(FrameError::field(
                "general payload length",
                FieldError::Invalid("must cover the 3-byte PROTOCOL-VERSION"),
            ));
        }
        let (application, general) = bytes_field(rest, usize::from(len), "general payload")?;
        let (content, v) = bytes_field(general, 3, "protocol version")?;
        let version = match v {
            [form, high, low] => ProtocolVersion {
                form: *form,
                high: *high,
                low: *low,
            },
            _ => return Err(FrameError::field("protocol version", FieldError::Truncated)),
        };
        Ok(Self {
            kind: raw.header.kind,
            flags,
            protocol_type,
            protocol_group,
            version,
            content: Cow::Borrowed(content),
            application: Cow::Borrowed(application),
        })
    }

    fn body_len(&self) -> usize {
        2 + 2 + 3 + self.content.len() + self.application.len()
    }

    /// The frame's encoded length.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        1 + remaining_length_len(u32::try_from(body).unwrap_or(u32::MAX)) + body
    }

    /// Writes the frame.
    ///
    /// # Errors
    ///
    /// A kind outside 1 to 15, a general payload over 65,535 bytes, or a
    /// frame over the MQTT maximum.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), FrameError> {
        if !(1..=15).contains(&self.kind) {
            return Err(FrameError::UnknownType(self.kind));
        }
        let general = u16::try_from(3 + self.content.len()).map_err(|_| {
            FrameError::field(
                "general payload",
                FieldError::TooLong(3 + self.content.len()),
            )
        })?;
        let header = FixedHeader {
            kind: self.kind,
            flags: self.flags.bits(),
        };
        put_header(out, header, self.body_len())?;
        out.put_u8(self.protocol_type);
        out.put_u8(self.protocol_group.bits());
        out.put_u16(general);
        out.put_slice(&[self.version.form, self.version.high, self.version.low]);
        out.put_slice(&self.content);
        out.put_slice(&self.application);
        Ok(())
    }

    /// Copies borrowed fields so the frame outlives its input.
    #[must_use]
    pub fn into_owned(self) -> ControlFrame<'static> {
        ControlFrame {
            content: Cow::Owned(self.content.into_owned()),
            application: Cow::Owned(self.application.into_owned()),
            ..self
        }
    }
}

/// The control message types of the negotiation (section 5, Figures 1
/// and 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum NegotiationKind {
    /// 0x1: negotiation request, device to LBS.
    Request,
    /// 0x2: negotiation response, LBS to device.
    Response,
}

impl NegotiationKind {
    /// The control message type on the wire.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Request => 0x1,
            Self::Response => 0x2,
        }
    }

    /// The kind with this control message type, if any.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0x1 => Some(Self::Request),
            0x2 => Some(Self::Response),
            _ => None,
        }
    }
}

/// A negotiation request or response (section 5): a control frame of type
/// 0x1 or 0x2 with an empty application payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NegotiationMessage<'a> {
    /// The control flags; bit 1 asks for (request) or grants (response) the
    /// ECDH key mode for the authentication that follows.
    pub flags: ControlFlags,
    /// The protocol type.
    pub protocol_type: u8,
    /// In a request, the device's protocol group; in a consistent response,
    /// the one suite chosen; in an inconsistent response, the LBS's group
    /// for the protocol type it names.
    pub protocol_group: ProtocolGroup,
    /// PROTOCOL-VERSION.
    pub version: ProtocolVersion,
    /// The transaction content; a response echoes the request's.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub transaction: Cow<'a, [u8]>,
}

impl<'a> NegotiationMessage<'a> {
    /// The control frame of type `kind` carrying this negotiation.
    #[must_use]
    pub fn to_frame(&self, kind: NegotiationKind) -> ControlFrame<'_> {
        ControlFrame {
            kind: kind.code(),
            flags: self.flags,
            protocol_type: self.protocol_type,
            protocol_group: self.protocol_group,
            version: self.version,
            content: Cow::Borrowed(&self.transaction),
            application: Cow::Borrowed(&[]),
        }
    }

    /// Reads a negotiation message from a control frame of type `kind`.
    ///
    /// # Errors
    ///
    /// [`FrameError::UnknownType`] for another type, or an application payload
    /// that is not empty.
    pub fn from_frame(frame: ControlFrame<'a>, kind: NegotiationKind) -> Result<Self, FrameError> {
        if frame.kind != kind.code() {
            return Err(FrameError::UnknownType(frame.kind));
        }
        if !frame.application.is_empty() {
            return Err(FrameError::field(
                "application payload",
                FieldError::TrailingBytes,
            ));
        }
        Ok(Self {
            flags: frame.flags,
            protocol_type: frame.protocol_type,
            protocol_group: frame.protocol_group,
            version: frame.version,
            transaction: frame.content,
        })
    }
}
