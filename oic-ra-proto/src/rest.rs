//! The CRUDN payload of section 7.3.1: a `<rest xmlns="rest.oic.org">`
//! document with the method and URL (or, for a response, the status line),
//! HTTP-style headers and an optional JSON body, carried base64-encoded.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use quick_xml::Reader;

use iot_xmpp::{escape_attr, escape_text, push_reference};
use quick_xml::events::{BytesStart, Event};

/// The namespace of the `<rest>` element.
pub const REST_NS: &str = "rest.oic.org";
/// The namespace of the `<json>` element of the body (XEP-0335).
pub const JSON_NS: &str = "urn:xmpp:json:0";

/// A CRUDN method (section 7.3.1: "GET, POST, PUT, DELETE, RESPONSE").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Retrieve (and, with an `Observe` header, observe).
    Get,
    /// Update.
    Post,
    /// Create.
    Put,
    /// Delete.
    Delete,
    /// A response; the URL element holds the status line.
    Response,
}

impl Method {
    /// Every method.
    pub const ALL: [Self; 5] = [
        Self::Get,
        Self::Post,
        Self::Put,
        Self::Delete,
        Self::Response,
    ];

    /// The attribute value this crate writes, spelled as in the printed
    /// examples (`Get`, `Response`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "Get",
            Self::Post => "Post",
            Self::Put => "Put",
            Self::Delete => "Delete",
            Self::Response => "Response",
        }
    }

    /// Reads a method. The text lists them in capitals and the examples
    /// write `Get` and `Response`, so case is not significant.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header: a name and a value, as in HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header name.
    pub name: String,
    /// The header value.
    pub value: String,
}

/// Size limits for incoming `<rest>` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestLimits {
    /// The longest document accepted, in bytes, before or after base64
    /// decoding (default 1 MiB).
    pub max_document_len: usize,
    /// The most headers (default 64).
    pub max_headers: usize,
}

impl Default for RestLimits {
    fn default() -> Self {
        Self {
            max_document_len: 1 << 20,
            max_headers: 64,
        }
    }
}

/// Why a document is not a valid `<rest>` payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// The document is longer than the configured limit.
    #[error("document of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More headers than the configured limit.
    #[error("more than {max} headers")]
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// The payload is not base64.
    #[error("payload is not base64")]
    Base64,
    /// The document is not UTF-8.
    #[error("document is not UTF-8")]
    Utf8,
    /// The XML is not well formed, or has something the format does not
    /// allow (a DOCTYPE, an unknown entity, text between elements).
    #[error("malformed XML: {0}")]
    Xml(String),
    /// An element where another was expected.
    #[error("unexpected element <{found}> where {expected} was expected")]
    UnexpectedElement {
        /// What was found.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An element lacks its namespace or has another one.
    #[error("<{element}> must have xmlns=\"{namespace}\"")]
    Namespace {
        /// The element.
        element: &'static str,
        /// The namespace it must have.
        namespace: &'static str,
    },
    /// A required attribute is missing.
    #[error("<{element}> lacks its `{attribute}` attribute")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute the format does not define.
    #[error("<{element}> has an unknown attribute `{attribute}`")]
    UnknownAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: String,
    },
    /// A method other than GET, POST, PUT, DELETE and RESPONSE.
    #[error("unknown method `{0}`")]
    Method(String),
    /// A response whose `<url>` is not a status line `NNN reason`.
    #[error("response status line `{0}` is not `NNN reason`")]
    StatusLine(String),
    /// A request with an empty URL.
    #[error("request URL is empty")]
    EmptyUrl,
    /// The body is not valid JSON.
    #[error("body is not valid JSON: {0}")]
    Json(String),
    /// The document has no `<url>`.
    #[error("<rest> has no <url>")]
    MissingUrl,
}

fn xml_err(e: impl fmt::Display) -> RestError {
    RestError::Xml(e.to_string())
}

/// One CRUDN message (section 7.3.1).
///
/// ```
/// use oic_ra_proto::rest::{Method, RestMessage};
///
/// let get = RestMessage::request(Method::Get, "coap://mydevice/mybinaryswitch")
///     .with_header("Accept", "application/json");
/// let wire = get.to_base64();
/// assert_eq!(RestMessage::from_base64(&wire, &Default::default())?, get);
/// # Ok::<(), oic_ra_proto::rest::RestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestMessage {
    /// The method.
    pub method: Method,
    /// The fully qualified URL of a request, or the status line of a
    /// response (`200 OK`).
    pub url: String,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The JSON body as text, if any (checked to be valid JSON).
    pub body: Option<String>,
}

impl RestMessage {
    /// A request without headers or body.
    #[must_use]
    pub fn request(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A response with a status code and reason (`200`, `OK`).
    #[must_use]
    pub fn response(code: u16, reason: &str) -> Self {
        Self::request(Method::Response, format!("{code} {reason}"))
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn with_json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// The first header with this name (compared without case, as in
    /// HTTP).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The status code of a response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        if self.method != Method::Response {
            return None;
        }
        status_code(&self.url)
    }

