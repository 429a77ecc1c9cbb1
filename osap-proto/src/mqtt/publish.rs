//! PUBLISH (MQTT 3.1.1 section 3.3): the business messages of OSAP draft
//! section 7, and the topic-name rules of section 4.7.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;
use core::ops::Deref;

use super::qos::{PacketId, packet_id};
use crate::error::{FieldError, FrameError};
use crate::frame::FixedHeader;
use crate::wire::{has_nul_or_wildcard, prefixed};

/// A topic name (MQTT 3.1.1 section 4.7): not empty, no wildcard, no
/// U+0000 (section 1.5.3), at most 65,535 bytes. It is checked when it is
/// made, read or deserialized, so writing it checks nothing again.
///
/// ```
/// use osap_proto::TopicName;
///
/// let topic = TopicName::new("osap/dev-1/up/light/event")?;
/// assert_eq!(topic, "osap/dev-1/up/light/event");
/// assert!(TopicName::new("osap/+/up").is_err());
/// assert!(TopicName::new("").is_err());
/// # Ok::<(), osap_proto::FrameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName<'a>(Cow<'a, str>);

impl<'a> TopicName<'a> {
    /// Checks `topic` as a topic name.
    ///
    /// # Errors
    ///
    /// [`FrameError::Malformed`] for the `topic name` field: empty, a
    /// wildcard, U+0000, or longer than a length prefix can say.
    pub fn new(topic: impl Into<Cow<'a, str>>) -> Result<Self, FrameError> {
        let topic = topic.into();
        if let Some(reason) = topic_fault(&topic) {
            return Err(FrameError::field(TOPIC_NAME, reason));
        }
        if topic.len() > usize::from(u16::MAX) {
            return Err(FrameError::field(
                TOPIC_NAME,
                FieldError::TooLong(topic.len()),
            ));
        }
        Ok(Self(topic))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same name, owning its text.
    #[must_use]
    pub fn into_owned(self) -> TopicName<'static> {
        TopicName(Cow::Owned(self.0.into_owned()))
    }

    /// The name as a string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl Deref for TopicName<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TopicName<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TopicName<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for TopicName<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for TopicName<'_> {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<TopicName<'_>> for String {
    fn eq(&self, other: &TopicName<'_>) -> bool {
        **self == *other.0
    }
}

impl PartialEq<TopicName<'_>> for &str {
    fn eq(&self, other: &TopicName<'_>) -> bool {
        **self == *other.0
    }
}

impl fmt::Debug for TopicName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for TopicName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TopicName<'static> {
    type Error = FrameError;
    fn try_from(topic: String) -> Result<Self, FrameError> {
        Self::new(topic)
    }
}

impl<'a> TryFrom<&'a str> for TopicName<'a> {
    type Error = FrameError;
    fn try_from(topic: &'a str) -> Result<Self, FrameError> {
        Self::new(topic)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for TopicName<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for TopicName<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let topic = String::deserialize(deserializer)?;
        TopicName::new(topic).map_err(serde::de::Error::custom)
    }
}

const TOPIC_NAME: &str = "topic name";

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
    /// The topic name.
    pub topic: TopicName<'a>,
    /// The application message.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub payload: Cow<'a, [u8]>,
}

/// The first fault of a topic name already known to be UTF-8, in the order
/// the reader reports them: U+0000 (section 1.5.3), empty, wildcards
/// (section 4.7.1). One word-at-a-time pass clears the common case.
#[inline(always)]
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

/// Reads a topic name: a length-prefixed string (section 1.5.3: UTF-8
/// without U+0000) that is a topic name (section 4.7: not empty, no
/// wildcards). The UTF-8 check comes first, then [`topic_fault`].
#[inline(always)]
pub(super) fn topic_name<'a>(
    input: &'a [u8],
    field: &'static str,
) -> Result<(&'a [u8], TopicName<'a>), FrameError> {
    let (rest, bytes) = prefixed(input, field)?;
    let topic = core::str::from_utf8(bytes)
        .map_err(|_| FrameError::field(field, FieldError::InvalidUtf8))?;
    match topic_fault(topic) {
        // A length prefix says at most 65,535 bytes.
        None => Ok((rest, TopicName(Cow::Borrowed(topic)))),
        Some(reason) => Err(FrameError::field(field, reason)),
    }
}

// Inlined into `Packet::from_raw`, where the business messages' packet is
// read first: a call would copy the packet out.
#[inline(always)]
pub(super) fn parse_publish(header: FixedHeader, body: &[u8]) -> Result<Publish<'_>, FrameError> {
    let dup = header.flags & 0x8 != 0;
    let retain = header.flags & 0x1 != 0;
    let (rest, topic) = topic_name(body, TOPIC_NAME)?;
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
        topic,
        payload: Cow::Borrowed(payload),
    })
}
