//! The business model of draft section 2 on the DAS connection: areas
//! (2.1.1), attributes read, set and reported (2.1.2), operations with
//! input and output parameters (2.1.3), events (2.1.4), addressed to the
//! device or to one of its resources (2.1.5). Each message is a PUBLISH
//! whose topic names the device, the direction, the area and the message,
//! and whose payload is the JSON body sealed with the sessionkey under a
//! per-direction counter (PROFILE.md section 10).
//!
//! ```
//! use osap_proto::business::{Body, BusinessChannel, BusinessMessage, Direction};
//! use osap_proto::crypto::SessionKey;
//! use osap_proto::Suite;
//!
//! let key = SessionKey::from_bytes([7; 16]);
//! let mut rng = iot_sansio::testing::rng(1);
//! let mut device = BusinessChannel::new(Suite::Aes128Gcm, key.clone(), "dev-1", 1, Direction::Up);
//! let mut platform = BusinessChannel::new(Suite::Aes128Gcm, key, "dev-1", 1, Direction::Down);
//! let report = BusinessMessage::new("light", Body::AttrReport {
//!     values: serde_json::json!({"power": "on"}).as_object().unwrap().clone(),
//! });
//! let publish = device.seal(&report, &mut rng)?;
//! assert_eq!(publish.topic, "osap/dev-1/up/light/attr-report");
//! assert_eq!(platform.open(&publish.topic, &publish.payload)?, report);
//! // The same PUBLISH again is refused.
//! assert!(platform.open(&publish.topic, &publish.payload).is_err());
//! # Ok::<(), osap_proto::business::BusinessError>(())
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::control::Suite;
use crate::crypto::{CryptoError, PayloadCipher, SessionKey};
use crate::mqtt::TopicName;

/// Which way a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the device to the platform.
    Up,
    /// From the platform to the device.
    Down,
}

impl Direction {
    /// Its topic level.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    /// The other way.
    #[must_use]
    pub const fn reverse(self) -> Self {
        match self {
            Self::Up => Self::Down,
            Self::Down => Self::Up,
        }
    }

    /// The direction a topic level names (`up` or `down`).
    #[must_use]
    pub fn from_level(level: &str) -> Option<Self> {
        match level {
            "up" => Some(Self::Up),
            "down" => Some(Self::Down),
            _ => None,
        }
    }
}

/// The levels of a business topic, `osap/{devid}/{up|down}/{area}/{kind}`
/// (PROFILE.md section 10), read without a session: for a decoder, a log
/// or a broker's access rules. Each level is one non-empty topic level and
/// the kind is one of the seven message kinds. [`BusinessChannel::open`]
/// reads the same layout for its own devid and direction.
///
/// ```
/// use osap_proto::business::{BusinessTopic, Direction};
///
/// let topic = BusinessTopic::parse("osap/dev-1/up/light/attr-report")?;
/// assert_eq!(topic.devid, "dev-1");
/// assert_eq!(topic.direction, Direction::Up);
/// assert_eq!((topic.area, topic.kind), ("light", "attr-report"));
/// assert!(BusinessTopic::parse("osap/dev-1/up/light/reboot").is_err());
/// # Ok::<(), osap_proto::business::BusinessError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessTopic<'a> {
    /// The device's devid.
    pub devid: &'a str,
    /// Which way the message goes.
    pub direction: Direction,
    /// The area (2.1.1).
    pub area: &'a str,
    /// The message kind, as [`Body::kind`] names it.
    pub kind: &'a str,
}

impl<'a> BusinessTopic<'a> {
    /// Reads a topic's levels.
    ///
    /// # Errors
    ///
    /// [`BusinessError::Topic`] for a topic outside the `osap/` layout: a
    /// level missing, empty or more than one level, a direction other than
    /// `up` or `down`, a kind that is not a message kind.
    pub fn parse(topic: &'a str) -> Result<Self, BusinessError> {
        let rest = topic.strip_prefix("osap/").ok_or(BusinessError::Topic)?;
        let (devid, rest) = rest.split_once('/').ok_or(BusinessError::Topic)?;
        let (way, rest) = rest.split_once('/').ok_or(BusinessError::Topic)?;
        let direction = Direction::from_level(way).ok_or(BusinessError::Topic)?;
        let (area, kind) = area_and_kind(rest)?;
        if !is_level(devid) {
            return Err(BusinessError::Topic);
        }
        Ok(Self {
            devid,
            direction,
            area,
            kind,
        })
    }
}

