//! The stream header (RFC 6120 section 4.7): what the reader keeps of it,
//! the namespaces it puts in scope, and the stream's end tag.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::error::StreamReadError;
use crate::text::{lend, tag};
use crate::tree::{Scope, check_xml_chars};
use crate::vocab::STREAMS_NS;

/// The attributes of a received stream header (RFC 6120 section 4.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHeader {
    /// The stream id the server chose.
    pub id: Option<String>,
    /// The server's domain.
    pub from: Option<String>,
    /// `to`, if the server said.
    pub to: Option<String>,
    /// The version (`1.0`).
    pub version: Option<String>,
    /// The default namespace (`jabber:client`).
    pub ns: Option<String>,
    /// The prefix bound to the stream namespace (`stream`).
    pub prefix: String,
    /// Every prefix the header binds, as (prefix, namespace): the stream
    /// prefix, and any other (`xmlns:db`), in scope for every element of
    /// the stream.
    pub prefixes: Vec<(String, String)>,
}

impl StreamHeader {
    /// The namespaces in scope for the stream's top-level elements: the
    /// header's default namespace and its prefixes.
    #[must_use]
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            default: self.ns.as_deref().unwrap_or_default(),
            prefixes: &self.prefixes,
        }
    }
}

/// Whether `text` is `</prefix:stream>` (white space allowed before `>`).
pub(super) fn is_stream_end(text: &[u8], prefix: &str) -> bool {
    let Some(name) = text
        .strip_prefix(b"</")
        .and_then(|t| t.strip_suffix(b">"))
        .map(<[u8]>::trim_ascii_end)
    else {
        return false;
    };
    match name.strip_suffix(b"stream") {
        Some(p) if prefix.is_empty() => p.is_empty(),
        Some(p) => p.strip_suffix(b":") == Some(prefix.as_bytes()),
        None => false,
    }
}

/// Reads the stream header's tag.
pub(super) fn read_header(tag_bytes: &[u8]) -> Result<StreamHeader, StreamReadError> {
    let text = core::str::from_utf8(tag_bytes)
        .map_err(|_| StreamReadError::BadHeader("not UTF-8".into()))?;
    let mut r = Reader::from_str(text);
    let start = match r.read_event() {
        Ok(Event::Start(e)) => e,
        Ok(_) => return Err(StreamReadError::BadHeader("not a start tag".into())),
        Err(e) => return Err(StreamReadError::BadHeader(e.to_string())),
    };
    let (name, attributes) = tag(text, &start).map_err(StreamReadError::BadHeader)?;
    let (prefix, local) = name.split_once(':').unwrap_or(("", name));
    if local != "stream" {
        return Err(StreamReadError::BadHeader(format!(
            "<{name}> is not <stream:stream>"
        )));
    }
    let mut header = StreamHeader {
        prefix: prefix.to_owned(),
        ..StreamHeader::default()
    };
    let mut stream_ns = None;
    for a in attributes {
        let a = a.map_err(|e| StreamReadError::BadHeader(e.to_string()))?;
        let key = lend(text, a.key.as_ref())
            .ok_or_else(|| StreamReadError::BadHeader("an attribute outside the tag".into()))?;
        let value = a
            .unescape_value()
            .map_err(|e| StreamReadError::BadHeader(e.to_string()))?
            .into_owned();
        check_xml_chars(&value).map_err(|e| StreamReadError::NotWellFormed(e.to_string()))?;
        if let Some(p) = key.strip_prefix("xmlns:") {
            header.prefixes.push((p.to_owned(), value.clone()));
        }
        let slot = match key {
            "id" => &mut header.id,
            "from" => &mut header.from,
            "to" => &mut header.to,
            "version" => &mut header.version,
            "xmlns" if prefix.is_empty() => &mut stream_ns,
            "xmlns" => &mut header.ns,
            k if k.strip_prefix("xmlns:") == Some(prefix) => &mut stream_ns,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(StreamReadError::BadHeader(format!(
                "attribute `{key}` is given twice"
            )));
        }
    }
    if stream_ns.as_deref() != Some(STREAMS_NS) {
        return Err(StreamReadError::BadHeader(format!(
            "the stream namespace is {stream_ns:?}, not {STREAMS_NS}"
        )));
    }
    Ok(header)
}
