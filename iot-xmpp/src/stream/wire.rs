//! The small readers and writers of the client's stream: which top-level
//! elements are stanzas, SASL data, error conditions, the stream header.
//! The names they use are in [`crate::vocab`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::End;

use super::config::{ClientEnd, ClientFault};
use crate::element::Element;
use crate::vocab::{CLIENT_NS, STREAM_ERRORS_NS, STREAMS_NS, StanzaKind};
use crate::writer::escape_attr;

/// Whether a top-level element is a stanza of a client stream: `<iq/>`,
/// `<message/>` or `<presence/>` in `jabber:client`.
pub(crate) fn is_stanza(element: &Element) -> bool {
    element.ns == CLIENT_NS && element.name.parse::<StanzaKind>().is_ok()
}

/// The base64 content of a SASL element (`=` or nothing is empty).
pub(crate) fn decode(element: &Element) -> Result<Vec<u8>, ClientEnd> {
    let text = element.text.trim();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(text).map_err(|_| {
        End::PeerFault(ClientFault::Sasl(crate::sasl::SaslError::Malformed(
            "base64",
        )))
    })
}

/// The client's stream header, `from` included once the stream is
/// secured (RFC 6120 section 4.7.1).
pub(crate) fn write_header(out: &mut String, jid: &jid::BareJid, secured: bool) {
    out.push_str("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='");
    out.push_str(STREAMS_NS);
    out.push_str("' to='");
    out.push_str(&escape_attr(jid.domain().as_str()));
    if secured {
        out.push_str("' from='");
        out.push_str(&escape_attr(jid.as_str()));
    }
    out.push_str("' version='1.0'>");
}

/// A stream error with its defined condition, and the stream's close
/// (RFC 6120 section 4.9.1.1).
pub(crate) fn write_stream_error(out: &mut String, condition: &str) {
    out.push_str("<stream:error><");
    out.push_str(condition);
    out.push_str(" xmlns='");
    out.push_str(STREAM_ERRORS_NS);
    out.push_str("'/></stream:error></stream:stream>");
}
