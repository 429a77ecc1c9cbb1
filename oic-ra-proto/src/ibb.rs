//! XEP-0047 In-Band Bytestreams, as section 7.3.1 uses them: `<open/>` and
//! `<close/>` in `iq` stanzas, `<data/>` in `message` stanzas, blocks of at
//! most 65535 bytes before base64, 16-bit sequence numbers that wrap from
//! 65535 to 0.
//!
//! This module is the codec: it turns [`Stanza`]s into [`IbbPayload`]s and
//! back. The session state machine is [`crate::endpoint`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use iot_xmpp::{Element, IqType, Stanza, StanzaKind};

/// The IBB namespace.
pub use iot_xmpp::vocab::IBB_NS;

/// The longest session id this crate accepts (XEP-0047 sets none; a bound
/// keeps a hostile peer from filling memory with keys).
pub const MAX_SID_LEN: usize = 128;

/// Which stanza carries the data (the `stanza` attribute of `<open/>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataStanza {
    /// `iq` (the XEP's default when the attribute is absent).
    Iq,
    /// `message`, which section 7.3.1 requires.
    Message,
}

/// Why an element is not a valid IBB payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IbbError {
    /// A required attribute is missing.
    #[error("<{element}> lacks `{attribute}`")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// `block-size` is not an integer from 1 to 65535.
    #[error("block-size `{0}` is not 1..=65535")]
    BlockSize(String),
    /// `seq` is not an integer from 0 to 65535.
    #[error("seq `{0}` is not 0..=65535")]
    Seq(String),
    /// The `sid` is empty, too long or not an XML NMTOKEN.
    #[error("sid `{0}` is not a valid session id")]
    Sid(String),
    /// `stanza` is neither `iq` nor `message`.
    #[error("stanza `{0}` is neither iq nor message")]
    StanzaAttribute(String),
    /// The data is not base64.
    #[error("data is not base64")]
    Base64,
    /// The stanza carries no IBB element.
    #[error("no IBB element")]
    NotIbb,
}

/// One IBB element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IbbPayload {
    /// Opens a session.
    Open {
        /// The session id.
        sid: String,
        /// The largest block, in bytes before base64.
        block_size: u16,
        /// The stanza kind for data.
        stanza: DataStanza,
    },
    /// One block of data.
    Data {
        /// The session id.
        sid: String,
        /// The sequence number.
        seq: u16,
        /// The bytes (decoded).
        data: Vec<u8>,
    },
    /// Closes a session.
    Close {
        /// The session id.
        sid: String,
    },
}

impl IbbPayload {
    /// The session id.
    #[must_use]
    pub fn sid(&self) -> &str {
        match self {
            Self::Open { sid, .. } | Self::Data { sid, .. } | Self::Close { sid } => sid,
        }
    }

    /// The element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        match self {
            Self::Open {
                sid,
                block_size,
                stanza,
            } => Element::new("open", IBB_NS)
                .attr("block-size", block_size.to_string())
                .attr("sid", sid.as_str())
                .attr(
                    "stanza",
                    match stanza {
                        DataStanza::Iq => "iq",
                        DataStanza::Message => "message",
                    },
                ),
            Self::Data { sid, seq, data } => Element::new("data", IBB_NS)
                .attr("seq", seq.to_string())
                .attr("sid", sid.as_str())
                .with_text(STANDARD.encode(data)),
            Self::Close { sid } => Element::new("close", IBB_NS).attr("sid", sid.as_str()),
        }
    }

    /// Reads an IBB element.
    ///
    /// # Errors
    ///
    /// [`IbbError::NotIbb`] for another element, else the first thing
    /// wrong with it.
    pub fn from_element<S: AsRef<str>>(e: &Element<S>) -> Result<Self, IbbError> {
        if e.ns.as_ref() != IBB_NS {
            return Err(IbbError::NotIbb);
        }
        let element: &'static str = match e.name.as_ref() {
            "open" => "open",
            "data" => "data",
            "close" => "close",
            _ => return Err(IbbError::NotIbb),
        };
        let sid = e
            .get_attr("sid")
            .ok_or(IbbError::MissingAttribute {
                element,
                attribute: "sid",
            })?
            .to_owned();
        if !valid_sid(&sid) {
            return Err(IbbError::Sid(sid));
        }
        match element {
            "open" => {
                let bs = e.get_attr("block-size").ok_or(IbbError::MissingAttribute {
                    element,
                    attribute: "block-size",
                })?;
                let block_size = bs
                    .parse::<u16>()
                    .ok()
                    .filter(|b| *b > 0 && !bs.starts_with('+'))
                    .ok_or_else(|| IbbError::BlockSize(bs.to_owned()))?;
                let stanza = match e.get_attr("stanza") {
                    None | Some("iq") => DataStanza::Iq,
                    Some("message") => DataStanza::Message,
                    Some(other) => return Err(IbbError::StanzaAttribute(other.to_owned())),
                };
                Ok(Self::Open {
                    sid,
                    block_size,
                    stanza,
                })
            }
            "data" => {
                let s = e.get_attr("seq").ok_or(IbbError::MissingAttribute {
                    element,
                    attribute: "seq",
                })?;
                let seq = s
                    .parse::<u16>()
                    .ok()
                    .filter(|_| !s.starts_with('+'))
                    .ok_or_else(|| IbbError::Seq(s.to_owned()))?;
                // Most senders write the base64 on one line: it is decoded
                // where it lies, and only text with line breaks or spaces
                // in it is compacted first.
                let text = e.text.as_ref();
                let data = STANDARD
                    .decode(text)
                    .or_else(|_| {
                        let text: String = text.split_ascii_whitespace().collect();
                        STANDARD.decode(text)
                    })
                    .map_err(|_| IbbError::Base64)?;
                Ok(Self::Data { sid, seq, data })
            }
            _ => Ok(Self::Close { sid }),
        }
    }

    /// The IBB element of a stanza, if it has one.
    ///
    /// # Errors
    ///
    /// [`IbbError::NotIbb`] when it has none, else as
    /// [`IbbPayload::from_element`].
    pub fn from_stanza<S: AsRef<str>>(s: &Stanza<S>) -> Result<Self, IbbError> {
        let e = s
            .payloads
            .iter()
            .find(|p| p.ns.as_ref() == IBB_NS)
            .ok_or(IbbError::NotIbb)?;
        Self::from_element(e)
    }

    /// The stanza that carries it: `<iq type="set">` for open and close,
    /// `<message>` for data (section 7.3.1).
    #[must_use]
    pub fn to_stanza(&self, to: impl Into<crate::identity::Jid>, id: &str) -> Stanza {
        let s = match self {
            Self::Data { .. } => Stanza::new(StanzaKind::Message),
            _ => Stanza::iq(IqType::Set),
        };
        s.with_to(to).with_id(id).with_payload(self.to_element())
    }
}

/// A session id must be a non-empty XML NMTOKEN (XEP-0047 section 2.1) of
/// at most [`MAX_SID_LEN`] bytes.
#[must_use]
pub fn valid_sid(sid: &str) -> bool {
    !sid.is_empty()
        && sid.len() <= MAX_SID_LEN
        && sid
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}