/// The last two levels of a business topic, `{area}/{kind}`.
fn area_and_kind(levels: &str) -> Result<(&str, &str), BusinessError> {
    let (area, kind) = levels.split_once('/').ok_or(BusinessError::Topic)?;
    if !is_level(area) || !KINDS.contains(&kind) {
        return Err(BusinessError::Topic);
    }
    Ok((area, kind))
}

/// The parameters or values of a message: a JSON object.
pub type Params = Map<String, Value>;

/// What a business message says (PROFILE.md section 10). Requests carry an
/// `id` their answer repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Body {
    /// Platform to device: read these attributes (2.1.2).
    AttrGet {
        /// The request.
        id: u64,
        /// The attributes to read; empty for all of the area.
        names: Vec<String>,
    },
    /// Platform to device: set these attributes (2.1.2).
    AttrSet {
        /// The request.
        id: u64,
        /// The values to set.
        values: Params,
    },
    /// Device to platform: the answer to [`Body::AttrGet`] or
    /// [`Body::AttrSet`]: the values now, or why not.
    AttrValues {
        /// The request answered.
        id: u64,
        /// The attributes' values.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        values: Params,
        /// Why the request failed, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Device to platform: attributes that changed (2.1.2).
    AttrReport {
        /// The new values.
        values: Params,
    },
    /// Either way: call an operation (2.1.3).
    OpCall {
        /// The call.
        id: u64,
        /// The operation.
        name: String,
        /// Its input parameters.
        #[serde(default)]
        input: Params,
        /// How long the caller waits for the result, in milliseconds.
        timeout_ms: u32,
    },
    /// The answer to [`Body::OpCall`]: output parameters, or why not.
    OpResult {
        /// The call answered.
        id: u64,
        /// The output parameters.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        output: Params,
        /// Why the call failed, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Device to platform: an event (2.1.4).
    Event {
        /// The event.
        name: String,
        /// Its parameters.
        #[serde(default)]
        params: Params,
        /// The event's number in the device's queue (its
        /// [`QueuedEvent::seq`](crate::das::QueuedEvent::seq)), set by the
        /// device session when it sends it (leave `None`): a copy sent
        /// again after a reconnect carries the same, so the platform keeps
        /// one (PROFILE.md section 10).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
}

impl Body {
    /// The message's topic level, and the one direction it may travel in
    /// (`None`: either).
    #[must_use]
    pub fn kind(&self) -> (&'static str, Option<Direction>) {
        match self {
            Self::AttrGet { .. } => ("attr-get", Some(Direction::Down)),
            Self::AttrSet { .. } => ("attr-set", Some(Direction::Down)),
            Self::AttrValues { .. } => ("attr-values", Some(Direction::Up)),
            Self::AttrReport { .. } => ("attr-report", Some(Direction::Up)),
            Self::OpCall { .. } => ("op-call", None),
            Self::OpResult { .. } => ("op-result", None),
            Self::Event { .. } => ("event", Some(Direction::Up)),
        }
    }
}

/// Every message kind, as its topic level.
const KINDS: [&str; 7] = [
    "attr-get",
    "attr-set",
    "attr-values",
    "attr-report",
    "op-call",
    "op-result",
    "event",
];

/// One business message: the area it belongs to (2.1.1), the resource it
/// addresses if not the device itself (2.1.5), and what it says.
///
/// Its serde form (all three, for keeping it: see
/// [`crate::das::EventQueue::export`]) is not its wire form: on the wire the
/// area is in the topic and the body carries the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessMessage {
    /// The area: a topic level (no `/`, `+`, `#`, not empty).
    pub area: String,
    /// The resource addressed, if any (an NVR's video channel, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// What it says.
    pub body: Body,
}

/// The JSON body on the wire: the resource, if any, and the message's
/// fields beside its `kind`.
#[derive(Serialize, Deserialize)]
struct Wire<R, B> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<R>,
    #[serde(flatten)]
    body: B,
}

