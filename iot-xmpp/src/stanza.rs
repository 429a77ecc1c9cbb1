//! One stanza: its kind, routing attributes, type and child elements, and
//! the replies RFC 6120 defines for it.

use std::borrow::Cow;

use crate::element::Element;
use crate::vocab::{self, CLIENT_NS, STANZAS_NS};
use crate::vocab::{DefinedCondition, ErrorType, IqType, PresenceType, StanzaKind};
use jid::Jid;

/// A stanza error (RFC 6120 8.3): its type and defined condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StanzaError {
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
/// # Ok::<(), iot_xmpp::StanzaReadError>(())
/// ```
///
/// `S` is how its strings are held, as in [`Element`]: [`String`] (the
/// default, what machines take and hand out), or `Cow<'a, str>`
/// ([`StanzaRef`]) for a stanza read in place by [`Stanza::parse_ref`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza<S = String> {
    /// Which kind.
    pub kind: StanzaKind,
    /// The sender, set by the server on delivery.
    pub from: Option<Jid>,
    /// The addressee.
    pub to: Option<Jid>,
    /// The stanza id.
    pub id: Option<S>,
    /// The `type` attribute.
    pub stanza_type: Option<S>,
    /// The child elements.
    pub payloads: Vec<Element<S>>,
}

/// A stanza read in place: its id, type and elements borrow from the text
/// unless they needed unescaping (the JIDs are always parsed into their
/// own values).
pub type StanzaRef<'a> = Stanza<Cow<'a, str>>;

impl<S> Stanza<S> {
    /// A stanza with no attributes or children.
    #[must_use]
    pub const fn empty(kind: StanzaKind) -> Self {
        Self {
            kind,
            from: None,
            to: None,
            id: None,
            stanza_type: None,
            payloads: Vec::new(),
        }
    }
}

impl Stanza {
    /// A stanza with no attributes or children.
    #[must_use]
    pub const fn new(kind: StanzaKind) -> Self {
        Self::empty(kind)
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

    /// An `<iq/>` of this type.
    #[must_use]
    pub fn iq(t: IqType) -> Self {
        Self::new(StanzaKind::Iq).with_type(t.as_str())
    }
}

impl<S: AsRef<str>> Stanza<S> {
    /// The `type`, or `""` when absent.
    #[must_use]
    pub fn type_str(&self) -> &str {
        self.stanza_type.as_ref().map_or("", AsRef::as_ref)
    }

    /// The stanza with its own strings, whatever holds them now.
    #[must_use]
    pub fn to_owned_stanza(&self) -> Stanza {
        Stanza {
            kind: self.kind,
            from: self.from.clone(),
            to: self.to.clone(),
            id: self.id.as_ref().map(|s| s.as_ref().to_owned()),
            stanza_type: self.stanza_type.as_ref().map(|s| s.as_ref().to_owned()),
            payloads: self
                .payloads
                .iter()
                .map(Element::to_owned_element)
                .collect(),
        }
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
    pub fn payload(&self, name: &str, ns: &str) -> Option<&Element<S>> {
        self.payloads.iter().find(|p| p.is(name, ns))
    }

    /// The condition of a stanza of type `error` (RFC 6120 8.3.3):
    /// `undefined-condition` when it names none.
    #[must_use]
    pub fn condition(&self) -> DefinedCondition {
        self.error()
            .map_or(DefinedCondition::UndefinedCondition, |e| e.condition)
    }

    /// The error of a stanza of type `error`: its type and the first
    /// condition element of the stanzas namespace.
    #[must_use]
    pub fn error(&self) -> Option<StanzaError> {
        if !self.is_error() {
            return None;
        }
        let e = self
            .payloads
            .iter()
            .find(|p| p.name.as_ref() == vocab::ERROR)?;
        let condition = e
            .children
            .iter()
            .find(|c| c.ns.as_ref() == STANZAS_NS && c.name.as_ref() != vocab::TEXT)
            .and_then(|c| c.name.as_ref().parse().ok())
            .unwrap_or(DefinedCondition::UndefinedCondition);
        Some(StanzaError {
            error_type: e.get_attr(vocab::TYPE).and_then(|t| t.parse().ok()),
            condition,
        })
    }

    /// The error reply to this stanza (RFC 6120 8.3.1): addressed back to
    /// the sender, same id, the original payload left out.
    #[must_use]
    pub fn error_reply(&self, error_type: ErrorType, condition: DefinedCondition) -> Stanza {
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
    ) -> Stanza {
        let mut reply = Stanza::new(self.kind).with_type(IqType::Error.as_str());
        reply.to.clone_from(&self.from);
        reply.id = self.id.as_ref().map(|id| id.as_ref().to_owned());
        reply.payloads.extend(echo);
        reply.with_payload(
            Element::new(vocab::ERROR, CLIENT_NS)
                .attr(vocab::TYPE, error_type.as_str())
                .child(Element::new(condition.as_str(), STANZAS_NS)),
        )
    }

    /// The empty `result` reply to an `iq` of type `get` or `set`.
    #[must_use]
    pub fn result_reply(&self) -> Stanza {
        let mut reply = Stanza::iq(IqType::Result);
        reply.to.clone_from(&self.from);
        reply.id = self.id.as_ref().map(|id| id.as_ref().to_owned());
        reply
    }
}
