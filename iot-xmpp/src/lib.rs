//! XMPP stanzas (RFC 6120 section 8) as the protocol crates of this
//! workspace read and write them: `<iq/>`, `<message/>` and `<presence/>`
//! with their routing attributes and their child elements, within explicit
//! size limits.
//!
//! The runtime's XMPP client hands in each received stanza as XML text and
//! sends the text these crates build. Built stanzas carry
//! `xmlns="jabber:client"` so that they stand alone (a stream-level writer
//! may drop the redundant declaration); received stanzas may carry
//! `jabber:client`, `jabber:server` or no namespace (inherited from the
//! stream).
//!
//! Every parser is total: any text gives a [`Stanza`] or a [`StanzaError`].
#![forbid(unsafe_code)]

#[cfg(feature = "json")]
pub mod json;

use core::fmt;

use quick_xml::Reader;
use std::borrow::Cow;

use quick_xml::escape::{escape, partial_escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};

pub use jid::{BareJid, FullJid, Jid};

/// The namespace of client stanzas.
pub const CLIENT_NS: &str = "jabber:client";
/// The namespace of server-to-server stanzas.
pub const SERVER_NS: &str = "jabber:server";
/// The namespace of stanza error conditions (RFC 6120 8.3.3).
pub const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// Limits on a received stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StanzaLimits {
    /// The longest stanza text, in bytes (default 256 KiB, the default
    /// client stanza limit of common servers; an In-Band Bytestream block
    /// of 65535 bytes is about 87 KiB of base64).
    pub max_len: usize,
    /// The deepest nesting of elements, the stanza itself at depth 1
    /// (default 16).
    pub max_depth: usize,
    /// The most elements in the stanza, itself included (default 256).
    pub max_elements: usize,
}

impl Default for StanzaLimits {
    fn default() -> Self {
        Self {
            max_len: 256 * 1024,
            max_depth: 16,
            max_elements: 256,
        }
    }
}

/// Why a text is not a stanza this crate can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StanzaError {
    /// The stanza is longer than the limit.
    #[error("stanza of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Elements nest deeper than the limit.
    #[error("elements nest deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More elements than the limit.
    #[error("more than {max} elements")]
    TooManyElements {
        /// The limit.
        max: usize,
    },
    /// Not well-formed XML, or markup a stanza cannot hold (a DOCTYPE, a
    /// processing instruction, an unknown entity).
    #[error("malformed XML: {0}")]
    Xml(String),
    /// The top element is not `<iq>`, `<message>` or `<presence>`.
    #[error("<{0}> is not a stanza")]
    NotAStanza(String),
    /// The stanza is in a namespace other than `jabber:client` or
    /// `jabber:server`.
    #[error("stanza namespace `{0}` is not jabber:client or jabber:server")]
    Namespace(String),
    /// A `from` or `to` that is not a JID.
    #[error("`{attribute}` is not a JID: {reason}")]
    Jid {
        /// `from` or `to`.
        attribute: &'static str,
        /// Why.
        reason: String,
    },
    /// Something after the stanza's end.
    #[error("content after the end of the stanza")]
    TrailingContent,
}

fn xml_err(e: impl fmt::Display) -> StanzaError {
    StanzaError::Xml(e.to_string())
}

/// The three stanza kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StanzaKind {
    /// `<iq/>`: a request with exactly one response.
    Iq,
    /// `<message/>`: one-way.
    Message,
    /// `<presence/>`: availability and subscriptions.
    Presence,
}

impl StanzaKind {
    /// The element name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iq => "iq",
            Self::Message => "message",
            Self::Presence => "presence",
        }
    }
}

