//! The stanza reader: one stanza's text to a [`Stanza`], within
//! [`StanzaLimits`], on quick-xml. No DTD, no entity other than the five
//! predefined ones and character references.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::element::Element;
use crate::error::StanzaError;
use crate::error::xml_err;
use crate::limits::StanzaLimits;
use crate::stanza::{Stanza, StanzaRef};
use crate::text::{lend, push_reference, push_text, tag, text_of};
use crate::vocab::StanzaKind;
use crate::vocab::{CLIENT_NS, SERVER_NS};
use jid::Jid;

impl Stanza {
    /// Reads one stanza. White space around it, an XML declaration and
    /// comments are ignored; child elements are kept in full (within the
    /// limits) so that extension payloads can be inspected.
    ///
    /// # Errors
    ///
    /// A [`StanzaError`] for each way the text can be wrong.
    pub fn parse(xml: &str, limits: &StanzaLimits) -> Result<Self, StanzaError> {
        read(xml, limits)
    }

    /// Reads one stanza in place, as [`Stanza::parse`] does: its id, type,
    /// names, attribute values and text borrow from `xml` unless they
    /// needed unescaping, so a stanza without escapes allocates nothing
    /// for its strings (only the lists of attributes and children, and the
    /// JIDs, which are parsed into their own values).
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use iot_xmpp::{Stanza, StanzaRef};
    ///
    /// let xml = r#"<message to="a@example.org" id="m1"><body>hi &amp; bye</body></message>"#;
    /// let s: StanzaRef<'_> = Stanza::parse_ref(xml, &Default::default())?;
    /// assert!(matches!(s.id, Some(Cow::Borrowed("m1"))));
    /// assert!(matches!(s.payloads[0].name, Cow::Borrowed("body")));
    /// // Unescaped text is the one string that had to be copied.
    /// assert!(matches!(&s.payloads[0].text, Cow::Owned(t) if t == "hi & bye"));
    /// assert_eq!(s.to_owned_stanza(), Stanza::parse(xml, &Default::default())?);
    /// # Ok::<(), iot_xmpp::StanzaError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Stanza::parse`].
    pub fn parse_ref<'a>(
        xml: &'a str,
        limits: &StanzaLimits,
    ) -> Result<StanzaRef<'a>, StanzaError> {
        read(xml, limits)
    }
}

fn duplicated(name: &str) -> StanzaError {
    StanzaError::Xml(format!("attribute `{name}` is given twice"))
}

fn read<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    limits: &StanzaLimits,
) -> Result<Stanza<S>, StanzaError> {
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
    let (name, attributes) = tag(xml, &start).map_err(StanzaError::Xml)?;
    let kind = name
        .parse::<StanzaKind>()
        .map_err(|_| StanzaError::NotAStanza(name.to_owned()))?;
    let mut stanza = Stanza::empty(kind);
    let mut ns = Cow::Borrowed(CLIENT_NS);
    let mut seen_xmlns = false;
    let mut others: Vec<&'a str> = Vec::new();
    for a in attributes {
        let a = a.map_err(xml_err)?;
        let key =
            lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
        let value = a.unescape_value().map_err(xml_err)?;
        let twice = match key {
            "xmlns" => {
                if value != CLIENT_NS && value != SERVER_NS {
                    return Err(StanzaError::Namespace(value.into_owned()));
                }
                ns = value;
                core::mem::replace(&mut seen_xmlns, true)
            }
            "from" => stanza.from.replace(jid_attr("from", &value)?).is_some(),
            "to" => stanza.to.replace(jid_attr("to", &value)?).is_some(),
            "id" => stanza.id.replace(S::from(value)).is_some(),
            "type" => stanza.stanza_type.replace(S::from(value)).is_some(),
            // xml:lang and extension attributes (RFC 6120 8.1) are
            // allowed and not needed here.
            _ => {
                let twice = others.contains(&key);
                others.push(key);
                twice
            }
        };
        if twice {
            return Err(duplicated(key));
        }
    }
    if !empty {
        let mut count = 1;
        let mut text = Cow::Borrowed("");
        stanza.payloads = read_children(xml, &mut r, &ns, 1, limits, &mut count, &mut text)?;
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

fn jid_attr(attribute: &'static str, value: &str) -> Result<Jid, StanzaError> {
    crate::jids::read_jid(value).map_err(|e| StanzaError::Jid {
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
/// tag: its child elements are returned, its text appended to `text`. The
/// namespace in scope is a `Cow` so that a lent one stays lent in the
/// children that inherit it.
#[allow(clippy::ptr_arg)]
fn read_children<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    r: &mut Reader<&'a [u8]>,
    ns: &Cow<'a, str>,
    depth: usize,
    limits: &StanzaLimits,
    count: &mut usize,
    text: &mut Cow<'a, str>,
) -> Result<Vec<Element<S>>, StanzaError> {
    let mut children = Vec::new();
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Start(e) => {
                let (name, child_ns, attrs) = open_element(xml, &e, ns, depth, limits, count)?;
                let mut child_text = Cow::Borrowed("");
                let grandchildren =
                    read_children(xml, r, &child_ns, depth + 1, limits, count, &mut child_text)?;
                children.push(Element {
                    name: S::from(Cow::Borrowed(name)),
                    ns: S::from(child_ns),
                    attrs,
                    text: S::from(child_text),
                    children: grandchildren,
                });
            }
            Event::Empty(e) => {
                let (name, child_ns, attrs) = open_element(xml, &e, ns, depth, limits, count)?;
                children.push(Element {
                    name: S::from(Cow::Borrowed(name)),
                    ns: S::from(child_ns),
                    attrs,
                    text: S::from(Cow::Borrowed("")),
                    children: Vec::new(),
                });
            }
            Event::Text(t) => push_text(text, text_of(xml, &t).map_err(xml_err)?),
            Event::CData(t) => push_text(text, text_of(xml, &t).map_err(xml_err)?),
            Event::GeneralRef(g) => {
                push_reference(text.to_mut(), &g).map_err(StanzaError::Xml)?;
            }
            Event::Comment(_) => {}
            Event::End(_) => return Ok(children),
            Event::Eof => return Err(StanzaError::Xml("unclosed element".into())),
            other => return Err(markup_err(&other)),
        }
    }
}

/// An element's name, namespace and attributes, `xmlns` apart.
type Opened<'a, S> = (&'a str, Cow<'a, str>, Vec<(S, S)>);

fn open_element<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    e: &BytesStart<'_>,
    parent_ns: &Cow<'a, str>,
    depth: usize,
    limits: &StanzaLimits,
    count: &mut usize,
) -> Result<Opened<'a, S>, StanzaError> {
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
    let (name, attributes) = tag(xml, e).map_err(StanzaError::Xml)?;
    if !is_ncname(name) {
        // A prefixed name would need the prefix's declaration to mean
        // anything; this reader keeps namespaces as `xmlns` only.
        return Err(StanzaError::Xml(format!("`{name}` is not an element name")));
    }
    let mut ns = None;
    let mut attrs: Vec<(S, S)> = Vec::new();
    for a in attributes {
        let a = a.map_err(xml_err)?;
        let key =
            lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
        let value = a.unescape_value().map_err(xml_err)?;
        if key == "xmlns" {
            if ns.replace(value).is_some() {
                return Err(duplicated(key));
            }
            continue;
        }
        if !is_qname(key) {
            return Err(StanzaError::Xml(format!(
                "`{key}` is not an attribute name"
            )));
        }
        if attrs.iter().any(|(k, _)| k.as_ref() == key) {
            return Err(duplicated(key));
        }
        attrs.push((S::from(Cow::Borrowed(key)), S::from(value)));
    }
    Ok((name, ns.unwrap_or_else(|| parent_ns.clone()), attrs))
}

