//! One MQTT 3.1.1 control packet of any type, read strictly and written
//! after every field is checked.

use alloc::borrow::Cow;

use bytes::BufMut;

use super::connect::{ConnAck, Connect, ConnectReturnCode, Will, connect_flags, parse_connect};
use super::publish::{Publish, parse_publish};
use super::qos::{PacketId, packet_id};
use super::subscribe::{ReturnCodes, SubAck, Subscribe, TopicFilters, Unsubscribe};
use crate::error::{FieldError, FrameError};
use crate::frame::{
    FixedHeader, MAX_HEADER_LEN, RawFrame, header_bytes, put_header, remaining_length_len,
};
use crate::wire::{end, prefixed_len, put_prefixed, string_len, u8_field};

/// An MQTT 3.1.1 control packet.
///
/// ```
/// use osap_proto::{Delivery, Packet, Publish, TopicName};
///
/// let packet = Packet::Publish(Publish {
///     delivery: Delivery::AtMostOnce,
///     retain: false,
///     topic: TopicName::new("a/b")?,
///     payload: b"hi".as_slice().into(),
/// });
/// let mut wire = Vec::new();
/// packet.encode(&mut wire)?;
/// assert_eq!(wire, [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i']);
/// assert_eq!(Packet::parse(&wire)?, packet);
/// # Ok::<(), osap_proto::FrameError>(())
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
    PubRec(PacketId),
    PubRel(PacketId),
    PubComp(PacketId),
    Subscribe(Subscribe<'a>),
    SubAck(SubAck<'a>),
    Unsubscribe(Unsubscribe<'a>),
    UnsubAck(PacketId),
    PingReq,
    PingResp,
    Disconnect,
}

/// The MQTT 3.1.1 control packet types (section 2.2.1), every one of
/// which the codec reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// 1: CONNECT.
    Connect,
    /// 2: CONNACK.
    ConnAck,
    /// 3: PUBLISH.
    Publish,
    /// 4: PUBACK.
    PubAck,
    /// 5: PUBREC.
    PubRec,
    /// 6: PUBREL.
    PubRel,
    /// 7: PUBCOMP.
    PubComp,
    /// 8: SUBSCRIBE.
    Subscribe,
    /// 9: SUBACK.
    SubAck,
    /// 10: UNSUBSCRIBE.
    Unsubscribe,
    /// 11: UNSUBACK.
    UnsubAck,
    /// 12: PINGREQ.
    PingReq,
    /// 13: PINGRESP.
    PingResp,
    /// 14: DISCONNECT.
    Disconnect,
}

impl PacketType {
    /// Every type, in order.
    pub const ALL: [Self; 14] = [
        Self::Connect,
        Self::ConnAck,
        Self::Publish,
        Self::PubAck,
        Self::PubRec,
        Self::PubRel,
        Self::PubComp,
        Self::Subscribe,
        Self::SubAck,
        Self::Unsubscribe,
        Self::UnsubAck,
        Self::PingReq,
        Self::PingResp,
        Self::Disconnect,
    ];

    /// The type's value in the fixed header.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Connect => 1,
            Self::ConnAck => 2,
            Self::Publish => 3,
            Self::PubAck => 4,
            Self::PubRec => 5,
            Self::PubRel => 6,
            Self::PubComp => 7,
            Self::Subscribe => 8,
            Self::SubAck => 9,
            Self::Unsubscribe => 10,
            Self::UnsubAck => 11,
            Self::PingReq => 12,
            Self::PingResp => 13,
            Self::Disconnect => 14,
        }
    }

    /// The type with this value (none for the reserved 0 and 15).
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Connect,
            2 => Self::ConnAck,
            3 => Self::Publish,
            4 => Self::PubAck,
            5 => Self::PubRec,
            6 => Self::PubRel,
            7 => Self::PubComp,
            8 => Self::Subscribe,
            9 => Self::SubAck,
            10 => Self::Unsubscribe,
            11 => Self::UnsubAck,
            12 => Self::PingReq,
            13 => Self::PingResp,
            14 => Self::Disconnect,
            _ => return None,
        })
    }
}

#[inline(always)]
fn expect_flags(header: FixedHeader, flags: u8) -> Result<(), FrameError> {
    if header.flags == flags {
        Ok(())
    } else {
        Err(FrameError::field(
            "fixed header flags",
            FieldError::ReservedBits(header.flags ^ flags),
        ))
    }
}

/// The flags a packet of type `code` other than PUBLISH carries (section
/// 2.2.2): 0010 for PUBREL (6), SUBSCRIBE (8) and UNSUBSCRIBE (10), else
/// 0000; looked up in one word.
const fn fixed_flags(code: u8) -> u8 {
    const FLAG_1: u16 = 1 << 6 | 1 << 8 | 1 << 10;
    if (FLAG_1 >> (code & 0x0f)) & 1 == 0 {
        0
    } else {
        0x2
    }
}

