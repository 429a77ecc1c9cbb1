//! What the two connection machines share: the one reason type and how
//! the reasons of their phases become it.

use iot_sansio::End;

use crate::auth::{AuthEnd, AuthFault, AuthRefusal};
use crate::error::FrameError;
use crate::negotiation::{NegotiationEnd, NegotiationFault, NegotiationRefusal};

/// What the peer did wrong on an LBS connection: in the negotiation or in
/// the authentication that followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionFault {
    /// In the negotiation (or a first frame that is neither a negotiation
    /// request nor a refresh).
    #[error("negotiation: {0}")]
    Negotiation(NegotiationFault),
    /// In the authentication or the DAS redirect.
    #[error("authentication: {0}")]
    Auth(AuthFault),
}

/// Why an LBS connection refused its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// Nothing in common, a counter-offer, or the original key mode.
    Negotiation(NegotiationRefusal),
    /// An unknown device, a wrong verification code, a bad proof, or the
    /// directory's refusal.
    Auth(AuthRefusal),
}

impl core::fmt::Display for ConnectionRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Negotiation(r) => write!(f, "negotiation: {r}"),
            Self::Auth(r) => write!(f, "authentication: {r}"),
        }
    }
}

/// How an LBS connection ended other than by the DAS redirect.
pub type ConnectionEnd = End<ConnectionFault, ConnectionRefusal>;

pub(crate) fn from_negotiation(end: NegotiationEnd) -> ConnectionEnd {
    end.map(ConnectionFault::Negotiation, ConnectionRefusal::Negotiation)
}

pub(crate) fn from_auth(end: AuthEnd) -> ConnectionEnd {
    end.map(ConnectionFault::Auth, ConnectionRefusal::Auth)
}

/// A stream that cannot be read on: the frame layer's fault, reported by
/// the phase it broke.
pub(crate) fn broken(e: FrameError, in_auth: bool) -> ConnectionEnd {
    End::PeerFault(if in_auth {
        ConnectionFault::Auth(e.into())
    } else {
        ConnectionFault::Negotiation(e.into())
    })
}
