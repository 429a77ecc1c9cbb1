//! A Remote Access Endpoint on its own XMPP connection (sections 7.1 to
//! 7.4): the login with its 7.1.1 full JID, the role's presence priority,
//! the bound JID checked, the XEP-0199 keepalive on the stream, the
//! presence of the other RAEs, the CRUDN endpoint, and the connection
//! mirrored into the `oic.ra.xmpp` status (Figure 4): each
//! [`RaeEvent::Status`] is what
//! [`RaResources::mirror`](crate::resource::RaResources::mirror) takes, so
//! that the resources an RAE server serves show its connection and notify
//! their observers (the `rae_light` example serves them so).

use iot_sansio::backoff::Backoff;
use iot_sansio::{Input, Instant, Machine, Outbox, Outgoing};
use iot_xmpp::presence::PresenceTracker;
use iot_xmpp::roster::Roster;
use iot_xmpp::stream::{ClientCore, Resumption, StreamReader};
use iot_xmpp::{PresenceType, Requests, Stanza, StanzaKind, StanzaOut};
use rand_core::CryptoRngCore;

use crate::endpoint::{EndpointError, Exchanges, RequestId};
use crate::identity::{FullJid, RaeJid};
use crate::resource::ConnectionStatus;
use crate::rest::RestMessage;
use iot_xmpp::keepalive::Watch;

mod kinds;
mod state;

pub use kinds::{RaeConfig, RaeEnd, RaeEvent, RaeRefusal};

/// A Remote Access Endpoint on its own XMPP connection, under the
/// family's contract: bytes in and out (TLS is the runtime's, on
/// [`RaeEvent::StartTls`]), CRUDN through [`Rae::request`] and
/// [`Rae::respond`].
///
/// It is composed as every machine of the family (ARCHITECTURE.md,
/// "Composition"): one stream reader and one outbox, with the XMPP
/// client's steps ([`ClientCore`]) and the endpoint's and keepalive's
/// steps beside them. A stanza the client's steps read is handled in the
/// same call, and what the endpoint and keepalive send is written through
/// the client's steps straight into the RAE's outbox.
#[derive(Debug)]
pub struct Rae<I, R, S> {
    reader: StreamReader,
    login: ClientCore<I, R>,
    out: Outbox<Vec<u8>, RaeEvent>,
    state: State<I, S>,
}

/// Everything of the RAE but its reader, its connection's steps and its
/// outbox.
#[derive(Debug)]
struct State<I, S> {
    config: RaeConfig,
    endpoint: Exchanges<I, S>,
    keepalive: Option<Watch<I>>,
    roster: Roster,
    presence: PresenceTracker,
    status: ConnectionStatus,
    /// The RAE's own `iq` requests waiting for answers: the roster.
    asked: Requests<I, Asked>,
    /// When to connect again after a loss, with a reconnection policy.
    backoff: Option<Backoff<I>>,
    /// The connection was lost and another is awaited.
    lost: Option<Lost<I>>,
}

/// A lost connection, until a new one is online.
#[derive(Debug)]
struct Lost<I> {
    /// The session to resume, when the server allowed it.
    resumption: Option<Resumption>,
    /// When to ask for a new transport; `None` once asked.
    connect_at: Option<I>,
}

/// What one of the RAE's own `iq` requests asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The roster (RFC 6121 2.1.3).
    Roster,
}

/// Stanzas written over the RAE's connection into its outbox, and events
/// into the same outbox: what the endpoint's steps are handed.
struct Wire<'a, I, R> {
    login: &'a mut ClientCore<I, R>,
    out: &'a mut Outbox<Vec<u8>, RaeEvent>,
}

impl<I: Instant, R: CryptoRngCore, E: Into<RaeEvent>> StanzaOut<E> for Wire<'_, I, R> {
    /// Dropped when the connection is not online (it is closing, or
    /// over).
    fn send(&mut self, stanza: Stanza) {
        self.write(&stanza);
    }

    fn event(&mut self, event: E) {
        self.out.event(event.into());
    }
}

impl<I: Instant, R: CryptoRngCore, S: CryptoRngCore> Rae<I, R, S> {
    /// An RAE that has not connected; its login nonces come from
    /// `login_rng`, its session ids from `endpoint_rng`.
    #[must_use]
    pub fn new(config: RaeConfig, login_rng: R, endpoint_rng: S) -> Self {
        let reconnect = config.reconnect;
        Self {
            reader: StreamReader::new(config.connection.limits),
            login: ClientCore::new(config.connection.clone(), login_rng),
            out: Outbox::new(),
            state: State {
                endpoint: Exchanges::new(config.endpoint.clone(), endpoint_rng),
                config,
                keepalive: None,
                roster: Roster::new(),
                presence: PresenceTracker::new(),
                status: ConnectionStatus::NotInitialized,
                asked: Requests::new("roster"),
                backoff: reconnect.map(Backoff::new),
                lost: None,
            },
        }
    }

    /// The writer the endpoint's steps are handed.
    fn wire(&mut self) -> (&mut State<I, S>, Wire<'_, I, R>) {
        let wire = Wire {
            login: &mut self.login,
            out: &mut self.out,
        };
        (&mut self.state, wire)
    }

    /// Connects: the status becomes `Connecting`.
    pub fn start(&mut self, now: I) {
        if self.state.status == ConnectionStatus::NotInitialized && !self.out.is_ended() {
            set_status(
                &mut self.state.status,
                &mut self.out,
                ConnectionStatus::Connecting,
            );
            self.login.start(&mut self.out, now);
        }
    }