    /// The body as a JSON value.
    ///
    /// # Errors
    ///
    /// [`RestError::Json`] when the body is not JSON (only possible for a
    /// message built by hand: parsing checks it).
    pub fn json(&self) -> Option<Result<serde_json::Value, RestError>> {
        self.body
            .as_deref()
            .map(|b| serde_json::from_str(b).map_err(|e| RestError::Json(e.to_string())))
    }

    /// The `<rest>` document, every value XML-escaped (`<`, `>` and `&` in
    /// text; quotes as well in attributes).
    #[must_use]
    pub fn to_xml(&self) -> String {
        let mut out =
            String::with_capacity(128 + self.url.len() + self.body.as_ref().map_or(0, String::len));
        out.push_str("<rest xmlns=\"rest.oic.org\"><url method=\"");
        out.push_str(self.method.as_str());
        out.push_str("\">");
        out.push_str(&escape_text(&self.url));
        out.push_str("</url>");
        if !self.headers.is_empty() {
            out.push_str("<headers>");
            for h in &self.headers {
                out.push_str("<header name=\"");
                out.push_str(&escape_attr(&h.name));
                out.push_str("\">");
                out.push_str(&escape_text(&h.value));
                out.push_str("</header>");
            }
            out.push_str("</headers>");
        }
        if let Some(body) = &self.body {
            out.push_str("<body><json xmlns=\"urn:xmpp:json:0\">");
            out.push_str(&escape_text(body));
            out.push_str("</json></body>");
        }
        out.push_str("</rest>");
        out
    }

    /// The base64 of the document, as it travels (section 7.3.1).
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_xml())
    }

    /// Parses a base64-encoded `<rest>` document.
    ///
    /// # Errors
    ///
    /// [`RestError::TooLong`] before decoding an overlong payload,
    /// [`RestError::Base64`], [`RestError::Utf8`], and the errors of
    /// [`RestMessage::parse`].
    pub fn from_base64(text: &str, limits: &RestLimits) -> Result<Self, RestError> {
        let text = text.trim();
        let decoded_max = text.len() / 4 * 3;
        if decoded_max > limits.max_document_len {
            return Err(RestError::TooLong {
                len: decoded_max,
                max: limits.max_document_len,
            });
        }
        let bytes = STANDARD.decode(text).map_err(|_| RestError::Base64)?;
        let xml = String::from_utf8(bytes).map_err(|_| RestError::Utf8)?;
        Self::parse(&xml, limits)
    }

    /// Parses a `<rest>` document.
    ///
    /// White space between elements is ignored, as are comments and an XML
    /// declaration; the URL, header values and body are trimmed of
    /// surrounding white space (the printed examples indent them).
    ///
    /// # Errors
    ///
    /// A distinct [`RestError`] for each way the document can be wrong.
    pub fn parse(xml: &str, limits: &RestLimits) -> Result<Self, RestError> {
        if xml.len() > limits.max_document_len {
            return Err(RestError::TooLong {
                len: xml.len(),
                max: limits.max_document_len,
            });
        }
        let mut r = Reader::from_str(xml);
        let root = match next(&mut r)? {
            Event::Decl(_) => next(&mut r)?,
            other => other,
        };
        match &root {
            Event::Start(e) if e.name().as_ref() == b"rest" => {
                only_xmlns(e, "rest", REST_NS)?;
            }
            other => return Err(unexpected(other, "<rest>")),
        }
        // <url method="...">...</url>
        let url_start = match next(&mut r)? {
            Event::Start(e) if e.name().as_ref() == b"url" => e.into_owned(),
            Event::End(_) => return Err(RestError::MissingUrl),
            other => return Err(unexpected(&other, "<url>")),
        };
        let method_text = attribute(&url_start, "url", "method")?;
        let method = Method::parse(&method_text).ok_or(RestError::Method(method_text))?;
        let url = xml_trim(&text_until_end(&mut r)?).to_owned();
        match method {
            Method::Response if status_code(&url).is_none() => {
                return Err(RestError::StatusLine(url));
            }
            Method::Response => {}
            _ if url.is_empty() => return Err(RestError::EmptyUrl),
            _ => {}
        }
        let mut message = Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
        };
        let mut event = next(&mut r)?;
        if let Event::Start(e) = &event
            && e.name().as_ref() == b"headers"
        {
            no_attributes(e, "headers")?;
            loop {
                match next(&mut r)? {
                    Event::Start(h) if h.name().as_ref() == b"header" => {
                        if message.headers.len() == limits.max_headers {
                            return Err(RestError::TooManyHeaders {
                                max: limits.max_headers,
                            });
                        }
                        let name = attribute(&h, "header", "name")?;
                        let value = xml_trim(&text_until_end(&mut r)?).to_owned();
                        message.headers.push(Header { name, value });
                    }
                    Event::Empty(h) if h.name().as_ref() == b"header" => {
                        let name = attribute(&h, "header", "name")?;
                        message.headers.push(Header {
                            name,
                            value: String::new(),
                        });
                    }
                    Event::End(_) => break,
                    other => return Err(unexpected(&other, "<header> or </headers>")),
                }
            }
            event = next(&mut r)?;
        } else if let Event::Empty(e) = &event
            && e.name().as_ref() == b"headers"
        {
            no_attributes(e, "headers")?;
            event = next(&mut r)?;
        }
        if let Event::Start(e) = &event
            && e.name().as_ref() == b"body"
        {
            no_attributes(e, "body")?;
            match next(&mut r)? {
                Event::Start(j) if j.name().as_ref() == b"json" => {
                    only_xmlns(&j, "json", JSON_NS)?;
                    let body = xml_trim(&text_until_end(&mut r)?).to_owned();
                    serde_json::from_str::<serde_json::Value>(&body)
                        .map_err(|e| RestError::Json(e.to_string()))?;
                    message.body = Some(body);
                }
                other => return Err(unexpected(&other, "<json>")),
            }
            match next(&mut r)? {
                Event::End(_) => {}
                other => return Err(unexpected(&other, "</body>")),
            }
            event = next(&mut r)?;
        }
        match event {
            Event::End(_) => {}
            other => return Err(unexpected(&other, "</rest>")),
        }
        match next(&mut r)? {
            Event::Eof => Ok(message),
            other => Err(unexpected(&other, "the end of the document")),
        }
    }
}

