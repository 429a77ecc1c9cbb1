//! What an [`IbbTransport`](super::IbbTransport) is configured with and
//! reports, and who may open a session.

use core::time::Duration;

use iot_sansio::{End, Never};
use iot_xmpp::{DefinedCondition, IqFailure};

use crate::identity::{FullJid, Jid};

/// One IBB session: the peer's full JID and the whole `sid` (XEP-0047
/// sessions are per pair of entities; IoTivity matched prefixes of the
/// `sid`, which let one session's blocks land in another).
pub type SessionId = (FullJid, String);

/// Who may open a session with this entity, so that its requests reach
/// the resources: the authorization decision of OIC RA section 5.2, taken
/// before any request is read.
#[derive(Clone, Copy, Default)]
pub enum PeerAccess {
    /// Only full JIDs of the same account (the same bare JID) as the
    /// `<open/>`'s addressee, which the server delivered it to: the RAEs
    /// of one user (5.2). The default.
    #[default]
    SameAccount,
    /// Anyone the server delivers to this entity (accounts that the
    /// roster or the server's policy already vet, say).
    Anyone,
    /// The caller's decision: the peer, and this entity's JID as the
    /// `<open/>`'s `to` gives it.
    Decide(fn(&FullJid, Option<&Jid>) -> bool),
}

impl PeerAccess {
    /// Whether `peer` may open a session with `to`.
    #[must_use]
    pub fn allows(&self, peer: &FullJid, to: Option<&Jid>) -> bool {
        match self {
            Self::SameAccount => {
                to.is_some_and(|t| t.node() == peer.node() && t.domain() == peer.domain())
            }
            Self::Anyone => true,
            Self::Decide(decide) => decide(peer, to),
        }
    }
}

impl PartialEq for PeerAccess {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::SameAccount, Self::SameAccount) | (Self::Anyone, Self::Anyone) => true,
            (Self::Decide(a), Self::Decide(b)) => core::ptr::fn_addr_eq(*a, *b),
            _ => false,
        }
    }
}

impl Eq for PeerAccess {}

impl core::fmt::Debug for PeerAccess {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::SameAccount => "SameAccount",
            Self::Anyone => "Anyone",
            Self::Decide(_) => "Decide(..)",
        })
    }
}

/// Settings of an [`IbbTransport`](super::IbbTransport).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IbbTransportConfig {
    /// The largest block size accepted when a peer opens a session.
    pub max_block_size: u16,
    /// The most sessions open at once, both directions; a peer's `<open/>`
    /// beyond it is refused with `resource-constraint`.
    pub max_sessions: usize,
    /// The most sessions open with one peer, both directions; a peer's
    /// `<open/>` beyond it is refused with `resource-constraint`, so one
    /// peer cannot fill the table and block everyone else's sessions.
    pub max_sessions_per_peer: usize,
    /// Who may open a session (refused with `forbidden`, type `auth`).
    pub access: PeerAccess,
    /// The longest message reassembled; a longer one breaks its session
    /// with `not-acceptable`.
    pub max_message_len: usize,
    /// How long an `<open/>` or `<close/>` this side sent waits for its
    /// answer.
    pub timeout: Duration,
}

/// How a transport's life ends: only with its connection.
pub type IbbTransportEnd = End<Never>;

/// What the transport reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IbbTransportEvent {
    /// The peer accepted a session this side opened; queued messages have
    /// been sent.
    Opened(SessionId),
    /// The peer refused a session this side opened, or did not answer
    /// the open in time.
    Refused(SessionId, IqFailure),
    /// A peer opened a session and it was accepted.
    Accepted(SessionId),
    /// A whole message arrived on a session.
    Message(SessionId, Vec<u8>),
    /// The peer closed a session.
    Closed(SessionId),
    /// A received block broke the rules of a session: it was answered with
    /// the condition ([`IbbTransportEvent::ProtocolError`] came first) and the
    /// session closed.
    Broken(SessionId, DefinedCondition),
    /// The peer answered one of this side's blocks with an error: the
    /// session is over.
    Failed(SessionId, DefinedCondition),
    /// A received stanza broke the IBB rules; it was answered with this
    /// condition.
    ProtocolError {
        /// The peer (absent when the stanza had no `from`).
        peer: Option<Jid>,
        /// The session id, when known.
        sid: String,
        /// The stanza error condition sent back.
        condition: DefinedCondition,
    },
    /// The connection ended ([`Input::PeerClosed`](iot_sansio::Input::PeerClosed)):
    /// every session is forgotten.
    Ended(IbbTransportEnd),
}
