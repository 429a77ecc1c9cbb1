//! The XEP-0047 In-Band Bytestream transport under the CRUDN exchange of
//! [`crate::endpoint`]: sessions keyed by the peer's full JID and the
//! whole `sid`, `<open/>`/`<close/>` in `iq` stanzas, data blocks in
//! `message` stanzas (OIC RA 7.3.1), `seq` checked and wrapping at 65535,
//! messages cut into blocks and reassembled (the boundary rule is in the
//! [`crate::endpoint`] documentation and `PROFILE.md`), and the XEP-0047
//! errors. It knows nothing of `<rest>`; a message is a byte string, and
//! one of whole blocks is known to end when it is an XML document whose
//! root element closed (7.3.1's messages are).
//!
//! The transport is a [`Machine`] of its own: it reads stanzas (with
//! [`IbbTransport::take`], which says whether a stanza was about In-Band
//! Bytestreams), queues the stanzas to send, and reports [`IbbTransportEvent`]s.
//! Its `<open/>` and `<close/>` requests wait in an
//! [`iot_xmpp::Requests`] table: each is answered or fails with an
//! [`IqFailure`] at [`IbbTransportConfig::timeout`]. The endpoint drives one as
//! its inner machine.

use std::collections::HashMap;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};

use iot_xmpp::stream::DocumentEnd;
use iot_xmpp::tree::DEPTH_CEILING;
use iot_xmpp::vocab::IBB_NS;
use iot_xmpp::{
    DefinedCondition, Element, ErrorType, IqFailure, IqType, Requests, Stanza, StanzaKind,
    StanzaLimits,
};

use crate::ibb::{DataStanza, IbbError, IbbPayload};
use crate::identity::{FullJid, Jid};

mod kinds;

pub use kinds::{IbbTransportConfig, IbbTransportEnd, IbbTransportEvent, PeerAccess, SessionId};

#[derive(Debug)]
struct Session {
    block_size: u16,
    open: bool,
    send_seq: u16,
    recv_seq: u16,
    rx: Vec<u8>,
    /// Where the document being received ends, found as its blocks come;
    /// `None` once the scanner could not read it (the short block ends it
    /// then).
    end: Option<DocumentEnd>,
    /// Messages waiting for the session to open.
    queued: Vec<Vec<u8>>,
}

impl Session {
    fn new(block_size: u16, open: bool, max_message_len: usize) -> Self {
        Self {
            block_size,
            open,
            send_seq: 0,
            recv_seq: 0,
            rx: Vec::new(),
            end: Some(document_end(max_message_len)),
            queued: Vec::new(),
        }
    }
}

/// The scanner that finds where a message's document ends.
fn document_end(max_message_len: usize) -> DocumentEnd {
    DocumentEnd::new(StanzaLimits {
        max_len: max_message_len,
        max_depth: DEPTH_CEILING,
        max_elements: usize::MAX,
        ..StanzaLimits::default()
    })
}

/// The smallest block size an open is retried with after the peer
/// answered `resource-constraint` (XEP-0047 section 2.1); below it the
/// open fails.
pub const MIN_BLOCK_SIZE: u16 = 256;

/// What one of this side's `iq` requests asked.
#[derive(Debug, Clone)]
enum Asked {
    /// An `<open/>` with this block size.
    Open(SessionId, u16),
    /// A `<close/>`: its answer changes nothing.
    Close,
}

/// Every IBB session of one XMPP entity, under the family's contract.
#[derive(Debug)]
pub struct IbbTransport<I> {
    config: IbbTransportConfig,
    sessions: HashMap<SessionId, Session>,
    /// Our `<open/>`s and `<close/>`s waiting for an answer.
    asked: Requests<I, Asked>,
    out: Outbox<Stanza, IbbTransportEvent>,
}

impl<I: Instant> IbbTransport<I> {
    /// A transport with no sessions.
    #[must_use]
    pub fn new(config: IbbTransportConfig) -> Self {
        Self {
            config,
            sessions: HashMap::new(),
            asked: Requests::new("ibb"),
            out: Outbox::new(),
        }
    }

    /// How many sessions are open or opening.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is open or opening.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Whether a session is open or opening.
    #[must_use]
    pub fn contains(&self, key: &SessionId) -> bool {
        self.sessions.contains_key(key)
    }

    /// The sessions with a peer.
    pub fn sessions_with<'a>(&'a self, peer: &'a FullJid) -> impl Iterator<Item = &'a SessionId> {
        self.sessions.keys().filter(move |(p, _)| p == peer)
    }

    /// Every session.
    pub fn keys(&self) -> impl Iterator<Item = &SessionId> {
        self.sessions.keys()
    }

