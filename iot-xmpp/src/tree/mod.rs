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

use crate::element::Element;
use crate::error::{StanzaReadError, xml_err};
use crate::limits::StanzaLimits;
use crate::text::push_text;

mod events;
mod names;

pub use events::{Attributes, Scope, XmlEvent, XmlReader};
#[cfg(feature = "testing")]
pub use names::work;
pub use names::{DEPTH_CEILING, XML_NS, check_xml_chars, is_ncname, is_xml_char, split_qname};

/// Reads one element (with white space, an XML declaration and comments
/// around it) into a tree whose strings are `S`: lent from `xml` (`Cow`)
/// where they stand in it as they are, or owned.
///
/// # Errors
///
/// A [`StanzaReadError`] for each way the text can be wrong, the limits
/// included.
pub fn read_tree<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    limits: &StanzaLimits,
    scope: Scope<'a>,
) -> Result<Element<S>, StanzaReadError> {
    let root = read_root(xml, limits, scope)?;
    Ok(Element {
        name: S::from(Cow::Borrowed(root.name)),
        ns: S::from(root.ns),
        attrs: root
            .attrs
            .into_iter()
            .map(|(k, v)| (S::from(k), S::from(v)))
            .collect(),
        text: S::from(root.text),
        children: root.children,
    })
}

/// A root element as read, its own strings as lent (a stanza takes its
/// routing attributes from them without copying).
pub(crate) struct Root<'a, S> {
    pub name: &'a str,
    pub ns: Cow<'a, str>,
    pub attrs: Attributes<'a>,
    pub text: Cow<'a, str>,
    pub children: Vec<Element<S>>,
}

/// One element opened and not yet closed, below the root.
struct Open<'a, S> {
    element: Element<S>,
    text: Cow<'a, str>,
}

/// Reads the root and the tree below it.
pub(crate) fn read_root<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    limits: &StanzaLimits,
    scope: Scope<'a>,
) -> Result<Root<'a, S>, StanzaReadError> {
    let mut r = XmlReader::new(xml, limits, scope)?;
    let XmlEvent::Start { name, ns } = r.read_event()? else {
        return Err(xml_err("no element"));
    };
    let mut root = Root {
        name,
        ns,
        attrs: r.take_attributes(),
        text: Cow::Borrowed(""),
        children: Vec::new(),
    };
    let mut open: Vec<Open<'a, S>> = Vec::new();
    loop {
        match r.read_event()? {
            XmlEvent::Start { name, ns } => {
                let attrs = r.attributes();
                let element = Element {
                    name: S::from(Cow::Borrowed(name)),
                    ns: S::from(ns),
                    attrs: if attrs.is_empty() {
                        Vec::new()
                    } else {
                        attrs
                            .iter()
                            .map(|(k, v)| (S::from(k.clone()), S::from(v.clone())))
                            .collect()
                    },
                    text: S::from(Cow::Borrowed("")),
                    children: Vec::new(),
                };
                open.push(Open {
                    element,
                    text: Cow::Borrowed(""),
                });
            }
            XmlEvent::Text(piece) => match open.last_mut() {
                Some(o) => push_text(&mut o.text, piece),
                None => push_text(&mut root.text, piece),
            },
            XmlEvent::End => match open.pop() {
                Some(mut o) => {
                    o.element.text = S::from(o.text);
                    match open.last_mut() {
                        Some(parent) => parent.element.children.push(o.element),
                        None => root.children.push(o.element),
                    }
                }
                None => break,
            },
            XmlEvent::Eof => return Err(xml_err("unclosed element")),
        }
    }
    match r.read_event()? {
        XmlEvent::Eof => Ok(root),
        _ => Err(StanzaReadError::TrailingContent),
    }
}