/// Trims XML white space (space, tab, carriage return, line feed: the `S`
/// production of XML 1.0), and only that: a no-break space is content.
fn xml_trim(text: &str) -> &str {
    text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// The status code of a status line `NNN reason`.
fn status_code(line: &str) -> Option<u16> {
    let (code, reason) = line.split_once(' ').unwrap_or((line, ""));
    let ok =
        code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && !reason.trim().is_empty();
    if ok { code.parse().ok() } else { None }
}

fn unexpected(event: &Event<'_>, expected: &'static str) -> RestError {
    let found = match event {
        Event::Start(e) | Event::Empty(e) => {
            String::from_utf8_lossy(e.name().as_ref()).into_owned()
        }
        Event::End(e) => format!("/{}", String::from_utf8_lossy(e.name().as_ref())),
        Event::Eof => "end of document".into(),
        Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => "text".into(),
        _ => "markup".into(),
    };
    RestError::UnexpectedElement { found, expected }
}

/// The next event that is not white space between elements nor a comment.
fn next<'a>(r: &mut Reader<&'a [u8]>) -> Result<Event<'a>, RestError> {
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            Event::Comment(_) => {}
            Event::DocType(_) => return Err(RestError::Xml("a DOCTYPE is not allowed".into())),
            Event::PI(_) => {
                return Err(RestError::Xml(
                    "a processing instruction is not allowed".into(),
                ));
            }
            other => return Ok(other),
        }
    }
}

/// The text up to the end tag of the element just opened.
fn text_until_end(r: &mut Reader<&[u8]>) -> Result<String, RestError> {
    let mut text = String::new();
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Text(t) => text.push_str(&t.decode().map_err(xml_err)?),
            Event::CData(t) => text.push_str(&t.decode().map_err(xml_err)?),
            Event::GeneralRef(g) => push_reference(&mut text, &g).map_err(RestError::Xml)?,
            Event::Comment(_) => {}
            Event::End(_) => return Ok(text),
            other => return Err(unexpected(&other, "text")),
        }
    }
}

/// Checks that an element has exactly `xmlns="namespace"`.
fn only_xmlns(
    e: &BytesStart<'_>,
    element: &'static str,
    namespace: &'static str,
) -> Result<(), RestError> {
    let mut seen = false;
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() == b"xmlns" {
            if a.unescape_value().map_err(xml_err)? != namespace {
                return Err(RestError::Namespace { element, namespace });
            }
            seen = true;
        } else {
            return Err(RestError::UnknownAttribute {
                element,
                attribute: String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            });
        }
    }
    if seen {
        Ok(())
    } else {
        Err(RestError::Namespace { element, namespace })
    }
}

fn no_attributes(e: &BytesStart<'_>, element: &'static str) -> Result<(), RestError> {
    match e.attributes().next() {
        None => Ok(()),
        Some(a) => {
            let a = a.map_err(xml_err)?;
            Err(RestError::UnknownAttribute {
                element,
                attribute: String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            })
        }
    }
}

/// The value of the one attribute an element has.
fn attribute(
    e: &BytesStart<'_>,
    element: &'static str,
    name: &'static str,
) -> Result<String, RestError> {
    let mut value = None;
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() == name.as_bytes() {
            value = Some(a.unescape_value().map_err(xml_err)?.into_owned());
        } else {
            return Err(RestError::UnknownAttribute {
                element,
                attribute: String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            });
        }
    }
    value.ok_or(RestError::MissingAttribute {
        element,
        attribute: name,
    })
}
