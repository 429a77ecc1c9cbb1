//! Responses: a status code and, on failure, the `<error>` body of
//! Tables 1 to 7.

use core::fmt;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::error::ResponseError;
use crate::kind::{MessageKind, Status, itoa_status};
use crate::query::{Limits, echo};

impl Status {
    /// Parses a status code and body, whatever message they answer.
    ///
    /// The body of an error is the `<error>` document, with white space
    /// allowed between elements (the tables print it so) and an optional
    /// XML declaration; its `<code>` must equal the status code and its
    /// `<detail>` must be the table's text.
    ///
    /// # Errors
    ///
    /// A distinct [`ResponseError`] for an unknown code, a body on 200, an
    /// overlong or malformed body, a missing element, a code mismatch and a
    /// wrong detail.
    pub fn parse(code: u16, body: &[u8], limits: &Limits) -> Result<Self, ResponseError> {
        let status = Self::from_code(code).ok_or(ResponseError::UnknownStatus { code })?;
        let Some(expected_detail) = status.detail() else {
            return if body.is_empty() {
                Ok(status)
            } else {
                Err(ResponseError::BodyOnSuccess)
            };
        };
        if body.len() > limits.max_body_len {
            return Err(ResponseError::BodyTooLong {
                len: body.len(),
                max: limits.max_body_len,
            });
        }
        let (body_code, detail) = parse_error_document(body)?;
        if body_code != itoa_status(code) {
            return Err(ResponseError::CodeMismatch {
                status: code,
                body: echo(&body_code),
            });
        }
        if detail != expected_detail {
            return Err(ResponseError::Detail {
                code,
                detail: echo(&detail),
            });
        }
        Ok(status)
    }
}

impl TryFrom<u16> for Status {
    type Error = ResponseError;
    fn try_from(code: u16) -> Result<Self, ResponseError> {
        Self::from_code(code).ok_or(ResponseError::UnknownStatus { code })
    }
}

fn malformed(reason: impl fmt::Display) -> ResponseError {
    ResponseError::MalformedBody {
        reason: echo(&reason.to_string()),
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The next event that is not white space between elements nor a comment.
fn next_markup<'a>(reader: &mut Reader<&'a [u8]>) -> Result<Event<'a>, ResponseError> {
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Text(t) if is_blank(&t) => {}
            Event::Comment(_) => {}
            Event::DocType(_) => return Err(malformed("a document type declaration")),
            other => return Ok(other),
        }
    }
}

/// Reads the text content of `element` up to its end tag, resolving
/// character and predefined entity references.
fn read_element_text(
    reader: &mut Reader<&[u8]>,
    element: &'static str,
) -> Result<String, ResponseError> {
    match next_markup(reader)? {
        Event::Start(e) if e.name().as_ref() == element.as_bytes() => {
            if e.attributes().next().is_some() {
                return Err(malformed(format_args!("<{element}> has attributes")));
            }
        }
        Event::Empty(e) if e.name().as_ref() == element.as_bytes() => return Ok(String::new()),
        Event::Eof | Event::End(_) => return Err(ResponseError::MissingElement { element }),
        _ => return Err(malformed(format_args!("expected <{element}>"))),
    }
    let mut text = String::new();
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Text(t) => text.push_str(&t.decode().map_err(malformed)?),
            Event::CData(t) => text.push_str(&t.decode().map_err(malformed)?),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(malformed)? {
                    text.push(c);
                } else {
                    let name = r.decode().map_err(malformed)?;
                    let resolved = resolve_predefined_entity(&name)
                        .ok_or_else(|| malformed(format_args!("unknown entity &{name};")))?;
                    text.push_str(resolved);
                }
            }
            Event::Comment(_) => {}
            Event::End(_) => return Ok(text),
            _ => return Err(malformed(format_args!("<{element}> holds more than text"))),
        }
    }
}

/// Parses `<error><code>..</code><detail>..</detail></error>`.
fn parse_error_document(body: &[u8]) -> Result<(String, String), ResponseError> {
    let mut reader = Reader::from_reader(body);
    let mut event = next_markup(&mut reader)?;
    if matches!(event, Event::Decl(_)) {
        event = next_markup(&mut reader)?;
    }
    match event {
        Event::Start(e) if e.name().as_ref() == b"error" => {
            if e.attributes().next().is_some() {
                return Err(malformed("<error> has attributes"));
            }
        }
        Event::Eof => return Err(ResponseError::MissingElement { element: "error" }),
        _ => return Err(malformed("the root element is not <error>")),
    }
    let code = read_element_text(&mut reader, "code")?;
    let detail = read_element_text(&mut reader, "detail")?;
    match next_markup(&mut reader)? {
        Event::End(_) => {}
        _ => return Err(malformed("<error> holds more than <code> and <detail>")),
    }
    match next_markup(&mut reader)? {
        Event::Eof => Ok((code, detail)),
        _ => Err(malformed("content after </error>")),
    }
}

/// A response to one message: a status that the message's table lists.
///
/// ```
/// use irsp_proto::{MessageKind, Response, Status};
///
/// let r = Response::new(MessageKind::RegisterUser, Status::IdExisted)?;
/// assert_eq!(r.status_code(), 421);
/// assert_eq!(r.body(), "<error><code>421</code><detail>id existed</detail></error>");
/// // 421 answers registrations only (Table 1).
/// assert!(Response::new(MessageKind::ModifyUser, Status::IdExisted).is_err());
/// # Ok::<(), irsp_proto::ResponseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ResponseFields")]
pub struct Response {
    message: MessageKind,
    status: Status,
}