/// An XML element below the stanza: its name, namespace (declared or
/// inherited), other attributes, text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The local name.
    pub name: String,
    /// The namespace, declared on it or inherited.
    pub ns: String,
    /// Attributes other than `xmlns`, in order, unescaped.
    pub attrs: Vec<(String, String)>,
    /// Its character data, unescaped and concatenated (text between child
    /// elements included).
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// An element with no attributes, text or children.
    #[must_use]
    pub fn new(name: &str, ns: &str) -> Self {
        Self {
            name: name.to_owned(),
            ns: ns.to_owned(),
            ..Self::default()
        }
    }

    /// Adds an attribute.
    #[must_use]
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the text.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Adds a child.
    #[must_use]
    pub fn child(mut self, child: Self) -> Self {
        self.children.push(child);
        self
    }

    /// The value of an attribute.
    #[must_use]
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether it has this name and namespace.
    #[must_use]
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name == name && self.ns == ns
    }

    /// The first child with this name and namespace.
    #[must_use]
    pub fn get_child(&self, name: &str, ns: &str) -> Option<&Self> {
        self.children.iter().find(|c| c.is(name, ns))
    }

    /// Writes the element; `parent_ns` is the namespace in scope, so
    /// `xmlns` is written only where it changes.
    fn write(&self, parent_ns: &str, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        if self.ns != parent_ns {
            out.push_str(" xmlns=\"");
            out.push_str(&escape_attr(&self.ns));
            out.push('"');
        }
        for (name, value) in &self.attrs {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(&escape_attr(value));
            out.push('"');
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape_text(&self.text));
        for c in &self.children {
            c.write(&self.ns, out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// A stanza error (RFC 6120 8.3): its type and defined condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaErrorPayload {
    /// `cancel`, `modify`, `auth`, `wait` or `continue`.
    pub error_type: String,
    /// The defined condition, such as `item-not-found`.
    pub condition: String,
}

/// One stanza.
///
/// ```
/// use iot_xmpp::{Element, Stanza, StanzaKind};
///
/// let ping = Stanza::new(StanzaKind::Iq)
///     .with_type("get")
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

    /// The first child with this name and namespace.
    #[must_use]
    pub fn payload(&self, name: &str, ns: &str) -> Option<&Element> {
        self.payloads.iter().find(|p| p.is(name, ns))
    }

    /// The error of a stanza of type `error`: its type and the first
    /// condition element of the stanzas namespace.
    #[must_use]
    pub fn error(&self) -> Option<StanzaErrorPayload> {
        if self.type_str() != "error" {
            return None;
        }
        let e = self.payloads.iter().find(|p| p.name == "error")?;
        let condition = e
            .children
            .iter()
            .find(|c| c.ns == STANZAS_NS && c.name != "text")
            .map_or_else(|| "undefined-condition".to_owned(), |c| c.name.clone());
        Some(StanzaErrorPayload {
            error_type: e.get_attr("type").unwrap_or("").to_owned(),
            condition,
        })
    }

    /// The error reply to this stanza (RFC 6120 8.3.1): addressed back to
    /// the sender, same id, the original payload left out.
    #[must_use]
    pub fn error_reply(&self, error_type: &str, condition: &str) -> Self {
        self.error_reply_with(None, error_type, condition)
    }

    /// As [`Stanza::error_reply`], echoing one element of the original
    /// (RFC 6120 8.3.1 allows the original payload) so that the sender can
    /// tell what the error is about.
    #[must_use]
    pub fn error_reply_with(
        &self,
        echo: Option<Element>,
        error_type: &str,
        condition: &str,
    ) -> Self {
        let mut reply = Self::new(self.kind).with_type("error");
        reply.to.clone_from(&self.from);
        reply.id.clone_from(&self.id);
        reply.payloads.extend(echo);
        reply.with_payload(
            Element::new("error", CLIENT_NS)
                .attr("type", error_type)
                .child(Element::new(condition, STANZAS_NS)),
        )
    }

    /// The empty `result` reply to an `iq` of type `get` or `set`.
    #[must_use]
    pub fn result_reply(&self) -> Self {
        let mut reply = Self::new(StanzaKind::Iq).with_type("result");
        reply.to.clone_from(&self.from);
        reply.id.clone_from(&self.id);
        reply
    }

    /// The stanza as XML text, every value escaped.
    #[must_use]
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push('<');
        out.push_str(self.kind.as_str());
        out.push_str(" xmlns=\"jabber:client\"");
        let attrs = [
            ("from", self.from.as_ref().map(Jid::as_str)),
            ("to", self.to.as_ref().map(Jid::as_str)),
            ("type", self.stanza_type.as_deref()),
            ("id", self.id.as_deref()),
        ];
        for (name, value) in attrs {
            if let Some(v) = value {
                out.push(' ');
                out.push_str(name);
                out.push_str("=\"");
                out.push_str(&escape_attr(v));
                out.push('"');
            }
        }
        if self.payloads.is_empty() {
            out.push_str("/>");
            return out;
        }
        out.push('>');
        for p in &self.payloads {
            p.write(CLIENT_NS, &mut out);
        }
        out.push_str("</");
        out.push_str(self.kind.as_str());
        out.push('>');
        out
    }

    /// Reads one stanza. White space around it, an XML declaration and
    /// comments are ignored; child elements are kept in full (within the
    /// limits) so that extension payloads can be inspected.
    ///
    /// # Errors
    ///
    /// A [`StanzaError`] for each way the text can be wrong.
    pub fn parse(xml: &str, limits: &StanzaLimits) -> Result<Self, StanzaError> {
        if xml.len() > limits.max_len {
            return Err(StanzaError::TooLong {
                len: xml.len(),
                max: limits.max_len,
            });
        }
        let mut r = Reader::from_str(xml);
        let (start, empty) = loop {
            match r.read_event().map_err(xml_err)? {
                Event::Start(e) => break (e, false),
                Event::Empty(e) => break (e, true),
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Decl(_) | Event::Comment(_) => {}
                Event::Eof => return Err(StanzaError::Xml("no element".into())),
                other => return Err(markup_err(&other)),
            }
        };
        let name = start.name();
        let kind = match name.as_ref() {
            b"iq" => StanzaKind::Iq,
            b"message" => StanzaKind::Message,
            b"presence" => StanzaKind::Presence,
            other => {
                return Err(StanzaError::NotAStanza(
                    String::from_utf8_lossy(other).into_owned(),
                ));
            }
        };
        let mut stanza = Self::new(kind);
        let mut ns = CLIENT_NS.to_owned();
        for a in start.attributes() {
            let a = a.map_err(xml_err)?;
            let value = a.unescape_value().map_err(xml_err)?;
            match a.key.as_ref() {
                b"xmlns" => {
                    if value != CLIENT_NS && value != SERVER_NS {
                        return Err(StanzaError::Namespace(value.into_owned()));
                    }
                    ns = value.into_owned();
                }
                b"from" => stanza.from = Some(jid_attr("from", &value)?),
                b"to" => stanza.to = Some(jid_attr("to", &value)?),
                b"id" => stanza.id = Some(value.into_owned()),
                b"type" => stanza.stanza_type = Some(value.into_owned()),
                // xml:lang and extension attributes (RFC 6120 8.1) are
                // allowed and not needed here.
                _ => {}
            }
        }
        if !empty {
            let mut count = 1;
            let children = read_children(&mut r, &ns, 1, limits, &mut count, &mut String::new())?;
            stanza.payloads = children;
        }
        loop {
            match r.read_event().map_err(xml_err)? {
                Event::Eof => return Ok(stanza),
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) => {}
                _ => return Err(StanzaError::TrailingContent),
            }
        }
    }
}

