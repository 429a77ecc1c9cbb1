//! The pull reader: one element's text as namespace-resolved events,
//! each prefix bound by the element that declares it and unbound when it
//! closes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::names::{
    DEPTH_CEILING, XML_NS, XMLNS_NS, check_xml_chars, count_work, is_ncname, split_qname,
};
use crate::error::{StanzaReadError, xml_err};
use crate::limits::StanzaLimits;
use crate::text::{lend, push_reference, tag, text_of};

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

/// The prefix bindings in scope: a stack of every binding made, and for
/// each prefix the index of its innermost binding, so that a look-up
/// costs a logarithm of the prefixes in scope and a close undoes exactly
/// what its element declared.
#[derive(Debug)]
struct Bindings<'a> {
    stack: Vec<(&'a str, Cow<'a, str>, Option<usize>)>,
    current: BTreeMap<&'a str, usize>,
}

impl<'a> Bindings<'a> {
    /// Binds `prefix`; the index of the binding it shadows, if any.
    fn push(&mut self, prefix: &'a str, ns: Cow<'a, str>) -> Option<usize> {
        let index = self.stack.len();
        let shadowed = self.current.insert(prefix, index);
        self.stack.push((prefix, ns, shadowed));
        shadowed
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

/// Attributes as read: names (`local`, `xml:lang`, or `{namespace}local`)
/// and values, lent unless they needed unescaping or expanding.
pub type Attributes<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// What [`XmlReader::read_event`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlEvent<'a> {
    /// An element opened, by local name and namespace; its attributes are
    /// [`XmlReader::attributes`] until the next event.
    Start {
        /// The local name.
        name: &'a str,
        /// The namespace, declared on it or in scope.
        ns: Cow<'a, str>,
    },
    /// A piece of the open element's character data (text, a CDATA
    /// section, or one resolved reference), checked for the characters
    /// XML forbids.
    Text(Cow<'a, str>),
    /// The open element closed (an empty element's end follows its start).
    End,
    /// The text ended after its one element.
    Eof,
}

/// A pull reader over one element's text, namespaces resolved, within
/// [`StanzaLimits`]: the events of [`read_tree`](super::read_tree) for a reader that keeps
/// only what it needs (the `<rest>` reader of `oic-ra-proto`). It
/// allocates its stacks once, whatever the depth, and never recurses.
#[derive(Debug)]
pub struct XmlReader<'a> {
    xml: &'a str,
    r: Reader<&'a [u8]>,
    limits: StanzaLimits,
    scope_default: &'a str,
    bindings: Bindings<'a>,
    /// Per open element: the default namespace its children inherit, and
    /// how many prefixes it bound.
    open: Vec<(Cow<'a, str>, usize)>,
    attrs: Attributes<'a>,
    count: usize,
    /// An empty element was reported as a start: its end comes next.
    pending_end: bool,
    /// The root element closed.
    closed: bool,
}

impl<'a> XmlReader<'a> {
    /// A reader over `xml`, in `scope`.
    ///
    /// # Errors
    ///
    /// [`StanzaReadError::TooLong`] for a text over `limits.max_len`.
    pub fn new(
        xml: &'a str,
        limits: &StanzaLimits,
        scope: Scope<'a>,
    ) -> Result<Self, StanzaReadError> {
        if xml.len() > limits.max_len {
            return Err(StanzaReadError::TooLong {
                len: xml.len(),
                max: limits.max_len,
            });
        }
        let mut bindings = Bindings {
            stack: Vec::new(),
            current: BTreeMap::new(),
        };
        for (prefix, ns) in scope.prefixes {
            bindings.push(prefix, Cow::Borrowed(ns));
        }
        Ok(Self {
            xml,
            r: Reader::from_str(xml),
            limits: *limits,
            scope_default: scope.default,
            bindings,
            open: Vec::new(),
            attrs: Vec::new(),
            count: 0,
            pending_end: false,
            closed: false,
        })
    }

    /// The attributes of the element the last [`XmlEvent::Start`] opened.
    #[must_use]
    pub fn attributes(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        &self.attrs
    }

    /// The attributes of the element just opened, taken out.
    pub fn take_attributes(&mut self) -> Attributes<'a> {
        core::mem::take(&mut self.attrs)
    }

    /// How deep the reader is: the elements open.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// The next event.
    ///
    /// # Errors
    ///
    /// A [`StanzaReadError`] for each way the text can be wrong, the limits
    /// included; after an error the reader is not to be used again.
    pub fn read_event(&mut self) -> Result<XmlEvent<'a>, StanzaReadError> {
        if core::mem::take(&mut self.pending_end) {
            return Ok(self.close());
        }
        loop {
            let event = self.r.read_event().map_err(xml_err)?;
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    let start = self.open(&e)?;
                    self.pending_end = empty;
                    return Ok(start);
                }
                Event::End(_) => return Ok(self.close()),
                Event::Text(t) => {
                    let piece = text_of(self.xml, &t).map_err(xml_err)?;
                    if !self.open.is_empty() {
                        check_xml_chars(&piece)?;
                        return Ok(XmlEvent::Text(piece));
                    }
                    if !piece.bytes().all(|b| b.is_ascii_whitespace()) {
                        return Err(self.outside("text"));
                    }
                }
                Event::CData(t) => {
                    if self.open.is_empty() {
                        return Err(self.outside("CDATA"));
                    }
                    let piece = text_of(self.xml, &t).map_err(xml_err)?;
                    check_xml_chars(&piece)?;
                    return Ok(XmlEvent::Text(piece));
                }
                Event::GeneralRef(g) => {
                    if self.open.is_empty() {
                        return Err(self.outside("a reference"));
                    }
                    let mut text = String::new();
                    push_reference(&mut text, &g).map_err(StanzaReadError::Xml)?;
                    check_xml_chars(&text)?;
                    return Ok(XmlEvent::Text(Cow::Owned(text)));
                }
                Event::Comment(_) => {}
                Event::Decl(_) if self.count == 0 => {}
                Event::Decl(_) | Event::PI(_) => {
                    return Err(xml_err("a processing instruction is not allowed"));
                }
                Event::DocType(_) => return Err(xml_err("a DOCTYPE is not allowed")),
                Event::Eof if !self.open.is_empty() => return Err(xml_err("unclosed element")),
                Event::Eof if self.closed => return Ok(XmlEvent::Eof),
                Event::Eof => return Err(xml_err("no element")),
            }
        }
    }

    fn outside(&self, what: &str) -> StanzaReadError {
        if self.closed {
            StanzaReadError::TrailingContent
        } else {
            StanzaReadError::Xml(format!("{what} outside the element"))
        }
    }

    fn open(&mut self, e: &BytesStart<'_>) -> Result<XmlEvent<'a>, StanzaReadError> {
        if self.closed {
            return Err(StanzaReadError::TrailingContent);
        }
        let max_depth = self.limits.max_depth.min(DEPTH_CEILING);
        if self.open.len() >= max_depth {
            return Err(StanzaReadError::TooDeep { max: max_depth });
        }
        self.count += 1;
        if self.count > self.limits.max_elements {
            return Err(StanzaReadError::TooManyElements {
                max: self.limits.max_elements,
            });
        }
        let parent = self
            .open
            .last()
            .map_or(Cow::Borrowed(self.scope_default), |(d, _)| d.clone());
        let (name, ns, default, declared) = open_element(
            self.xml,
            e,
            parent,
            &self.limits,
            &mut self.bindings,
            &mut self.attrs,
        )?;
        self.open.push((default, declared));
        Ok(XmlEvent::Start { name, ns })
    }

    fn close(&mut self) -> XmlEvent<'a> {
        if let Some((_, declared)) = self.open.pop() {
            self.bindings.pop(declared);
        }
        self.closed = self.open.is_empty();
        XmlEvent::End
    }
}

