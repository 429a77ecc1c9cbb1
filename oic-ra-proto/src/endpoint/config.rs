//! The settings of an endpoint.

use core::time::Duration;

use iot_xmpp::StanzaLimits;

use crate::rest::RestLimits;
use crate::transport::{IbbTransportConfig, PeerAccess};

/// Settings of an [`Endpoint`](super::Endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The block size this endpoint asks for when it opens a session
    /// (default 4096, XEP-0047's recommendation, which common servers and
    /// clients accept; 7.3.1 allows up to 65535). A peer that answers
    /// `resource-constraint` is asked again with half of it, down to
    /// [`MIN_BLOCK_SIZE`](crate::transport::MIN_BLOCK_SIZE).
    pub block_size: u16,
    /// The largest block size it accepts when a peer opens a session
    /// (default 65535, the most 7.3.1 allows).
    pub max_block_size: u16,
    /// How long a request waits for its response, counted from
    /// [`Endpoint::request`](super::Endpoint::request) (default 30 s).
    pub request_timeout: Duration,
    /// The most sessions open at once, both directions (default 64); a
    /// peer's `<open/>` beyond it is refused with `resource-constraint`.
    pub max_sessions: usize,
    /// The most sessions open with one peer (default 8): a peer's
    /// `<open/>` beyond it is refused with `resource-constraint`, so one
    /// peer cannot fill the table and block requests to the others.
    pub max_sessions_per_peer: usize,
    /// Who may send requests (5.2; default [`PeerAccess::SameAccount`]): a
    /// session from anyone else is refused with `forbidden` before any
    /// request is read.
    pub access: PeerAccess,
    /// How long a session a peer opened may stay idle (default 60 s):
    /// opened without a whole request yet, or answered (not an observe)
    /// and not closed by the peer. It is then closed. A session whose
    /// request waits for this endpoint's answer, or that carries an
    /// observe, is not idle.
    pub idle_timeout: Duration,
    /// The most observes one account may hold on this endpoint at once,
    /// all its resources together (default 4): a registration beyond it
    /// is delivered as a plain `GET` (`observe: false`), answered once
    /// and closed, as RFC 7641 lets a server decline an observation; so
    /// one account cannot keep every session slot.
    pub max_observes_per_account: usize,
    /// How long an observe this endpoint serves lasts (default one hour):
    /// the session is then closed, and a client that still wants the
    /// notifications registers again.
    pub observe_lifetime: Duration,
    /// Limits on each reassembled `<rest>` document.
    pub rest_limits: RestLimits,
    /// Limits on each received stanza.
    pub stanza_limits: StanzaLimits,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            block_size: 4096,
            max_block_size: u16::MAX,
            request_timeout: Duration::from_secs(30),
            max_sessions: 64,
            max_sessions_per_peer: 8,
            access: PeerAccess::SameAccount,
            idle_timeout: Duration::from_secs(60),
            max_observes_per_account: 4,
            observe_lifetime: Duration::from_secs(3600),
            rest_limits: RestLimits::default(),
            stanza_limits: StanzaLimits::default(),
        }
    }
}

impl EndpointConfig {
    pub(super) fn transport(&self) -> IbbTransportConfig {
        IbbTransportConfig {
            max_block_size: self.max_block_size,
            max_sessions: self.max_sessions,
            max_sessions_per_peer: self.max_sessions_per_peer,
            access: self.access,
            max_message_len: self.rest_limits.max_document_len,
            timeout: self.request_timeout,
        }
    }
}
