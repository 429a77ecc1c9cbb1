//! What an endpoint reports, why a request fails, and how the API refuses
//! misuse.

use iot_sansio::{End, Never};
use iot_xmpp::{DefinedCondition, IqFailure};

use crate::identity::{FullJid, Jid};
use crate::rest::{RestError, RestMessage};

/// Identifies one exchange: a request this endpoint sent, or one it
/// received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Why a request got no (further) response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// No response within [`EndpointConfig::request_timeout`](super::EndpointConfig::request_timeout).
    TimedOut,
    /// The peer refused the session (the `<open/>` was answered with an
    /// error, or not within the request timeout).
    Refused(IqFailure),
    /// The peer closed the session before responding (or, for an observe,
    /// ended the notifications).
    Closed,
    /// The peer's presence became unavailable (section 7.3, Table 4).
    PeerUnavailable,
    /// The XMPP connection of this endpoint ended.
    Disconnected,
    /// The session broke: a stanza error condition this endpoint sent or
    /// received (`unexpected-request` for a lost block, for instance).
    Session(DefinedCondition),
    /// The response was not a valid `<rest>` RESPONSE.
    Malformed(String),
}

/// How an endpoint's life ends: only with its connection.
pub type EndpointEnd = End<Never>;

/// What the endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointEvent {
    /// A peer sent a request; answer with [`Endpoint::respond`](super::Endpoint::respond).
    Request {
        /// The exchange.
        id: RequestId,
        /// The requester's full JID.
        from: FullJid,
        /// The request.
        message: RestMessage,
        /// Whether it registers an observe (`GET` with `Observe: 0`).
        observe: bool,
    },
    /// The response to a request this endpoint sent.
    Response {
        /// The exchange.
        id: RequestId,
        /// The response.
        message: RestMessage,
    },
    /// A notification of an observe this endpoint registered.
    Notification {
        /// The exchange.
        id: RequestId,
        /// The notification (a RESPONSE).
        message: RestMessage,
    },
    /// A request this endpoint sent failed, or its observe ended.
    Failed {
        /// The exchange.
        id: RequestId,
        /// Why.
        reason: Failure,
    },
    /// A peer ended an exchange it had opened (for an observe: it
    /// deregistered); [`Endpoint::respond`](super::Endpoint::respond) now refuses that id.
    PeerEnded {
        /// The exchange.
        id: RequestId,
    },
    /// A received stanza broke the IBB rules; the endpoint answered with
    /// this condition (and closed the session if it had one).
    ProtocolError {
        /// The peer (absent when the stanza had no `from`).
        peer: Option<Jid>,
        /// The session id, when known.
        sid: String,
        /// The stanza error condition sent back.
        condition: DefinedCondition,
    },
    /// The connection ended ([`Input::PeerClosed`](crate::Input::PeerClosed)); every exchange failed
    /// or ended before this, and the endpoint takes no more requests.
    Ended(EndpointEnd),
}

/// Why a call on the endpoint was refused: misuse of the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// [`Endpoint::request`](super::Endpoint::request) with a RESPONSE.
    #[error("a request cannot have the method RESPONSE")]
    NotARequest,
    /// [`Endpoint::respond`](super::Endpoint::respond) with something other than a RESPONSE.
    #[error("a response must have the method RESPONSE")]
    NotAResponse,
    /// No exchange with this id is waiting for an answer.
    #[error("no open exchange {0:?}")]
    UnknownRequest(RequestId),
    /// The exchange was answered and is not an observe.
    #[error("exchange {0:?} has been answered and is not observed")]
    AlreadyAnswered(RequestId),
    /// As many sessions as [`EndpointConfig::max_sessions`](super::EndpointConfig::max_sessions) are open.
    #[error("{0} sessions are open already")]
    TooManySessions(usize),
    /// The connection has ended.
    #[error("the connection has ended")]
    Closed,
    /// The message does not fit the document limit.
    #[error(transparent)]
    Rest(#[from] RestError),
}
