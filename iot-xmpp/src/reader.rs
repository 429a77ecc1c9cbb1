//! The stanza reader: one stanza's text to a [`Stanza`], within
//! [`StanzaLimits`], on quick-xml. No DTD, no entity other than the five
//! predefined ones and character references.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::element::Element;
use crate::error::StanzaError;
use crate::error::xml_err;
use crate::limits::StanzaLimits;
use crate::stanza::Stanza;
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
        let kind = core::str::from_utf8(name.as_ref())
            .ok()
            .and_then(|n| n.parse::<StanzaKind>().ok())
            .ok_or_else(|| {
                StanzaError::NotAStanza(String::from_utf8_lossy(name.as_ref()).into_owned())
            })?;
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
    let qname = e.name();
    let name = core::str::from_utf8(qname.as_ref()).map_err(xml_err)?;
    if !is_ncname(name) {
        // A prefixed name would need the prefix's declaration to mean
        // anything; this reader keeps namespaces as `xmlns` only.
        return Err(StanzaError::Xml(format!("`{name}` is not an element name")));
    }
    let mut element = Element::new(name, parent_ns);
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        let value = a.unescape_value().map_err(xml_err)?.into_owned();
        if a.key.as_ref() == b"xmlns" {
            element.ns = value;
        } else {
            let key = core::str::from_utf8(a.key.as_ref()).map_err(xml_err)?;
            if !is_qname(key) {
                return Err(StanzaError::Xml(format!(
                    "`{key}` is not an attribute name"
                )));
            }
            element.attrs.push((key.to_owned(), value));
        }
    }
    Ok(element)
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
