//! The element reader every XML payload of the family is read with: one
//! element's text to an [`Element`] tree, by (namespace, local name) as
//! Namespaces in XML 1.0 defines, within [`StanzaLimits`], without
//! recursion and in time linear in the text.
//!
//! - A namespace declaration (`xmlns`, `xmlns:p`) is not an attribute: it
//!   binds a namespace for the element and its descendants, and is not
//!   kept. `<p:rest xmlns:p="rest.oic.org">` and `<rest
//!   xmlns="rest.oic.org">` read as the same element.
//! - An unprefixed attribute is in no namespace and is kept under its
//!   name; `xml:lang` (the `xml` prefix is bound by definition) under its
//!   qualified name; any other prefixed attribute under its expanded name
//!   in Clark notation, `{namespace}local`, which the writer declares
//!   again. Two attributes with the same expanded name are refused.
//! - Characters XML 1.0 forbids (section 2.2: the C0 controls other than
//!   tab, line feed and carriage return, U+FFFE and U+FFFF), literal or as
//!   character references, are refused.
//! - No DTD, no entity other than the five predefined ones and character
//!   references.

use std::borrow::Cow;
use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::element::Element;
use crate::error::{StanzaError, xml_err};
use crate::limits::StanzaLimits;
use crate::text::{lend, push_reference, push_text, tag, text_of};

/// The namespace of the `xml` prefix (Namespaces in XML 1.0, section 3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of the `xmlns` prefix, which no element may use.
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The deepest nesting any reader of the crate serves, whatever
/// [`StanzaLimits::max_depth`] says: the reader itself does not recurse,
/// but dropping, cloning, comparing and writing a tree do, one frame a
/// level, and this many frames fit a thread's smallest usual stack.
pub const DEPTH_CEILING: usize = 128;

/// The namespaces in scope where an element's text starts: a stanza read
/// alone is in `jabber:client`; a top-level element of a stream is in the
/// stream header's default namespace, with the header's prefixes bound
/// (`stream` to the stream namespace, most often).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'s> {
    /// The default namespace.
    pub default: &'s str,
    /// Prefixes bound, as (prefix, namespace).
    pub prefixes: &'s [(String, String)],
}

impl Scope<'static> {
    /// The default namespace `ns`, no prefix bound.
    #[must_use]
    pub const fn default_ns(ns: &'static str) -> Self {
        Self {
            default: ns,
            prefixes: &[],
        }
    }
}

/// Whether `c` is a character XML 1.0 allows (its `Char` production; a
/// `char` is never a surrogate).
#[must_use]
pub const fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks that a string holds only characters XML 1.0 allows.
///
/// # Errors
///
/// [`StanzaError::Char`] naming the first other one.
pub fn check_xml_chars(text: &str) -> Result<(), StanzaError> {
    match text.chars().find(|&c| !is_xml_char(c)) {
        None => Ok(()),
        Some(c) => Err(StanzaError::Char(c)),
    }
}

/// One element opened and not yet closed.
struct Open<'a, S> {
    element: Element<S>,
    text: Cow<'a, str>,
    /// The default namespace in scope for its children.
    default: Cow<'a, str>,
    /// How many prefix bindings it declared (popped when it closes).
    bindings: usize,
}

/// The prefix bindings in scope: a stack of every binding made, and for
/// each prefix the index of its innermost binding, so that a look-up
/// costs a logarithm of the prefixes in scope and a close undoes exactly
/// what its element declared.
struct Bindings<'a> {
    stack: Vec<(&'a str, Cow<'a, str>, Option<usize>)>,
    current: BTreeMap<&'a str, usize>,
}

impl<'a> Bindings<'a> {
    fn push(&mut self, prefix: &'a str, ns: Cow<'a, str>) {
        let index = self.stack.len();
        let shadowed = self.current.insert(prefix, index);
        self.stack.push((prefix, ns, shadowed));
    }

    fn pop(&mut self, count: usize) {
        for _ in 0..count {
            if let Some((prefix, _, shadowed)) = self.stack.pop() {
                match shadowed {
                    Some(i) => self.current.insert(prefix, i),
                    None => self.current.remove(prefix),
                };
            }
        }
    }

    fn get(&self, prefix: &str) -> Option<&Cow<'a, str>> {
        self.current
            .get(prefix)
            .and_then(|&i| self.stack.get(i))
            .map(|(_, ns, _)| ns)
    }
}

