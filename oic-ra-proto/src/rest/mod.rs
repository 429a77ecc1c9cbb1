//! The CRUDN payload of section 7.3.1: a `<rest xmlns="rest.oic.org">`
//! document with the method and URL (or, for a response, the status line),
//! HTTP-style headers and an optional JSON body, carried base64-encoded.

mod read;

use core::fmt;
use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use iot_xmpp::{escape_attr, escape_text};

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

/// One header: a name and a value, as in HTTP. `S` holds the strings, as
/// in [`RestMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<S = String> {
    /// The header name.
    pub name: S,
    /// The header value.
    pub value: S,
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
///
/// `S` is how its strings are held: [`String`] (the default, what the
/// endpoint takes and hands out), or `Cow<'a, str>` ([`RestMessageRef`])
/// for a document read in place by [`RestMessage::parse_ref`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestMessage<S = String> {
    /// The method.
    pub method: Method,
    /// The fully qualified URL of a request, or the status line of a
    /// response (`200 OK`).
    pub url: S,
    /// The headers, in order.
    pub headers: Vec<Header<S>>,
    /// The JSON body as text, if any (checked to be valid JSON).
    pub body: Option<S>,
}

/// A `<rest>` document read in place: its strings borrow from the text
/// unless they needed unescaping.
pub type RestMessageRef<'a> = RestMessage<Cow<'a, str>>;

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
}

impl<S: AsRef<str>> RestMessage<S> {
    /// The first header with this name (compared without case, as in
    /// HTTP).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.as_ref().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_ref())
    }

    /// The status code of a response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        if self.method != Method::Response {
            return None;
        }
        status_code(self.url.as_ref())
    }

    /// The body as a JSON value.
    ///
    /// # Errors
    ///
    /// [`RestError::Json`] when the body is not JSON (only possible for a
    /// message built by hand: parsing checks it).
    pub fn json(&self) -> Option<Result<serde_json::Value, RestError>> {
        self.body
            .as_ref()
            .map(|b| serde_json::from_str(b.as_ref()).map_err(|e| RestError::Json(e.to_string())))
    }

    /// The `<rest>` document, every value XML-escaped (`<`, `>` and `&` in
    /// text; quotes as well in attributes).
    #[must_use]
    pub fn to_xml(&self) -> String {
        let url = self.url.as_ref();
        let body = self.body.as_ref().map(AsRef::as_ref);
        let mut out = String::with_capacity(128 + url.len() + body.map_or(0, str::len));
        out.push_str("<rest xmlns=\"rest.oic.org\"><url method=\"");
        out.push_str(self.method.as_str());
        out.push_str("\">");
        out.push_str(&escape_text(url));
        out.push_str("</url>");
        if !self.headers.is_empty() {
            out.push_str("<headers>");
            for h in &self.headers {
                out.push_str("<header name=\"");
                out.push_str(&escape_attr(h.name.as_ref()));
                out.push_str("\">");
                out.push_str(&escape_text(h.value.as_ref()));
                out.push_str("</header>");
            }
            out.push_str("</headers>");
        }
        if let Some(body) = body {
            out.push_str("<body><json xmlns=\"");
            out.push_str(JSON_NS);
            out.push_str("\">");
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

    /// The message with its own strings, whatever holds them now.
    #[must_use]
    pub fn to_owned_message(&self) -> RestMessage {
        RestMessage {
            method: self.method,
            url: self.url.as_ref().to_owned(),
            headers: self
                .headers
                .iter()
                .map(|h| Header {
                    name: h.name.as_ref().to_owned(),
                    value: h.value.as_ref().to_owned(),
                })
                .collect(),
            body: self.body.as_ref().map(|b| b.as_ref().to_owned()),
        }
    }
}

impl RestMessage {
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
        read::read(xml, limits)
    }

    /// Parses a `<rest>` document in place, as [`RestMessage::parse`] does:
    /// the URL, header names and values and the body borrow from `xml`
    /// unless they needed unescaping.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use oic_ra_proto::rest::RestMessage;
    ///
    /// let xml = r#"<rest xmlns="rest.oic.org"><url method="Response">200 OK</url>
    ///   <body><json xmlns="urn:xmpp:json:0">{"value":true}</json></body></rest>"#;
    /// let m = RestMessage::parse_ref(xml, &Default::default())?;
    /// assert!(matches!(m.url, Cow::Borrowed("200 OK")));
    /// assert_eq!(m.json().unwrap()?["value"], true);
    /// assert_eq!(m.to_owned_message(), RestMessage::parse(xml, &Default::default())?);
    /// # Ok::<(), oic_ra_proto::rest::RestError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`RestMessage::parse`].
    pub fn parse_ref<'a>(
        xml: &'a str,
        limits: &RestLimits,
    ) -> Result<RestMessageRef<'a>, RestError> {
        read::read(xml, limits)
    }
}

/// The status code of a status line `NNN reason`.
fn status_code(line: &str) -> Option<u16> {
    let (code, reason) = line.split_once(' ').unwrap_or((line, ""));
    let ok =
        code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && !reason.trim().is_empty();
    if ok { code.parse().ok() } else { None }
}
