//! One stanza: its kind, routing attributes, type and child elements, and
//! the replies RFC 6120 defines for it.

use crate::element::Element;
use crate::vocab::{self, CLIENT_NS, STANZAS_NS};
use crate::vocab::{DefinedCondition, ErrorType, IqType, PresenceType, StanzaKind};
use jid::Jid;

/// A stanza error (RFC 6120 8.3): its type and defined condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StanzaErrorPayload {
    /// The error type; `None` when the `type` attribute is missing or not
    /// one of RFC 6120's.
    pub error_type: Option<ErrorType>,
    /// The defined condition; an element that names no defined condition,
    /// or none, reads as [`DefinedCondition::UndefinedCondition`].
    pub condition: DefinedCondition,
}

/// One stanza.
///
/// ```
/// use iot_xmpp::{Element, IqType, Stanza};
///
/// let ping = Stanza::iq(IqType::Get)
///     .with_id("p1")
///     .with_payload(Element::new("ping", "urn:xmpp:ping"));
/// let xml = ping.to_xml();
/// assert_eq!(
///     xml,
///     r#"<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>"#
/// );
/// assert_eq!(Stanza::parse(&xml, &Default::default())?, ping);
/// # Ok::<(), iot_xmpp::StanzaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    /// Which kind.
    pub kind: StanzaKind,
    /// The sender, set by the server on delivery.
    pub from: Option<Jid>,
    /// The addressee.
    pub to: Option<Jid>,
    /// The stanza id.
    pub id: Option<String>,
    /// The `type` attribute.
    pub stanza_type: Option<String>,
    /// The child elements.
    pub payloads: Vec<Element>,
}

impl Stanza {
    /// A stanza with no attributes or children.
    #[must_use]
    pub fn new(kind: StanzaKind) -> Self {
        Self {
            kind,
            from: None,
            to: None,
            id: None,
            stanza_type: None,
            payloads: Vec::new(),
        }
    }

    /// Sets the addressee.
    #[must_use]
    pub fn with_to(mut self, to: impl Into<Jid>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Sets the sender.
    #[must_use]
    pub fn with_from(mut self, from: impl Into<Jid>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Sets the id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the type.
    #[must_use]
    pub fn with_type(mut self, t: &str) -> Self {
        self.stanza_type = Some(t.to_owned());
        self
    }

    /// Adds a child element.
    #[must_use]
    pub fn with_payload(mut self, e: Element) -> Self {
        self.payloads.push(e);
        self
    }

    /// The `type`, or `""` when absent.
    #[must_use]
    pub fn type_str(&self) -> &str {
        self.stanza_type.as_deref().unwrap_or("")
    }

    /// An `<iq/>` of this type.
    #[must_use]
    pub fn iq(t: IqType) -> Self {
        Self::new(StanzaKind::Iq).with_type(t.as_str())
    }

    /// The type of an `<iq/>`, if it is one with a valid type.
    #[must_use]
    pub fn iq_type(&self) -> Option<IqType> {
        (self.kind == StanzaKind::Iq)
            .then(|| self.type_str().parse().ok())
            .flatten()
    }

    /// The type of a `<presence/>`, if it is one with a type other than
    /// available (RFC 6121 4.7.1).
    #[must_use]
    pub fn presence_type(&self) -> Option<PresenceType> {
        (self.kind == StanzaKind::Presence)
            .then(|| self.type_str().parse().ok())
            .flatten()
    }

    /// Whether the stanza is of type `error`, whatever its kind.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.type_str() == IqType::Error.as_str()
    }

    /// The first child with this name and namespace.
    #[must_use]
    pub fn payload(&self, name: &str, ns: &str) -> Option<&Element> {
        self.payloads.iter().find(|p| p.is(name, ns))
    }

    /// The error of a stanza of type `error`: its type and the first
    /// condition element of the stanzas namespace.
    #[must_use]
    pub fn error(&self) -> Option<StanzaErrorPayload> {
        if !self.is_error() {
            return None;
        }
        let e = self.payloads.iter().find(|p| p.name == vocab::ERROR)?;
        let condition = e
            .children
            .iter()
            .find(|c| c.ns == STANZAS_NS && c.name != vocab::TEXT)
            .and_then(|c| c.name.parse().ok())
            .unwrap_or(DefinedCondition::UndefinedCondition);
        Some(StanzaErrorPayload {
            error_type: e.get_attr(vocab::TYPE).and_then(|t| t.parse().ok()),
            condition,
        })
    }

    /// The error reply to this stanza (RFC 6120 8.3.1): addressed back to
    /// the sender, same id, the original payload left out.
    #[must_use]
    pub fn error_reply(&self, error_type: ErrorType, condition: DefinedCondition) -> Self {
        self.error_reply_with(None, error_type, condition)
    }

    /// As [`Stanza::error_reply`], echoing one element of the original
    /// (RFC 6120 8.3.1 allows the original payload) so that the sender can
    /// tell what the error is about.
    #[must_use]
    pub fn error_reply_with(
        &self,
        echo: Option<Element>,
        error_type: ErrorType,
        condition: DefinedCondition,
    ) -> Self {
        let mut reply = Self::new(self.kind).with_type(IqType::Error.as_str());
        reply.to.clone_from(&self.from);
        reply.id.clone_from(&self.id);
        reply.payloads.extend(echo);
        reply.with_payload(
            Element::new(vocab::ERROR, CLIENT_NS)
                .attr(vocab::TYPE, error_type.as_str())
                .child(Element::new(condition.as_str(), STANZAS_NS)),
        )
    }

    /// The empty `result` reply to an `iq` of type `get` or `set`.
    #[must_use]
    pub fn result_reply(&self) -> Self {
        let mut reply = Self::iq(IqType::Result);
        reply.to.clone_from(&self.from);
        reply.id.clone_from(&self.id);
        reply
    }
}
