//! Why a connection or a session failed, naming what it involved: the
//! domain looked up, the address dialled, the host whose certificate was
//! checked, the file read.

use std::io;

use iot_xmpp::stream::{ClientEnd, ClientError};

/// Why a session stopped. Its `Debug` is its `Display`, so that a `main`
/// that returns it prints a sentence, not a nested structure.
#[non_exhaustive]
pub enum NetError {
    /// The DNS lookup of a name failed (not "no such record": that falls
    /// back to the domain's own addresses, RFC 6120 3.2.2).
    Resolve {
        /// The name looked up.
        name: String,
        /// What the resolver said.
        error: String,
    },
    /// No TCP connection to the address.
    Connect {
        /// The host the address is for (the SRV target or the domain).
        host: String,
        /// The address dialled.
        addr: String,
        /// Why.
        error: io::Error,
    },
    /// Every address of the domain was tried, and none gave a connection.
    Unreachable {
        /// The XMPP domain.
        domain: String,
        /// What each attempt met, in order.
        attempts: Vec<NetError>,
    },
    /// The domain's SRV records say it offers no client service (a single
    /// record with the target `.`, RFC 2782).
    NoService {
        /// The XMPP domain.
        domain: String,
    },
    /// A file of certificates to trust could not be read, or held none.
    Certificate {
        /// Its path.
        path: String,
        /// Why.
        error: io::Error,
    },
    /// The TLS handshake failed (a certificate that does not verify for
    /// the host, say).
    Tls {
        /// The name the certificate was checked against.
        host: String,
        /// The address of the connection.
        addr: String,
        /// Why.
        error: io::Error,
    },
    /// A TLS configuration could not be built (no roots, say).
    TlsConfig(rustls::Error),
    /// The transport failed after the connection was made.
    Io(io::Error),
    /// The XMPP connection ended, with its reason.
    Ended(ClientEnd),
    /// Nothing came in time.
    Timeout(&'static str),
    /// The connection did not take a stanza: too many wait for the
    /// server's acknowledgement, or it holds a character XML forbids.
    Refused(ClientError),
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Resolve { name, error } => write!(f, "cannot look up {name}: {error}"),
            Self::Connect { host, addr, error } => write!(
                f,
                "cannot connect to {host} at {addr}: {error} (is an XMPP server listening there?)"
            ),
            Self::Unreachable { domain, attempts } => {
                write!(f, "no connection to {domain}")?;
                if attempts.is_empty() {
                    return write!(f, ": it has no address");
                }
                for (i, attempt) in attempts.iter().enumerate() {
                    write!(f, "{} {attempt}", if i == 0 { ":" } else { ";" })?;
                }
                Ok(())
            }
            Self::NoService { domain } => write!(
                f,
                "{domain} offers no XMPP client service (its SRV record's target is \".\")"
            ),
            Self::Certificate { path, error } => {
                write!(f, "cannot read the certificates to trust, {path}: {error}")
            }
            Self::Tls { host, addr, error } => {
                write!(f, "TLS with {host} at {addr} failed: {error}")
            }
            Self::TlsConfig(e) => write!(f, "TLS configuration: {e}"),
            Self::Io(e) => write!(f, "i/o: {e}"),
            Self::Ended(end) => write!(f, "the connection ended: {end}"),
            Self::Timeout(what) => write!(f, "no {what} in time"),
            Self::Refused(e) => write!(f, "the stanza was not sent: {e}"),
        }
    }
}

impl core::fmt::Debug for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for NetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { error, .. }
            | Self::Certificate { error, .. }
            | Self::Tls { error, .. }
            | Self::Io(error) => Some(error),
            Self::TlsConfig(e) => Some(e),
            Self::Refused(e) => Some(e),
            _ => None,
        }
    }
}

impl NetError {
    /// Whether trying again, later, would meet the same error: a login
    /// the server refuses for good
    /// ([`ClientRefusal::is_lasting`](iot_xmpp::stream::ClientRefusal::is_lasting)),
    /// a certificate that does not verify, a file of roots that does not
    /// read, a domain with no service, a stanza that cannot be written.
    /// Lost connections, timeouts and unreachable addresses are not.
    #[must_use]
    pub fn is_lasting(&self) -> bool {
        match self {
            Self::Ended(end) => end.refusal().is_some_and(|r| r.is_lasting()),
            // rustls reports what it refuses (a certificate, the
            // protocol) as invalid data; a handshake cut short is not.
            Self::Tls { error, .. } => error.kind() == io::ErrorKind::InvalidData,
            Self::NoService { .. } | Self::Certificate { .. } | Self::TlsConfig(_) => true,
            // The acknowledgements that free the backlog may come.
            Self::Refused(e) => !matches!(e, ClientError::Backlog),
            Self::Resolve { .. }
            | Self::Connect { .. }
            | Self::Unreachable { .. }
            | Self::Io(_)
            | Self::Timeout(_) => false,
        }
    }
}