/// The unchecked fields of a [`Response`], for deserializing.
#[derive(Deserialize)]
struct ResponseFields {
    message: MessageKind,
    status: Status,
}

impl TryFrom<ResponseFields> for Response {
    type Error = ResponseError;
    fn try_from(f: ResponseFields) -> Result<Self, ResponseError> {
        Self::new(f.message, f.status)
    }
}

impl Response {
    /// A response of `status` to `message`.
    ///
    /// # Errors
    ///
    /// [`ResponseError::StatusNotAllowed`] when the message's table does not
    /// list the status.
    pub fn new(message: MessageKind, status: Status) -> Result<Self, ResponseError> {
        if message.allowed_statuses().contains(&status) {
            Ok(Self { message, status })
        } else {
            Err(ResponseError::StatusNotAllowed {
                message,
                code: status.code(),
            })
        }
    }

    /// Parses the status code and body received in answer to `message`.
    ///
    /// # Errors
    ///
    /// Every error of [`Status::parse`], and
    /// [`ResponseError::StatusNotAllowed`] for a code the message's table
    /// does not list.
    pub fn parse(
        message: MessageKind,
        code: u16,
        body: &[u8],
        limits: &Limits,
    ) -> Result<Self, ResponseError> {
        if let Some(status) = Status::from_code(code) {
            Self::new(message, status)?;
        }
        Self::new(message, Status::parse(code, body, limits)?)
    }

    /// The message answered.
    #[must_use]
    pub fn message(&self) -> MessageKind {
        self.message
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// The HTTP status code.
    #[must_use]
    pub fn status_code(&self) -> u16 {
        self.status.code()
    }

    /// The body: empty for 200, else the `<error>` document.
    #[must_use]
    pub fn body(&self) -> String {
        self.status.body()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(code: u16, body: &str) -> Result<Status, ResponseError> {
        Status::parse(code, body.as_bytes(), &Limits::default())
    }

    #[test]
    fn accepts_whitespace_declaration_comments_and_references() {
        assert_eq!(
            parse(
                400,
                "<?xml version=\"1.0\"?>\n<error>\n  <code>400</code>\n  <!-- c --><detail>bad&#32;request</detail>\n</error>\n"
            ),
            Ok(Status::BadRequest)
        );
        assert_eq!(
            parse(
                500,
                "<error><code><![CDATA[500]]></code><detail>server internal error</detail></error>"
            ),
            Ok(Status::InternalError)
        );
    }

    #[test]
    fn error_paths() {
        let ok = |c: u16| Status::from_code(c).unwrap().body();
        assert_eq!(
            parse(404, ""),
            Err(ResponseError::UnknownStatus { code: 404 })
        );
        assert_eq!(parse(200, "x"), Err(ResponseError::BodyOnSuccess));
        assert_eq!(
            Status::parse(
                400,
                ok(400).as_bytes(),
                &Limits {
                    max_body_len: 10,
                    ..Limits::default()
                }
            ),
            Err(ResponseError::BodyTooLong {
                len: ok(400).len(),
                max: 10
            })
        );
        assert_eq!(
            parse(400, ""),
            Err(ResponseError::MissingElement { element: "error" })
        );
        assert_eq!(
            parse(400, "<error></error>"),
            Err(ResponseError::MissingElement { element: "code" })
        );
        assert_eq!(
            parse(400, "<error><code>400</code></error>"),
            Err(ResponseError::MissingElement { element: "detail" })
        );
        assert_eq!(
            parse(
                400,
                "<error><code>421</code><detail>bad request</detail></error>"
            ),
            Err(ResponseError::CodeMismatch {
                status: 400,
                body: "421".into()
            })
        );
        assert_eq!(
            parse(400, "<error><code>400</code><detail>oops</detail></error>"),
            Err(ResponseError::Detail {
                code: 400,
                detail: "oops".into()
            })
        );
        for bad in [
            "<error><code>400</code><detail>bad request</detail>",
            "<error><code>400</code><detail>bad request</detail></error><x/>",
            "<error><code>400</code><detail>bad request</detail><extra/></error>",
            "<fault><code>400</code><detail>bad request</detail></fault>",
            "<error a='1'><code>400</code><detail>bad request</detail></error>",
            "<error><code>400</code><detail><b>bad</b></detail></error>",
            "<error><code>400</code><detail>&nbsp;</detail></error>",
            "<!DOCTYPE error><error><code>400</code><detail>bad request</detail></error>",
            "<error><code>400</detail><detail>bad request</detail></error>",
            "text",
        ] {
            assert!(
                matches!(parse(400, bad), Err(ResponseError::MalformedBody { .. })),
                "{bad}: {:?}",
                parse(400, bad)
            );
        }
        assert!(matches!(
            Status::parse(400, b"<error><code>\xff</code></error>", &Limits::default()),
            Err(ResponseError::MalformedBody { .. })
        ));
    }

    #[test]
    fn response_refuses_codes_outside_the_table() {
        let wrong = ok_body(421);
        assert_eq!(
            Response::parse(
                MessageKind::ModifyUser,
                421,
                wrong.as_bytes(),
                &Limits::default()
            ),
            Err(ResponseError::StatusNotAllowed {
                message: MessageKind::ModifyUser,
                code: 421
            })
        );
        assert!(
            serde_json::from_str::<Response>(r#"{"message":"user_upload","status":422}"#).is_err()
        );
        let r: Response =
            serde_json::from_str(r#"{"message":"push_to_user","status":422}"#).unwrap();
        assert_eq!(r.status(), Status::IdNotExisted);
    }

    fn ok_body(code: u16) -> String {
        Status::from_code(code).unwrap().body()
    }
}
