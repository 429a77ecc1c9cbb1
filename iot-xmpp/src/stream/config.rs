//! What the client connection is configured with, what it reports, and
//! how it ends.

use core::time::Duration;

use iot_sansio::{End, Secret};
use jid::{BareJid, FullJid};

use super::error::StreamReadError;
use super::sm::StreamManagement;
use crate::error::StanzaReadError;
use crate::limits::StanzaLimits;
use crate::sasl::{Iterations, MechanismPreference, SaslError};
use crate::stanza::Stanza;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// STARTTLS (RFC 6120 section 5): the server must offer it; the
    /// machine asks the runtime to start TLS ([`ClientEvent::StartTls`])
    /// and goes on over it. The default.
    StartTls,
    /// The runtime began with TLS (direct TLS, XEP-0368): the stream is
    /// secured from its first byte.
    Direct,
    /// No TLS at all: only for a server on loopback in tests. PLAIN is
    /// never used then.
    Insecure,
}

/// How a client logs in.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The account (`user@domain`); the domain is the stream's `to`.
    pub jid: BareJid,
    /// The password (a secret).
    pub password: Secret<String>,
    /// The resource to ask for; `None` lets the server choose.
    pub resource: Option<String>,
    /// How the connection is secured (default [`Tls::StartTls`]).
    pub tls: Tls,
    /// The SASL mechanisms, most preferred first (default SCRAM-SHA-256,
    /// SCRAM-SHA-1).
    pub mechanisms: MechanismPreference,
    /// The bounds on the SCRAM iteration count.
    pub iterations: Iterations,
    /// The limits of what is read from the server.
    pub limits: StanzaLimits,
    /// How long each step of the login may wait for the server (default
    /// 30 s), and how long a close waits for the server's.
    pub timeout: Duration,
    /// Stream management (XEP-0198): on with resumption when the server
    /// offers it (the default).
    pub stream_management: StreamManagement,
}

impl ClientConfig {
    /// The defaults for `jid` and `password`, asking for `resource`.
    #[must_use]
    pub fn new(jid: BareJid, password: Secret<String>, resource: Option<String>) -> Self {
        Self {
            jid,
            password,
            resource,
            tls: Tls::StartTls,
            mechanisms: MechanismPreference::default(),
            iterations: Iterations::default(),
            limits: StanzaLimits::default(),
            timeout: Duration::from_secs(30),
            stream_management: StreamManagement::default(),
        }
    }
}

/// What the client connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Start TLS on the transport now, then call
    /// [`Client::tls_started`](super::Client::tls_started);
    /// the stream restarts over it.
    StartTls,
    /// Logged in and bound to `jid`: stanzas may go both ways.
    Online {
        /// The full JID the server bound.
        jid: FullJid,
        /// Whether the server bound another resource than the one asked
        /// for (OIC RA section 7.2 makes an RAE leave then).
        other_resource: bool,
    },
    /// A stanza from the server.
    Stanza(Stanza),
    /// The session of a lost connection is resumed on this one (XEP-0198
    /// section 5), bound to `jid` as before: the `resent` stanzas the
    /// server had not acknowledged went again, and stanzas may go both
    /// ways.
    Resumed {
        /// The full JID of the session.
        jid: FullJid,
        /// How many stanzas were sent again.
        resent: usize,
    },
    /// The server could not resume the session (or no longer offers
    /// stream management): these stanzas of the old session were never
    /// acknowledged and may not have arrived. The connection binds anew
    /// and reports [`ClientEvent::Online`] next.
    ResumeFailed {
        /// The stanzas that may be lost, oldest first.
        unacknowledged: Vec<Stanza>,
    },
    /// The connection ended, once; close the transport. The reason says
    /// whether reconnecting may help.
    Ended(ClientEnd),
}

/// What the server did wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientFault {
    /// The bytes are not an XML stream this client reads.
    #[error("stream: {0}")]
    Stream(#[from] StreamReadError),
    /// An element could not be read.
    #[error("element: {0}")]
    Element(#[from] StanzaReadError),
    /// An element that does not belong here (`expected` says what did).
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// What the login waited for.
        expected: &'static str,
        /// The element's name.
        got: String,
    },
    /// The SASL exchange went wrong on the server's side; a server
    /// signature that does not verify is here.
    #[error("SASL: {0}")]
    Sasl(#[from] SaslError),
    /// The bind result holds no JID, or one of another account.
    #[error("bind: {0}")]
    Bind(String),
    /// A stream management element that breaks XEP-0198: an
    /// acknowledgement of more stanzas than were sent, or without a
    /// count.
    #[error("stream management: {0}")]
    StreamManagement(String),
}

impl ClientFault {
    /// The stream error condition (RFC 6120 4.9.3) the client sends
    /// before it closes, for a fault in the stream's bytes or elements;
    /// `None` for a login the server led astray (the client just closes).
    #[must_use]
    pub fn stream_condition(&self) -> Option<&'static str> {
        match self {
            Self::Stream(e) => Some(e.condition()),
            Self::Element(e) => Some(e.stream_condition()),
            // XEP-0198 section 4: a count too high is a stream error.
            Self::StreamManagement(_) => Some("undefined-condition"),
            Self::Unexpected { .. } | Self::Sasl(_) | Self::Bind(_) => None,
        }
    }
}