    /// Opens a session with `block_size`, `message` data stanzas (7.3.1);
    /// messages sent before the peer accepts wait. The caller chooses a
    /// `sid` not in use with that peer. A peer that answers
    /// `resource-constraint` is asked again with half the block size,
    /// down to [`MIN_BLOCK_SIZE`] (XEP-0047 section 2.1). An open not
    /// answered within [`IbbTransportConfig::timeout`] fails with
    /// [`IqFailure::TimedOut`].
    pub fn open(&mut self, now: I, key: SessionId, block_size: u16) {
        if self.out.is_ended() {
            return;
        }
        self.send_open(now, &key, block_size);
        let max = self.config.max_message_len;
        self.sessions
            .insert(key, Session::new(block_size, false, max));
    }

    fn send_open(&mut self, now: I, key: &SessionId, block_size: u16) {
        let iq_id = self.asked.id();
        let open = IbbPayload::Open {
            sid: key.1.clone(),
            block_size,
            stanza: DataStanza::Message,
        };
        self.out.send(open.to_stanza(key.0.clone(), &iq_id));
        let deadline = now + self.config.timeout;
        self.asked
            .wait(iq_id, Asked::Open(key.clone(), block_size), deadline);
    }

    /// Sends a message on a session: cut into blocks, or kept until the
    /// session opens. Nothing happens for an unknown session. No block is
    /// empty: a peer that implements XEP-0047 plainly refuses an empty
    /// `<data/>`, so a message whose length is a multiple of the block
    /// size ends with a full block, and the receiver knows it is whole
    /// because its `<rest>` document is (7.3.1).
    pub fn send(&mut self, key: &SessionId, bytes: Vec<u8>) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        if !session.open {
            session.queued.push(bytes);
            return;
        }
        let block = usize::from(session.block_size);
        for chunk in bytes.chunks(block) {
            let seq = session.send_seq;
            session.send_seq = seq.wrapping_add(1);
            let data = IbbPayload::Data {
                sid: key.1.clone(),
                seq,
                data: chunk.to_vec(),
            };
            let id = format!("d{}-{}", key.1, seq);
            self.out.send(data.to_stanza(key.0.clone(), &id));
        }
    }

    /// Sends `<close/>` and forgets the session, without an event; its
    /// answer is awaited until [`IbbTransportConfig::timeout`] and changes nothing.
    pub fn close(&mut self, now: I, key: &SessionId) {
        if self.forget(key) {
            let iq_id = self.asked.id();
            let close = IbbPayload::Close { sid: key.1.clone() };
            self.out.send(close.to_stanza(key.0.clone(), &iq_id));
            let deadline = now + self.config.timeout;
            self.asked.wait(iq_id, Asked::Close, deadline);
        }
    }

    /// Forgets every session without a word (the connection is gone);
    /// returns their keys.
    pub fn clear(&mut self) -> Vec<SessionId> {
        self.asked.clear();
        self.sessions.drain().map(|(k, _)| k).collect()
    }

    /// Forgets a session without a word (its peer is gone); whether it
    /// was known.
    pub fn forget(&mut self, key: &SessionId) -> bool {
        if self.sessions.remove(key).is_none() {
            return false;
        }
        self.asked
            .retain(|asked| !matches!(asked, Asked::Open(k, _) if k == key));
        true
    }

    /// Reads a received stanza; `false` when it is not about In-Band
    /// Bytestreams (and the caller's to handle). [`Machine::handle_input`]
    /// is this without the answer.
    pub fn take(&mut self, now: I, stanza: &Stanza) -> bool {
        if self.out.is_ended() {
            return false;
        }
        match stanza.kind {
            StanzaKind::Iq => self.handle_iq(now, stanza),
            StanzaKind::Message => self.handle_message(now, stanza),
            StanzaKind::Presence => false,
        }
    }

    /// An answer to one of our requests; `false` when it answers none.
    fn answered(&mut self, now: I, stanza: &Stanza) -> bool {
        // Only the peer an open went to may answer it.
        let from_addressee = |asked: &Asked| match asked {
            Asked::Open(k, _) => stanza.from.as_ref().is_none_or(|f| *f == k.0),
            Asked::Close => true,
        };
        let Some((asked, answer)) = self.asked.answer_if(stanza, from_addressee) else {
            return false;
        };
        let Asked::Open(key, block_size) = asked else {
            return true;
        };
        let smaller = block_size / 2;
        match answer {
            Ok(_) => self.opened(&key),
            Err(IqFailure::Error(DefinedCondition::ResourceConstraint))
                if smaller >= MIN_BLOCK_SIZE && self.sessions.contains_key(&key) =>
            {
                // XEP-0047 2.1: the block size was too large for the
                // peer; ask again with a smaller one.
                if let Some(session) = self.sessions.get_mut(&key) {
                    session.block_size = smaller;
                }
                self.send_open(now, &key, smaller);
            }
            Err(failure) => {
                if self.forget(&key) {
                    self.out.event(IbbTransportEvent::Refused(key, failure));
                }
            }
        }
        true
    }

    fn handle_iq(&mut self, now: I, stanza: &Stanza) -> bool {
        match stanza.iq_type() {
            Some(IqType::Result | IqType::Error) => self.answered(now, stanza),
            Some(IqType::Set) => {
                let payload = match IbbPayload::from_stanza(stanza) {
                    Err(IbbError::NotIbb) => return false,
                    Err(_) => {
                        self.reply_error(
                            stanza,
                            ErrorType::Modify,
                            DefinedCondition::BadRequest,
                            "",
                        );
                        return true;
                    }
                    Ok(p) => p,
                };
                let Some(peer) = full_from(stanza) else {
                    let sid = payload.sid().to_owned();
                    self.reply_error(
                        stanza,
                        ErrorType::Modify,
                        DefinedCondition::BadRequest,
                        &sid,
                    );
                    return true;
                };
                match payload {
                    IbbPayload::Open {
                        sid,
                        block_size,
                        stanza: kind,
                    } => self.peer_opens(stanza, (peer, sid), block_size, kind),
                    IbbPayload::Close { sid } => {
                        let key = (peer, sid);
                        if self.forget(&key) {
                            self.out.send(stanza.result_reply());
                            self.out.event(IbbTransportEvent::Closed(key));
                        } else {
                            self.reply_error(
                                stanza,
                                ErrorType::Cancel,
                                DefinedCondition::ItemNotFound,
                                &key.1,
                            );
                        }
                    }
                    IbbPayload::Data { sid, .. } => {
                        // 7.3.1: data travels in message stanzas only.
                        self.reply_error(
                            stanza,
                            ErrorType::Cancel,
                            DefinedCondition::NotAcceptable,
                            &sid,
                        );
                        let key = (peer, sid);
                        if self.sessions.contains_key(&key) {
                            self.close(now, &key);
                            self.out.event(IbbTransportEvent::Broken(
                                key,
                                DefinedCondition::NotAcceptable,
                            ));
                        }
                    }
                }
                true
            }
            _ => false,
        }
    }

    fn peer_opens(&mut self, stanza: &Stanza, key: SessionId, block_size: u16, kind: DataStanza) {
        if kind != DataStanza::Message || self.sessions.contains_key(&key) {
            self.reply_error(
                stanza,
                ErrorType::Cancel,
                DefinedCondition::NotAcceptable,
                &key.1,
            );
            return;
        }
        if !self.config.access.allows(&key.0, stanza.to.as_ref()) {
            self.reply_error(stanza, ErrorType::Auth, DefinedCondition::Forbidden, &key.1);
            return;
        }
        if block_size > self.config.max_block_size
            || self.sessions.len() >= self.config.max_sessions
            || self.sessions_with(&key.0).count() >= self.config.max_sessions_per_peer
        {
            self.reply_error(
                stanza,
                ErrorType::Modify,
                DefinedCondition::ResourceConstraint,
                &key.1,
            );
            return;
        }
        self.out.send(stanza.result_reply());
        let max = self.config.max_message_len;
        self.sessions
            .insert(key.clone(), Session::new(block_size, true, max));
        self.out.event(IbbTransportEvent::Accepted(key));
    }

    fn handle_message(&mut self, now: I, stanza: &Stanza) -> bool {
        let payload = match IbbPayload::from_stanza(stanza) {
            Err(IbbError::NotIbb) => return false,
            Err(_) if stanza.is_error() => return true,
            Err(_) => {
                self.malformed(now, stanza);
                return true;
            }
            Ok(p) => p,
        };
        let IbbPayload::Data { sid, seq, data } = payload else {
            // Open and close travel in iq stanzas.
            if !stanza.is_error() {
                self.reply_error(stanza, ErrorType::Modify, DefinedCondition::BadRequest, "");
            }
            return true;
        };
        let Some(peer) = full_from(stanza) else {
            self.reply_error(
                stanza,
                ErrorType::Modify,
                DefinedCondition::BadRequest,
                &sid,
            );
            return true;
        };
        let key = (peer, sid);
        if stanza.is_error() {
            // The peer refused one of our blocks: the session is over.
            if self.forget(&key) {
                self.out
                    .event(IbbTransportEvent::Failed(key, stanza.condition()));
            }
            return true;
        }
        let max = self.config.max_message_len;
        let Some(session) = self.sessions.get_mut(&key).filter(|s| s.open) else {
            self.reply_error(
                stanza,
                ErrorType::Cancel,
                DefinedCondition::ItemNotFound,
                &key.1,
            );
            return true;
        };
        if seq != session.recv_seq {
            self.break_session(now, stanza, key, DefinedCondition::UnexpectedRequest);
            return true;
        }
        if data.len() > usize::from(session.block_size) || session.rx.len() + data.len() > max {
            self.break_session(now, stanza, key, DefinedCondition::NotAcceptable);
            return true;
        }
        session.recv_seq = seq.wrapping_add(1);
        session.rx.extend_from_slice(&data);
        // The message is whole when its document's root element closed
        // (a peer that never sends an empty block ends a message of a
        // multiple of the block size so), or, XEP-0047's plain rule, at a
        // block shorter than the block size.
        let root_closed = match session.end.as_mut().map(|e| e.scan(&data)) {
            Some(Ok(found)) => found.is_some(),
            Some(Err(_)) => {
                session.end = None;
                false
            }
            None => false,
        };
        if root_closed || data.len() < usize::from(session.block_size) {
            let bytes = core::mem::take(&mut session.rx);
            session.end = Some(document_end(max));
            // An empty block after a whole document (a peer that ends
            // every message so), or white space after one, is no message.
            if !bytes.iter().all(u8::is_ascii_whitespace) {
                self.out.event(IbbTransportEvent::Message(key, bytes));
            }
        }
        true
    }

    /// A message in the IBB namespace that is not a data block: it breaks
    /// its session, if it names one, and is answered `bad-request`.
    fn malformed(&mut self, now: I, stanza: &Stanza) {
        let sid = stanza
            .payloads
            .iter()
            .find(|p| p.ns == IBB_NS)
            .and_then(|p| p.get_attr("sid"));
        if let (Some(peer), Some(sid)) = (full_from(stanza), sid) {
            let key = (peer, sid.to_owned());
            if self.sessions.contains_key(&key) {
                self.break_session(now, stanza, key, DefinedCondition::BadRequest);
                return;
            }
        }
        self.reply_error(stanza, ErrorType::Modify, DefinedCondition::BadRequest, "");
    }

    /// The peer accepted our open: send what waited.
    fn opened(&mut self, key: &SessionId) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        session.open = true;
        let queued = core::mem::take(&mut session.queued);
        self.out.event(IbbTransportEvent::Opened(key.clone()));
        for bytes in queued {
            self.send(key, bytes);
        }
    }

    /// A received stanza broke the rules of a session: answer it with the
    /// condition, report, and close the session.
    fn break_session(
        &mut self,
        now: I,
        stanza: &Stanza,
        key: SessionId,
        condition: DefinedCondition,
    ) {
        // Echo the IBB element without its data, so the peer knows which
        // session broke.
        let echo = stanza
            .payloads
            .iter()
            .find(|p| p.ns == IBB_NS)
            .map(|p| Element {
                text: String::new(),
                children: Vec::new(),
                ..p.clone()
            });
        self.out
            .send(stanza.error_reply_with(echo, ErrorType::Cancel, condition));
        self.out.event(IbbTransportEvent::ProtocolError {
            peer: Some(Jid::from(key.0.clone())),
            sid: key.1.clone(),
            condition,
        });
        self.close(now, &key);
        self.out.event(IbbTransportEvent::Broken(key, condition));
    }

    /// Answers a stanza with an error and reports it.
    fn reply_error(
        &mut self,
        stanza: &Stanza,
        error_type: ErrorType,
        condition: DefinedCondition,
        sid: &str,
    ) {
        self.out.send(stanza.error_reply(error_type, condition));
        self.out.event(IbbTransportEvent::ProtocolError {
            peer: stanza.from.clone(),
            sid: sid.to_owned(),
            condition,
        });
    }
}

impl<I: Instant> Machine for IbbTransport<I> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = IbbTransportEvent;

    /// Reads a stanza (what is not about In-Band Bytestreams is ignored),
    /// or forgets every session when the connection closed, and ends.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        match input {
            Input::Data(stanza) => {
                self.take(now, stanza);
            }
            Input::PeerClosed => {
                self.clear();
                self.out.end(IbbTransportEvent::Ended(End::PeerClosed));
            }
        }
    }

    /// An `<open/>` not answered in time fails its session with
    /// [`IqFailure::TimedOut`] ([`IbbTransportEvent::Refused`]); a `<close/>` not
    /// answered is forgotten.
    fn handle_timeout(&mut self, now: I) {
        for asked in self.asked.expire(now) {
            if let Asked::Open(key, _) = asked
                && self.forget(&key)
            {
                self.out
                    .event(IbbTransportEvent::Refused(key, IqFailure::TimedOut));
            }
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        self.asked.next_deadline()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, IbbTransportEvent> {
        self.out.outgoing()
    }
}

/// The condition of an error stanza, undefined when it names none.
fn full_from(stanza: &Stanza) -> Option<FullJid> {
    stanza.from.clone()?.try_into_full().ok()
}