impl BusinessMessage {
    /// Whether this message may be sent in `direction`, with an area that
    /// is one topic level.
    ///
    /// # Errors
    ///
    /// [`BusinessError::Direction`] or [`BusinessError::Topic`].
    pub fn check(&self, direction: Direction) -> Result<(), BusinessError> {
        let (kind, way) = self.body.kind();
        if way.is_some_and(|w| w != direction) {
            return Err(BusinessError::Direction(kind));
        }
        if !is_level(&self.area) {
            return Err(BusinessError::Topic);
        }
        Ok(())
    }

    /// A message about the device itself.
    #[must_use]
    pub fn new(area: impl Into<String>, body: Body) -> Self {
        Self {
            area: area.into(),
            resource: None,
            body,
        }
    }
}

/// A sealed message, ready to be a PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPublish {
    /// The topic: `osap/{devid}/{up|down}/{area}/{kind}`.
    pub topic: TopicName<'static>,
    /// The counter and the sealed JSON body.
    pub payload: Vec<u8>,
}

/// Why a business message could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BusinessError {
    /// The topic is not `osap/{devid}/{direction}/{area}/{kind}` for this
    /// device and direction, or the area is not a single topic level.
    #[error("topic is not osap/<devid>/<direction>/<area>/<kind> for this session")]
    Topic,
    /// The message may not travel in this direction.
    #[error("a {0} message does not travel this way")]
    Direction(&'static str),
    /// The payload is shorter than its counter.
    #[error("payload shorter than its counter")]
    Truncated,
    /// The counter is not greater than the last one accepted: a replayed,
    /// duplicated or reordered message.
    #[error("counter {counter} is not after {last}: replayed or reordered")]
    Stale {
        /// The message's counter.
        counter: u64,
        /// The last counter accepted.
        last: u64,
    },
    /// The counters are used up (2^64 - 1 messages one way).
    #[error("the message counter is exhausted")]
    CounterExhausted,
    /// The body did not open: tampered, or sealed for another topic,
    /// counter, registration or key.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The opened body is not a message of this profile.
    #[error("body is not a business message: {0}")]
    Json(String),
    /// The body's kind does not match the topic's.
    #[error("body kind does not match the topic")]
    KindMismatch,
}

/// One side's business channel on a registered DAS connection: it seals
/// what this side sends and opens what the peer sends, each way under its
/// own counter, both bound to the registration (its counter), so that a
/// message replayed, duplicated or reordered within a connection, or
/// replayed from another one, is refused.
#[derive(Debug, Clone)]
pub struct BusinessChannel {
    cipher: PayloadCipher,
    devid: String,
    registration: u64,
    local: Direction,
    sent: u64,
    received: u64,
}

/// The associated data of a sealed body: a label, the registration, the
/// topic and the message counter.
fn aad(registration: u64, topic: &str, counter: u64) -> Vec<u8> {
    const LABEL: &[u8] = b"osap-proto business";
    let mut aad = Vec::with_capacity(LABEL.len() + 20 + topic.len());
    aad.extend_from_slice(LABEL);
    aad.extend_from_slice(&registration.to_be_bytes());
    aad.extend_from_slice(&u32::try_from(topic.len()).unwrap_or(u32::MAX).to_be_bytes());
    aad.extend_from_slice(topic.as_bytes());
    aad.extend_from_slice(&counter.to_be_bytes());
    aad
}

fn is_level(text: &str) -> bool {
    !text.is_empty() && !text.contains(['/', '+', '#', '\0'])
}

impl BusinessChannel {
    /// The channel of `devid`'s connection registered with `registration`
    /// (the registration counter), under the negotiated suite and the
    /// sessionkey, for the side that sends `local` (`Up` on the device).
    #[must_use]
    pub fn new(
        suite: Suite,
        key: SessionKey,
        devid: impl Into<String>,
        registration: u64,
        local: Direction,
    ) -> Self {
        Self {
            cipher: PayloadCipher::new(suite, key),
            devid: devid.into(),
            registration,
            local,
            sent: 0,
            received: 0,
        }
    }

