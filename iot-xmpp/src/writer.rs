//! The stanza writer: every value escaped so that a conforming reader gets
//! back exactly what was written.

use std::borrow::Cow;

use quick_xml::escape::{escape, partial_escape};

use crate::element::Element;
use crate::error::StanzaReadError;
use crate::stanza::Stanza;
use crate::tree::check_xml_chars;
use crate::vocab::CLIENT_NS;
use jid::Jid;

impl<S: AsRef<str>> Element<S> {
    /// Writes the element; `parent_ns` is the namespace in scope, so
    /// `xmlns` is written only where it changes.
    pub(crate) fn write(&self, parent_ns: &str, out: &mut String) {
        let (name, ns, text) = (self.name.as_ref(), self.ns.as_ref(), self.text.as_ref());
        out.push('<');
        out.push_str(name);
        if ns != parent_ns {
            out.push_str(" xmlns=\"");
            out.push_str(&escape_attr(ns));
            out.push('"');
        }
        for (i, (name, value)) in self.attrs.iter().enumerate() {
            out.push(' ');
            // An attribute in a namespace, read as `{namespace}local`, is
            // written with a prefix of its own, declared beside it.
            match name
                .as_ref()
                .strip_prefix('{')
                .and_then(|n| n.split_once('}'))
            {
                Some((ns, local)) => {
                    out.push_str(&format!("xmlns:a{i}=\""));
                    out.push_str(&escape_attr(ns));
                    out.push_str(&format!("\" a{i}:"));
                    out.push_str(local);
                }
                None => out.push_str(name.as_ref()),
            }
            out.push_str("=\"");
            out.push_str(&escape_attr(value.as_ref()));
            out.push('"');
        }
        if text.is_empty() && self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape_text(text));
        for c in &self.children {
            c.write(ns, out);
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

impl<S: AsRef<str>> Element<S> {
    /// Checks that every name, attribute and text of the element and its
    /// descendants holds only characters XML 1.0 allows (section 2.2): no
    /// writer can put the others into XML, escaped or not.
    ///
    /// # Errors
    ///
    /// [`StanzaReadError::Char`] naming the first other one.
    pub fn check_xml_chars(&self) -> Result<(), StanzaReadError> {
        let mut pending = vec![self];
        while let Some(e) = pending.pop() {
            check_xml_chars(e.name.as_ref())?;
            check_xml_chars(e.ns.as_ref())?;
            check_xml_chars(e.text.as_ref())?;
            for (name, value) in &e.attrs {
                check_xml_chars(name.as_ref())?;
                check_xml_chars(value.as_ref())?;
            }
            pending.extend(&e.children);
        }
        Ok(())
    }
}

impl<S: AsRef<str>> Stanza<S> {
    /// Checks the stanza's id, type and payloads as
    /// [`Element::check_xml_chars`] does (a JID cannot hold such a
    /// character). [`Client::send`](crate::stream::Client::send)
    /// refuses a stanza that fails it, so that nothing the client writes
    /// breaks the stream.
    ///
    /// # Errors
    ///
    /// [`StanzaReadError::Char`] naming the first character XML forbids.
    pub fn check_xml_chars(&self) -> Result<(), StanzaReadError> {
        for s in [&self.id, &self.stanza_type].into_iter().flatten() {
            check_xml_chars(s.as_ref())?;
        }
        self.payloads.iter().try_for_each(Element::check_xml_chars)
    }

    /// The stanza as XML text, every value escaped.
    #[must_use]
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(128);
        self.write_xml(&mut out);
        out
    }

    /// Appends the stanza as XML text to `out`, every value escaped: a
    /// runtime that keeps one buffer for its socket writes each stanza
    /// into it without allocating a string per stanza.
    ///
    /// ```
    /// use iot_xmpp::{IqType, Stanza};
    ///
    /// let mut buffer = String::new();
    /// for id in ["a", "b"] {
    ///     buffer.clear();
    ///     Stanza::iq(IqType::Get).with_id(id).write_xml(&mut buffer);
    ///     assert!(buffer.ends_with(&format!(r#"id="{id}"/>"#)));
    /// }
    /// ```
    pub fn write_xml(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.kind.as_str());
        out.push_str(" xmlns=\"");
        out.push_str(CLIENT_NS);
        out.push('"');
        let attrs = [
            ("from", self.from.as_ref().map(Jid::as_str)),
            ("to", self.to.as_ref().map(Jid::as_str)),
            ("type", self.stanza_type.as_ref().map(AsRef::as_ref)),
            ("id", self.id.as_ref().map(AsRef::as_ref)),
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
            return;
        }
        out.push('>');
        for p in &self.payloads {
            p.write(CLIENT_NS, out);
        }
        out.push_str("</");
        out.push_str(self.kind.as_str());
        out.push('>');
    }
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