fn jid_attr(attribute: &'static str, value: &str) -> Result<Jid, StanzaError> {
    Jid::new(value).map_err(|e| StanzaError::Jid {
        attribute,
        reason: e.to_string(),
    })
}

fn markup_err(event: &Event<'_>) -> StanzaError {
    match event {
        Event::DocType(_) => StanzaError::Xml("a DOCTYPE is not allowed".into()),
        Event::PI(_) => StanzaError::Xml("a processing instruction is not allowed".into()),
        _ => StanzaError::Xml("text outside the stanza".into()),
    }
}

/// Reads the content of the element just opened at `depth`, up to its end
/// tag: its child elements are returned, its text appended to `text`.
fn read_children(
    r: &mut Reader<&[u8]>,
    ns: &str,
    depth: usize,
    limits: &StanzaLimits,
    count: &mut usize,
    text: &mut String,
) -> Result<Vec<Element>, StanzaError> {
    let mut children = Vec::new();
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Start(e) => {
                let mut child = open_element(&e, ns, depth, limits, count)?;
                let mut child_text = String::new();
                child.children =
                    read_children(r, &child.ns, depth + 1, limits, count, &mut child_text)?;
                child.text = child_text;
                children.push(child);
            }
            Event::Empty(e) => children.push(open_element(&e, ns, depth, limits, count)?),
            Event::Text(t) => text.push_str(&t.decode().map_err(xml_err)?),
            Event::CData(t) => text.push_str(&t.decode().map_err(xml_err)?),
            Event::GeneralRef(g) => push_reference(text, &g).map_err(StanzaError::Xml)?,
            Event::Comment(_) => {}
            Event::End(_) => return Ok(children),
            Event::Eof => return Err(StanzaError::Xml("unclosed element".into())),
            other => return Err(markup_err(&other)),
        }
    }
}

