//! SUBSCRIBE, SUBACK and UNSUBSCRIBE (MQTT 3.1.1 sections 3.8-3.10), and
//! the topic-filter rules of section 4.7.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;

use super::qos::{PacketId, QoS};
use crate::error::{FieldError, FrameError};
use crate::wire::{prefixed, put_prefixed, string, string_len, u8_field};

/// A SUBACK return code (section 3.9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub enum SubscribeReturnCode {
    /// Success with this maximum QoS.
    Granted(QoS),
    /// 0x80: failure.
    Failure,
}

impl From<SubscribeReturnCode> for u8 {
    fn from(c: SubscribeReturnCode) -> u8 {
        match c {
            SubscribeReturnCode::Granted(q) => q.into(),
            SubscribeReturnCode::Failure => 0x80,
        }
    }
}

impl TryFrom<u8> for SubscribeReturnCode {
    type Error = FrameError;
    fn try_from(code: u8) -> Result<Self, FrameError> {
        match code {
            0x80 => Ok(Self::Failure),
            0..=2 => Ok(Self::Granted(QoS::from_bits(
                code,
                "subscribe return code",
            )?)),
            _ => Err(FrameError::field(
                "subscribe return code",
                FieldError::OutOfRange(u32::from(code)),
            )),
        }
    }
}

/// Checks a topic filter (section 4.7.1): not empty; `#` only as the whole
/// last level; `+` only as a whole level.
fn check_topic_filter(filter: &str) -> Result<(), FrameError> {
    if filter.is_empty() {
        return Err(FrameError::field(
            "topic filter",
            FieldError::Invalid("must not be empty"),
        ));
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        if level.contains('#') && (level != "#" || !last) {
            return Err(FrameError::field(
                "topic filter",
                FieldError::Invalid("`#` must be the whole last level"),
            ));
        }
        if level.contains('+') && level != "+" {
            return Err(FrameError::field(
                "topic filter",
                FieldError::Invalid("`+` must be a whole level"),
            ));
        }
    }
    Ok(())
}

/// The topic filters of a SUBSCRIBE with their requested QoS, or of an
/// UNSUBSCRIBE, kept in their wire form: parsing validates them without
/// allocating, iterating decodes them.
#[derive(Clone, PartialEq, Eq)]
pub struct TopicFilters<'a> {
    wire: Cow<'a, [u8]>,
    with_qos: bool,
}

impl<'a> TopicFilters<'a> {
    pub(super) fn parse(wire: &'a [u8], with_qos: bool) -> Result<Self, FrameError> {
        Self::validate(wire, with_qos)?;
        Ok(Self {
            wire: Cow::Borrowed(wire),
            with_qos,
        })
    }

    fn validate(wire: &[u8], with_qos: bool) -> Result<(), FrameError> {
        let mut rest = wire;
        if rest.is_empty() {
            return Err(FrameError::field(
                "topic filters",
                FieldError::Invalid("at least one is required"),
            ));
        }
        while !rest.is_empty() {
            let (r, filter) = string(rest, "topic filter")?;
            check_topic_filter(filter)?;
            rest = r;
            if with_qos {
                let (r, qos) = u8_field(rest, "requested qos")?;
                if qos & 0xfc != 0 {
                    return Err(FrameError::field(
                        "requested qos",
                        FieldError::ReservedBits(qos & 0xfc),
                    ));
                }
                QoS::from_bits(qos, "requested qos")?;
                rest = r;
            }
        }
        Ok(())
    }

    fn build<'f>(
        items: impl Iterator<Item = (&'f str, Option<QoS>)>,
        with_qos: bool,
    ) -> Result<Self, FrameError> {
        let mut wire = Vec::new();
        for (filter, qos) in items {
            // What `validate` checks of a filter read, each checked once.
            string_len(filter, "topic filter")?;
            check_topic_filter(filter)?;
            put_prefixed(&mut wire, filter.as_bytes());
            if let Some(qos) = qos {
                wire.push(qos.into());
            }
        }
        if wire.is_empty() {
            return Err(FrameError::field(
                "topic filters",
                FieldError::Invalid("at least one is required"),
            ));
        }
        Ok(Self {
            wire: Cow::Owned(wire),
            with_qos,
        })
    }