/// An element opened: its local name, its namespace, the default
/// namespace its children inherit, and how many prefixes it bound.
type Opened<'a> = (&'a str, Cow<'a, str>, Cow<'a, str>, usize);

/// Opens an element: its declarations bound (a first pass over its
/// attributes), its name and other attributes resolved (a second pass,
/// into `attrs`).
fn open_element<'a>(
    xml: &'a str,
    e: &BytesStart<'_>,
    parent_default: Cow<'a, str>,
    limits: &StanzaLimits,
    bindings: &mut Bindings<'a>,
    attrs: &mut Attributes<'a>,
) -> Result<Opened<'a>, StanzaReadError> {
    let (qname, _) = tag(xml, e).map_err(StanzaReadError::Xml)?;
    let (prefix, name) = split_qname(qname)
        .ok_or_else(|| StanzaReadError::Xml(format!("`{qname}` is not an element name")))?;
    let first_binding = bindings.stack.len();
    let mut default = None;
    let resolved =
        declarations(xml, e, limits, bindings, first_binding, &mut default).and_then(|()| {
            let default = default.unwrap_or(parent_default);
            let ns = match prefix {
                None => default.clone(),
                // The `xml` namespace names attributes (`xml:lang`), no
                // element; nor could an element in it be written back.
                Some("xml") => {
                    return Err(StanzaReadError::Xml(format!(
                        "`{qname}` is in the xml namespace"
                    )));
                }
                Some(p) => resolve(bindings, p)?,
            };
            attributes(xml, e, bindings, attrs)?;
            Ok((ns, default))
        });
    let declared = bindings.stack.len() - first_binding;
    match resolved {
        Ok((ns, default)) => Ok((name, ns, default, declared)),
        Err(e) => {
            bindings.pop(declared);
            Err(e)
        }
    }
}

