//! Fields several packets share: the quality of service (section 4.3) and
//! the packet identifier (section 2.3.1).

use core::num::NonZeroU16;

use crate::error::{FieldError, FrameError};
use crate::wire::u16_field;

/// A quality of service level (section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub enum QoS {
    /// 0: at most once.
    AtMostOnce = 0,
    /// 1: at least once.
    AtLeastOnce = 1,
    /// 2: exactly once (allowed in wills and subscriptions; PUBLISH at QoS 2
    /// is not supported by this profile).
    ExactlyOnce = 2,
}

impl QoS {
    pub(super) fn from_bits(bits: u8, field: &'static str) -> Result<Self, FrameError> {
        match bits {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            _ => Err(FrameError::field(
                field,
                FieldError::OutOfRange(u32::from(bits)),
            )),
        }
    }
}

impl From<QoS> for u8 {
    fn from(q: QoS) -> u8 {
        q as u8
    }
}

impl TryFrom<u8> for QoS {
    type Error = FrameError;
    fn try_from(bits: u8) -> Result<Self, FrameError> {
        Self::from_bits(bits, "qos")
    }
}

/// A packet identifier: non-zero (section 2.3.1).
pub type PacketId = NonZeroU16;

pub(super) fn packet_id(input: &[u8]) -> Result<(&[u8], PacketId), FrameError> {
    let (rest, id) = u16_field(input, "packet identifier")?;
    let id = NonZeroU16::new(id).ok_or(FrameError::field(
        "packet identifier",
        FieldError::Invalid("must not be 0"),
    ))?;
    Ok((rest, id))
}
