//! The endpoint: the CRUDN exchange over the IBB transport.

use std::collections::HashMap;

use iot_sansio::{CryptoRngCore, Instant};
use iot_xmpp::{DefinedCondition, PresenceType, Stanza, StanzaOut};

use super::config::EndpointConfig;
use super::event::{EndpointError, EndpointEvent, Failure, RequestId};
use crate::identity::{FullJid, Jid};
use crate::rest::{Method, RestError, RestLimits, RestMessage};
use crate::transport::{IbbSessions, IbbTransportEvent, SessionId};

mod connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// This endpoint opened the session and sent the request.
    Client,
    /// The peer opened it; this endpoint answers.
    Server,
}

/// The exchange carried by one IBB session.
#[derive(Debug)]
struct Exchange<I> {
    side: Side,
    id: RequestId,
    /// Client: when the request gives up waiting for its response.
    /// Server: when the idle session is closed.
    deadline: Option<I>,
    /// A response (client: received; server: sent) has been exchanged.
    answered: bool,
    /// The request registered an observe.
    observe: bool,
    /// A request has arrived (server side).
    requested: bool,
    /// Client, observe: the peer and the request, to register the observe
    /// again on a new session.
    renew: Option<(FullJid, Vec<u8>)>,
    /// Client: this is an observe registered again; its first answer
    /// continues the notifications.
    renewing: bool,
}

impl<I> Exchange<I> {
    fn new(side: Side, id: RequestId) -> Self {
        Self {
            side,
            id,
            deadline: None,
            answered: false,
            observe: false,
            requested: false,
            renew: None,
            renewing: false,
        }
    }
}

/// The endpoint's logic as plain steps (ARCHITECTURE.md, "Composition"):
/// the exchanges over the IBB transport's steps, writing what they send
/// and report to the [`StanzaOut`] they are handed. [`Endpoint`](super::Endpoint)
/// runs them with an outbox of its own, the [`Rae`](crate::rae::Rae) over
/// its connection.
#[derive(Debug)]
pub(crate) struct Exchanges<I, R> {
    config: EndpointConfig,
    rng: R,
    transport: IbbSessions<I>,
    exchanges: HashMap<SessionId, Exchange<I>>,
    by_id: HashMap<RequestId, SessionId>,
    next_id: u64,
    /// The connection ended: no new request.
    disconnected: bool,
    /// Observes of the last session, to register again on the next:
    /// their ids, peers and requests.
    renewals: Vec<(RequestId, FullJid, Vec<u8>)>,
}

/// A writer for the transport's steps: what they send goes out, what they
/// find is kept for the endpoint to act on once the step returns.
struct Found<'a, O> {
    out: &'a mut O,
    found: Vec<IbbTransportEvent>,
}

impl<O: StanzaOut<EndpointEvent>> StanzaOut<IbbTransportEvent> for Found<'_, O> {
    fn send(&mut self, stanza: Stanza) {
        self.out.send(stanza);
    }

    fn event(&mut self, event: IbbTransportEvent) {
        self.found.push(event);
    }
}

impl<I: Instant, R: CryptoRngCore> Exchanges<I, R> {
    /// No exchanges; session ids come from `rng`.
    pub(crate) fn new(config: EndpointConfig, rng: R) -> Self {
        Self {
            transport: IbbSessions::new(config.transport()),
            config,
            rng,
            exchanges: HashMap::new(),
            by_id: HashMap::new(),
            next_id: 0,
            disconnected: false,
            renewals: Vec::new(),
        }
    }

