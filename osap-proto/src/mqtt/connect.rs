//! CONNECT and CONNACK (MQTT 3.1.1 sections 3.1 and 3.2): registration
//! with the DAS (OSAP draft section 6, Figure 5).

use alloc::borrow::Cow;
use alloc::boxed::Box;

use iot_sansio::Secret;

use super::publish::{TopicName, topic_name};
use super::qos::QoS;
use crate::error::{FieldError, FrameError};
use crate::wire::{end, prefixed, string, u8_field, u16_field};

/// A CONNECT password (section 3.1.3.5): binary data, a secret, kept as
/// the family's [`Secret`]: wiped on drop, redacted in `Debug` and JSON,
/// compared in constant time. Reading a CONNECT copies the password out of
/// the frame into the secret's box.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Password(
    #[cfg_attr(feature = "serde", serde(with = "crate::hex::secret"))] Secret<[u8]>,
);

impl Password {
    /// Wraps password bytes.
    pub fn new(bytes: impl Into<Box<[u8]>>) -> Self {
        Self(Secret::from_box(bytes.into()))
    }

    /// The bytes, for the moment they must be used.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

/// The will of a CONNECT (section 3.1.2.5 to 3.1.2.7, 3.1.3.2, 3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Will<'a> {
    /// The will topic.
    pub topic: TopicName<'a>,
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
    pub password: Option<Password>,
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

impl core::fmt::Display for ConnectReturnCode {
    /// The code and its meaning (MQTT 3.1.1 Table 3.1), for logs and
    /// ends of sessions.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let meaning = match self {
            Self::Accepted => "connection accepted",
            Self::UnacceptableProtocolVersion => "unacceptable protocol version",
            Self::IdentifierRejected => "identifier rejected",
            Self::ServerUnavailable => "server unavailable",
            Self::BadUsernameOrPassword => "bad user name or password",
            Self::NotAuthorized => "not authorized",
        };
        write!(f, "return code {} ({meaning})", *self as u8)
    }
}

impl From<ConnectReturnCode> for u8 {
    fn from(c: ConnectReturnCode) -> u8 {
        c as u8
    }
}

impl TryFrom<u8> for ConnectReturnCode {
    type Error = FrameError;
    fn try_from(code: u8) -> Result<Self, FrameError> {
        use ConnectReturnCode as C;
        Ok(match code {
            0 => C::Accepted,
            1 => C::UnacceptableProtocolVersion,
            2 => C::IdentifierRejected,
            3 => C::ServerUnavailable,
            4 => C::BadUsernameOrPassword,
            5 => C::NotAuthorized,
            _ => {
                return Err(FrameError::field(
                    "connect return code",
                    FieldError::OutOfRange(u32::from(code)),
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

/// The connect flags (section 3.1.2.3).
pub(super) mod connect_flags {
    pub(in crate::mqtt) const RESERVED: u8 = 0x01;
    pub(in crate::mqtt) const CLEAN_SESSION: u8 = 0x02;
    pub(in crate::mqtt) const WILL: u8 = 0x04;
    pub(in crate::mqtt) const WILL_QOS_SHIFT: u8 = 3;
    pub(in crate::mqtt) const WILL_RETAIN: u8 = 0x20;
    pub(in crate::mqtt) const PASSWORD: u8 = 0x40;
    pub(in crate::mqtt) const USERNAME: u8 = 0x80;
}

#[inline]
pub(super) fn parse_connect(body: &[u8]) -> Result<Connect<'_>, FrameError> {
    use connect_flags as F;
    // The name is compared as bytes; a name that differs is read again as a
    // string, so that a name that is not UTF-8 is reported as such.
    let (rest, name) = prefixed(body, "protocol name")?;
    if name != b"MQTT" {
        string(body, "protocol name")?;
        return Err(FrameError::field(
            "protocol name",
            FieldError::Invalid("must be \"MQTT\""),
        ));
    }
    let (rest, level) = u8_field(rest, "protocol level")?;
    if level != 4 {
        return Err(FrameError::field(
            "protocol level",
            FieldError::OutOfRange(u32::from(level)),
        ));
    }
    let (rest, flags) = u8_field(rest, "connect flags")?;
    if flags & F::RESERVED != 0 {
        return Err(FrameError::field(
            "connect flags",
            FieldError::ReservedBits(F::RESERVED),
        ));
    }
    let will_qos = QoS::from_bits((flags >> F::WILL_QOS_SHIFT) & 0x3, "will qos")?;
    let has_will = flags & F::WILL != 0;
    if !has_will && (flags & (0x3 << F::WILL_QOS_SHIFT | F::WILL_RETAIN)) != 0 {
        return Err(FrameError::field(
            "connect flags",
            FieldError::Invalid("will QoS and retain need the will flag"),
        ));
    }
    if flags & F::PASSWORD != 0 && flags & F::USERNAME == 0 {
        return Err(FrameError::field(
            "connect flags",
            FieldError::Invalid("a password needs a user name"),
        ));
    }
    let (rest, keep_alive) = u16_field(rest, "keep alive")?;
    let (mut rest, client_id) = string(rest, "client identifier")?;
    let will = if has_will {
        // Read as a PUBLISH's topic name is: UTF-8, then the rules of
        // sections 1.5.3 and 4.7, each fault named.
        let (r, topic) = topic_name(rest, "will topic")?;
        let (r, message) = prefixed(r, "will message")?;
        rest = r;
        Some(Will {
            topic,
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
        Some(Password::new(pass))
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
