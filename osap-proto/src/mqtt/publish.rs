//! PUBLISH (MQTT 3.1.1 section 3.3): the business messages of OSAP draft
//! section 7, and the topic-name rules of section 4.7.

use alloc::borrow::Cow;

use super::qos::{PacketId, packet_id};
use crate::error::{FieldError, FrameError};
use crate::frame::FixedHeader;
use crate::wire::{has_nul_or_wildcard, prefixed};

/// How a PUBLISH is delivered: QoS 0, or QoS 1 or 2 with its packet
/// identifier and DUP flag (section 3.3.1). The codec reads and writes
/// all three; the OSAP session machines use QoS 0 and 1 only and refuse a
/// QoS 2 PUBLISH (PROFILE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Delivery {
    /// QoS 0.
    AtMostOnce,
    /// QoS 1.
    AtLeastOnce {
        /// The packet identifier.
        packet_id: PacketId,
        /// Whether this is a redelivery.
        dup: bool,
    },
    /// QoS 2 (section 4.3.3: PUBLISH, PUBREC, PUBREL, PUBCOMP).
    ExactlyOnce {
        /// The packet identifier.
        packet_id: PacketId,
        /// Whether this is a redelivery.
        dup: bool,
    },
}

impl Delivery {
    /// The QoS level: 0, 1 or 2.
    #[must_use]
    pub const fn qos(self) -> u8 {
        match self {
            Self::AtMostOnce => 0,
            Self::AtLeastOnce { .. } => 1,
            Self::ExactlyOnce { .. } => 2,
        }
    }

    /// The packet identifier and DUP flag, at QoS 1 and 2.
    #[must_use]
    pub const fn packet_id(self) -> Option<(PacketId, bool)> {
        match self {
            Self::AtMostOnce => None,
            Self::AtLeastOnce { packet_id, dup } | Self::ExactlyOnce { packet_id, dup } => {
                Some((packet_id, dup))
            }
        }
    }
}

/// PUBLISH (section 3.3) at QoS 0, 1 or 2.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Publish<'a> {
    /// QoS and, for QoS 1 and 2, packet identifier and DUP.
    pub delivery: Delivery,
    /// The retain flag.
    pub retain: bool,
    /// The topic name (no wildcards).
    pub topic: Cow<'a, str>,
    /// The application message.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub payload: Cow<'a, [u8]>,
}

/// The first fault of a topic name already known to be UTF-8, in the order
/// the reader reports them: U+0000 (section 1.5.3), empty, wildcards
/// (section 4.7.1). One word-at-a-time pass clears the common case.
fn topic_fault(topic: &str) -> Option<FieldError> {
    if topic.is_empty() {
        return Some(FieldError::Invalid("must not be empty"));
    }
    if !has_nul_or_wildcard(topic.as_bytes()) {
        return None;
    }
    Some(if topic.as_bytes().contains(&0) {
        FieldError::NullCharacter
    } else {
        FieldError::Invalid("must not contain wildcards")
    })
}

/// Checks a topic name to be written (section 4.7): not empty, no
/// wildcards, no U+0000 (section 1.5.3).
pub(super) fn check_topic_name(topic: &str) -> Result<(), FrameError> {
    match topic_fault(topic) {
        None => Ok(()),
        Some(reason) => Err(FrameError::field("topic name", reason)),
    }
}

/// Reads a topic name: a length-prefixed string (section 1.5.3: UTF-8
/// without U+0000) that is a topic name (section 4.7: not empty, no
/// wildcards). The UTF-8 check comes first, then [`topic_fault`].
fn topic_name(input: &[u8]) -> Result<(&[u8], &str), FrameError> {
    const FIELD: &str = "topic name";
    let (rest, bytes) = prefixed(input, FIELD)?;
    let topic = core::str::from_utf8(bytes)
        .map_err(|_| FrameError::field(FIELD, FieldError::InvalidUtf8))?;
    match topic_fault(topic) {
        None => Ok((rest, topic)),
        Some(reason) => Err(FrameError::field(FIELD, reason)),
    }
}

#[inline]
pub(super) fn parse_publish(header: FixedHeader, body: &[u8]) -> Result<Publish<'_>, FrameError> {
    let dup = header.flags & 0x8 != 0;
    let retain = header.flags & 0x1 != 0;
    let (rest, topic) = topic_name(body)?;
    let (payload, delivery) = match (header.flags >> 1) & 0x3 {
        0 if dup => {
            return Err(FrameError::field(
                "fixed header flags",
                FieldError::Invalid("DUP must be 0 at QoS 0"),
            ));
        }
        0 => (rest, Delivery::AtMostOnce),
        1 => {
            let (rest, id) = packet_id(rest)?;
            (rest, Delivery::AtLeastOnce { packet_id: id, dup })
        }
        2 => {
            let (rest, id) = packet_id(rest)?;
            (rest, Delivery::ExactlyOnce { packet_id: id, dup })
        }
        _ => {
            return Err(FrameError::field(
                "fixed header flags",
                FieldError::OutOfRange(3),
            ));
        }
    };
    Ok(Publish {
        delivery,
        retain,
        topic: Cow::Borrowed(topic),
        payload: Cow::Borrowed(payload),
    })
}