/// The first pass: counts the attributes against the limit, and binds
/// the namespaces the element declares (each prefix once, the default
/// once).
fn declarations<'a>(
    xml: &'a str,
    e: &BytesStart<'_>,
    limits: &StanzaLimits,
    bindings: &mut Bindings<'a>,
    first_binding: usize,
    default: &mut Option<Cow<'a, str>>,
) -> Result<(), StanzaReadError> {
    let (_, all) = tag(xml, e).map_err(StanzaReadError::Xml)?;
    for (n, a) in all.enumerate() {
        if n >= limits.max_attributes {
            return Err(StanzaReadError::TooManyAttributes {
                max: limits.max_attributes,
            });
        }
        let a = a.map_err(xml_err)?;
        let key =
            lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
        if key == "xmlns" {
            let value = a.unescape_value().map_err(xml_err)?;
            check_xml_chars(&value)?;
            if value == XML_NS || value == XMLNS_NS {
                return Err(StanzaReadError::Xml(format!(
                    "`{value}` cannot be the default"
                )));
            }
            if default.replace(value).is_some() {
                return Err(twice(key));
            }
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            let value = a.unescape_value().map_err(xml_err)?;
            check_xml_chars(&value)?;
            declare(p, &value)?;
            // A binding this element made already shadows: declared twice.
            if bindings.push(p, value).is_some_and(|i| i >= first_binding) {
                return Err(twice(key));
            }
        }
    }
    Ok(())
}

/// The second pass: every attribute but the declarations, its name
/// resolved, its value checked; no expanded name twice.
fn attributes<'a>(
    xml: &'a str,
    e: &BytesStart<'_>,
    bindings: &Bindings<'a>,
    attrs: &mut Attributes<'a>,
) -> Result<(), StanzaReadError> {
    let (_, all) = tag(xml, e).map_err(StanzaReadError::Xml)?;
    attrs.clear();
    for a in all {
        let a = a.map_err(xml_err)?;
        let key =
            lend(xml, a.key.as_ref()).ok_or_else(|| xml_err("an attribute outside the tag"))?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let name = match split_qname(key) {
            Some((None | Some("xml"), _)) => Cow::Borrowed(key),
            Some((Some(p), local)) => Cow::Owned(format!("{{{}}}{local}", resolve(bindings, p)?)),
            None => {
                return Err(StanzaReadError::Xml(format!(
                    "`{key}` is not an attribute name"
                )));
            }
        };
        let value = a.unescape_value().map_err(xml_err)?;
        check_xml_chars(&value)?;
        attrs.push((name, value));
    }
    distinct(attrs.iter().map(|(k, _)| k.as_ref()))
}

fn twice(name: &str) -> StanzaReadError {
    StanzaReadError::Xml(format!("attribute `{name}` is given twice"))
}

/// Checks a prefix declaration (Namespaces in XML 1.0, section 3): `xml`
/// only to its own namespace, `xmlns` never, no other prefix to either,
/// and no prefix undeclared (an empty value is XML 1.1's).
fn declare(prefix: &str, ns: &str) -> Result<(), StanzaReadError> {
    let ok = match prefix {
        "xmlns" => false,
        "xml" => ns == XML_NS,
        _ => is_ncname(prefix) && !ns.is_empty() && ns != XML_NS && ns != XMLNS_NS,
    };
    if ok {
        Ok(())
    } else {
        Err(StanzaReadError::Xml(format!(
            "`xmlns:{prefix}=\"{ns}\"` is not a namespace declaration"
        )))
    }
}

fn resolve<'a>(bindings: &Bindings<'a>, prefix: &str) -> Result<Cow<'a, str>, StanzaReadError> {
    if prefix == "xml" {
        return Ok(Cow::Borrowed(XML_NS));
    }
    bindings
        .get(prefix)
        .cloned()
        .ok_or_else(|| StanzaReadError::Xml(format!("prefix `{prefix}` is not declared")))
}

/// Refuses a name given twice: a few names compared pair by pair, more in
/// time `n log n` (a sort); counted in [`work`].
fn distinct<'k>(names: impl Iterator<Item = &'k str> + Clone) -> Result<(), StanzaReadError> {
    const PAIRWISE: usize = 8;
    if names.clone().nth(PAIRWISE).is_none() {
        for (i, a) in names.clone().enumerate() {
            count_work(i);
            if names.clone().take(i).any(|b| a == b) {
                return Err(twice(a));
            }
        }
        return Ok(());
    }
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable_by(|a, b| {
        count_work(1);
        a.cmp(b)
    });
    count_work(names.len());
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(StanzaReadError::Xml(format!(
            "attribute `{}` is given twice",
            w[0]
        ))),
        None => Ok(()),
    }
}