    /// Runs a step of the transport, then acts on what it found.
    fn transport<O: StanzaOut<EndpointEvent>, T>(
        &mut self,
        out: &mut O,
        now: I,
        step: impl FnOnce(&mut IbbSessions<I>, &mut Found<'_, O>) -> T,
    ) -> T {
        let mut found = Found {
            out,
            found: Vec::new(),
        };
        let result = step(&mut self.transport, &mut found);
        let found = found.found;
        for event in found {
            self.act(out, now, event);
        }
        result
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// How many sessions are open or opening.
    pub(crate) fn session_count(&self) -> usize {
        self.transport.len()
    }

    /// Sends a request to an RAE server: opens a session with a fresh
    /// random `sid` and sends the request once the peer accepts. The answer
    /// comes as [`EndpointEvent::Response`] (then [`EndpointEvent::Notification`]s for an
    /// observe) or [`EndpointEvent::Failed`].
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotARequest`] for a RESPONSE,
    /// [`EndpointError::Rest`] for a message over the document limit,
    /// [`EndpointError::TooManySessions`], [`EndpointError::Closed`] after
    /// the connection ended.
    pub(crate) fn request(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        to: &FullJid,
        message: &RestMessage,
    ) -> Result<RequestId, EndpointError> {
        if self.disconnected {
            return Err(EndpointError::Closed);
        }
        if message.method == Method::Response {
            return Err(EndpointError::NotARequest);
        }
        let bytes = self.encode(message)?;
        if self.transport.len() >= self.config.max_sessions {
            return Err(EndpointError::TooManySessions(self.transport.len()));
        }
        let id = self.new_id();
        let mut exchange = Exchange::new(Side::Client, id);
        exchange.observe = is_observe(message);
        if exchange.observe {
            exchange.renew = Some((to.clone(), bytes.clone()));
        }
        self.open(out, now, to, bytes, exchange);
        Ok(id)
    }

    /// Opens a session to `to` with a fresh random `sid`, sends `bytes`
    /// once the peer accepts, and keeps `exchange` (a client's) for it.
    fn open(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        to: &FullJid,
        bytes: Vec<u8>,
        mut exchange: Exchange<I>,
    ) {
        let key = loop {
            let mut raw = [0u8; 12];
            self.rng.fill_bytes(&mut raw);
            let key = (to.clone(), raw.iter().map(|b| format!("{b:02x}")).collect());
            if !self.transport.contains(&key) {
                break key;
            }
        };
        let block_size = self.config.block_size;
        self.transport(out, now, |t, out| {
            t.open(out, now, key.clone(), block_size);
            t.send(out, &key, bytes);
        });
        exchange.deadline = Some(now + self.config.request_timeout);
        exchange.requested = true;
        self.by_id.insert(exchange.id, key.clone());
        self.exchanges.insert(key, exchange);
    }

    /// Answers a request received as [`EndpointEvent::Request`]; for an observe
    /// whose first answer was a success, each later call sends a
    /// notification.
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotAResponse`], [`EndpointError::UnknownRequest`]
    /// (never received, or ended by the peer),
    /// [`EndpointError::AlreadyAnswered`] for a second answer to a plain
    /// request, [`EndpointError::Rest`] for a message over the limit.
    pub(crate) fn respond(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        id: RequestId,
        message: &RestMessage,
    ) -> Result<(), EndpointError> {
        if message.method != Method::Response {
            return Err(EndpointError::NotAResponse);
        }
        let bytes = self.encode(message)?;
        let key = self
            .by_id
            .get(&id)
            .ok_or(EndpointError::UnknownRequest(id))?;
        let exchange = self
            .exchanges
            .get_mut(key)
            .filter(|x| x.side == Side::Server)
            .ok_or(EndpointError::UnknownRequest(id))?;
        if exchange.answered && !exchange.observe {
            return Err(EndpointError::AlreadyAnswered(id));
        }
        if !exchange.answered {
            exchange.answered = true;
            exchange.observe &= is_success(message);
            // Answered: idle from now, or, carrying an observe, closed at
            // the end of its lifetime.
            let after = if exchange.observe {
                self.config.observe_lifetime
            } else {
                self.config.idle_timeout
            };
            exchange.deadline = Some(now + after);
        }
        let key = key.clone();
        self.transport(out, now, |t, out| t.send(out, &key, bytes));
        Ok(())
    }

    /// Ends an exchange this endpoint started: for an observe, deregisters
    /// by closing the session; for a request still waiting, gives up
    /// without an event.
    ///
    /// # Errors
    ///
    /// [`EndpointError::UnknownRequest`] when it is not open.
    pub(crate) fn cancel(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        id: RequestId,
    ) -> Result<(), EndpointError> {
        let key = self
            .by_id
            .get(&id)
            .filter(|k| {
                self.exchanges
                    .get(*k)
                    .is_some_and(|x| x.side == Side::Client)
            })
            .cloned()
            .ok_or(EndpointError::UnknownRequest(id))?;
        self.close(out, now, &key);
        Ok(())
    }

    /// Reads a presence: an unavailable full JID ends its exchanges, a
    /// bare JID all of the account's (Table 4). An endpoint that knows who
    /// is online (the [`Rae`](crate::rae::Rae)) calls
    /// [`Endpoint::peer_offline`] instead.
    pub(crate) fn handle_presence(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        stanza: &Stanza,
    ) {
        if !matches!(
            stanza.presence_type(),
            Some(PresenceType::Unavailable | PresenceType::Error)
        ) {
            return;
        }
        if let Some(from) = &stanza.from {
            self.peer_offline(out, from, |_| false);
        }
    }

    /// Reads a received stanza, as [`Machine::handle_input`] does, but for
    /// presence; whether it was the endpoint's (an In-Band Bytestream
    /// stanza, answered or acted on). A stanza it was not is the caller's
    /// to handle or answer (RFC 6120 8.4).
    pub(crate) fn take(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        stanza: &Stanza,
    ) -> bool {
        self.transport(out, now, |t, out| t.take(out, now, stanza))
    }

    /// A peer went offline: its exchanges fail with
    /// [`Failure::PeerUnavailable`] and its sessions are forgotten. For a
    /// bare JID, the exchanges of every resource of the account for which
    /// `still_online` says no: a server sends an unavailable presence from
    /// the bare JID during a subscription handshake (RFC 6121 probe
    /// semantics) while a resource of it is online, and that resource's
    /// sessions go on.
    pub(crate) fn peer_offline(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        peer: &Jid,
        still_online: impl Fn(&FullJid) -> bool,
    ) {
        let gone: Vec<SessionId> = self
            .transport
            .keys()
            .filter(|(p, _)| match peer.try_as_full() {
                Ok(full) => p == full,
                Err(bare) => p.to_bare() == *bare && !still_online(p),
            })
            .cloned()
            .collect();
        for key in gone {
            self.transport.forget(&key);
            self.drop_exchange(out, &key, Failure::PeerUnavailable);
        }
    }

    /// Acts on what a step of the transport found.
    fn act(&mut self, out: &mut impl StanzaOut<EndpointEvent>, now: I, event: IbbTransportEvent) {
        match event {
            IbbTransportEvent::Opened(_) | IbbTransportEvent::Ended(_) => {}
            IbbTransportEvent::Accepted(key) => {
                let id = self.new_id();
                let mut exchange = Exchange::new(Side::Server, id);
                exchange.deadline = Some(now + self.config.idle_timeout);
                self.exchanges.insert(key.clone(), exchange);
                self.by_id.insert(id, key);
            }
            IbbTransportEvent::Message(key, bytes) => self.message_complete(out, now, &key, &bytes),
            IbbTransportEvent::Refused(key, c) => {
                self.drop_exchange(out, &key, Failure::Refused(c));
            }
            IbbTransportEvent::Closed(key) => self.drop_exchange(out, &key, Failure::Closed),
            IbbTransportEvent::Failed(key, c) => self.drop_exchange(out, &key, Failure::Session(c)),
            IbbTransportEvent::Broken(key, c) => {
                // Only the client learns: a server's exchange just ends.
                if let Some(x) = self.forget(&key)
                    && x.side == Side::Client
                {
                    out.event(EndpointEvent::Failed {
                        id: x.id,
                        reason: Failure::Session(c),
                    });
                }
            }
            IbbTransportEvent::ProtocolError {
                peer,
                sid,
                condition,
            } => out.event(EndpointEvent::ProtocolError {
                peer,
                sid,
                condition,
            }),
        }
    }

    fn message_complete(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        key: &SessionId,
        bytes: &[u8],
    ) {
        let parsed = decode_message(bytes, &self.config.rest_limits);
        // The observes this peer's account holds here, all its resources
        // together (at most the sessions open, a bounded count).
        let account = key.0.to_bare();
        let observes = self
            .exchanges
            .iter()
            .filter(|(k, x)| x.side == Side::Server && x.observe && k.0.to_bare() == account)
            .count();
        let Some(exchange) = self.exchanges.get_mut(key) else {
            return;
        };
        let id = exchange.id;
        match exchange.side {
            Side::Server => {
                let message = match parsed {
                    Ok(m) if m.method != Method::Response && !exchange.requested => m,
                    Ok(_) => {
                        // A response, or a second request: one exchange per
                        // session.
                        out.event(EndpointEvent::ProtocolError {
                            peer: Some(Jid::from(key.0.clone())),
                            sid: key.1.clone(),
                            condition: DefinedCondition::UnexpectedRequest,
                        });
                        self.close(out, now, key);
                        return;
                    }
                    Err(_) => {
                        exchange.requested = true;
                        exchange.answered = true;
                        exchange.deadline = Some(now + self.config.idle_timeout);
                        let reply = RestMessage::response(400, "Bad Request");
                        let reply = reply.to_xml().into_bytes();
                        self.transport(out, now, |t, out| t.send(out, key, reply));
                        return;
                    }
                };
                exchange.requested = true;
                exchange.observe =
                    is_observe(&message) && observes < self.config.max_observes_per_account;
                // Not idle: the request waits for this endpoint's answer.
                exchange.deadline = None;
                out.event(EndpointEvent::Request {
                    id,
                    from: key.0.clone(),
                    observe: exchange.observe,
                    message,
                });
            }
            Side::Client => self.response(out, now, key, parsed),
        }
    }

    /// A client's exchange received `parsed`: its response, or a
    /// notification of its observe.
    fn response(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        now: I,
        key: &SessionId,
        parsed: Result<RestMessage, RestError>,
    ) {
        let Some(exchange) = self.exchanges.get_mut(key) else {
            return;
        };
        let id = exchange.id;
        let message = match parsed {
            Ok(m) if m.method == Method::Response => m,
            other => {
                let why = match other {
                    Err(e) => e.to_string(),
                    Ok(_) => "a request where a response was due".into(),
                };
                out.event(EndpointEvent::Failed {
                    id,
                    reason: Failure::Malformed(why),
                });
                self.close(out, now, key);
                return;
            }
        };
        if exchange.renewing {
            // An observe registered again on a new session: its
            // answer is the next notification; a refusal ends the
            // notifications.
            exchange.renewing = false;
            exchange.deadline = None;
            let kept = is_success(&message);
            out.event(EndpointEvent::Notification { id, message });
            if !kept {
                out.event(EndpointEvent::Failed {
                    id,
                    reason: Failure::Closed,
                });
                self.close(out, now, key);
            }
            return;
        }
        if exchange.answered {
            out.event(EndpointEvent::Notification { id, message });
            return;
        }
        exchange.answered = true;
        exchange.deadline = None;
        let keep = exchange.observe && is_success(&message);
        exchange.observe = keep;
        out.event(EndpointEvent::Response { id, message });
        if !keep {
            self.close(out, now, key);
        }
    }

    /// Closes a session and forgets its exchange, without an event.
    fn close(&mut self, out: &mut impl StanzaOut<EndpointEvent>, now: I, key: &SessionId) {
        self.transport(out, now, |t, out| t.close(out, now, key));
        self.forget(key);
    }

    fn forget(&mut self, key: &SessionId) -> Option<Exchange<I>> {
        let x = self.exchanges.remove(key)?;
        self.by_id.remove(&x.id);
        Some(x)
    }

    /// Forgets an exchange whose session the peer ended, reporting what
    /// it ends.
    fn drop_exchange(
        &mut self,
        out: &mut impl StanzaOut<EndpointEvent>,
        key: &SessionId,
        reason: Failure,
    ) {
        let Some(x) = self.forget(key) else {
            return;
        };
        match x.side {
            Side::Client if !x.answered || x.observe => {
                out.event(EndpointEvent::Failed { id: x.id, reason });
            }
            Side::Server if x.requested && (!x.answered || x.observe) => {
                out.event(EndpointEvent::PeerEnded { id: x.id });
            }
            _ => {}
        }
    }

    /// The message as it travels: its `<rest>` document, within the
    /// document limit.
    fn encode(&self, message: &RestMessage) -> Result<Vec<u8>, EndpointError> {
        let bytes = message.to_xml().into_bytes();
        let max = self.config.rest_limits.max_document_len;
        if bytes.len() > max {
            return Err(RestError::TooLong {
                len: bytes.len(),
                max,
            }
            .into());
        }
        Ok(bytes)
    }

    fn new_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    /// The endpoint's randomness, lent to the RAE's reconnection policy.
    pub(crate) fn rng(&mut self) -> &mut R {
        &mut self.rng
    }
}

/// Whether a response is a success (2xx), which keeps an observe alive.
fn is_success(message: &RestMessage) -> bool {
    message.status().is_some_and(|c| (200..300).contains(&c))
}

/// Whether a request registers an observe: `GET` with `Observe: 0`.
#[must_use]
pub fn is_observe(message: &RestMessage) -> bool {
    message.method == Method::Get && message.header("Observe").is_some_and(|v| v.trim() == "0")
}

/// Reads a reassembled message: the `<rest>` document, or base64 of it.
fn decode_message(bytes: &[u8], limits: &RestLimits) -> Result<RestMessage, RestError> {
    let text = core::str::from_utf8(bytes).map_err(|_| RestError::Utf8)?;
    if text.trim_start().starts_with('<') {
        RestMessage::parse(text, limits)
    } else {
        RestMessage::from_base64(text, limits)
    }
}