/// Reads one element (with white space, an XML declaration and comments
/// around it) into a tree whose strings are `S`: lent from `xml` (`Cow`)
/// where they stand in it as they are, or owned.
///
/// # Errors
///
/// A [`StanzaError`] for each way the text can be wrong, the limits
/// included.
pub fn read_tree<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    limits: &StanzaLimits,
    scope: Scope<'a>,
) -> Result<Element<S>, StanzaError> {
    if xml.len() > limits.max_len {
        return Err(StanzaError::TooLong {
            len: xml.len(),
            max: limits.max_len,
        });
    }
    let max_depth = limits.max_depth.min(DEPTH_CEILING);
    let mut bindings = Bindings {
        stack: Vec::new(),
        current: BTreeMap::new(),
    };
    for (prefix, ns) in scope.prefixes {
        bindings.push(prefix, Cow::Borrowed(ns));
    }
    let mut r = Reader::from_str(xml);
    let mut open: Vec<Open<'a, S>> = Vec::new();
    let mut count = 0usize;
    let mut root = None;
    loop {
        let event = r.read_event().map_err(xml_err)?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if root.is_some() {
                    return Err(StanzaError::TrailingContent);
                }
                if open.len() >= max_depth {
                    return Err(StanzaError::TooDeep { max: max_depth });
                }
                count += 1;
                if count > limits.max_elements {
                    return Err(StanzaError::TooManyElements {
                        max: limits.max_elements,
                    });
                }
                let parent = open
                    .last()
                    .map_or(Cow::Borrowed(scope.default), |o| o.default.clone());
                let frame = open_element(xml, &e, parent, limits, &mut bindings)?;
                if empty {
                    bindings.pop(frame.bindings);
                    close(frame, &mut open, &mut root);
                } else {
                    open.push(frame);
                }
            }
            Event::End(_) => {
                let frame = open
                    .pop()
                    .ok_or_else(|| xml_err("an end tag without its start"))?;
                bindings.pop(frame.bindings);
                close(frame, &mut open, &mut root);
            }
            Event::Text(t) => {
                let piece = text_of(xml, &t).map_err(xml_err)?;
                match open.last_mut() {
                    Some(o) => {
                        check_xml_chars(&piece)?;
                        push_text(&mut o.text, piece);
                    }
                    None if piece.bytes().all(|b| b.is_ascii_whitespace()) => {}
                    None if root.is_some() => return Err(StanzaError::TrailingContent),
                    None => return Err(xml_err("text outside the element")),
                }
            }
            Event::CData(t) => {
                let piece = text_of(xml, &t).map_err(xml_err)?;
                let o = open
                    .last_mut()
                    .ok_or_else(|| xml_err("CDATA outside the element"))?;
                check_xml_chars(&piece)?;
                push_text(&mut o.text, piece);
            }
            Event::GeneralRef(g) => {
                let o = open
                    .last_mut()
                    .ok_or_else(|| xml_err("a reference outside the element"))?;
                let text = o.text.to_mut();
                let at = text.len();
                push_reference(text, &g).map_err(StanzaError::Xml)?;
                check_xml_chars(text.get(at..).unwrap_or_default())?;
            }
            Event::Comment(_) => {}
            Event::Decl(_) if open.is_empty() && root.is_none() && count == 0 => {}
            Event::Decl(_) | Event::PI(_) => {
                return Err(xml_err("a processing instruction is not allowed"));
            }
            Event::DocType(_) => return Err(xml_err("a DOCTYPE is not allowed")),
            Event::Eof => {
                return match (root, open.is_empty()) {
                    (Some(root), true) => Ok(root),
                    (_, false) => Err(xml_err("unclosed element")),
                    (None, true) => Err(xml_err("no element")),
                };
            }
        }
    }
}

