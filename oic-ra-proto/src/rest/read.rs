//! The `<rest>` reader (section 7.3.1): one pass over the events of the
//! family's namespace-aware reader ([`iot_xmpp::tree::XmlReader`]), so
//! that elements are known by (namespace, local name) as Namespaces in XML
//! defines: a prefixed `<ns0:rest xmlns:ns0="rest.oic.org">`, an extra
//! declaration or a redundant `xmlns` on a child read as the plain form.
//! Every string is lent from the document unless it needed unescaping.

use std::borrow::Cow;

use iot_xmpp::tree::{Scope, XmlEvent, XmlReader};
use iot_xmpp::{StanzaLimits, StanzaReadError};
use serde::de::IgnoredAny;

use super::{Header, JSON_NS, Method, REST_NS, RestError, RestLimits, RestMessage, status_code};

/// The elements of a `<rest>` document besides its headers: `<rest>`,
/// `<url>`, `<headers>`, `<body>` and `<json>`.
const FIXED_ELEMENTS: usize = 5;

/// XML white space: the `S` production of XML 1.0.
const XML_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

fn reader_err(e: StanzaReadError, limits: &RestLimits) -> RestError {
    match e {
        StanzaReadError::TooManyElements { .. } => RestError::TooManyHeaders {
            max: limits.max_headers,
        },
        StanzaReadError::TrailingContent => RestError::UnexpectedElement {
            found: "content after </rest>".into(),
            expected: "the end of the document",
        },
        other => RestError::Xml(other.to_string()),
    }
}

/// The events of one document, read within the `<rest>` format's limits.
struct Events<'a, 'l> {
    r: XmlReader<'a>,
    limits: &'l RestLimits,
}

/// An element opened: its local name and namespace.
type Opened<'a> = (&'a str, Cow<'a, str>);

impl<'a> Events<'a, '_> {
    /// The next event that is not white space between elements; text
    /// there is an unexpected element.
    fn next(&mut self, expected: &'static str) -> Result<XmlEvent<'a>, RestError> {
        loop {
            match self
                .r
                .read_event()
                .map_err(|e| reader_err(e, self.limits))?
            {
                XmlEvent::Text(t) if t.trim_matches(XML_SPACE).is_empty() => {}
                XmlEvent::Text(_) => {
                    return Err(RestError::UnexpectedElement {
                        found: "text".into(),
                        expected,
                    });
                }
                other => return Ok(other),
            }
        }
    }

    /// The text up to the end tag of the element just opened, trimmed:
    /// lent from the document when it is one piece without references.
    fn text_until_end(&mut self) -> Result<Cow<'a, str>, RestError> {
        let mut text = Cow::Borrowed("");
        loop {
            match self
                .r
                .read_event()
                .map_err(|e| reader_err(e, self.limits))?
            {
                XmlEvent::Text(piece) => iot_xmpp::text::push_text(&mut text, piece),
                XmlEvent::End => return Ok(xml_trim(text)),
                XmlEvent::Start { name, .. } => return Err(unexpected_name(name, "text")),
                XmlEvent::Eof => return Err(RestError::Xml("unclosed element".into())),
            }
        }
    }

    /// Checks that the element just opened has no attribute.
    fn no_attributes(&self, element: &'static str) -> Result<(), RestError> {
        match self.r.attributes().first() {
            None => Ok(()),
            Some((name, _)) => Err(RestError::UnknownAttribute {
                element,
                attribute: name.clone().into_owned(),
            }),
        }
    }

    /// The value of the one attribute the element just opened has.
    /// The `<header>` elements of an open `<headers>`, through its end
    /// tag.
    fn headers<S: From<Cow<'a, str>>>(&mut self) -> Result<Vec<Header<S>>, RestError> {
        self.no_attributes("headers")?;
        let mut headers = Vec::new();
        // Anything but a start is </headers> (the reader pairs the tags).
        while let XmlEvent::Start { name, ns } = self.next("<header> or </headers>")? {
            expect((name, ns), "header", REST_NS, "<header> or </headers>")?;
            if headers.len() == self.limits.max_headers {
                return Err(RestError::TooManyHeaders {
                    max: self.limits.max_headers,
                });
            }
            let name = self.attribute("header", "name")?;
            let value = self.text_until_end()?;
            headers.push(Header {
                name: S::from(name),
                value: S::from(value),
            });
        }
        Ok(headers)
    }

    /// The JSON text of an open `<body>`, through its end tag: checked
    /// to be one JSON value, without building it.
    fn body(&mut self) -> Result<Cow<'a, str>, RestError> {
        self.no_attributes("body")?;
        match self.next("<json>")? {
            XmlEvent::Start { name, ns } => expect((name, ns), "json", JSON_NS, "<json>")?,
            _ => {
                return Err(RestError::UnexpectedElement {
                    found: "/body".into(),
                    expected: "<json>",
                });
            }
        }
        self.no_attributes("json")?;
        let body = self.text_until_end()?;
        serde_json::from_str::<IgnoredAny>(&body).map_err(|e| RestError::Json(e.to_string()))?;
        match self.next("</body>")? {
            XmlEvent::End => Ok(body),
            XmlEvent::Start { name, .. } => Err(unexpected_name(name, "</body>")),
            _ => Err(RestError::Xml("unclosed element".into())),
        }
    }

    fn attribute(
        &self,
        element: &'static str,
        name: &'static str,
    ) -> Result<Cow<'a, str>, RestError> {
        let attrs = self.r.attributes();
        if let Some((key, _)) = attrs.iter().find(|(k, _)| k != name) {
            return Err(RestError::UnknownAttribute {
                element,
                attribute: key.clone().into_owned(),
            });
        }
        match attrs.first() {
            Some((_, value)) => Ok(value.clone()),
            None => Err(RestError::MissingAttribute {
                element,
                attribute: name,
            }),
        }
    }
}

