//! The MQTT 3.1.1 control packets OSAP relies on (draft sections 6 and 7:
//! registration with CONNECT/CONNACK, business messages with PUBLISH at
//! QoS 0 and 1 and subscriptions, heartbeat with PINGREQ/PINGRESP, and
//! DISCONNECT), read from and written to the same frame layer as the OSAP
//! control messages. Section numbers below are those of MQTT 3.1.1
//! (ISO/IEC 20922).

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;
use core::num::NonZeroU16;

use bytes::BufMut;
use subtle::ConstantTimeEq;

use crate::error::{Error, Reason};
use crate::frame::{FixedHeader, RawFrame, put_header, remaining_length_len};
use crate::wire::{end, prefixed, prefixed_len, put_prefixed, string, u8_field, u16_field};

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
    fn from_bits(bits: u8, field: &'static str) -> Result<Self, Error> {
        match bits {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            _ => Err(Error::field(field, Reason::OutOfRange(u32::from(bits)))),
        }
    }
}

impl From<QoS> for u8 {
    fn from(q: QoS) -> u8 {
        q as u8
    }
}

impl TryFrom<u8> for QoS {
    type Error = Error;
    fn try_from(bits: u8) -> Result<Self, Error> {
        Self::from_bits(bits, "qos")
    }
}

/// A packet identifier: non-zero (section 2.3.1).
pub type PacketId = NonZeroU16;

fn packet_id(input: &[u8]) -> Result<(&[u8], PacketId), Error> {
    let (rest, id) = u16_field(input, "packet identifier")?;
    let id = NonZeroU16::new(id).ok_or(Error::field(
        "packet identifier",
        Reason::Invalid("must not be 0"),
    ))?;
    Ok((rest, id))
}

/// A CONNECT password (section 3.1.3.5): binary data, a secret. Debug
/// prints it redacted, equality takes constant time, and an owned copy is
/// wiped on drop.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Password<'a>(
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))] pub Cow<'a, [u8]>,
);

impl fmt::Debug for Password<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl PartialEq for Password<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().ct_eq(other.0.as_ref()).into()
    }
}

impl Eq for Password<'_> {}

impl Drop for Password<'_> {
    fn drop(&mut self) {
        if let Cow::Owned(bytes) = &mut self.0 {
            zeroize::Zeroize::zeroize(bytes);
        }
    }
}

/// The will of a CONNECT (section 3.1.2.5 to 3.1.2.7, 3.1.3.2, 3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Will<'a> {
    /// The will topic.
    pub topic: Cow<'a, str>,
    /// The will message.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub message: Cow<'a, [u8]>,
    /// The will QoS.
    pub qos: QoS,
    /// The will retain flag.
    pub retain: bool,
}

/// CONNECT (section 3.1): OSAP registration and login (draft section 6,
/// Figure 5); the keep-alive is the heartbeat interval (section 7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Connect<'a> {
    /// The client identifier.
    pub client_id: Cow<'a, str>,
    /// The keep-alive interval in seconds.
    pub keep_alive: u16,
    /// The clean session flag.
    pub clean_session: bool,
    /// The will, if any.
    pub will: Option<Will<'a>>,
    /// The user name, if any.
    pub username: Option<Cow<'a, str>>,
    /// The password, if any (only with a user name, section 3.1.2.9).
    pub password: Option<Password<'a>>,
}

/// A CONNACK return code (section 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "u8", try_from = "u8"))]
pub enum ConnectReturnCode {
    /// 0: connection accepted.
    Accepted = 0,
    /// 1: unacceptable protocol version.
    UnacceptableProtocolVersion = 1,
    /// 2: identifier rejected.
    IdentifierRejected = 2,
    /// 3: server unavailable.
    ServerUnavailable = 3,
    /// 4: bad user name or password.
    BadUsernameOrPassword = 4,
    /// 5: not authorized.
    NotAuthorized = 5,
}