/// Whether `name` is an XML name without a colon (Namespaces in XML 1.0,
/// `NCName`): a letter or `_`, then letters, digits, `-`, `.` and `_`
/// (non-ASCII letters and digits included; the rarer name characters of
/// XML 1.0 section 2.3, such as combining marks, are refused).
fn is_ncname(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Whether `name` is a qualified name: an `NCName`, or two joined by one
/// colon (`xml:lang`).
fn is_qname(name: &str) -> bool {
    match name.split_once(':') {
        Some((prefix, local)) => is_ncname(prefix) && is_ncname(local),
        None => is_ncname(name),
    }
}

/// Reads one top-level element of a stream (a nonza such as
/// `<stream:features>` or a SASL element, or a stanza as a plain element):
/// a name with `prefix` is in `prefix_ns`; an element without `xmlns` is
/// in `jabber:client`, the stream's default namespace.
pub(crate) fn read_top_element(
    xml: &str,
    limits: &StanzaLimits,
    prefix: &str,
    prefix_ns: &str,
) -> Result<Element, StanzaError> {
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
            Event::Eof => return Err(StanzaError::Xml("no element".into())),
            other => return Err(markup_err(&other)),
        }
    };
    let (qname, _) = tag(xml, &start).map_err(StanzaError::Xml)?;
    let mut count = 0;
    let (name, ns, attrs) = match qname.split_once(':') {
        Some((p, local)) if p == prefix && is_ncname(local) => {
            let (_, _, attrs) = open_prefixed(xml, &start)?;
            count += 1;
            (local, Cow::Borrowed(prefix_ns), attrs)
        }
        _ => open_element::<String>(
            xml,
            &start,
            &Cow::Borrowed(CLIENT_NS),
            0,
            limits,
            &mut count,
        )?,
    };
    let mut text = Cow::Borrowed("");
    let children = if empty {
        Vec::new()
    } else {
        read_children(xml, &mut r, &ns, 1, limits, &mut count, &mut text)?
    };
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Eof => break,
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => return Err(StanzaError::TrailingContent),
        }
    }
    Ok(Element {
        name: name.to_owned(),
        ns: ns.into_owned(),
        attrs,
        text: text.into_owned(),
        children,
    })
}

/// The attributes of a prefixed top element (`<stream:features>`), whose
/// name the `NCName` check of [`open_element`] refuses.
fn open_prefixed<'a>(xml: &'a str, e: &BytesStart<'_>) -> Result<Opened<'a, String>, StanzaError> {
    let (name, attributes) = tag(xml, e).map_err(StanzaError::Xml)?;
    let mut attrs = Vec::new();
    for a in attributes {
        let a = a.map_err(xml_err)?;
        let key =
            lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        if attrs.iter().any(|(k, _): &(String, String)| k == key) {
            return Err(duplicated(key));
        }
        attrs.push((
            key.to_owned(),
            a.unescape_value().map_err(xml_err)?.into_owned(),
        ));
    }
    Ok((name, Cow::Borrowed(CLIENT_NS), attrs))
}