    /// A new transport is open after [`RaeEvent::Connect`]: the RAE logs
    /// in over it and resumes its lost session when it can (XEP-0198),
    /// else starts a new one. Nothing happens unless a connection was
    /// asked for.
    pub fn connected(&mut self, now: I) {
        let Some(lost) = self.state.lost.as_ref().filter(|l| l.connect_at.is_none()) else {
            return;
        };
        // The lost connection's session, with what was sent since the
        // loss (kept to go once resumed).
        let resumption = self.login.resumption().or_else(|| lost.resumption.clone());
        self.reader = StreamReader::new(self.state.config.connection.limits);
        self.login.renew(resumption);
        self.login.start(&mut self.out, now);
    }

    /// The runtime started TLS after [`RaeEvent::StartTls`].
    pub fn tls_started(&mut self, now: I) {
        self.login.tls_started(&mut self.out, now);
    }

    /// The connection status, as `oic.ra.xmpp` shows it.
    #[must_use]
    pub fn status(&self) -> &ConnectionStatus {
        &self.state.status
    }

    /// The RAEs online (the full JIDs on presence that follow 7.1.1, found
    /// by [`discover`](crate::identity::discover)), with their priority.
    #[must_use]
    pub fn peers(&self) -> Vec<(RaeJid, i8)> {
        let online: Vec<(FullJid, i8)> = self
            .state
            .presence
            .all()
            .filter_map(|(bare, resource, p)| {
                FullJid::new(&format!("{bare}/{resource}"))
                    .ok()
                    .map(|j| (j, p))
            })
            .filter(|(j, _)| j != self.state.config.jid.jid())
            .collect();
        crate::identity::discover(online.iter().map(|(j, _)| j))
            .filter_map(|rae| {
                let priority = online.iter().find(|(j, _)| j == rae.jid())?.1;
                Some((rae, priority))
            })
            .collect()
    }

    /// The roster.
    #[must_use]
    pub fn roster(&self) -> &Roster {
        &self.state.roster
    }

    /// Sends a CRUDN request to another RAE (7.3.1).
    ///
    /// # Errors
    ///
    /// As [`Endpoint::request`](crate::endpoint::Endpoint::request).
    pub fn request(
        &mut self,
        now: I,
        to: &FullJid,
        message: &RestMessage,
    ) -> Result<RequestId, EndpointError> {
        let (state, mut wire) = self.wire();
        state.endpoint.request(&mut wire, now, to, message)
    }

    /// Answers a request (or notifies an observe).
    ///
    /// # Errors
    ///
    /// As [`Endpoint::respond`](crate::endpoint::Endpoint::respond).
    pub fn respond(
        &mut self,
        now: I,
        id: RequestId,
        message: &RestMessage,
    ) -> Result<(), EndpointError> {
        let (state, mut wire) = self.wire();
        state.endpoint.respond(&mut wire, now, id, message)
    }

    /// Sends a stanza of the caller's (a subscription request or answer,
    /// say); dropped when the connection is not online.
    pub fn send(&mut self, stanza: &Stanza) {
        self.wire().1.write(stanza);
    }

    /// Leaves: unavailable presence, then the stream's close.
    pub fn close(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        let unavailable =
            Stanza::new(StanzaKind::Presence).with_type(PresenceType::Unavailable.as_str());
        let (state, mut wire) = self.wire();
        if state.lost.is_some() {
            // No connection to close: the RAE leaves at once.
            state.fail(&mut wire, iot_sansio::End::Closed);
            return;
        }
        wire.write(&unavailable);
        if let Some(end) = wire.login.close(wire.out, now) {
            state.connection_ended(&mut wire, now, end);
        }
    }
}

/// Sets the status, reporting a change.
fn set_status(
    current: &mut ConnectionStatus,
    out: &mut Outbox<Vec<u8>, RaeEvent>,
    status: ConnectionStatus,
) {
    if *current != status {
        *current = status.clone();
        out.event(RaeEvent::Status(status));
    }
}

impl<I: Instant, R: CryptoRngCore> Wire<'_, I, R> {
    /// Writes a stanza over the connection; dropped when it is not
    /// online.
    fn write(&mut self, stanza: &Stanza) {
        let _ = self.login.send(self.out, stanza);
    }
}

impl<I: Instant, R: CryptoRngCore, S: CryptoRngCore> Machine for Rae<I, R, S> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = RaeEvent;

    /// Takes bytes from the server (after TLS, the decrypted ones), or the
    /// news that the transport closed: each stanza is handled as it is
    /// read.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        if self.out.is_ended() {
            return;
        }
        let Self {
            reader,
            login,
            out,
            state,
        } = self;
        login.read(reader, out, now, input, |login, out, event| {
            // An end found earlier in the same bytes leaves the rest
            // unread by the RAE.
            if !out.is_ended() {
                state.found(&mut Wire { login, out }, now, event);
            }
        });
    }

    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        let (state, mut wire) = self.wire();
        state.timeout(&mut wire, now);
        if let Some(end) = wire.login.timeout(now) {
            state.connection_ended(&mut wire, now, end);
        }
    }

    /// `None` once ended (the connection's own close may still wait for
    /// the server's answer, but the RAE is over).
    fn poll_timeout(&self) -> Option<I> {
        if self.out.is_ended() {
            return None;
        }
        [self.login.deadline(), self.state.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, RaeEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.out.recycle(buf);
    }
}