/// The body of a CONNACK (section 3.2).
fn parse_connack(body: &[u8]) -> Result<ConnAck, FrameError> {
    let (rest, ack) = u8_field(body, "connect acknowledge flags")?;
    if ack & 0xfe != 0 {
        return Err(FrameError::field(
            "connect acknowledge flags",
            FieldError::ReservedBits(ack & 0xfe),
        ));
    }
    let (rest, code) = u8_field(rest, "connect return code")?;
    end(rest, "connack")?;
    let code = ConnectReturnCode::try_from(code)?;
    let session_present = ack & 1 != 0;
    if session_present && code != ConnectReturnCode::Accepted {
        return Err(FrameError::field(
            "connect acknowledge flags",
            FieldError::Invalid("session present needs return code 0"),
        ));
    }
    Ok(ConnAck {
        session_present,
        code,
    })
}

fn publish_flags(p: &Publish<'_>) -> u8 {
    let dup = p.delivery.packet_id().is_some_and(|(_, dup)| dup);
    u8::from(dup) << 3 | p.delivery.qos() << 1 | u8::from(p.retain)
}

/// The body length of a PUBLISH: its topic name was checked when it was
/// made.
fn publish_body_len(p: &Publish<'_>) -> usize {
    let id = if p.delivery.packet_id().is_some() {
        2
    } else {
        0
    };
    2 + p.topic.len() + id + p.payload.len()
}

impl Publish<'_> {
    /// Writes the PUBLISH, as [`Packet::encode`] writes
    /// `Packet::Publish(self)`. Nothing is written when it fails.
    ///
    /// # Errors
    ///
    /// [`FrameError::FrameTooLarge`] for a packet over the MQTT maximum:
    /// the topic name was checked when it was made.
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), FrameError> {
        encode_publish(self, out)
    }
}

