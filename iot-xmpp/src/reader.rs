//! The stanza reader: one stanza's text to a [`Stanza`], within
//! [`StanzaLimits`], through the element reader of [`crate::tree`]
//! (namespaces resolved, no DTD, no entity other than the five predefined
//! ones and character references).

use std::borrow::Cow;

use crate::element::Element;
use crate::error::StanzaReadError;
use crate::limits::StanzaLimits;
use crate::stanza::{Stanza, StanzaRef};
#[cfg(doc)]
use crate::tree::read_tree;
use crate::tree::{Scope, read_root};
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
    /// A [`StanzaReadError`] for each way the text can be wrong.
    pub fn parse(xml: &str, limits: &StanzaLimits) -> Result<Self, StanzaReadError> {
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
    /// # Ok::<(), iot_xmpp::StanzaReadError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Stanza::parse`].
    pub fn parse_ref<'a>(
        xml: &'a str,
        limits: &StanzaLimits,
    ) -> Result<StanzaRef<'a>, StanzaReadError> {
        read(xml, limits)
    }
}

/// [`Stanza::parse`] within the default [`StanzaLimits`].
///
/// ```
/// use iot_xmpp::{Stanza, StanzaKind};
///
/// let s: Stanza = "<message to='a@example.org'><body>hi</body></message>".parse()?;
/// assert_eq!(s.kind, StanzaKind::Message);
/// # Ok::<(), iot_xmpp::StanzaReadError>(())
/// ```
impl core::str::FromStr for Stanza {
    type Err = StanzaReadError;

    fn from_str(xml: &str) -> Result<Self, StanzaReadError> {
        read(xml, &StanzaLimits::default())
    }
}

impl<S> Stanza<S> {
    /// The stanza an element read by [`read_tree`] is: `<iq/>`,
    /// `<message/>` or `<presence/>` in `jabber:client` or `jabber:server`,
    /// its `from`, `to`, `id` and `type` taken out of its attributes (the
    /// others, `xml:lang` and extensions, RFC 6120 8.1, are not kept), its
    /// text (white space between children) dropped.
    ///
    /// # Errors
    ///
    /// [`StanzaReadError::NotAStanza`], [`StanzaReadError::Namespace`], and
    /// [`StanzaReadError::Jid`] for a `from` or `to` that is not a JID.
    pub fn from_element(element: Element<S>) -> Result<Self, StanzaReadError>
    where
        S: AsRef<str>,
    {
        stanza_of(
            element.name.as_ref(),
            element.ns.as_ref(),
            element.attrs,
            element.children,
        )
    }
}

/// The stanza of a root element's parts.
fn stanza_of<S, A: AsRef<str> + Into<S>>(
    name: &str,
    ns: &str,
    attrs: Vec<(A, A)>,
    children: Vec<Element<S>>,
) -> Result<Stanza<S>, StanzaReadError> {
    let Ok(kind) = name.parse::<StanzaKind>() else {
        return Err(StanzaReadError::NotAStanza(name.to_owned()));
    };
    if ns != CLIENT_NS && ns != SERVER_NS {
        return Err(StanzaReadError::Namespace(ns.to_owned()));
    }
    let mut stanza = Stanza::empty(kind);
    for (key, value) in attrs {
        match key.as_ref() {
            "from" => stanza.from = Some(jid_attr("from", value.as_ref())?),
            "to" => stanza.to = Some(jid_attr("to", value.as_ref())?),
            "id" => stanza.id = Some(value.into()),
            "type" => stanza.stanza_type = Some(value.into()),
            _ => {}
        }
    }
    stanza.payloads = children;
    Ok(stanza)
}

fn read<'a, S: From<Cow<'a, str>> + AsRef<str>>(
    xml: &'a str,
    limits: &StanzaLimits,
) -> Result<Stanza<S>, StanzaReadError> {
    let root = read_root::<S>(xml, limits, Scope::default_ns(CLIENT_NS))?;
    stanza_of(root.name, &root.ns, root.attrs, root.children)
}

fn jid_attr(attribute: &'static str, value: &str) -> Result<Jid, StanzaReadError> {
    crate::jids::read_jid(value).map_err(|e| StanzaReadError::Jid {
        attribute,
        reason: e.to_string(),
    })
}
