//! A Remote Access Endpoint on its own XMPP connection (sections 7.1 to
//! 7.4): the login with its 7.1.1 full JID, the role's presence priority,
//! the bound JID checked, the XEP-0199 keepalive on the stream, the
//! presence of the other RAEs, the CRUDN endpoint, and the connection
//! mirrored into the `oic.ra.xmpp` status (Figure 4): each
//! [`RaeEvent::Status`] is what
//! [`RaResources::mirror`](crate::resource::RaResources::mirror) takes, so
//! that the resources an RAE server serves show its connection and notify
//! their observers (the `rae_light` example serves them so).

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing, Secret};
use iot_xmpp::presence::{PresenceChange, PresenceTracker};
use iot_xmpp::roster::{Roster, RosterChange, RosterQuery};
use iot_xmpp::stream::{Client, ClientConfig, ClientEvent, ClientFault, ClientRefusal};
use iot_xmpp::{IqFailure, IqType, PresenceType, Requests, Stanza, StanzaKind, StanzaLimits};
use rand_core::CryptoRngCore;

use crate::endpoint::{Endpoint, EndpointConfig, EndpointError, EndpointEvent, RequestId};
use crate::identity::{FullJid, RaeJid};
use crate::ping::{Keepalive, KeepaliveConfig};
use crate::presence::{Presence, PresenceError, PriorityClass};
use crate::resource::ConnectionStatus;
use crate::rest::RestMessage;

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
    /// Start TLS on the transport, then call [`Rae::tls_started`].
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
    /// application sent with [`Rae::send`]. An `iq` request (get or set)
    /// the RAE does not handle never comes here: it is answered
    /// `service-unavailable` (RFC 6120 8.4), as no one else would answer
    /// it.
    Stanza(Stanza),
    /// The connection ended, once.
    Ended(RaeEnd),
}

/// A Remote Access Endpoint on its own XMPP connection, under the
/// family's contract: bytes in and out (TLS is the runtime's, on
/// [`RaeEvent::StartTls`]), CRUDN through [`Rae::request`] and
/// [`Rae::respond`].
#[derive(Debug)]
pub struct Rae<I, R, S> {
    config: RaeConfig,
    conn: Client<I, R>,
    endpoint: Endpoint<I, S>,
    keepalive: Option<Keepalive<I>>,
    roster: Roster,
    presence: PresenceTracker,
    status: ConnectionStatus,
    /// The RAE's own `iq` requests waiting for answers: the roster.
    asked: Requests<I, Asked>,
    out: Outbox<Vec<u8>, RaeEvent>,
    limits: StanzaLimits,
}

/// What one of the RAE's own `iq` requests asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The roster (RFC 6121 2.1.3).
    Roster,
}

impl<I: Instant, R: CryptoRngCore, S: CryptoRngCore> Rae<I, R, S> {
    /// An RAE that has not connected; its login nonces come from
    /// `login_rng`, its session ids from `endpoint_rng`.
    #[must_use]
    pub fn new(config: RaeConfig, login_rng: R, endpoint_rng: S) -> Self {
        let limits = config.connection.limits;
        Self {
            conn: Client::new(config.connection.clone(), login_rng),
            endpoint: Endpoint::new(config.endpoint.clone(), endpoint_rng),
            config,
            keepalive: None,
            roster: Roster::new(),
            presence: PresenceTracker::new(),
            status: ConnectionStatus::NotInitialized,
            asked: Requests::new("roster"),
            out: Outbox::new(),
            limits,
        }
    }

    /// Connects: the status becomes `Connecting`.
    pub fn start(&mut self, now: I) {
        if self.status == ConnectionStatus::NotInitialized {
            self.set_status(ConnectionStatus::Connecting);
            self.conn.start(now);
            self.pump(now);
        }
    }

    /// The runtime started TLS after [`RaeEvent::StartTls`].
    pub fn tls_started(&mut self, now: I) {
        self.conn.tls_started(now);
        self.pump(now);
    }

    /// The connection status, as `oic.ra.xmpp` shows it.
    #[must_use]
    pub fn status(&self) -> &ConnectionStatus {
        &self.status
    }

    /// The RAEs online (the full JIDs on presence that follow 7.1.1, found
    /// by [`discover`](crate::identity::discover)), with their priority.
    #[must_use]
    pub fn peers(&self) -> Vec<(RaeJid, i8)> {
        let online: Vec<(FullJid, i8)> = self
            .presence
            .all()
            .filter_map(|(bare, resource, p)| {
                FullJid::new(&format!("{bare}/{resource}"))
                    .ok()
                    .map(|j| (j, p))
            })
            .filter(|(j, _)| j != self.config.jid.jid())
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
        &self.roster
    }

    /// Sends a CRUDN request to another RAE (7.3.1).
    ///
    /// # Errors
    ///
    /// As [`Endpoint::request`].
    pub fn request(
        &mut self,
        now: I,
        to: &FullJid,
        message: &RestMessage,
    ) -> Result<RequestId, EndpointError> {
        let id = self.endpoint.request(now, to, message)?;
        self.pump(now);
        Ok(id)
    }

