//! The sans-IO Remote Access Endpoint: CRUDN messages (section 7.3.1)
//! carried over XEP-0047 In-Band Bytestream sessions, with request/response
//! correlation, Observe and per-request timeouts.
//!
//! The runtime's XMPP client hands every received stanza to
//! [`Endpoint::handle_stanza`], sends what [`Endpoint::poll_transmit`]
//! gives, reads [`Endpoint::poll_event`], and calls
//! [`Endpoint::handle_timeout`] when [`Endpoint::poll_timeout`] is due. The
//! same endpoint can be an RAE client and an RAE server at once.
//!
//! # The rules of this crate (recorded in `PROFILE.md`)
//!
//! * **One exchange per session.** A client opens a new IBB session (a
//!   fresh random `sid`) for each request, sends the request on it, and
//!   the server answers on the same session (IBB is bidirectional). The
//!   client closes the session when the response has come, so the `sid`
//!   is the correlation token and the `<rest>` payload needs no extra
//!   header.
//! * **Observe.** A `GET` with the header `Observe: 0` registers (the CoAP
//!   option of RFC 7641 written as a header, as 7.3.1 calls Observe an
//!   extended Retrieve). If the first response is a success (2xx), the
//!   session stays open and every later RESPONSE on it is a notification;
//!   the client deregisters by closing the session.
//! * **Message boundary.** A message starts at a new block; every block of
//!   it but the last has exactly the session's block size, and the last is
//!   shorter. A message whose length is a multiple of the block size ends
//!   with an empty block. A message that fits in one block is therefore
//!   one stanza, as 7.3.1 puts it.
//! * **What a message is.** The bytes of a message are the UTF-8 `<rest>`
//!   document; IBB's own base64 is the base64 7.3.1 asks for. A message
//!   whose bytes do not start with `<` is read as base64 of the document,
//!   for peers that encode twice.
//! * **Errors** follow XEP-0047: a data block for an unknown session gets
//!   `item-not-found`; a missing, duplicated or out-of-order `seq` gets
//!   `unexpected-request` and the session is closed; a block larger than
//!   the session's block size gets `not-acceptable` and the session is
//!   closed; an `<open/>` that asks for `iq` data stanzas, a block size
//!   above the configured maximum or a `sid` in use is refused.

use core::ops::Add;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};

use rand_core::{CryptoRng, RngCore};

use crate::ibb::{DataStanza, IbbPayload};
use crate::identity::{FullJid, Jid};
use crate::rest::{Method, RestError, RestLimits, RestMessage};
use crate::stanza::{Stanza, StanzaError, StanzaKind, StanzaLimits};

/// Settings of an [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The block size this endpoint asks for when it opens a session
    /// (default 16384; 7.3.1 allows up to 65535).
    pub block_size: u16,
    /// The largest block size it accepts when a peer opens a session
    /// (default 65535, the most 7.3.1 allows).
    pub max_block_size: u16,
    /// How long a request waits for its response, counted from
    /// [`Endpoint::request`] (default 30 s).
    pub request_timeout: Duration,
    /// The most sessions open at once, both directions (default 64); a
    /// peer's `<open/>` beyond it is refused with `resource-constraint`.
    pub max_sessions: usize,
    /// Limits on each reassembled `<rest>` document.
    pub rest_limits: RestLimits,
    /// Limits on each received stanza.
    pub stanza_limits: StanzaLimits,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            block_size: 16384,
            max_block_size: u16::MAX,
            request_timeout: Duration::from_secs(30),
            max_sessions: 64,
            rest_limits: RestLimits::default(),
            stanza_limits: StanzaLimits::default(),
        }
    }
}

