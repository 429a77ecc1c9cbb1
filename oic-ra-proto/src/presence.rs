//! Presence and priority (section 7.3, Table 4): what an RAE announces and
//! how a peer's presence maps to reachability.

use core::ops::RangeInclusive;

use crate::identity::FullJid;
use iot_xmpp::{CLIENT_NS, PresenceType, Stanza, StanzaKind, StanzaLimits, escape_attr};

/// What a presence says about an OIC device (Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability {
    /// `available` (no `type` attribute): the device is reachable and working.
    Reachable,
    /// `unavailable`: the device is not reachable.
    Unreachable,
}

/// The four priority ranges of 7.3, one per kind of endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorityClass {
    /// OIC Server with no additional XMPP features: -100 to -33.
    Server,
    /// OIC Server with additional XMPP features: 1 to 66.
    ServerWithFeatures,
    /// OIC Client with no additional XMPP features: -66 to -1.
    Client,
    /// OIC Client with additional XMPP features: 33 to 100.
    ClientWithFeatures,
}

impl PriorityClass {
    /// The priorities the class may announce.
    #[must_use]
    pub fn range(self) -> RangeInclusive<i8> {
        match self {
            Self::Server => -100..=-33,
            Self::ServerWithFeatures => 1..=66,
            Self::Client => -66..=-1,
            Self::ClientWithFeatures => 33..=100,
        }
    }
}

/// Why a presence cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// A priority outside the range of the endpoint's class.
    #[error("priority {priority} is outside {min}..={max} for {class:?}")]
    Priority {
        /// The class.
        class: PriorityClass,
        /// The priority asked for.
        priority: i8,
        /// The least allowed.
        min: i8,
        /// The most allowed.
        max: i8,
    },
    /// A `<priority>` that is not an integer from -128 to 127 (RFC 6121
    /// 4.7.2.3).
    #[error("`{0}` is not a priority")]
    BadPriority(String),
    /// A presence of another type (subscription management, probe, error),
    /// which says nothing about reachability.
    #[error("presence of type `{0}` is not about reachability")]
    OtherType(String),
    /// The XML is not a `<presence/>` stanza.
    #[error("malformed presence: {0}")]
    Xml(String),
    /// A `from` that is not a full JID.
    #[error("`from` is not a full JID: {0}")]
    From(String),
}

/// An availability presence.
///
/// ```
/// use oic_ra_proto::presence::{Presence, PriorityClass, Reachability};
///
/// let p = Presence::available(PriorityClass::Server, -50)?;
/// assert_eq!(p.to_xml(), "<presence><priority>-50</priority></presence>");
/// assert!(Presence::available(PriorityClass::Server, 10).is_err());
/// let seen = Presence::parse("<presence from='me@x.org/OIC/1.0/Client/a' type='unavailable'/>")?;
/// assert_eq!(seen.reachability, Reachability::Unreachable);
/// # Ok::<(), oic_ra_proto::presence::PresenceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// Who sent it (set by the server on delivery).
    pub from: Option<FullJid>,
    /// Available or unavailable.
    pub reachability: Reachability,
    /// The priority, if any.
    pub priority: Option<i8>,
}

impl Presence {
    /// An available presence with a priority in the class's range.
    ///
    /// # Errors
    ///
    /// [`PresenceError::Priority`] for a priority outside the range.
    pub fn available(class: PriorityClass, priority: i8) -> Result<Self, PresenceError> {
        let range = class.range();
        if !range.contains(&priority) {
            return Err(PresenceError::Priority {
                class,
                priority,
                min: *range.start(),
                max: *range.end(),
            });
        }
        Ok(Self {
            from: None,
            reachability: Reachability::Reachable,
            priority: Some(priority),
        })
    }

    /// An unavailable presence (going offline).
    #[must_use]
    pub fn unavailable() -> Self {
        Self {
            from: None,
            reachability: Reachability::Unreachable,
            priority: None,
        }
    }

    /// The stanza.
    #[must_use]
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<presence");
        if let Some(from) = &self.from {
            out.push_str(" from=\"");
            out.push_str(&escape_attr(from.as_str()));
            out.push('"');
        }
        if self.reachability == Reachability::Unreachable {
            out.push_str(" type=\"unavailable\"");
        }
        match self.priority {
            Some(p) => {
                out.push_str("><priority>");
                out.push_str(&p.to_string());
                out.push_str("</priority></presence>");
            }
            None => out.push_str("/>"),
        }
        out
    }

    /// Reads a presence stanza. Children other than `<priority>` (`<show>`,
    /// `<status>`, capabilities and other extensions, RFC 6120 8.4) are
    /// skipped: servers and clients add them freely.
    ///
    /// # Errors
    ///
    /// A presence of another type, a bad priority, a bad `from`, or
    /// malformed XML.
    pub fn parse(xml: &str) -> Result<Self, PresenceError> {
        let stanza = Stanza::parse(xml, &StanzaLimits::default()).map_err(|e| match e {
            iot_xmpp::StanzaReadError::Jid { reason, .. } => PresenceError::From(reason),
            other => PresenceError::Xml(other.to_string()),
        })?;
        Self::from_stanza(&stanza)
    }

    /// Reads a presence stanza already parsed, as [`Presence::parse`].
    ///
    /// # Errors
    ///
    /// As [`Presence::parse`].
    pub fn from_stanza<S: AsRef<str>>(stanza: &Stanza<S>) -> Result<Self, PresenceError> {
        if stanza.kind != StanzaKind::Presence {
            return Err(PresenceError::Xml("expected <presence>".into()));
        }
        let reachability = match stanza.stanza_type.as_ref().map(AsRef::as_ref) {
            None => Reachability::Reachable,
            Some(t) if t == PresenceType::Unavailable.as_str() => Reachability::Unreachable,
            Some(t) => return Err(PresenceError::OtherType(t.to_owned())),
        };
        let from = match &stanza.from {
            None => None,
            Some(jid) => Some(
                iot_xmpp::jids::read_jid::<FullJid>(jid.as_str())
                    .map_err(|e| PresenceError::From(e.to_string()))?,
            ),
        };
        let priority = match stanza.payload("priority", CLIENT_NS) {
            None => None,
            Some(p) => {
                let text = p.text.as_ref().trim();
                Some(
                    text.parse::<i8>()
                        .map_err(|_| PresenceError::BadPriority(text.to_owned()))?,
                )
            }
        };
        Ok(Self {
            from,
            reachability,
            priority,
        })
    }
}