    /// The topic of a message in `direction`.
    fn topic(&self, direction: Direction, area: &str, kind: &str) -> String {
        let mut topic = String::with_capacity(16 + self.devid.len() + area.len() + kind.len());
        for part in [
            "osap/",
            &self.devid,
            "/",
            direction.as_str(),
            "/",
            area,
            "/",
            kind,
        ] {
            topic.push_str(part);
        }
        topic
    }

    /// Seals a message this side sends, with the next counter.
    ///
    /// # Errors
    ///
    /// [`BusinessError::Topic`] for an area that is not one topic level,
    /// [`BusinessError::Direction`] for a message that does not travel
    /// this way, [`BusinessError::CounterExhausted`], and the cipher's.
    pub fn seal(
        &mut self,
        message: &BusinessMessage,
        rng: &mut impl CryptoRngCore,
    ) -> Result<SealedPublish, BusinessError> {
        message.check(self.local)?;
        let kind = message.body.kind().0;
        let counter = self
            .sent
            .checked_add(1)
            .ok_or(BusinessError::CounterExhausted)?;
        let topic = self.topic(self.local, &message.area, kind);
        let wire = Wire {
            resource: message.resource.as_deref(),
            body: &message.body,
        };
        let json = serde_json::to_vec(&wire).map_err(|e| BusinessError::Json(e.to_string()))?;
        let mut payload = Vec::with_capacity(8 + json.len() + 28);
        payload.extend_from_slice(&counter.to_be_bytes());
        self.cipher.seal_into(
            &aad(self.registration, &topic, counter),
            &json,
            rng,
            &mut payload,
        )?;
        self.sent = counter;
        // A devid that is no topic level makes no topic name.
        let topic = TopicName::new(topic).map_err(|_| BusinessError::Topic)?;
        Ok(SealedPublish { topic, payload })
    }

    /// Opens a message the peer sent: its topic must be this device's in
    /// the peer's direction, its counter after the last one accepted, its
    /// body sealed for exactly this topic, counter and registration.
    ///
    /// # Errors
    ///
    /// A [`BusinessError`] naming what is wrong; nothing is accepted (the
    /// counter does not move) unless the message opens.
    pub fn open(&mut self, topic: &str, payload: &[u8]) -> Result<BusinessMessage, BusinessError> {
        let peer = self.local.reverse();
        let rest = topic
            .strip_prefix("osap/")
            .and_then(|t| t.strip_prefix(self.devid.as_str()))
            .and_then(|t| t.strip_prefix('/'))
            .and_then(|t| t.strip_prefix(peer.as_str()))
            .and_then(|t| t.strip_prefix('/'))
            .ok_or(BusinessError::Topic)?;
        let (area, kind) = area_and_kind(rest)?;
        let (counter, sealed) = payload
            .split_first_chunk::<8>()
            .ok_or(BusinessError::Truncated)?;
        let counter = u64::from_be_bytes(*counter);
        if counter <= self.received {
            return Err(BusinessError::Stale {
                counter,
                last: self.received,
            });
        }
        let json = self
            .cipher
            .open(&aad(self.registration, topic, counter), sealed)?;
        let wire: Wire<String, Body> =
            serde_json::from_slice(&json).map_err(|e| BusinessError::Json(e.to_string()))?;
        let (body_kind, way) = wire.body.kind();
        if body_kind != kind {
            return Err(BusinessError::KindMismatch);
        }
        if way.is_some_and(|w| w != peer) {
            return Err(BusinessError::Direction(body_kind));
        }
        self.received = counter;
        Ok(BusinessMessage {
            area: area.into(),
            resource: wire.resource,
            body: wire.body,
        })
    }

    /// The counters so far: the last sent and the last accepted.
    #[must_use]
    pub fn counters(&self) -> (u64, u64) {
        (self.sent, self.received)
    }
}
