//! How an RAE is configured, what it reports, and how it ends.

use iot_sansio::backoff::BackoffConfig;
use iot_sansio::{End, Secret};
use iot_xmpp::roster::RosterChange;
use iot_xmpp::stream::{ClientConfig, ClientFault, ClientRefusal};
use iot_xmpp::{IqFailure, Stanza};

use crate::endpoint::{EndpointConfig, EndpointEvent};
use crate::identity::{FullJid, RaeJid};
use crate::presence::{Presence, PresenceError, PriorityClass};
use crate::resource::ConnectionStatus;
use iot_xmpp::keepalive::KeepaliveConfig;

/// How a Remote Access Endpoint connects.
#[derive(Debug, Clone)]
pub struct RaeConfig {
    /// Its full JID (7.1.1): the account is the bare part, the resource
    /// is asked for at binding.
    pub jid: RaeJid,
    /// The XMPP connection: the account, password and resource come from
    /// [`RaeConfig::new`]; TLS, mechanisms (SCRAM-SHA-1 at least, 7.2),
    /// limits and timeouts may be changed.
    pub connection: ClientConfig,
    /// The announced presence (7.3): the role's class and a priority in
    /// its range.
    pub presence: Presence,
    /// The keepalive on the stream (7.4).
    pub keepalive: KeepaliveConfig,
    /// The CRUDN endpoint.
    pub endpoint: EndpointConfig,
    /// Reconnection after a lost connection (default `None`: the RAE ends
    /// with its connection). With a policy, an RAE whose transport closed
    /// or went silent reports [`RaeEvent::ConnectionLost`], waits as the
    /// policy says, asks for a new transport ([`RaeEvent::Connect`]) and
    /// resumes its session (XEP-0198) or logs in again.
    pub reconnect: Option<BackoffConfig>,
}

impl RaeConfig {
    /// An RAE logging in as `jid` with `password`, announcing `priority`
    /// in `class`'s range.
    ///
    /// # Errors
    ///
    /// [`PresenceError::Priority`] for a priority outside the class's
    /// range.
    pub fn new(
        jid: RaeJid,
        password: Secret<String>,
        class: PriorityClass,
        priority: i8,
    ) -> Result<Self, PresenceError> {
        let presence = Presence::available(class, priority)?;
        let resource = jid.jid().resource().as_str().to_owned();
        Ok(Self {
            connection: ClientConfig::new(jid.bare(), password, Some(resource)),
            jid,
            presence,
            keepalive: KeepaliveConfig::default(),
            endpoint: EndpointConfig::default(),
            reconnect: None,
        })
    }
}

/// Why an RAE's connection ended other than by the server's or the
/// transport's doing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RaeRefusal {
    /// The server refused the login or ended the stream.
    #[error("{0}")]
    Connection(ClientRefusal),
    /// The server bound another resource than the RAE's full JID: 7.2
    /// requires the RAE to disconnect.
    #[error("the server bound {bound}, not the RAE's full JID")]
    OtherResource {
        /// What it bound.
        bound: FullJid,
    },
}

/// How an RAE's connection ended: [`End::TimedOut`] also when the
/// keepalive's ping went unanswered (7.4).
pub type RaeEnd = End<ClientFault, RaeRefusal>;

/// What an RAE reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RaeEvent {
    /// Start TLS on the transport, then call [`Rae::tls_started`](super::Rae::tls_started).
    StartTls,
    /// The `oic.ra.xmpp` status changed (Figure 4): `Connecting` at
    /// start, `Connected` once logged in under the RAE's full JID,
    /// `Error` with the reason when the connection fails or drops.
    Status(ConnectionStatus),
    /// Another RAE came online (its full JID follows 7.1.1), with its
    /// presence priority.
    PeerOnline {
        /// Its full JID.
        jid: RaeJid,
        /// Its priority.
        priority: i8,
    },
    /// An RAE went offline; its exchanges failed.
    PeerOffline(FullJid),
    /// The roster changed.
    Roster(RosterChange),
    /// A CRUDN event of the endpoint.
    Endpoint(EndpointEvent),
    /// The roster could not be had: the server answered with an error,
    /// with no roster, or not within the connection's timeout. The RAE
    /// goes on without it.
    RosterFailed(IqFailure),
    /// A stanza the RAE does not handle, for the application: a
    /// subscription request, a message, the answer to an `iq` the
    /// application sent with [`Rae::send`](super::Rae::send). An `iq` request (get or set)
    /// the RAE does not handle never comes here: it is answered
    /// `service-unavailable` (RFC 6120 8.4), as no one else would answer
    /// it.
    Stanza(Stanza),
    /// The connection was lost (with a reconnection policy): close the
    /// transport; the RAE asks for a new one when it is time
    /// ([`RaeEvent::Connect`]). Its exchanges wait, to go on if the
    /// session is resumed.
    ConnectionLost,
    /// Open a new transport now, then call
    /// [`Rae::connected`](super::Rae::connected).
    Connect,
    /// The session of the lost connection is resumed (XEP-0198): the
    /// exchanges go on, and `resent` stanzas the server had not
    /// acknowledged went again.
    Resumed {
        /// How many stanzas were sent again.
        resent: usize,
    },
    /// The session of the lost connection could not be resumed: its
    /// exchanges failed, except the observes it had registered, which go
    /// again under their ids (their answers come as notifications); the
    /// RAE logged in anew and announces its presence again.
    NewSession,
    /// The connection ended, once.
    Ended(RaeEnd),
}

impl From<EndpointEvent> for RaeEvent {
    fn from(event: EndpointEvent) -> Self {
        Self::Endpoint(event)
    }
}
