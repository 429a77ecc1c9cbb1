//! What the two connection machines share: the one reason type and how
//! the reasons of their phases become it, and the phases themselves.

use iot_sansio::End;

use crate::auth::{AuthConfig, AuthEnd, AuthFault, AuthRefusal};
use crate::error::FrameError;
use crate::negotiation::{NegotiationEnd, NegotiationFault, NegotiationRefusal};
use crate::session::Liveness;

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

/// The phase of a connection: the negotiation (`N`, with what the
/// authentication will take once it runs, `X`), the authentication (`A`),
/// or done.
pub(crate) enum Phase<N, A, X> {
    Negotiating { negotiation: N, then: X },
    Authenticating(A),
    Done,
}

/// A connection's phases, as one session, and the authentication
/// parameters it binds to what the negotiation chooses.
pub(crate) struct Phases<N, A, X> {
    pub(crate) auth: AuthConfig,
    pub(crate) phase: Phase<N, A, X>,
}

impl<N, A, X> Phases<N, A, X> {
    /// The phase's name, for `Debug`.
    pub(crate) fn name(&self) -> &'static str {
        match self.phase {
            Phase::Negotiating { .. } => "negotiating",
            Phase::Authenticating(_) => "authenticating",
            Phase::Done => "done",
        }
    }

    /// Leaves the negotiation, with what it kept for the authentication
    /// (`None`, and nothing changed, in another phase).
    pub(crate) fn leave_negotiation(&mut self) -> Option<X> {
        match core::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Negotiating { then, .. } => Some(then),
            other => {
                self.phase = other;
                None
            }
        }
    }

    /// A stream that cannot be read on: the frame layer's fault, reported
    /// by the phase it broke.
    pub(crate) fn broken(&self, e: FrameError) -> ConnectionEnd {
        End::PeerFault(if matches!(self.phase, Phase::Authenticating(_)) {
            ConnectionFault::Auth(e.into())
        } else {
            ConnectionFault::Negotiation(e.into())
        })
    }
}

impl<N, A, X> Liveness for Phases<N, A, X>
where
    N: Liveness,
    A: Liveness<Instant = N::Instant>,
{
    type Instant = N::Instant;

    fn is_live(&self) -> bool {
        match &self.phase {
            Phase::Negotiating { negotiation, .. } => negotiation.is_live(),
            Phase::Authenticating(auth) => auth.is_live(),
            Phase::Done => false,
        }
    }

    fn deadline(&self) -> Option<N::Instant> {
        match &self.phase {
            Phase::Negotiating { negotiation, .. } => negotiation.deadline(),
            Phase::Authenticating(auth) => auth.deadline(),
            Phase::Done => None,
        }
    }

    fn is_paused(&self) -> bool {
        matches!(&self.phase, Phase::Authenticating(auth) if auth.is_paused())
    }
}