/// Reads a `<rest>` document into a message whose strings are `S`: lent
/// (`Cow`) or owned (`String`).
pub(super) fn read<'a, S: From<Cow<'a, str>>>(
    xml: &'a str,
    limits: &RestLimits,
) -> Result<RestMessage<S>, RestError> {
    if xml.len() > limits.max_document_len {
        return Err(RestError::TooLong {
            len: xml.len(),
            max: limits.max_document_len,
        });
    }
    let tree_limits = StanzaLimits {
        max_len: limits.max_document_len,
        // <rest><headers><header>, and one level more so that an element
        // inside a leaf is named in the error.
        max_depth: 4,
        max_elements: limits.max_headers.saturating_add(FIXED_ELEMENTS),
        max_attributes: 16,
    };
    let r = XmlReader::new(xml, &tree_limits, Scope::default_ns(""))
        .map_err(|e| reader_err(e, limits))?;
    let mut ev = Events { r, limits };
    match ev.next("<rest>")? {
        XmlEvent::Start { name, ns } => expect((name, ns), "rest", REST_NS, "<rest>")?,
        _ => return Err(RestError::Xml("no element".into())),
    }
    ev.no_attributes("rest")?;
    // <url method="...">...</url>
    match ev.next("<url>")? {
        XmlEvent::Start { name, ns } => expect((name, ns), "url", REST_NS, "<url>")?,
        _ => return Err(RestError::MissingUrl),
    }
    let method_text = ev.attribute("url", "method")?;
    let method =
        Method::parse(&method_text).ok_or_else(|| RestError::Method(method_text.into_owned()))?;
    let url = ev.text_until_end()?;
    match method {
        Method::Response if status_code(&url).is_none() => {
            return Err(RestError::StatusLine(url.into_owned()));
        }
        Method::Response => {}
        _ if url.is_empty() => return Err(RestError::EmptyUrl),
        _ => {}
    }
    let mut message = RestMessage {
        method,
        url: S::from(url),
        headers: Vec::new(),
        body: None,
    };
    let mut event = ev.next("</rest>")?;
    if let XmlEvent::Start {
        name: "headers",
        ns,
    } = event
    {
        expect(("headers", ns), "headers", REST_NS, "<headers>")?;
        message.headers = ev.headers()?;
        event = ev.next("</rest>")?;
    }
    if let XmlEvent::Start { name: "body", ns } = event {
        expect(("body", ns), "body", REST_NS, "<body>")?;
        message.body = Some(S::from(ev.body()?));
        event = ev.next("</rest>")?;
    }
    match event {
        XmlEvent::End => {}
        XmlEvent::Start { name, .. } => return Err(unexpected_name(name, "</rest>")),
        _ => return Err(RestError::Xml("unclosed element".into())),
    }
    match ev.next("the end of the document")? {
        XmlEvent::Eof => Ok(message),
        _ => Err(RestError::UnexpectedElement {
            found: "content after </rest>".into(),
            expected: "the end of the document",
        }),
    }
}

/// Checks an element's expanded name: the right local name in another
/// namespace is a [`RestError::Namespace`], another name an
/// [`RestError::UnexpectedElement`].
fn expect(
    (name, ns): Opened<'_>,
    want: &'static str,
    namespace: &'static str,
    expected: &'static str,
) -> Result<(), RestError> {
    match (name == want, ns == namespace) {
        (true, true) => Ok(()),
        (true, false) => Err(RestError::Namespace {
            element: want,
            namespace,
        }),
        (false, _) => Err(unexpected_name(name, expected)),
    }
}

fn unexpected_name(found: &str, expected: &'static str) -> RestError {
    RestError::UnexpectedElement {
        found: found.to_owned(),
        expected,
    }
}

/// Trims XML white space, and only that: a no-break space is content. A
/// lent text stays lent.
fn xml_trim(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim_matches(XML_SPACE)),
        Cow::Owned(t) => Cow::Owned(t.trim_matches(XML_SPACE).to_owned()),
    }
}