/// Writes a PUBLISH, the business messages' packet: the fixed header and
/// the topic's length prefix in one write, then the topic, the packet
/// identifier and the payload. Its topic name was checked when it was
/// made, so only the remaining length can fail.
#[inline(always)]
fn encode_publish(p: &Publish<'_>, out: &mut impl BufMut) -> Result<(), FrameError> {
    let header = FixedHeader {
        kind: PacketType::Publish.code(),
        flags: publish_flags(p),
    };
    let (fixed, fixed_len) = header_bytes(header, publish_body_len(p))?;
    // A topic name is at most 65,535 bytes (TopicName::new).
    let [hi, lo] = u16::try_from(p.topic.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes();
    let mut start = [0; MAX_HEADER_LEN + 2];
    let (head, _) = start.split_at_mut(MAX_HEADER_LEN);
    head.copy_from_slice(&fixed);
    if let Some(prefix) = start.get_mut(fixed_len..fixed_len + 2) {
        prefix.copy_from_slice(&[hi, lo]);
    }
    out.put_slice(start.get(..fixed_len + 2).unwrap_or_default());
    out.put_slice(p.topic.as_bytes());
    if let Some((packet_id, _)) = p.delivery.packet_id() {
        out.put_u16(packet_id.get());
    }
    out.put_slice(&p.payload);
    Ok(())
}

fn only_packet_id(body: &[u8]) -> Result<PacketId, FrameError> {
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
    pub fn parse(input: &'a [u8]) -> Result<Self, FrameError> {
        Self::from_raw(RawFrame::parse(input)?)
    }

    /// Reads a packet from a frame, strictly: fixed header flags as section
    /// 2.2.2 requires, strings as section 1.5.3 requires, no bytes after the
    /// last field.
    ///
    /// # Errors
    ///
    /// [`FrameError::UnknownType`] for types 0 and 15, and
    /// [`FrameError::Malformed`] naming the field at fault.
    pub fn from_raw(raw: RawFrame<'a>) -> Result<Self, FrameError> {
        let RawFrame { header, body } = raw;
        // The business messages of draft section 7 are PUBLISH, and a DAS
        // reads a CONNECT first on every connection: both are read before
        // the type is looked up, the rest out of line.
        if header.kind == PacketType::Publish.code() {
            return parse_publish(header, body).map(Self::Publish);
        }
        if header.kind == PacketType::Connect.code() && header.flags == 0 {
            return parse_connect(body).map(Self::Connect);
        }
        Self::from_control_raw(header, body)
    }

    /// [`Packet::from_raw`] for every type but PUBLISH, out of line so that
    /// the PUBLISH path stays short.
    #[inline(never)]
    fn from_control_raw(header: FixedHeader, body: &'a [u8]) -> Result<Self, FrameError> {
        let Some(kind) = PacketType::from_code(header.kind) else {
            return Err(FrameError::UnknownType(header.kind));
        };
        // Section 2.2.2: the flags of every type but PUBLISH are fixed.
        expect_flags(header, fixed_flags(header.kind))?;
        Ok(match kind {
            PacketType::Connect => Self::Connect(parse_connect(body)?),
            PacketType::ConnAck => Self::ConnAck(parse_connack(body)?),
            PacketType::Publish => Self::Publish(parse_publish(header, body)?),
            PacketType::PubAck => Self::PubAck(only_packet_id(body)?),
            PacketType::PubRec => Self::PubRec(only_packet_id(body)?),
            PacketType::PubRel => Self::PubRel(only_packet_id(body)?),
            PacketType::PubComp => Self::PubComp(only_packet_id(body)?),
            PacketType::Subscribe => {
                let (rest, id) = packet_id(body)?;
                Self::Subscribe(Subscribe {
                    packet_id: id,
                    filters: TopicFilters::parse(rest, true)?,
                })
            }
            PacketType::SubAck => {
                let (rest, id) = packet_id(body)?;
                Self::SubAck(SubAck {
                    packet_id: id,
                    codes: ReturnCodes::parse(rest)?,
                })
            }
            PacketType::Unsubscribe => {
                let (rest, id) = packet_id(body)?;
                Self::Unsubscribe(Unsubscribe {
                    packet_id: id,
                    filters: TopicFilters::parse(rest, false)?,
                })
            }
            PacketType::UnsubAck => Self::UnsubAck(only_packet_id(body)?),
            PacketType::PingReq | PacketType::PingResp | PacketType::Disconnect => {
                end(body, "body")?;
                match kind {
                    PacketType::PingReq => Self::PingReq,
                    PacketType::PingResp => Self::PingResp,
                    _ => Self::Disconnect,
                }
            }
        })
    }

    fn header(&self) -> FixedHeader {
        let kind = match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(p) => {
                return FixedHeader {
                    kind: PacketType::Publish.code(),
                    flags: publish_flags(p),
                };
            }
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect => PacketType::Disconnect,
        };
        let flags = fixed_flags(kind.code());
        FixedHeader {
            kind: kind.code(),
            flags,
        }
    }

    /// The body length, with every field checked for encoding.
    fn body_len(&self) -> Result<usize, FrameError> {
        Ok(match self {
            Self::Connect(c) => {
                let mut len = 6 + 1 + 1 + 2 + string_len(&c.client_id, "client identifier")?;
                if let Some(w) = &c.will {
                    len += 2 + w.topic.len() + prefixed_len(w.message.len(), "will message")?;
                }
                if let Some(u) = &c.username {
                    len += string_len(u, "user name")?;
                }
                match (&c.password, &c.username) {
                    (Some(_), None) => {
                        return Err(FrameError::field(
                            "password",
                            FieldError::Invalid("a password needs a user name"),
                        ));
                    }
                    (Some(p), Some(_)) => len += prefixed_len(p.expose().len(), "password")?,
                    (None, _) => {}
                }
                len
            }
            Self::ConnAck(c) => {
                if c.session_present && c.code != ConnectReturnCode::Accepted {
                    return Err(FrameError::field(
                        "connect acknowledge flags",
                        FieldError::Invalid("session present needs return code 0"),
                    ));
                }
                2
            }
            Self::Publish(p) => publish_body_len(p),
            Self::PubAck(_)
            | Self::PubRec(_)
            | Self::PubRel(_)
            | Self::PubComp(_)
            | Self::UnsubAck(_) => 2,
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
    pub fn encoded_len(&self) -> Result<usize, FrameError> {
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
    pub fn encode(&self, out: &mut impl BufMut) -> Result<(), FrameError> {
        use connect_flags as F;
        if let Self::Publish(p) = self {
            return encode_publish(p, out);
        }
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
                    put_prefixed(out, p.expose());
                }
            }
            Self::ConnAck(c) => {
                out.put_u8(u8::from(c.session_present));
                out.put_u8(c.code.into());
            }
            Self::Publish(p) => return encode_publish(p, out),
            Self::PubAck(id)
            | Self::PubRec(id)
            | Self::PubRel(id)
            | Self::PubComp(id)
            | Self::UnsubAck(id) => out.put_u16(id.get()),
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
                    topic: w.topic.into_owned(),
                    message: b(w.message),
                    qos: w.qos,
                    retain: w.retain,
                }),
                username: c.username.map(s),
                password: c.password,
            }),
            Self::ConnAck(c) => Packet::ConnAck(c),
            Self::Publish(p) => Packet::Publish(Publish {
                delivery: p.delivery,
                retain: p.retain,
                topic: p.topic.into_owned(),
                payload: b(p.payload),
            }),
            Self::PubAck(id) => Packet::PubAck(id),
            Self::PubRec(id) => Packet::PubRec(id),
            Self::PubRel(id) => Packet::PubRel(id),
            Self::PubComp(id) => Packet::PubComp(id),
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