impl From<io::Error> for NetError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<rustls::Error> for NetError {
    fn from(e: rustls::Error) -> Self {
        Self::TlsConfig(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each error is one sentence naming what it involved.
    #[test]
    fn every_error_names_what_it_involved() {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let cases: Vec<(NetError, &str)> = vec![
            (
                NetError::Resolve {
                    name: "_xmpp-client._tcp.example.net.".into(),
                    error: "timed out".into(),
                },
                "cannot look up _xmpp-client._tcp.example.net.: timed out",
            ),
            (
                NetError::Connect {
                    host: "xmpp.example.net".into(),
                    addr: "192.0.2.1:5222".into(),
                    error: refused(),
                },
                "cannot connect to xmpp.example.net at 192.0.2.1:5222",
            ),
            (
                NetError::Unreachable {
                    domain: "example.net".into(),
                    attempts: Vec::new(),
                },
                "no connection to example.net: it has no address",
            ),
            (
                NetError::NoService {
                    domain: "example.net".into(),
                },
                "example.net offers no XMPP client service",
            ),
            (
                NetError::Certificate {
                    path: "/etc/ca.pem".into(),
                    error: refused(),
                },
                "cannot read the certificates to trust, /etc/ca.pem",
            ),
            (
                NetError::Tls {
                    host: "example.net".into(),
                    addr: "192.0.2.1:5223".into(),
                    error: refused(),
                },
                "TLS with example.net at 192.0.2.1:5223 failed",
            ),
            (
                NetError::TlsConfig(rustls::Error::General("no roots".into())),
                "TLS configuration: unexpected error: no roots",
            ),
            (NetError::Io(refused()), "i/o: "),
            (
                NetError::Ended(iot_sansio::End::PeerClosed),
                "the connection ended: ",
            ),
            (NetError::Timeout("login"), "no login in time"),
            (
                NetError::Refused(ClientError::Backlog),
                "the stanza was not sent: too many stanzas wait",
            ),
        ];
        for (error, start) in cases {
            let text = format!("{error:?}");
            assert!(text.starts_with(start), "{text}");
            assert_eq!(text, error.to_string());
            let has_source = std::error::Error::source(&error).is_some();
            let wraps = matches!(
                error,
                NetError::Connect { .. }
                    | NetError::Certificate { .. }
                    | NetError::Tls { .. }
                    | NetError::Io(_)
                    | NetError::TlsConfig(_)
                    | NetError::Refused(_)
            );
            assert_eq!(has_source, wraps, "{text}");
        }
        let from_io: NetError = refused().into();
        assert!(matches!(from_io, NetError::Io(_)));
        let from_tls: NetError = rustls::Error::General("x".into()).into();
        assert!(matches!(from_tls, NetError::TlsConfig(_)));
    }

    /// A lost connection is worth another attempt; a refused login or a
    /// certificate that does not verify is not.
    #[test]
    fn what_lasts_is_what_a_new_attempt_would_meet_again() {
        use iot_sansio::End;
        use iot_xmpp::stream::ClientRefusal;
        let tls = |kind: io::ErrorKind| NetError::Tls {
            host: "example.net".into(),
            addr: "192.0.2.1:5223".into(),
            error: kind.into(),
        };
        assert!(tls(io::ErrorKind::InvalidData).is_lasting());
        assert!(!tls(io::ErrorKind::UnexpectedEof).is_lasting());
        let refused = |r| NetError::Ended(End::Refused(r));
        assert!(
            refused(ClientRefusal::AuthFailed {
                condition: "not-authorized".into()
            })
            .is_lasting()
        );
        assert!(
            !refused(ClientRefusal::StreamError {
                condition: "system-shutdown".into(),
                text: None
            })
            .is_lasting()
        );
        assert!(!NetError::Ended(End::PeerClosed).is_lasting());
        assert!(!NetError::Ended(End::TimedOut).is_lasting());
        assert!(!NetError::Io(io::ErrorKind::ConnectionReset.into()).is_lasting());
        assert!(!NetError::Timeout("login").is_lasting());
        assert!(
            NetError::NoService {
                domain: "example.net".into()
            }
            .is_lasting()
        );
        assert!(!NetError::Refused(ClientError::Backlog).is_lasting());
        assert!(NetError::Refused(ClientError::Char('\u{1}')).is_lasting());
    }
}
