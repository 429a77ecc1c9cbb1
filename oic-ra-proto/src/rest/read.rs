//! The `<rest>` reader (section 7.3.1): one pass of quick-xml events over
//! the document, every string lent from it unless it needed unescaping.

use core::fmt;
use std::borrow::Cow;

use iot_xmpp::text::{push_reference, push_text, tag, text_of};
use quick_xml::Reader;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};
use serde::de::IgnoredAny;

use super::{Header, JSON_NS, Method, REST_NS, RestError, RestLimits, RestMessage, status_code};

fn xml_err(e: impl fmt::Display) -> RestError {
    RestError::Xml(e.to_string())
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
    let mut r = Reader::from_str(xml);
    let root = match next(&mut r)? {
        Event::Decl(_) => next(&mut r)?,
        other => other,
    };
    match &root {
        Event::Start(e) if e.name().as_ref() == b"rest" => {
            only_xmlns(xml, e, "rest", REST_NS)?;
        }
        other => return Err(unexpected(other, "<rest>")),
    }
    // <url method="...">...</url>
    let method_text = match next(&mut r)? {
        Event::Start(e) if e.name().as_ref() == b"url" => attribute(xml, &e, "url", "method")?,
        Event::End(_) => return Err(RestError::MissingUrl),
        other => return Err(unexpected(&other, "<url>")),
    };
    let method =
        Method::parse(&method_text).ok_or_else(|| RestError::Method(method_text.into_owned()))?;
    let url = xml_trim(text_until_end(xml, &mut r)?);
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
    let mut event = next(&mut r)?;
    if let Event::Start(e) = &event
        && e.name().as_ref() == b"headers"
    {
        no_attributes(xml, e, "headers")?;
        loop {
            let (h, empty) = match next(&mut r)? {
                Event::Start(h) if h.name().as_ref() == b"header" => (h, false),
                Event::Empty(h) if h.name().as_ref() == b"header" => (h, true),
                Event::End(_) => break,
                other => return Err(unexpected(&other, "<header> or </headers>")),
            };
            if message.headers.len() == limits.max_headers {
                return Err(RestError::TooManyHeaders {
                    max: limits.max_headers,
                });
            }
            let name = attribute(xml, &h, "header", "name")?;
            let value = if empty {
                Cow::Borrowed("")
            } else {
                xml_trim(text_until_end(xml, &mut r)?)
            };
            message.headers.push(Header {
                name: S::from(name),
                value: S::from(value),
            });
        }
        event = next(&mut r)?;
    } else if let Event::Empty(e) = &event
        && e.name().as_ref() == b"headers"
    {
        no_attributes(xml, e, "headers")?;
        event = next(&mut r)?;
    }
    if let Event::Start(e) = &event
        && e.name().as_ref() == b"body"
    {
        no_attributes(xml, e, "body")?;
        match next(&mut r)? {
            Event::Start(j) if j.name().as_ref() == b"json" => {
                only_xmlns(xml, &j, "json", JSON_NS)?;
                let body = xml_trim(text_until_end(xml, &mut r)?);
                // Checked to be one JSON value, without building it.
                serde_json::from_str::<IgnoredAny>(&body)
                    .map_err(|e| RestError::Json(e.to_string()))?;
                message.body = Some(S::from(body));
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

/// Trims XML white space (space, tab, carriage return, line feed: the `S`
/// production of XML 1.0), and only that: a no-break space is content. A
/// lent text stays lent.
fn xml_trim(text: Cow<'_, str>) -> Cow<'_, str> {
    const XML_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim_matches(XML_SPACE)),
        Cow::Owned(t) => Cow::Owned(t.trim_matches(XML_SPACE).to_owned()),
    }
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

/// The text up to the end tag of the element just opened: lent from the
/// document when it is one piece without references.
fn text_until_end<'a>(xml: &'a str, r: &mut Reader<&'a [u8]>) -> Result<Cow<'a, str>, RestError> {
    let mut text = Cow::Borrowed("");
    loop {
        match r.read_event().map_err(xml_err)? {
            Event::Text(t) => push_text(&mut text, text_of(xml, &t).map_err(xml_err)?),
            Event::CData(t) => push_text(&mut text, text_of(xml, &t).map_err(xml_err)?),
            Event::GeneralRef(g) => push_reference(text.to_mut(), &g).map_err(RestError::Xml)?,
            Event::Comment(_) => {}
            Event::End(_) => return Ok(text),
            other => return Err(unexpected(&other, "text")),
        }
    }
}

/// The attributes of a start tag, lent from the document.
fn attributes<'a>(xml: &'a str, e: &BytesStart<'_>) -> Result<Attributes<'a>, RestError> {
    tag(xml, e).map(|(_, a)| a).map_err(RestError::Xml)
}

fn unknown(element: &'static str, key: &[u8]) -> RestError {
    RestError::UnknownAttribute {
        element,
        attribute: String::from_utf8_lossy(key).into_owned(),
    }
}

fn twice(name: &str) -> RestError {
    RestError::Xml(format!("attribute `{name}` is given twice"))
}

/// Checks that an element has exactly `xmlns="namespace"`.
fn only_xmlns(
    xml: &str,
    e: &BytesStart<'_>,
    element: &'static str,
    namespace: &'static str,
) -> Result<(), RestError> {
    let mut seen = false;
    for a in attributes(xml, e)? {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() != b"xmlns" {
            return Err(unknown(element, a.key.as_ref()));
        }
        if a.unescape_value().map_err(xml_err)? != namespace {
            return Err(RestError::Namespace { element, namespace });
        }
        if std::mem::replace(&mut seen, true) {
            return Err(twice("xmlns"));
        }
    }
    if seen {
        Ok(())
    } else {
        Err(RestError::Namespace { element, namespace })
    }
}

fn no_attributes(xml: &str, e: &BytesStart<'_>, element: &'static str) -> Result<(), RestError> {
    match attributes(xml, e)?.next() {
        None => Ok(()),
        Some(a) => Err(unknown(element, a.map_err(xml_err)?.key.as_ref())),
    }
}

/// The value of the one attribute an element has, lent from the document
/// unless it needed unescaping.
fn attribute<'a>(
    xml: &'a str,
    e: &BytesStart<'_>,
    element: &'static str,
    name: &'static str,
) -> Result<Cow<'a, str>, RestError> {
    let mut value = None;
    for a in attributes(xml, e)? {
        let a = a.map_err(xml_err)?;
        if a.key.as_ref() != name.as_bytes() {
            return Err(unknown(element, a.key.as_ref()));
        }
        if value
            .replace(a.unescape_value().map_err(xml_err)?)
            .is_some()
        {
            return Err(twice(name));
        }
    }
    value.ok_or(RestError::MissingAttribute {
        element,
        attribute: name,
    })
}
