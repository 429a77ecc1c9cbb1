//! The names and small readers of the client's stream: namespaces, which
//! top-level elements are stanzas, SASL data, error conditions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iot_sansio::End;

use super::config::{ClientEnd, ClientFault};
use crate::element::Element;
use crate::stanza::Stanza;
use crate::vocab::CLIENT_NS;
use crate::writer::escape_attr;

/// The SASL namespace (RFC 6120 section 6.4).
pub const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// The STARTTLS namespace (RFC 6120 section 5.4).
pub const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// The resource binding namespace (RFC 6120 section 7).
pub const BIND_NS: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// The stream error namespace (RFC 6120 section 4.9).
pub const STREAM_ERRORS_NS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// The legacy session namespace (RFC 3921 section 3; RFC 6121 appendix E).
pub(crate) const SESSION_NS: &str = "urn:ietf:params:xml:ns:xmpp-session";

/// Whether a top-level element is a stanza of a client stream: `<iq/>`,
/// `<message/>` or `<presence/>` in `jabber:client`.
pub(crate) fn is_stanza(element: &Element) -> bool {
    element.ns == CLIENT_NS && ["iq", "message", "presence"].contains(&element.name.as_str())
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

pub(crate) fn condition_of(stanza: &Stanza) -> String {
    stanza.error().map_or_else(
        || "undefined-condition".to_owned(),
        |e| e.condition.to_string(),
    )
}

/// The client's stream header, `from` included once the stream is
/// secured (RFC 6120 section 4.7.1).
pub(crate) fn write_header(out: &mut String, jid: &jid::BareJid, secured: bool) {
    out.push_str("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='");
    out.push_str(super::error::STREAMS_NS);
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