    /// Answers a request (or notifies an observe).
    ///
    /// # Errors
    ///
    /// As [`Endpoint::respond`].
    pub fn respond(
        &mut self,
        now: I,
        id: RequestId,
        message: &RestMessage,
    ) -> Result<(), EndpointError> {
        self.endpoint.respond(now, id, message)?;
        self.pump(now);
        Ok(())
    }

    /// Sends a stanza of the caller's (a subscription request or answer,
    /// say); dropped when the connection is not online.
    pub fn send(&mut self, stanza: &Stanza) {
        let _ = self.conn.send(stanza);
    }

    /// Leaves: unavailable presence, then the stream's close.
    pub fn close(&mut self, now: I) {
        if self.conn.is_online() {
            let _ = self.conn.send(
                &Stanza::new(StanzaKind::Presence).with_type(PresenceType::Unavailable.as_str()),
            );
        }
        self.conn.close(now);
        self.pump(now);
    }

    fn set_status(&mut self, status: ConnectionStatus) {
        if self.status != status {
            self.status = status.clone();
            self.out.event(RaeEvent::Status(status));
        }
    }

    /// Moves everything between the connection, the endpoint and the
    /// keepalive, until nothing moves.
    fn pump(&mut self, now: I) {
        loop {
            let mut moved = false;
            while let Some(bytes) = self.conn.poll_transmit() {
                self.out.send(bytes);
            }
            while let Some(event) = self.conn.poll_event() {
                moved = true;
                self.connection_event(now, event);
            }
            while let Some(stanza) = self.endpoint.poll_transmit() {
                moved = true;
                let _ = self.conn.send(&stanza);
            }
            while let Some(event) = self.endpoint.poll_event() {
                self.out.event(RaeEvent::Endpoint(event));
            }
            if let Some(k) = &mut self.keepalive {
                while let Some(stanza) = k.poll_transmit() {
                    moved = true;
                    let _ = self.conn.send(&stanza);
                }
                if let Some(crate::ping::KeepaliveEvent::Ended(End::TimedOut)) = k.poll_event() {
                    // 7.4: the server did not answer the ping: the
                    // connection is gone, whatever TCP says.
                    self.fail(now, End::TimedOut);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn connection_event(&mut self, now: I, event: ClientEvent) {
        match event {
            ClientEvent::StartTls => self.out.event(RaeEvent::StartTls),
            ClientEvent::Online { jid, .. } => {
                if &jid != self.config.jid.jid() {
                    self.conn.close(now);
                    self.fail(now, End::Refused(RaeRefusal::OtherResource { bound: jid }));
                    return;
                }
                self.set_status(ConnectionStatus::Connected);
                // RFC 6121 2.2: the roster first, then initial presence;
                // the roster request is answered in time like every iq.
                let id = self.asked.id();
                let _ = self.conn.send(&RosterQuery::get(&id, self.roster.ver()));
                let deadline = now + self.config.connection.timeout;
                self.asked.wait(id, Asked::Roster, deadline);
                if let Ok(presence) = Stanza::parse(&self.config.presence.to_xml(), &self.limits) {
                    let _ = self.conn.send(&presence);
                }
                self.keepalive = Some(Keepalive::new(now, self.config.keepalive, None));
            }
            ClientEvent::Stanza(stanza) => self.stanza(now, stanza),
            ClientEvent::Ended(end) => {
                let end = end.map(|f| f, RaeRefusal::Connection);
                self.fail(now, end);
            }
        }
    }

    fn stanza(&mut self, now: I, stanza: Stanza) {
        if let Some(k) = &mut self.keepalive {
            k.handle_input(now, Input::Data(&stanza));
            if crate::ping::is_ping(&stanza) {
                return;
            }
        }
        let own = self.config.jid.jid().clone();
        // Only the own account (or the server for it, without `from`)
        // answers the RAE's requests.
        let from_account = stanza
            .from
            .as_ref()
            .is_none_or(|f| f.node() == own.node() && f.domain() == own.domain());
        match stanza.kind {
            StanzaKind::Iq if from_account && self.asked.is_answer(&stanza) => {
                match self.asked.answer(&stanza) {
                    Some((Asked::Roster, Err(failure))) => {
                        self.out.event(RaeEvent::RosterFailed(failure));
                    }
                    Some((Asked::Roster, Ok(result))) => match self.roster.take_result(result) {
                        Ok(changes) => {
                            for change in changes {
                                self.out.event(RaeEvent::Roster(change));
                            }
                        }
                        Err(_) => self.out.event(RaeEvent::RosterFailed(IqFailure::Malformed)),
                    },
                    // An empty result: a versioned roster that did not
                    // change (RFC 6121 2.6.3), read as no change above.
                    None => {}
                }
            }
            StanzaKind::Iq
                if stanza.iq_type() == Some(IqType::Set) && RosterQuery::is_in(&stanza) =>
            {
                match self.roster.take_push(&stanza, &own) {
                    Ok((change, reply)) => {
                        let _ = self.conn.send(&reply);
                        self.out.event(RaeEvent::Roster(change));
                    }
                    // A push not from the own account is not processed
                    // (RFC 6121 2.1.6), nor a malformed one; it is still
                    // answered, as no one else will (RFC 6120 8.2.3).
                    Err(_) => self.refuse(&stanza),
                }
            }
            StanzaKind::Presence
                if iot_xmpp::presence::SubscriptionRequest::of(&stanza).is_some() =>
            {
                self.out.event(RaeEvent::Stanza(stanza));
            }
            StanzaKind::Presence => self.presence(&stanza, &own),
            _ if self.endpoint.take(now, &stanza) => {}
            StanzaKind::Iq if matches!(stanza.iq_type(), Some(IqType::Get | IqType::Set)) => {
                self.refuse(&stanza);
            }
            _ => self.out.event(RaeEvent::Stanza(stanza)),
        }
    }

    /// Answers an `iq` request no one here handles: `service-unavailable`
    /// (RFC 6120 8.4).
    fn refuse(&mut self, stanza: &Stanza) {
        let _ = self.conn.send(&stanza.error_reply(
            iot_xmpp::ErrorType::Cancel,
            iot_xmpp::DefinedCondition::ServiceUnavailable,
        ));
    }

    /// A presence: who came online or left, and the sessions of whoever
    /// left end. An unavailable presence from a bare JID (RFC 6121 probe
    /// semantics, during a subscription handshake) ends only the sessions
    /// of the account's resources the tracker does not know to be online.
    fn presence(&mut self, stanza: &Stanza, own: &FullJid) {
        match self.presence.take(stanza) {
            Some(PresenceChange::Online { jid, priority }) if jid != *own => {
                if let Ok(rae) = RaeJid::from_full(jid) {
                    self.out.event(RaeEvent::PeerOnline { jid: rae, priority });
                }
            }
            Some(PresenceChange::Offline(jid)) if jid != *own => {
                self.endpoint.peer_offline(&jid.clone().into(), |_| false);
                self.out.event(RaeEvent::PeerOffline(jid));
            }
            _ => {}
        }
        let gone = matches!(
            stanza.presence_type(),
            Some(PresenceType::Unavailable | PresenceType::Error)
        );
        if let Some(from) = stanza.from.as_ref().filter(|f| gone && f.is_bare()) {
            let tracker = &self.presence;
            self.endpoint
                .peer_offline(from, |peer| tracker.is_online(peer));
        }
    }

    /// The connection is over: the status shows why, the endpoint's
    /// exchanges fail, and the end is reported once.
    fn fail(&mut self, now: I, end: RaeEnd) {
        let reason = match &end {
            End::Closed => None,
            other => Some(other.to_string()),
        };
        if let Some(reason) = reason {
            self.set_status(ConnectionStatus::Error(reason));
        } else {
            self.set_status(ConnectionStatus::NotInitialized);
        }
        self.keepalive = None;
        self.asked.clear();
        let own = self.config.jid.jid().clone();
        for jid in self.presence.clear() {
            if jid != own {
                self.out.event(RaeEvent::PeerOffline(jid));
            }
        }
        self.endpoint.handle_input(now, Input::PeerClosed);
        while let Some(event) = self.endpoint.poll_event() {
            self.out.event(RaeEvent::Endpoint(event));
        }
        while self.endpoint.poll_transmit().is_some() {}
        // What the connection still has to say (its close) goes before
        // the end: nothing goes out after it.
        while let Some(bytes) = self.conn.poll_transmit() {
            self.out.send(bytes);
        }
        self.out.end(RaeEvent::Ended(end));
    }
}

impl<I: Instant, R: CryptoRngCore, S: CryptoRngCore> Machine for Rae<I, R, S> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = RaeEvent;

    /// Takes bytes from the server (after TLS, the decrypted ones), or the
    /// news that the transport closed.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        if self.out.is_ended() {
            return;
        }
        self.conn.handle_input(now, input);
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        for Asked::Roster in self.asked.expire(now) {
            self.out.event(RaeEvent::RosterFailed(IqFailure::TimedOut));
        }
        self.conn.handle_timeout(now);
        self.endpoint.handle_timeout(now);
        if let Some(k) = &mut self.keepalive {
            k.handle_timeout(now);
        }
        self.pump(now);
    }

    /// `None` once ended (the connection's own close may still wait for
    /// the server's answer, but the RAE is over).
    fn poll_timeout(&self) -> Option<I> {
        if self.out.is_ended() {
            return None;
        }
        [
            self.conn.poll_timeout(),
            self.endpoint.poll_timeout(),
            self.keepalive.as_ref().and_then(Machine::poll_timeout),
            self.asked.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, RaeEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        self.conn.recycle(buf);
    }
}