/// Why the server refused the client, or ended the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientRefusal {
    /// The server offers no mechanism the client may use.
    #[error("no acceptable SASL mechanism among {offered:?}")]
    NoMechanism {
        /// What it offered.
        offered: Vec<String>,
    },
    /// The server refused the credentials (RFC 6120 section 6.5).
    #[error("authentication failed: {condition}")]
    AuthFailed {
        /// The SASL condition (`not-authorized`, say).
        condition: String,
    },
    /// TLS was required and the server does not offer STARTTLS, or
    /// answered it with `<failure/>`.
    #[error("the server does not secure the stream")]
    NoTls,
    /// The server refused to bind (`conflict`, say).
    #[error("resource binding refused: {condition}")]
    BindRefused {
        /// The stanza error condition.
        condition: String,
    },
    /// The server ended the stream with a stream error (RFC 6120 section
    /// 4.9): `conflict` (another login took the resource),
    /// `system-shutdown`, `policy-violation`...
    #[error("stream error {condition}{}", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    StreamError {
        /// The defined condition.
        condition: String,
        /// The server's text, if any.
        text: Option<String>,
    },
    /// The server sent the stream error `see-other-host` (RFC 6120
    /// 4.9.3.19): connect to `host` instead (a domain name or an IP
    /// address, IPv6 in brackets, with an optional port). A runtime
    /// follows it once, with the same configuration and timeouts.
    #[error("the server sends the client to {host}")]
    SeeOtherHost {
        /// The host, as the server wrote it.
        host: String,
    },
}

impl ClientRefusal {
    /// Whether the same login would meet the same refusal: wrong
    /// credentials, no mechanism or TLS in common, a resource refused, or
    /// a stream error that names the client's own account or addressing
    /// (RFC 6120 4.9.3: `conflict`, another login took the resource and
    /// would be pushed out in turn; `not-authorized`, `host-unknown`,
    /// `host-gone`, `invalid-from`, `improper-addressing`,
    /// `unsupported-version`). A runtime that reconnects stops on these;
    /// the others (`system-shutdown`, `connection-timeout`,
    /// `see-other-host`...) are worth another attempt.
    #[must_use]
    pub fn is_lasting(&self) -> bool {
        match self {
            Self::NoMechanism { .. }
            | Self::AuthFailed { .. }
            | Self::NoTls
            | Self::BindRefused { .. } => true,
            Self::StreamError { condition, .. } => matches!(
                condition.as_str(),
                "conflict"
                    | "not-authorized"
                    | "host-unknown"
                    | "host-gone"
                    | "invalid-from"
                    | "improper-addressing"
                    | "unsupported-version"
            ),
            Self::SeeOtherHost { .. } => false,
        }
    }
}

/// How a client connection ended.
pub type ClientEnd = End<ClientFault, ClientRefusal>;

/// Using the connection wrongly: the one `Result` the machine returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Stanzas are sent only once online.
    #[error("the connection is not online")]
    NotOnline,
    /// The stanza holds a character XML 1.0 forbids (a C0 control other
    /// than tab, line feed and carriage return, U+FFFE or U+FFFF): no
    /// escape can write it.
    #[error("character U+{:04X} cannot be written in XML", u32::from(*.0))]
    Char(char),
    /// Stream management holds as many unacknowledged stanzas as its
    /// configuration allows (`StreamManagement::max_unacked`): send again
    /// once the server acknowledged some.
    #[error("too many stanzas wait for the server's acknowledgement")]
    Backlog,
}

#[cfg(test)]
mod tests {
    use super::ClientRefusal;

    fn stream_error(condition: &str) -> ClientRefusal {
        ClientRefusal::StreamError {
            condition: condition.into(),
            text: None,
        }
    }

    #[test]
    fn a_refusal_of_the_account_lasts_and_a_shutdown_does_not() {
        let auth = ClientRefusal::AuthFailed {
            condition: "not-authorized".into(),
        };
        assert!(auth.is_lasting());
        assert!(ClientRefusal::NoTls.is_lasting());
        assert!(stream_error("conflict").is_lasting());
        assert!(stream_error("host-unknown").is_lasting());
        for passing in [
            "system-shutdown",
            "connection-timeout",
            "reset",
            "policy-violation",
        ] {
            assert!(!stream_error(passing).is_lasting(), "{passing}");
        }
        let redirect = ClientRefusal::SeeOtherHost {
            host: "xmpp2.example".into(),
        };
        assert!(!redirect.is_lasting());
    }
}