fn open_element(
    e: &BytesStart<'_>,
    parent_ns: &str,
    depth: usize,
    limits: &StanzaLimits,
    count: &mut usize,
) -> Result<Element, StanzaError> {
    if depth + 1 > limits.max_depth {
        return Err(StanzaError::TooDeep {
            max: limits.max_depth,
        });
    }
    *count += 1;
    if *count > limits.max_elements {
        return Err(StanzaError::TooManyElements {
            max: limits.max_elements,
        });
    }
    let name = core::str::from_utf8(e.name().as_ref())
        .map_err(xml_err)?
        .to_owned();
    let mut element = Element::new(&name, parent_ns);
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        let value = a.unescape_value().map_err(xml_err)?.into_owned();
        if a.key.as_ref() == b"xmlns" {
            element.ns = value;
        } else {
            let key = core::str::from_utf8(a.key.as_ref()).map_err(xml_err)?;
            element.attrs.push((key.to_owned(), value));
        }
    }
    Ok(element)
}

/// Appends the text of a character reference or one of the five
/// predefined entities to `text`, for readers of element text built on
/// quick-xml.
///
/// # Errors
///
/// The reason, for a malformed reference or any other entity (a stanza
/// cannot declare entities).
pub fn push_reference(
    text: &mut String,
    g: &quick_xml::events::BytesRef<'_>,
) -> Result<(), String> {
    if let Some(c) = g.resolve_char_ref().map_err(|e| e.to_string())? {
        text.push(c);
        return Ok(());
    }
    let name = g.decode().map_err(|e| e.to_string())?;
    let resolved =
        resolve_predefined_entity(&name).ok_or_else(|| format!("unknown entity &{name};"))?;
    text.push_str(resolved);
    Ok(())
}

/// Escapes character data: `<`, `>` and `&`, and a carriage return as a
/// character reference (a conforming reader would turn a literal one into
/// a line feed, XML 1.0 section 2.11).
pub fn escape_text(text: &str) -> Cow<'_, str> {
    let escaped = partial_escape(text);
    if escaped.contains('\r') {
        Cow::Owned(escaped.replace('\r', "&#13;"))
    } else {
        escaped
    }
}

/// Escapes an attribute value: markup characters and both quotes, and tab,
/// line feed and carriage return as character references (a conforming
/// reader would turn literal ones into spaces, XML 1.0 section 3.3.3).
pub fn escape_attr(value: &str) -> Cow<'_, str> {
    let escaped = escape(value);
    if escaped.contains(['\t', '\n', '\r']) {
        Cow::Owned(
            escaped
                .replace('\t', "&#9;")
                .replace('\n', "&#10;")
                .replace('\r', "&#13;"),
        )
    } else {
        escaped
    }
}
