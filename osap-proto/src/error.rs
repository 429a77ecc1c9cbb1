//! The errors of the codec layer.

use core::fmt;

/// What is wrong with one field of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldError {
    /// The frame ends before the field does.
    Truncated,
    /// Bytes remain after the last field of a frame that has no payload
    /// of free length.
    TrailingBytes,
    /// A string is not valid UTF-8 (MQTT 3.1.1 section 1.5.3).
    InvalidUtf8,
    /// A string contains U+0000 (MQTT 3.1.1 section 1.5.3).
    NullCharacter,
    /// Bits that must be zero are set; the value shows them.
    ReservedBits(u8),
    /// A value outside the field's defined range.
    OutOfRange(u32),
    /// A value that breaks a rule stated with it.
    Invalid(&'static str),
    /// A field is too long to encode in its length prefix.
    TooLong(usize),
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated"),
            Self::TrailingBytes => f.write_str("unexpected bytes after the last field"),
            Self::InvalidUtf8 => f.write_str("not valid UTF-8"),
            Self::NullCharacter => f.write_str("contains U+0000"),
            Self::ReservedBits(bits) => write!(f, "reserved bits 0x{bits:02x} are set"),
            Self::OutOfRange(v) => write!(f, "value {v} is out of range"),
            Self::Invalid(rule) => f.write_str(rule),
            Self::TooLong(len) => write!(f, "{len} bytes do not fit the length prefix"),
        }
    }
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The remaining length continues past its fourth byte (section 4:
    /// the fixed header is 2 to 5 bytes).
    #[error("remaining length continues past four bytes")]
    RemainingLengthOverflow,
    /// The remaining length is not in its shortest encoding.
    #[error("remaining length {value} is not minimally encoded")]
    NonMinimalLength {
        /// The value it encodes.
        value: u32,
    },
    /// The frame is longer than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The frame's total length (fixed header included).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More bytes came while the reader was paused (waiting for its
    /// store) than the maximum frame size.
    #[error("more than {max} bytes came while reading was paused")]
    Flooded {
        /// The limit.
        max: usize,
    },
    /// The input ends inside the frame.
    #[error("frame truncated: {needed} more bytes needed")]
    Incomplete {
        /// How many more bytes the frame needs, at least.
        needed: usize,
    },
    /// Bytes follow the frame in an input that should hold exactly one.
    #[error("{extra} bytes follow the frame")]
    TrailingData {
        /// How many.
        extra: usize,
    },
    /// A control packet type that the channel does not define.
    #[error("control packet type {0} is not defined here")]
    UnknownType(u8),
    /// A field is malformed.
    #[error("{field}: {reason}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: FieldError,
    },
}

impl FrameError {
    pub(crate) fn field(field: &'static str, reason: FieldError) -> Self {
        Self::Malformed { field, reason }
    }
}
