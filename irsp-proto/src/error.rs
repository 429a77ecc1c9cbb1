//! Errors of request and response parsing.

use core::fmt;

use crate::id::IdError;
use crate::kind::{MessageKind, ServerRole};

/// A string from a peer as an error text shows it: control characters
/// (a CR and LF that would start an HTTP header or a log line of their
/// own, say) written as `\u{..}` escapes, the rest as it is.
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// Why an incoming request is not a valid IRSP message.
///
/// Every variant answers with status 400 and the standard `<error>` body of
/// clause 8 ([`RequestError::response`]), except [`RequestError::UnknownPath`]
/// and [`RequestError::Method`], which are not IRSP messages at all and map
/// to HTTP 404 and 405 ([`RequestError::http_status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The HTTP method is not `GET`.
    #[error("method `{}` is not allowed: IRSP requests use GET", Escaped(method))]
    Method {
        /// The method received.
        method: String,
    },
    /// The URL is not `https://{server address}/{path}?{query}`.
    #[error("malformed URL: {reason}")]
    Url {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No message of the receiving server has this path.
    #[error("no IRSP message has the path `{}`", Escaped(path))]
    UnknownPath {
        /// The path received.
        path: String,
    },
    /// The message is not one that this server role receives (clause 8).
    #[error("message {message} is not sent to the {role}")]
    WrongReceiver {
        /// The message the path names.
        message: MessageKind,
        /// The role of the server that received it.
        role: ServerRole,
    },
    /// The query string is longer than the configured limit.
    #[error("query string of {len} bytes exceeds the limit of {max}")]
    QueryTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The query string has more parameters than the configured limit.
    #[error("query string has more than {max} parameters")]
    TooManyParameters {
        /// The limit.
        max: usize,
    },
    /// A byte that RFC 3986 does not allow unencoded in a query.
    #[error("byte 0x{byte:02x} at offset {offset} must be percent-encoded")]
    InvalidCharacter {
        /// Offset in the query string.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error("bad percent-encoding at offset {offset}")]
    BadPercentEncoding {
        /// Offset of the `%` in the query string.
        offset: usize,
    },
    /// A parameter with no `=`, or an empty `&&` segment.
    #[error("malformed parameter at offset {offset}: expected `name=value`")]
    MalformedParameter {
        /// Offset of the segment in the query string.
        offset: usize,
    },
    /// A parameter name or value that does not decode to UTF-8.
    #[error("parameter `{}` is not UTF-8 after percent-decoding", Escaped(name))]
    NotUtf8 {
        /// The parameter (as much of its name as decodes).
        name: String,
    },
    /// A parameter value longer than the configured limit.
    #[error(
        "parameter `{}` is {} bytes long, over the limit of {}",
        Escaped(name),
        len,
        max
    )]
    ValueTooLong {
        /// The parameter.
        name: String,
        /// Its decoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A parameter given twice.
    #[error("parameter `{}` appears more than once", Escaped(name))]
    DuplicateParameter {
        /// The parameter.
        name: String,
    },
    /// A parameter that the message does not define.
    #[error("message {} has no parameter `{}`", message, Escaped(name))]
    UnknownParameter {
        /// The message.
        message: MessageKind,
        /// The parameter.
        name: String,
    },
    /// A mandatory parameter is absent.
    #[error("message {message} lacks its mandatory parameter `{name}`")]
    MissingParameter {
        /// The message.
        message: MessageKind,
        /// The parameter.
        name: &'static str,
    },
    /// A mandatory parameter is present but empty.
    #[error("message {message} has an empty `{name}`")]
    EmptyParameter {
        /// The message.
        message: MessageKind,
        /// The parameter.
        name: &'static str,
    },
    /// `version` is not `1`.
    #[error(
        "unsupported version `{}`: this standard defines version 1",
        Escaped(found)
    )]
    Version {
        /// The version received.
        found: String,
    },
    /// An identifier parameter is not a valid local part.
    #[error("parameter `{name}` {reason}")]
    InvalidId {
        /// The parameter.
        name: &'static str,
        /// The rule it breaks.
        reason: IdError,
    },
    /// A notification whose `type` is neither `online` nor `offline`
    /// (Messages 10 and 11).
    #[error(
        "notification type `{}` is neither `online` nor `offline`",
        Escaped(found)
    )]
    NotificationType {
        /// The type received.
        found: String,
    },
    /// A push or exchange request names both a user and a device, or
    /// neither (Messages 12 to 15 carry exactly one).
    #[error(
        "message at `{}` must carry exactly one of `userid` and `deviceid`",
        Escaped(path)
    )]
    Addressee {
        /// The service path.
        path: String,
    },
    /// The account server's `appid` and `token` were not accepted (8.2.1).
    #[error("the account server's appid and token were not accepted")]
    Unauthenticated,
    /// The peer is not a server that may send this message (8.1: each
    /// message has one sending role), as its authenticated identity says.
    #[error("message {message} may not come from {}", peer.map_or_else(|| "an unauthenticated peer".to_owned(), |r| format!("a {r} server")))]
    Forbidden {
        /// The message.
        message: MessageKind,
        /// The peer's role, if it has one.
        peer: Option<ServerRole>,
    },
}

impl RequestError {
    /// The HTTP status this error answers with: 405 for a method other than
    /// GET, 404 for a path that names no message, 403 for a peer that may
    /// not send the message, 400 for everything else.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Method { .. } => 405,
            Self::UnknownPath { .. } => 404,
            Self::Forbidden { .. } => 403,
            _ => 400,
        }
    }

    /// The IRSP response for a malformed request, when there is one: the 400
    /// row of the message's table (`None` for 403, 404 and 405, which carry
    /// no IRSP body).
    #[must_use]
    pub fn response(&self) -> Option<crate::kind::Status> {
        (self.http_status() == 400).then_some(crate::kind::Status::BadRequest)
    }
}

/// Why a response does not answer a message as clause 8 says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// A status code that no table of clause 8 lists.
    #[error("status code {code} is not an IRSP status code")]
    UnknownStatus {
        /// The code.
        code: u16,
    },
    /// A status code that the message's table does not list.
    #[error("status code {code} is not a legal answer to message {message}")]
    StatusNotAllowed {
        /// The message answered.
        message: MessageKind,
        /// The code.
        code: u16,
    },
    /// A 200 response whose body is not empty.
    #[error("a 200 response must have an empty body")]
    BodyOnSuccess,
    /// An error response whose body is longer than the configured limit.
    #[error("body of {len} bytes exceeds the limit of {max}")]
    BodyTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body is not well-formed XML or not the `<error>` document.
    #[error("malformed <error> body: {}", Escaped(reason))]
    MalformedBody {
        /// What is wrong with it.
        reason: String,
    },
    /// An element of the `<error>` document is missing.
    #[error("<error> body lacks <{element}>")]
    MissingElement {
        /// The element.
        element: &'static str,
    },
    /// The `<code>` of the body differs from the HTTP status code.
    #[error("body code `{}` differs from status code {}", Escaped(body), status)]
    CodeMismatch {
        /// The HTTP status code.
        status: u16,
        /// The text of `<code>`.
        body: String,
    },
    /// The `<detail>` is not the text the table gives for the code.
    #[error(
        "detail `{}` is not the text defined for status {}",
        Escaped(detail),
        code
    )]
    Detail {
        /// The status code.
        code: u16,
        /// The detail received.
        detail: String,
    },
}