impl From<ConnectReturnCode> for u8 {
    fn from(c: ConnectReturnCode) -> u8 {
        c as u8
    }
}

impl TryFrom<u8> for ConnectReturnCode {
    type Error = Error;
    fn try_from(code: u8) -> Result<Self, Error> {
        use ConnectReturnCode as C;
        Ok(match code {
            0 => C::Accepted,
            1 => C::UnacceptableProtocolVersion,
            2 => C::IdentifierRejected,
            3 => C::ServerUnavailable,
            4 => C::BadUsernameOrPassword,
            5 => C::NotAuthorized,
            _ => {
                return Err(Error::field(
                    "connect return code",
                    Reason::OutOfRange(u32::from(code)),
                ));
            }
        })
    }
}

/// CONNACK (section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ConnAck {
    /// The session present flag (0 unless the code is Accepted).
    pub session_present: bool,
    /// The return code.
    pub code: ConnectReturnCode,
}

/// How a PUBLISH is delivered: QoS 0, or QoS 1 with its packet identifier
/// and DUP flag (section 3.3.1).
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
}

/// PUBLISH (section 3.3) at QoS 0 or 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Publish<'a> {
    /// QoS and, for QoS 1, packet identifier and DUP.
    pub delivery: Delivery,
    /// The retain flag.
    pub retain: bool,
    /// The topic name (no wildcards).
    pub topic: Cow<'a, str>,
    /// The application message.
    #[cfg_attr(feature = "serde", serde(with = "crate::hex"))]
    pub payload: Cow<'a, [u8]>,
}

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
    type Error = Error;
    fn try_from(code: u8) -> Result<Self, Error> {
        match code {
            0x80 => Ok(Self::Failure),
            0..=2 => Ok(Self::Granted(QoS::from_bits(
                code,
                "subscribe return code",
            )?)),
            _ => Err(Error::field(
                "subscribe return code",
                Reason::OutOfRange(u32::from(code)),
            )),
        }
    }
}

/// Checks a topic name (section 4.7): not empty, no wildcards.
fn check_topic_name(topic: &str) -> Result<(), Error> {
    if topic.is_empty() {
        return Err(Error::field(
            "topic name",
            Reason::Invalid("must not be empty"),
        ));
    }
    if topic.contains(['+', '#']) {
        return Err(Error::field(
            "topic name",
            Reason::Invalid("must not contain wildcards"),
        ));
    }
    Ok(())
}