/// Identifies one exchange: a request this endpoint sent, or one it
/// received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Why a request got no (further) response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// No response within [`EndpointConfig::request_timeout`].
    Timeout,
    /// The peer refused the session: the stanza error condition.
    Refused(String),
    /// The peer closed the session before responding (or, for an observe,
    /// ended the notifications).
    Closed,
    /// The peer's presence became unavailable (section 7.3, Table 4).
    PeerUnavailable,
    /// The session broke: a stanza error condition this endpoint sent or
    /// received (`unexpected-request` for a lost block, for instance).
    Session(String),
    /// The response was not a valid `<rest>` RESPONSE.
    Malformed(String),
}

/// What the endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A peer sent a request; answer with [`Endpoint::respond`].
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
    /// deregistered); [`Endpoint::respond`] now refuses that id.
    Ended {
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
        condition: &'static str,
    },
}

/// Why a call on the endpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// [`Endpoint::request`] with a RESPONSE.
    #[error("a request cannot have the method RESPONSE")]
    NotARequest,
    /// [`Endpoint::respond`] with something other than a RESPONSE.
    #[error("a response must have the method RESPONSE")]
    NotAResponse,
    /// No exchange with this id is waiting for an answer.
    #[error("no open exchange {0:?}")]
    UnknownRequest(RequestId),
    /// The exchange was answered and is not an observe.
    #[error("exchange {0:?} has been answered and is not observed")]
    AlreadyAnswered(RequestId),
    /// As many sessions as [`EndpointConfig::max_sessions`] are open.
    #[error("{0} sessions are open already")]
    TooManySessions(usize),
    /// The message does not fit the document limit.
    #[error(transparent)]
    Rest(#[from] RestError),
    /// A received stanza could not be read.
    #[error(transparent)]
    Stanza(#[from] StanzaError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// This endpoint opened the session and sent the request.
    Client,
    /// The peer opened it; this endpoint answers.
    Server,
}

#[derive(Debug)]
struct Session<I> {
    side: Side,
    id: RequestId,
    block_size: u16,
    open: bool,
    send_seq: u16,
    recv_seq: u16,
    rx: Vec<u8>,
    /// Encoded messages waiting for the session to open.
    queued: Vec<Vec<u8>>,
    /// Client: when the request gives up waiting for its response.
    deadline: Option<I>,
    /// A response (client: received; server: sent) has been exchanged.
    answered: bool,
    /// The request registered an observe.
    observe: bool,
    /// A request has arrived (server side).
    requested: bool,
}

impl<I> Session<I> {
    /// A session with nothing sent or received yet.
    fn new(side: Side, id: RequestId, block_size: u16) -> Self {
        Self {
            side,
            id,
            block_size,
            open: side == Side::Server,
            send_seq: 0,
            recv_seq: 0,
            rx: Vec::new(),
            queued: Vec::new(),
            deadline: None,
            answered: false,
            observe: false,
            requested: false,
        }
    }
}

type Key = (FullJid, String);

/// How many unanswered `<close/>`s are remembered.
const MAX_PENDING_CLOSES: usize = 256;

/// One Remote Access Endpoint's side of every IBB session (see the module
/// documentation for the rules).
///
/// `I` is the runtime's instant type (`std::time::Instant`, a tick
/// counter): any `Copy + Ord` type to which a [`Duration`] adds.
///
/// ```
/// use std::time::{Duration, Instant};
/// use oic_ra_proto::endpoint::{Endpoint, Event};
/// use oic_ra_proto::identity::FullJid;
/// use oic_ra_proto::rest::{Method, RestMessage};
/// # use rand_core::{RngCore, CryptoRng, impls};
/// # struct Rng(u64);
/// # impl RngCore for Rng {
/// #     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
/// #     fn next_u64(&mut self) -> u64 { self.0 += 1; self.0 }
/// #     fn fill_bytes(&mut self, d: &mut [u8]) { impls::fill_bytes_via_next(self, d) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { self.fill_bytes(d); Ok(()) }
/// # }
/// # impl CryptoRng for Rng {}
///
/// let client_jid = FullJid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")?;
/// let server_jid = FullJid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")?;
/// let mut client = Endpoint::new(Default::default());
/// let mut server: Endpoint<Instant> = Endpoint::new(Default::default());
/// let now = Instant::now();
/// let mut rng = Rng(0);
///
/// let get = RestMessage::request(Method::Get, "coap://light/a/switch");
/// let id = client.request(server_jid.clone(), &get, now, &mut rng)?;
///
/// // Carry stanzas both ways, setting `from` as an XMPP server would.
/// loop {
///     let mut moved = false;
///     while let Some(s) = client.poll_transmit() {
///         server.handle_stanza(&with_from(&s, &client_jid))?;
///         moved = true;
///     }
///     while let Some(s) = server.poll_transmit() {
///         client.handle_stanza(&with_from(&s, &server_jid))?;
///         moved = true;
///     }
///     while let Some(e) = server.poll_event() {
///         if let Event::Request { id, .. } = e {
///             let body = serde_json::json!({"rt": "oic.r.switch.binary", "value": true});
///             server.respond(id, &RestMessage::response(200, "OK").with_json(&body))?;
///         }
///     }
///     if !moved { break; }
/// }
/// let Some(Event::Response { id: got, message }) = client.poll_event() else { panic!() };
/// assert_eq!((got, message.status()), (id, Some(200)));
/// # fn with_from(s: &str, from: &FullJid) -> String {
/// #     s.replacen(" xmlns=\"jabber:client\"", &format!(" xmlns=\"jabber:client\" from=\"{from}\""), 1)
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Endpoint<I> {
    config: EndpointConfig,
    sessions: HashMap<Key, Session<I>>,
    by_id: HashMap<RequestId, Key>,
    /// Our `<open/>`s waiting for an answer, by iq id.
    pending_opens: HashMap<String, Key>,
    /// Our recent `<close/>`s, by iq id, so their answers are recognised;
    /// the oldest are forgotten beyond [`MAX_PENDING_CLOSES`].
    pending_closes: VecDeque<String>,
    next_id: u64,
    transmit: VecDeque<String>,
    events: VecDeque<Event>,
}

impl<I> Endpoint<I>
where
    I: Copy + Ord + Add<Duration, Output = I>,
{
    /// An endpoint with no sessions.
    #[must_use]
    pub fn new(config: EndpointConfig) -> Self {
        Self {
            config,
            sessions: HashMap::new(),
            by_id: HashMap::new(),
            pending_opens: HashMap::new(),
            pending_closes: VecDeque::new(),
            next_id: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// How many sessions are open or opening.
    #[must_use]
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Sends a request to an RAE server: opens a session with a fresh
    /// random `sid` and sends the request once the peer accepts. The answer
    /// comes as [`Event::Response`] (then [`Event::Notification`]s for an
    /// observe) or [`Event::Failed`].
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotARequest`] for a RESPONSE,
    /// [`EndpointError::Rest`] for a message over the document limit,
    /// [`EndpointError::TooManySessions`].
    pub fn request<R: RngCore + CryptoRng>(
        &mut self,
        to: FullJid,
        message: &RestMessage,
        now: I,
        rng: &mut R,
    ) -> Result<RequestId, EndpointError> {
        if message.method == Method::Response {
            return Err(EndpointError::NotARequest);
        }
        let bytes = self.encode(message)?;
        if self.sessions.len() >= self.config.max_sessions {
            return Err(EndpointError::TooManySessions(self.sessions.len()));
        }
        let observe = is_observe(message);
        let sid = loop {
            let mut raw = [0u8; 12];
            rng.fill_bytes(&mut raw);
            let sid: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            if !self.sessions.contains_key(&(to.clone(), sid.clone())) {
                break sid;
            }
        };
        let id = self.new_id();
        let key = (to.clone(), sid.clone());
        let iq_id = self.iq_id();
        let open = IbbPayload::Open {
            sid,
            block_size: self.config.block_size,
            stanza: DataStanza::Message,
        };
        self.transmit.push_back(open.to_stanza(to, &iq_id).to_xml());
        self.pending_opens.insert(iq_id, key.clone());
        let mut session = Session::new(Side::Client, id, self.config.block_size);
        session.queued.push(bytes);
        session.deadline = Some(now + self.config.request_timeout);
        session.observe = observe;
        session.requested = true;
        self.sessions.insert(key.clone(), session);
        self.by_id.insert(id, key);
        Ok(id)
    }

    /// Answers a request received as [`Event::Request`]; for an observe
    /// whose first answer was a success, each later call sends a
    /// notification.
    ///
    /// # Errors
    ///
    /// [`EndpointError::NotAResponse`], [`EndpointError::UnknownRequest`]
    /// (never received, or ended by the peer),
    /// [`EndpointError::AlreadyAnswered`] for a second answer to a plain
    /// request, [`EndpointError::Rest`] for a message over the limit.
    pub fn respond(&mut self, id: RequestId, message: &RestMessage) -> Result<(), EndpointError> {
        if message.method != Method::Response {
            return Err(EndpointError::NotAResponse);
        }
        let bytes = self.encode(message)?;
        let key = self
            .by_id
            .get(&id)
            .cloned()
            .ok_or(EndpointError::UnknownRequest(id))?;
        let session = self
            .sessions
            .get_mut(&key)
            .filter(|s| s.side == Side::Server)
            .ok_or(EndpointError::UnknownRequest(id))?;
        if session.answered && !session.observe {
            return Err(EndpointError::AlreadyAnswered(id));
        }
        if !session.answered {
            session.answered = true;
            session.observe &= is_success(message);
        }
        self.send_bytes(&key, bytes);
        Ok(())
    }

    /// Ends an exchange this endpoint started: for an observe, deregisters
    /// by closing the session; for a request still waiting, gives up
    /// without an event.
    ///
    /// # Errors
    ///
    /// [`EndpointError::UnknownRequest`] when it is not open.
    pub fn cancel(&mut self, id: RequestId) -> Result<(), EndpointError> {
        let key = self
            .by_id
            .get(&id)
            .filter(|k| {
                self.sessions
                    .get(*k)
                    .is_some_and(|s| s.side == Side::Client)
            })
            .cloned()
            .ok_or(EndpointError::UnknownRequest(id))?;
        self.close(&key);
        Ok(())
    }

    /// Ends every session with a peer whose presence became unavailable
    /// (Table 4): its pending requests fail with
    /// [`Failure::PeerUnavailable`], its exchanges end.
    pub fn peer_unavailable(&mut self, peer: &FullJid) {
        let keys: Vec<Key> = self
            .sessions
            .keys()
            .filter(|(p, _)| p == peer)
            .cloned()
            .collect();
        for key in keys {
            self.drop_session(&key, Failure::PeerUnavailable);
        }
    }

    /// The next stanza to send, as XML text.
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Endpoint::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        self.sessions.values().filter_map(|s| s.deadline).min()
    }

    /// Fails every request whose response is overdue and closes its
    /// session.
    pub fn handle_timeout(&mut self, now: I) {
        let due: Vec<Key> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.deadline.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            if let Some(s) = self.sessions.get(&key) {
                self.events.push_back(Event::Failed {
                    id: s.id,
                    reason: Failure::Timeout,
                });
            }
            self.close(&key);
        }
    }

    /// Reads a received stanza.
    ///
    /// Returns `Ok(false)` for a stanza that is not about In-Band
    /// Bytestreams (the runtime handles it elsewhere: presence, roster,
    /// ping), `Ok(true)` when it was handled (including protocol errors,
    /// which are answered and reported as [`Event::ProtocolError`]).
    ///
    /// # Errors
    ///
    /// [`EndpointError::Stanza`] when the text is not a stanza.
    pub fn handle_stanza(&mut self, xml: &str) -> Result<bool, EndpointError> {
        let stanza = Stanza::parse(xml, &self.config.stanza_limits)?;
        Ok(self.handle(&stanza))
    }

    /// As [`Endpoint::handle_stanza`], for a stanza already parsed.
    pub fn handle(&mut self, stanza: &Stanza) -> bool {
        match stanza.kind {
            StanzaKind::Iq => self.handle_iq(stanza),
            StanzaKind::Message => self.handle_message(stanza),
            StanzaKind::Presence => false,
        }
    }

    fn handle_iq(&mut self, stanza: &Stanza) -> bool {
        match stanza.type_str() {
            "result" | "error" => {
                let Some(id) = stanza.id.as_deref() else {
                    return false;
                };
                if let Some(i) = self.pending_closes.iter().position(|c| c == id) {
                    self.pending_closes.remove(i);
                    return true;
                }
                // Only the peer the open went to may answer it.
                let Some(key) = self
                    .pending_opens
                    .get(id)
                    .filter(|k| stanza.from.as_ref().is_none_or(|f| *f == k.0))
                    .cloned()
                else {
                    return false;
                };
                self.pending_opens.remove(id);
                if stanza.type_str() == "result" {
                    self.opened(&key);
                } else {
                    let condition = stanza
                        .error()
                        .map_or_else(|| "undefined-condition".to_owned(), |e| e.condition);
                    self.drop_session(&key, Failure::Refused(condition));
                }
                true
            }
            "set" => {
                let payload = match IbbPayload::from_stanza(stanza) {
                    Err(crate::ibb::IbbError::NotIbb) => return false,
                    Err(_) => {
                        self.reply_error(stanza, "modify", "bad-request", String::new());
                        return true;
                    }
                    Ok(p) => p,
                };
                let Some(peer) = full_from(stanza) else {
                    self.reply_error(stanza, "modify", "bad-request", payload.sid().to_owned());
                    return true;
                };
                match payload {
                    IbbPayload::Open {
                        sid,
                        block_size,
                        stanza: kind,
                    } => self.peer_opens(stanza, peer, sid, block_size, kind),
                    IbbPayload::Close { sid } => {
                        let key = (peer, sid);
                        if self.sessions.contains_key(&key) {
                            self.transmit.push_back(stanza.result_reply().to_xml());
                            self.drop_session(&key, Failure::Closed);
                        } else {
                            self.reply_error(stanza, "cancel", "item-not-found", key.1);
                        }
                    }
                    IbbPayload::Data { sid, .. } => {
                        // 7.3.1: data travels in message stanzas only.
                        self.reply_error(stanza, "cancel", "not-acceptable", sid.clone());
                        self.close(&(peer, sid));
                    }
                }
                true
            }
            _ => false,
        }
    }

    fn peer_opens(
        &mut self,
        stanza: &Stanza,
        peer: FullJid,
        sid: String,
        block_size: u16,
        kind: DataStanza,
    ) {
        let key = (peer, sid);
        if kind != DataStanza::Message || self.sessions.contains_key(&key) {
            self.reply_error(stanza, "cancel", "not-acceptable", key.1);
            return;
        }
        if block_size > self.config.max_block_size
            || self.sessions.len() >= self.config.max_sessions
        {
            self.reply_error(stanza, "modify", "resource-constraint", key.1);
            return;
        }
        let id = self.new_id();
        self.transmit.push_back(stanza.result_reply().to_xml());
        self.sessions
            .insert(key.clone(), Session::new(Side::Server, id, block_size));
        self.by_id.insert(id, key);
    }

    fn handle_message(&mut self, stanza: &Stanza) -> bool {
        let payload = match IbbPayload::from_stanza(stanza) {
            Err(crate::ibb::IbbError::NotIbb) => return false,
            Err(_) if stanza.type_str() == "error" => return true,
            Err(_) => {
                if let (Some(peer), Some(sid)) = (
                    full_from(stanza),
                    stanza
                        .payloads
                        .iter()
                        .find(|p| p.ns == crate::ibb::IBB_NS)
                        .and_then(|p| p.get_attr("sid")),
                ) {
                    let key = (peer, sid.to_owned());
                    if self.sessions.contains_key(&key) {
                        self.protocol_error(stanza, &key, "bad-request");
                        return true;
                    }
                }
                self.reply_error(stanza, "modify", "bad-request", String::new());
                return true;
            }
            Ok(p) => p,
        };
        let IbbPayload::Data { sid, seq, data } = payload else {
            // Open and close travel in iq stanzas.
            if stanza.type_str() != "error" {
                self.reply_error(stanza, "modify", "bad-request", String::new());
            }
            return true;
        };
        let Some(peer) = full_from(stanza) else {
            self.reply_error(stanza, "modify", "bad-request", sid);
            return true;
        };
        let key = (peer, sid);
        if stanza.type_str() == "error" {
            // The peer refused one of our blocks: the session is over.
            let condition = stanza
                .error()
                .map_or_else(|| "undefined-condition".to_owned(), |e| e.condition);
            if self.sessions.contains_key(&key) {
                self.drop_session(&key, Failure::Session(condition));
            }
            return true;
        }
        let Some(session) = self.sessions.get_mut(&key).filter(|s| s.open) else {
            self.reply_error(stanza, "cancel", "item-not-found", key.1);
            return true;
        };
        if seq != session.recv_seq {
            self.protocol_error(stanza, &key, "unexpected-request");
            return true;
        }
        if data.len() > usize::from(session.block_size) {
            self.protocol_error(stanza, &key, "not-acceptable");
            return true;
        }
        session.recv_seq = seq.wrapping_add(1);
        if session.rx.len() + data.len() > self.config.rest_limits.max_document_len {
            self.protocol_error(stanza, &key, "not-acceptable");
            return true;
        }
        session.rx.extend_from_slice(&data);
        if data.len() < usize::from(session.block_size) {
            let bytes = core::mem::take(&mut session.rx);
            self.message_complete(&key, &bytes);
        }
        true
    }

    fn message_complete(&mut self, key: &Key, bytes: &[u8]) {
        let parsed = decode_message(bytes, &self.config.rest_limits);
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        let id = session.id;
        match session.side {
            Side::Server => {
                let message = match parsed {
                    Ok(m) if m.method != Method::Response && !session.requested => m,
                    Ok(_) => {
                        // A response, or a second request: one exchange per
                        // session.
                        self.send_close_with(key, "unexpected-request");
                        return;
                    }
                    Err(_) => {
                        session.requested = true;
                        session.answered = true;
                        let reply = RestMessage::response(400, "Bad Request");
                        self.send_bytes(key, reply.to_xml().into_bytes());
                        return;
                    }
                };
                session.requested = true;
                session.observe = is_observe(&message);
                self.events.push_back(Event::Request {
                    id,
                    from: key.0.clone(),
                    observe: session.observe,
                    message,
                });
            }
            Side::Client => {
                let message = match parsed {
                    Ok(m) if m.method == Method::Response => m,
                    Ok(_) => {
                        self.events.push_back(Event::Failed {
                            id,
                            reason: Failure::Malformed("a request where a response was due".into()),
                        });
                        self.close(key);
                        return;
                    }
                    Err(e) => {
                        self.events.push_back(Event::Failed {
                            id,
                            reason: Failure::Malformed(e.to_string()),
                        });
                        self.close(key);
                        return;
                    }
                };
                if session.answered {
                    self.events.push_back(Event::Notification { id, message });
                    return;
                }
                session.answered = true;
                session.deadline = None;
                let keep = session.observe && is_success(&message);
                session.observe = keep;
                self.events.push_back(Event::Response { id, message });
                if !keep {
                    self.close(key);
                }
            }
        }
    }

    /// The peer accepted our open: send what waited.
    fn opened(&mut self, key: &Key) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        session.open = true;
        let queued = core::mem::take(&mut session.queued);
        for bytes in queued {
            self.send_bytes(key, bytes);
        }
    }

    /// Splits an encoded message into blocks (see the module
    /// documentation) and queues them, or keeps it until the session opens.
    fn send_bytes(&mut self, key: &Key, bytes: Vec<u8>) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        if !session.open {
            session.queued.push(bytes);
            return;
        }
        let block = usize::from(session.block_size);
        let mut chunks: Vec<&[u8]> = bytes.chunks(block).collect();
        if bytes.len() % block == 0 {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let seq = session.send_seq;
            session.send_seq = seq.wrapping_add(1);
            let data = IbbPayload::Data {
                sid: key.1.clone(),
                seq,
                data: chunk.to_vec(),
            };
            let id = format!("d{}-{}", key.1, seq);
            self.transmit
                .push_back(data.to_stanza(key.0.clone(), &id).to_xml());
        }
    }

    /// A received stanza broke the rules of a session: answer it with the
    /// condition, report, and close the session.
    fn protocol_error(&mut self, stanza: &Stanza, key: &Key, condition: &'static str) {
        // Echo the IBB element without its data, so the peer knows which
        // session broke.
        let echo = stanza
            .payloads
            .iter()
            .find(|p| p.ns == crate::ibb::IBB_NS)
            .map(|p| crate::stanza::Element {
                text: String::new(),
                children: Vec::new(),
                ..p.clone()
            });
        self.transmit
            .push_back(stanza.error_reply_with(echo, "cancel", condition).to_xml());
        self.events.push_back(Event::ProtocolError {
            peer: Some(Jid::from(key.0.clone())),
            sid: key.1.clone(),
            condition,
        });
        if let Some(s) = self.sessions.get(key)
            && s.side == Side::Client
        {
            self.events.push_back(Event::Failed {
                id: s.id,
                reason: Failure::Session(condition.to_owned()),
            });
        }
        self.close(key);
    }

    fn send_close_with(&mut self, key: &Key, condition: &'static str) {
        self.events.push_back(Event::ProtocolError {
            peer: Some(Jid::from(key.0.clone())),
            sid: key.1.clone(),
            condition,
        });
        self.close(key);
    }

    /// Answers a stanza with an error and reports it.
    fn reply_error(
        &mut self,
        stanza: &Stanza,
        error_type: &str,
        condition: &'static str,
        sid: String,
    ) {
        self.transmit
            .push_back(stanza.error_reply(error_type, condition).to_xml());
        self.events.push_back(Event::ProtocolError {
            peer: stanza.from.clone(),
            sid,
            condition,
        });
    }

    /// Sends `<close/>` and forgets the session (its exchange ends without
    /// another event).
    fn close(&mut self, key: &Key) {
        if self.forget(key).is_some() {
            let iq_id = self.iq_id();
            let close = IbbPayload::Close { sid: key.1.clone() };
            self.transmit
                .push_back(close.to_stanza(key.0.clone(), &iq_id).to_xml());
            if self.pending_closes.len() == MAX_PENDING_CLOSES {
                self.pending_closes.pop_front();
            }
            self.pending_closes.push_back(iq_id);
        }
    }

    /// Removes a session and everything that refers to it.
    fn forget(&mut self, key: &Key) -> Option<Session<I>> {
        let s = self.sessions.remove(key)?;
        self.by_id.remove(&s.id);
        self.pending_opens.retain(|_, k| k != key);
        Some(s)
    }

    /// Forgets a session the peer ended, reporting what it ends.
    fn drop_session(&mut self, key: &Key, reason: Failure) {
        let Some(s) = self.forget(key) else {
            return;
        };
        match s.side {
            Side::Client if !s.answered || s.observe => {
                self.events.push_back(Event::Failed { id: s.id, reason });
            }
            Side::Server if s.requested && (!s.answered || s.observe) => {
                self.events.push_back(Event::Ended { id: s.id });
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

    fn iq_id(&mut self) -> String {
        self.next_id += 1;
        format!("ibb{}", self.next_id)
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

fn full_from(stanza: &Stanza) -> Option<FullJid> {
    stanza.from.clone()?.try_into_full().ok()
}