    /// Subscriptions: filters with their requested QoS.
    ///
    /// # Errors
    ///
    /// An empty list or an invalid filter.
    pub fn subscriptions(items: &[(&str, QoS)]) -> Result<TopicFilters<'static>, FrameError> {
        TopicFilters::build(items.iter().map(|(f, q)| (*f, Some(*q))), true)
    }

    /// Filters without QoS, for UNSUBSCRIBE.
    ///
    /// # Errors
    ///
    /// An empty list or an invalid filter.
    pub fn filters(items: &[&str]) -> Result<TopicFilters<'static>, FrameError> {
        TopicFilters::build(items.iter().map(|f| (*f, None)), false)
    }

    /// The filters, each with its requested QoS in a SUBSCRIBE.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<QoS>)> + '_ {
        let mut rest: &[u8] = &self.wire;
        let with_qos = self.with_qos;
        core::iter::from_fn(move || {
            let (r, bytes) = prefixed(rest, "topic filter").ok()?;
            let filter = core::str::from_utf8(bytes).ok()?;
            rest = r;
            let qos = if with_qos {
                let (r, q) = u8_field(rest, "requested qos").ok()?;
                rest = r;
                QoS::from_bits(q, "requested qos").ok()
            } else {
                None
            };
            Some((filter, qos))
        })
    }

    pub(super) fn wire(&self) -> &[u8] {
        &self.wire
    }

    pub(super) fn into_owned(self) -> TopicFilters<'static> {
        TopicFilters {
            wire: Cow::Owned(self.wire.into_owned()),
            with_qos: self.with_qos,
        }
    }
}

impl fmt::Debug for TopicFilters<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One topic filter in the JSON form of [`TopicFilters`].
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct FilterEntry<'a> {
    #[serde(borrow)]
    filter: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qos: Option<QoS>,
}

#[cfg(feature = "serde")]
impl serde::Serialize for TopicFilters<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(|(f, qos)| FilterEntry {
            filter: Cow::Borrowed(f),
            qos,
        }))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for TopicFilters<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<FilterEntry<'_>>::deserialize(deserializer)?;
        let with_qos = entries.first().is_some_and(|e| e.qos.is_some());
        if entries.iter().any(|e| e.qos.is_some() != with_qos) {
            return Err(serde::de::Error::custom(
                "give a qos for every filter or for none",
            ));
        }
        TopicFilters::build(entries.iter().map(|e| (e.filter.as_ref(), e.qos)), with_qos)
            .map_err(serde::de::Error::custom)
    }
}

/// SUBSCRIBE (section 3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Subscribe<'a> {
    /// The packet identifier.
    pub packet_id: PacketId,
    /// The topic filters and requested QoS levels (at least one).
    pub filters: TopicFilters<'a>,
}

/// The return codes of a SUBACK, kept in their wire form (validated).
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnCodes<'a>(pub(super) Cow<'a, [u8]>);

impl<'a> ReturnCodes<'a> {
    pub(super) fn parse(wire: &'a [u8]) -> Result<Self, FrameError> {
        if wire.is_empty() {
            return Err(FrameError::field(
                "return codes",
                FieldError::Invalid("at least one is required"),
            ));
        }
        for &code in wire {
            SubscribeReturnCode::try_from(code)?;
        }
        Ok(Self(Cow::Borrowed(wire)))
    }

    /// Return codes, one per filter of the SUBSCRIBE answered.
    ///
    /// # Errors
    ///
    /// An empty list.
    pub fn new(codes: &[SubscribeReturnCode]) -> Result<ReturnCodes<'static>, FrameError> {
        if codes.is_empty() {
            return Err(FrameError::field(
                "return codes",
                FieldError::Invalid("at least one is required"),
            ));
        }
        Ok(ReturnCodes(Cow::Owned(
            codes.iter().map(|&c| u8::from(c)).collect(),
        )))
    }

    /// The codes, in order.
    pub fn iter(&self) -> impl Iterator<Item = SubscribeReturnCode> + '_ {
        self.0
            .iter()
            .filter_map(|&c| SubscribeReturnCode::try_from(c).ok())
    }

    /// How many codes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never, for a parsed or built list).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ReturnCodes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ReturnCodes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ReturnCodes<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let codes = Vec::<SubscribeReturnCode>::deserialize(deserializer)?;
        let ReturnCodes(wire) = ReturnCodes::new(&codes).map_err(serde::de::Error::custom)?;
        Ok(ReturnCodes(Cow::Owned(wire.into_owned())))
    }
}

/// SUBACK (section 3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SubAck<'a> {
    /// The packet identifier of the SUBSCRIBE answered.
    pub packet_id: PacketId,
    /// One return code per filter, in order.
    pub codes: ReturnCodes<'a>,
}

/// UNSUBSCRIBE (section 3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Unsubscribe<'a> {
    /// The packet identifier.
    pub packet_id: PacketId,
    /// The topic filters (at least one).
    pub filters: TopicFilters<'a>,
}