/// Checks a topic filter (section 4.7.1): not empty; `#` only as the whole
/// last level; `+` only as a whole level.
fn check_topic_filter(filter: &str) -> Result<(), Error> {
    if filter.is_empty() {
        return Err(Error::field(
            "topic filter",
            Reason::Invalid("must not be empty"),
        ));
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        if level.contains('#') && (level != "#" || !last) {
            return Err(Error::field(
                "topic filter",
                Reason::Invalid("`#` must be the whole last level"),
            ));
        }
        if level.contains('+') && level != "+" {
            return Err(Error::field(
                "topic filter",
                Reason::Invalid("`+` must be a whole level"),
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
    fn parse(wire: &'a [u8], with_qos: bool) -> Result<Self, Error> {
        Self::validate(wire, with_qos)?;
        Ok(Self {
            wire: Cow::Borrowed(wire),
            with_qos,
        })
    }

    fn validate(wire: &[u8], with_qos: bool) -> Result<(), Error> {
        let mut rest = wire;
        if rest.is_empty() {
            return Err(Error::field(
                "topic filters",
                Reason::Invalid("at least one is required"),
            ));
        }
        while !rest.is_empty() {
            let (r, filter) = string(rest, "topic filter")?;
            check_topic_filter(filter)?;
            rest = r;
            if with_qos {
                let (r, qos) = u8_field(rest, "requested qos")?;
                if qos & 0xfc != 0 {
                    return Err(Error::field(
                        "requested qos",
                        Reason::ReservedBits(qos & 0xfc),
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
    ) -> Result<Self, Error> {
        let mut wire = Vec::new();
        for (filter, qos) in items {
            check_topic_filter(filter)?;
            prefixed_len(filter.len(), "topic filter")?;
            put_prefixed(&mut wire, filter.as_bytes());
            if let Some(qos) = qos {
                wire.push(qos.into());
            }
        }
        Self::validate(&wire, with_qos)?;
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
    pub fn subscriptions(items: &[(&str, QoS)]) -> Result<TopicFilters<'static>, Error> {
        TopicFilters::build(items.iter().map(|(f, q)| (*f, Some(*q))), true)
    }

    /// Filters without QoS, for UNSUBSCRIBE.
    ///
    /// # Errors
    ///
    /// An empty list or an invalid filter.
    pub fn filters(items: &[&str]) -> Result<TopicFilters<'static>, Error> {
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

    fn wire(&self) -> &[u8] {
        &self.wire
    }

    fn into_owned(self) -> TopicFilters<'static> {
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
pub struct ReturnCodes<'a>(Cow<'a, [u8]>);

impl<'a> ReturnCodes<'a> {
    fn parse(wire: &'a [u8]) -> Result<Self, Error> {
        if wire.is_empty() {
            return Err(Error::field(
                "return codes",
                Reason::Invalid("at least one is required"),
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
    pub fn new(codes: &[SubscribeReturnCode]) -> Result<ReturnCodes<'static>, Error> {
        if codes.is_empty() {
            return Err(Error::field(
                "return codes",
                Reason::Invalid("at least one is required"),
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

/// An MQTT 3.1.1 control packet.
///
/// ```
/// use osap_proto::{Delivery, Packet, Publish};
///
/// let packet = Packet::Publish(Publish {
///     delivery: Delivery::AtMostOnce,
///     retain: false,
///     topic: "a/b".into(),
///     payload: b"hi".as_slice().into(),
/// });
/// let mut wire = Vec::new();
/// packet.encode(&mut wire)?;
/// assert_eq!(wire, [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i']);
/// assert_eq!(Packet::parse(&wire)?, packet);
/// # Ok::<(), osap_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "type", content = "fields", rename_all = "UPPERCASE")
)]
#[allow(missing_docs)] // Each variant is the packet of its name.
pub enum Packet<'a> {
    Connect(Connect<'a>),
    ConnAck(ConnAck),
    Publish(Publish<'a>),
    PubAck(PacketId),
    Subscribe(Subscribe<'a>),
    SubAck(SubAck<'a>),
    Unsubscribe(Unsubscribe<'a>),
    UnsubAck(PacketId),
    PingReq,
    PingResp,
    Disconnect,
}

/// MQTT control packet types (section 2.2.1).
mod kind {
    pub(super) const CONNECT: u8 = 1;
    pub(super) const CONNACK: u8 = 2;
    pub(super) const PUBLISH: u8 = 3;
    pub(super) const PUBACK: u8 = 4;
    pub(super) const SUBSCRIBE: u8 = 8;
    pub(super) const SUBACK: u8 = 9;
    pub(super) const UNSUBSCRIBE: u8 = 10;
    pub(super) const UNSUBACK: u8 = 11;
    pub(super) const PINGREQ: u8 = 12;
    pub(super) const PINGRESP: u8 = 13;
    pub(super) const DISCONNECT: u8 = 14;
}

/// The connect flags (section 3.1.2.3).
mod connect_flags {
    pub(super) const RESERVED: u8 = 0x01;
    pub(super) const CLEAN_SESSION: u8 = 0x02;
    pub(super) const WILL: u8 = 0x04;
    pub(super) const WILL_QOS_SHIFT: u8 = 3;
    pub(super) const WILL_RETAIN: u8 = 0x20;
    pub(super) const PASSWORD: u8 = 0x40;
    pub(super) const USERNAME: u8 = 0x80;
}

fn expect_flags(header: FixedHeader, flags: u8) -> Result<(), Error> {
    if header.flags == flags {
        Ok(())
    } else {
        Err(Error::field(
            "fixed header flags",
            Reason::ReservedBits(header.flags ^ flags),
        ))
    }
}

fn parse_connect(body: &[u8]) -> Result<Connect<'_>, Error> {
    use connect_flags as F;
    let (rest, name) = string(body, "protocol name")?;
    if name != "MQTT" {
        return Err(Error::field(
            "protocol name",
            Reason::Invalid("must be \"MQTT\""),
        ));
    }
    let (rest, level) = u8_field(rest, "protocol level")?;
    if level != 4 {
        return Err(Error::field(
            "protocol level",
            Reason::OutOfRange(u32::from(level)),
        ));
    }
    let (rest, flags) = u8_field(rest, "connect flags")?;
    if flags & F::RESERVED != 0 {
        return Err(Error::field(
            "connect flags",
            Reason::ReservedBits(F::RESERVED),
        ));
    }
    let will_qos = QoS::from_bits((flags >> F::WILL_QOS_SHIFT) & 0x3, "will qos")?;
    let has_will = flags & F::WILL != 0;
    if !has_will && (flags & (0x3 << F::WILL_QOS_SHIFT | F::WILL_RETAIN)) != 0 {
        return Err(Error::field(
            "connect flags",
            Reason::Invalid("will QoS and retain need the will flag"),
        ));
    }
    if flags & F::PASSWORD != 0 && flags & F::USERNAME == 0 {
        return Err(Error::field(
            "connect flags",
            Reason::Invalid("a password needs a user name"),
        ));
    }
    let (rest, keep_alive) = u16_field(rest, "keep alive")?;
    let (mut rest, client_id) = string(rest, "client identifier")?;
    let will = if has_will {
        let (r, topic) = string(rest, "will topic")?;
        check_topic_name(topic)
            .map_err(|_| Error::field("will topic", Reason::Invalid("not a topic name")))?;
        let (r, message) = prefixed(r, "will message")?;
        rest = r;
        Some(Will {
            topic: Cow::Borrowed(topic),
            message: Cow::Borrowed(message),
            qos: will_qos,
            retain: flags & F::WILL_RETAIN != 0,
        })
    } else {
        None
    };
    let username = if flags & F::USERNAME != 0 {
        let (r, user) = string(rest, "user name")?;
        rest = r;
        Some(Cow::Borrowed(user))
    } else {
        None
    };
    let password = if flags & F::PASSWORD != 0 {
        let (r, pass) = prefixed(rest, "password")?;
        rest = r;
        Some(Password(Cow::Borrowed(pass)))
    } else {
        None
    };
    end(rest, "connect payload")?;
    Ok(Connect {
        client_id: Cow::Borrowed(client_id),
        keep_alive,
        clean_session: flags & F::CLEAN_SESSION != 0,
        will,
        username,
        password,
    })
}

fn parse_publish(header: FixedHeader, body: &[u8]) -> Result<Publish<'_>, Error> {
    let dup = header.flags & 0x8 != 0;
    let retain = header.flags & 0x1 != 0;
    let (rest, topic) = string(body, "topic name")?;
    check_topic_name(topic)?;
    let (payload, delivery) = match (header.flags >> 1) & 0x3 {
        0 if dup => {
            return Err(Error::field(
                "fixed header flags",
                Reason::Invalid("DUP must be 0 at QoS 0"),
            ));
        }
        0 => (rest, Delivery::AtMostOnce),
        1 => {
            let (rest, id) = packet_id(rest)?;
            (rest, Delivery::AtLeastOnce { packet_id: id, dup })
        }
        2 => return Err(Error::Unsupported("PUBLISH at QoS 2")),
        _ => return Err(Error::field("fixed header flags", Reason::OutOfRange(3))),
    };
    Ok(Publish {
        delivery,
        retain,
        topic: Cow::Borrowed(topic),
        payload: Cow::Borrowed(payload),
    })
}

fn only_packet_id(body: &[u8]) -> Result<PacketId, Error> {
    let (rest, id) = packet_id(body)?;
    end(rest, "packet identifier")?;
    Ok(id)
}

impl<'a> Packet<'a> {
    /// Parses exactly one packet.
    ///
    /// # Errors
    ///
    /// The framing errors of [`RawFrame::parse`] and those of
    /// [`Packet::from_raw`].
    pub fn parse(input: &'a [u8]) -> Result<Self, Error> {
        Self::from_raw(RawFrame::parse(input)?)
    }

    /// Reads a packet from a frame, strictly: fixed header flags as section
    /// 2.2.2 requires, strings as section 1.5.3 requires, no bytes after the
    /// last field.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownType`] for types 0 and 15, [`Error::Unsupported`] for
    /// the QoS 2 flow (PUBREC, PUBREL, PUBCOMP, PUBLISH at QoS 2), and
    /// [`Error::Malformed`] naming the field at fault.
    pub fn from_raw(raw: RawFrame<'a>) -> Result<Self, Error> {
        let RawFrame { header, body } = raw;
        Ok(match header.kind {
            kind::CONNECT => {
                expect_flags(header, 0)?;
                Self::Connect(parse_connect(body)?)
            }
            kind::CONNACK => {
                expect_flags(header, 0)?;
                let (rest, ack) = u8_field(body, "connect acknowledge flags")?;
                if ack & 0xfe != 0 {
                    return Err(Error::field(
                        "connect acknowledge flags",
                        Reason::ReservedBits(ack & 0xfe),
                    ));
                }
                let (rest, code) = u8_field(rest, "connect return code")?;
                end(rest, "connack")?;
                let code = ConnectReturnCode::try_from(code)?;
                let session_present = ack & 1 != 0;
                if session_present && code != ConnectReturnCode::Accepted {
                    return Err(Error::field(
                        "connect acknowledge flags",
                        Reason::Invalid("session present needs return code 0"),
                    ));
                }
                Self::ConnAck(ConnAck {
                    session_present,
                    code,
                })
            }
            kind::PUBLISH => Self::Publish(parse_publish(header, body)?),
            kind::PUBACK => {
                expect_flags(header, 0)?;
                Self::PubAck(only_packet_id(body)?)
            }
            5..=7 => {
                return Err(Error::Unsupported(
                    "the QoS 2 flow (PUBREC, PUBREL, PUBCOMP)",
                ));
            }
            kind::SUBSCRIBE => {
                expect_flags(header, 0x2)?;
                let (rest, id) = packet_id(body)?;
                Self::Subscribe(Subscribe {
                    packet_id: id,
                    filters: TopicFilters::parse(rest, true)?,
                })
            }
            kind::SUBACK => {
                expect_flags(header, 0)?;
                let (rest, id) = packet_id(body)?;
                Self::SubAck(SubAck {
                    packet_id: id,
                    codes: ReturnCodes::parse(rest)?,
                })
            }
            kind::UNSUBSCRIBE => {
                expect_flags(header, 0x2)?;
                let (rest, id) = packet_id(body)?;
                Self::Unsubscribe(Unsubscribe {
                    packet_id: id,
                    filters: TopicFilters::parse(rest, false)?,
                })
            }
            kind::UNSUBACK => {
                expect_flags(header, 0)?;
                Self::UnsubAck(only_packet_id(body)?)
            }
            kind::PINGREQ | kind::PINGRESP | kind::DISCONNECT => {
                expect_flags(header, 0)?;
                end(body, "body")?;
                match header.kind {
                    kind::PINGREQ => Self::PingReq,
                    kind::PINGRESP => Self::PingResp,
                    _ => Self::Disconnect,
                }
            }
            other => return Err(Error::UnknownType(other)),
        })
    }

    fn header(&self) -> FixedHeader {
        let (kind, flags) = match self {
            Self::Connect(_) => (kind::CONNECT, 0),
            Self::ConnAck(_) => (kind::CONNACK, 0),
            Self::Publish(p) => {
                let (qos, dup) = match p.delivery {
                    Delivery::AtMostOnce => (0, false),
                    Delivery::AtLeastOnce { dup, .. } => (1, dup),
                };
                (
                    kind::PUBLISH,
                    u8::from(dup) << 3 | qos << 1 | u8::from(p.retain),
                )
            }
            Self::PubAck(_) => (kind::PUBACK, 0),
            Self::Subscribe(_) => (kind::SUBSCRIBE, 0x2),
            Self::SubAck(_) => (kind::SUBACK, 0),
            Self::Unsubscribe(_) => (kind::UNSUBSCRIBE, 0x2),
            Self::UnsubAck(_) => (kind::UNSUBACK, 0),
            Self::PingReq => (kind::PINGREQ, 0),
            Self::PingResp => (kind::PINGRESP, 0),
            Self::Disconnect => (kind::DISCONNECT, 0),
        };
        FixedHeader { kind, flags }
    }

    /// The body length, with every field checked for encoding.
    fn body_len(&self) -> Result<usize, Error> {
        Ok(match self {
            Self::Connect(c) => {
                let mut len = 6 + 1 + 1 + 2 + prefixed_len(c.client_id.len(), "client identifier")?;
                if let Some(w) = &c.will {
                    check_topic_name(&w.topic)?;
                    len += prefixed_len(w.topic.len(), "will topic")?
                        + prefixed_len(w.message.len(), "will message")?;
                }
                if let Some(u) = &c.username {
                    len += prefixed_len(u.len(), "user name")?;
                }
                match (&c.password, &c.username) {
                    (Some(_), None) => {
                        return Err(Error::field(
                            "password",
                            Reason::Invalid("a password needs a user name"),
                        ));
                    }
                    (Some(p), Some(_)) => len += prefixed_len(p.0.len(), "password")?,
                    (None, _) => {}
                }
                len
            }
            Self::ConnAck(c) => {
                if c.session_present && c.code != ConnectReturnCode::Accepted {
                    return Err(Error::field(
                        "connect acknowledge flags",
                        Reason::Invalid("session present needs return code 0"),
                    ));
                }
                2
            }
            Self::Publish(p) => {
                check_topic_name(&p.topic)?;
                let id = match p.delivery {
                    Delivery::AtMostOnce => 0,
                    Delivery::AtLeastOnce { .. } => 2,
                };
                prefixed_len(p.topic.len(), "topic name")? + id + p.payload.len()
            }
            Self::PubAck(_) | Self::UnsubAck(_) => 2,
            Self::Subscribe(Subscribe { filters, .. })
            | Self::Unsubscribe(Unsubscribe { filters, .. }) => 2 + filters.wire().len(),
            Self::SubAck(s) => 2 + s.codes.len(),
            Self::PingReq | Self::PingResp | Self::Disconnect => 0,
        })
    }

    /// The packet's encoded length.
    ///
    /// # Errors
    ///
    /// As [`Packet::encode`].
    pub fn encoded_len(&self) -> Result<usize, Error> {
        let body = self.body_len()?;
        Ok(1 + remaining_length_len(u32::try_from(body).unwrap_or(u32::MAX)) + body)
    }

    /// Writes the packet. Nothing is written when it fails.
    ///
    /// # Errors
    ///
    /// A field too long for its length prefix, a topic name with wildcards,
    /// a password without a user name, an empty SUBACK, or a packet over the
    /// MQTT maximum.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), Error> {
        use connect_flags as F;
        let body_len = self.body_len()?;
        put_header(out, self.header(), body_len)?;
        match self {
            Self::Connect(c) => {
                put_prefixed(out, b"MQTT");
                out.put_u8(4);
                let mut flags = 0;
                if c.clean_session {
                    flags |= F::CLEAN_SESSION;
                }
                if let Some(w) = &c.will {
                    flags |= F::WILL | u8::from(w.qos) << F::WILL_QOS_SHIFT;
                    if w.retain {
                        flags |= F::WILL_RETAIN;
                    }
                }
                if c.username.is_some() {
                    flags |= F::USERNAME;
                }
                if c.password.is_some() {
                    flags |= F::PASSWORD;
                }
                out.put_u8(flags);
                out.put_u16(c.keep_alive);
                put_prefixed(out, c.client_id.as_bytes());
                if let Some(w) = &c.will {
                    put_prefixed(out, w.topic.as_bytes());
                    put_prefixed(out, &w.message);
                }
                if let Some(u) = &c.username {
                    put_prefixed(out, u.as_bytes());
                }
                if let Some(p) = &c.password {
                    put_prefixed(out, &p.0);
                }
            }
            Self::ConnAck(c) => {
                out.put_u8(u8::from(c.session_present));
                out.put_u8(c.code.into());
            }
            Self::Publish(p) => {
                put_prefixed(out, p.topic.as_bytes());
                if let Delivery::AtLeastOnce { packet_id, .. } = p.delivery {
                    out.put_u16(packet_id.get());
                }
                out.put_slice(&p.payload);
            }
            Self::PubAck(id) | Self::UnsubAck(id) => out.put_u16(id.get()),
            Self::Subscribe(Subscribe { packet_id, filters })
            | Self::Unsubscribe(Unsubscribe { packet_id, filters }) => {
                out.put_u16(packet_id.get());
                out.put_slice(filters.wire());
            }
            Self::SubAck(s) => {
                out.put_u16(s.packet_id.get());
                out.put_slice(&s.codes.0);
            }
            Self::PingReq | Self::PingResp | Self::Disconnect => {}
        }
        Ok(())
    }

    /// Copies borrowed fields so the packet outlives its input.
    #[must_use]
    pub fn into_owned(self) -> Packet<'static> {
        fn s(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        fn b(c: Cow<'_, [u8]>) -> Cow<'static, [u8]> {
            Cow::Owned(c.into_owned())
        }
        match self {
            Self::Connect(c) => Packet::Connect(Connect {
                client_id: s(c.client_id),
                keep_alive: c.keep_alive,
                clean_session: c.clean_session,
                will: c.will.map(|w| Will {
                    topic: s(w.topic),
                    message: b(w.message),
                    qos: w.qos,
                    retain: w.retain,
                }),
                username: c.username.map(s),
                password: c.password.map(|p| Password(b(p.0.clone()))),
            }),
            Self::ConnAck(c) => Packet::ConnAck(c),
            Self::Publish(p) => Packet::Publish(Publish {
                delivery: p.delivery,
                retain: p.retain,
                topic: s(p.topic),
                payload: b(p.payload),
            }),
            Self::PubAck(id) => Packet::PubAck(id),
            Self::Subscribe(x) => Packet::Subscribe(Subscribe {
                packet_id: x.packet_id,
                filters: x.filters.into_owned(),
            }),
            Self::SubAck(x) => Packet::SubAck(SubAck {
                packet_id: x.packet_id,
                codes: ReturnCodes(Cow::Owned(x.codes.0.into_owned())),
            }),
            Self::Unsubscribe(x) => Packet::Unsubscribe(Unsubscribe {
                packet_id: x.packet_id,
                filters: x.filters.into_owned(),
            }),
            Self::UnsubAck(id) => Packet::UnsubAck(id),
            Self::PingReq => Packet::PingReq,
            Self::PingResp => Packet::PingResp,
            Self::Disconnect => Packet::Disconnect,
        }
    }
}