/// Finishes an element: its text set, handed to its parent, or kept as
/// the root.
fn close<'a, S: From<Cow<'a, str>>>(
    mut frame: Open<'a, S>,
    open: &mut [Open<'a, S>],
    root: &mut Option<Element<S>>,
) {
    frame.element.text = S::from(frame.text);
    match open.last_mut() {
        Some(parent) => parent.element.children.push(frame.element),
        None => *root = Some(frame.element),
    }
}

/// Opens an element: its declarations bound, its name and attributes
/// resolved.
fn open_element<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    e: &BytesStart<'_>,
    parent_default: Cow<'a, str>,
    limits: &StanzaLimits,
    bindings: &mut Bindings<'a>,
) -> Result<Open<'a, S>, StanzaError> {
    let (qname, attributes) = tag(xml, e).map_err(StanzaError::Xml)?;
    let (prefix, name) = split_qname(qname)
        .ok_or_else(|| StanzaError::Xml(format!("`{qname}` is not an element name")))?;
    let mut default = parent_default;
    let mut declared = 0usize;
    let mut plain: Vec<(&'a str, Cow<'a, str>)> = Vec::new();
    let mut result = (|| {
        for a in attributes {
            let a = a.map_err(xml_err)?;
            let key =
                lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
            if plain.len() + declared >= limits.max_attributes {
                return Err(StanzaError::TooManyAttributes {
                    max: limits.max_attributes,
                });
            }
            let value = a.unescape_value().map_err(xml_err)?;
            check_xml_chars(&value)?;
            if key == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(StanzaError::Xml(format!("`{value}` cannot be the default")));
                }
                default = value;
                plain.push((key, Cow::Borrowed("")));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                declare(p, &value)?;
                bindings.push(p, value);
                declared += 1;
                plain.push((key, Cow::Borrowed("")));
            } else {
                plain.push((key, value));
            }
        }
        Ok(())
    })();
    if result.is_ok() {
        result = distinct(plain.iter().map(|(k, _)| *k));
    }
    let resolved = result.and_then(|()| {
        let ns = match prefix {
            None => default.clone(),
            Some(p) => resolve(bindings, p)?,
        };
        let mut attrs: Vec<(S, S)> = Vec::with_capacity(plain.len());
        let mut expanded = Vec::new();
        for (key, value) in plain {
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let name = match split_qname(key) {
                Some((None, _)) => Cow::Borrowed(key),
                Some((Some("xml"), _)) => Cow::Borrowed(key),
                Some((Some(p), local)) => {
                    let ns = resolve(bindings, p)?;
                    let clark = format!("{{{ns}}}{local}");
                    expanded.push(clark.clone());
                    Cow::Owned(clark)
                }
                None => {
                    return Err(StanzaError::Xml(format!(
                        "`{key}` is not an attribute name"
                    )));
                }
            };
            attrs.push((S::from(name), S::from(value)));
        }
        if !expanded.is_empty() {
            distinct(attrs.iter().map(|(k, _)| k.as_ref()))?;
        }
        Ok((ns, attrs))
    });
    match resolved {
        Ok((ns, attrs)) => Ok(Open {
            element: Element {
                name: S::from(Cow::Borrowed(name)),
                ns: S::from(ns),
                attrs,
                text: S::from(Cow::Borrowed("")),
                children: Vec::new(),
            },
            text: Cow::Borrowed(""),
            default,
            bindings: declared,
        }),
        Err(e) => {
            bindings.pop(declared);
            Err(e)
        }
    }
}

/// Checks a prefix declaration (Namespaces in XML 1.0, section 3): `xml`
/// only to its own namespace, `xmlns` never, no other prefix to either,
/// and no prefix undeclared (an empty value is XML 1.1's).
fn declare(prefix: &str, ns: &str) -> Result<(), StanzaError> {
    let ok = match prefix {
        "xmlns" => false,
        "xml" => ns == XML_NS,
        _ => is_ncname(prefix) && !ns.is_empty() && ns != XML_NS && ns != XMLNS_NS,
    };
    if ok {
        Ok(())
    } else {
        Err(StanzaError::Xml(format!(
            "`xmlns:{prefix}=\"{ns}\"` is not a namespace declaration"
        )))
    }
}

fn resolve<'a>(bindings: &Bindings<'a>, prefix: &str) -> Result<Cow<'a, str>, StanzaError> {
    if prefix == "xml" {
        return Ok(Cow::Borrowed(XML_NS));
    }
    bindings
        .get(prefix)
        .cloned()
        .ok_or_else(|| StanzaError::Xml(format!("prefix `{prefix}` is not declared")))
}

/// Refuses a name given twice, in time `n log n` (a sort of the names),
/// and counted in [`work`].
fn distinct<'k>(names: impl Iterator<Item = &'k str>) -> Result<(), StanzaError> {
    let mut names: Vec<&str> = names.collect();
    if names.len() < 2 {
        return Ok(());
    }
    names.sort_unstable_by(|a, b| {
        count_work(1);
        a.cmp(b)
    });
    count_work(names.len());
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(StanzaError::Xml(format!(
            "attribute `{}` is given twice",
            w[0]
        ))),
        None => Ok(()),
    }
}

/// A qualified name (Namespaces in XML 1.0, `QName`): an optional prefix
/// and a local name, each an `NCName`.
#[must_use]
pub fn split_qname(name: &str) -> Option<(Option<&str>, &str)> {
    match name.split_once(':') {
        Some((prefix, local)) => {
            (is_ncname(prefix) && is_ncname(local)).then_some((Some(prefix), local))
        }
        None => is_ncname(name).then_some((None, name)),
    }
}

/// Whether `name` is an XML name without a colon (Namespaces in XML 1.0,
/// `NCName`): a letter or `_`, then letters, digits, `-`, `.` and `_`
/// (non-ASCII letters and digits included; the rarer name characters of
/// XML 1.0 section 2.3, such as combining marks, are refused).
#[must_use]
pub fn is_ncname(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(feature = "testing")]
std::thread_local! {
    static WORK: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

#[cfg(feature = "testing")]
fn count_work(n: usize) {
    WORK.with(|w| w.set(w.get().saturating_add(n as u64)));
}

#[cfg(not(feature = "testing"))]
#[inline(always)]
fn count_work(_: usize) {}

/// The comparisons the readers of this thread have made between attribute
/// names so far (feature `testing`): a test reads it before and after a
/// read to check that the work grows with the input no faster than its
/// bound.
#[cfg(feature = "testing")]
#[must_use]
pub fn work() -> u64 {
    WORK.with(core::cell::Cell::get)
}
