//! The IBB transport's steps: sessions, opening, sending and closing,
//! requests answered, and errors.

use std::collections::HashMap;

use iot_sansio::Instant;
use iot_xmpp::stream::DocumentEnd;
use iot_xmpp::tree::DEPTH_CEILING;

use iot_xmpp::vocab::IBB_NS;
use iot_xmpp::{
    DefinedCondition, Element, ErrorType, IqFailure, IqType, Requests, Stanza, StanzaKind,
    StanzaLimits, StanzaOut,
};

use crate::ibb::{DataStanza, IbbError, IbbPayload};
use crate::identity::{FullJid, Jid};

use super::kinds::{IbbTransportConfig, IbbTransportEvent, SessionId};

#[derive(Debug)]
pub(super) struct Session {
    pub(super) block_size: u16,
    pub(super) open: bool,
    pub(super) send_seq: u16,
    pub(super) recv_seq: u16,
    pub(super) rx: Vec<u8>,
    /// Where the document being received ends, found as its blocks come;
    /// `None` once the scanner could not read it (the short block ends it
    /// then).
    pub(super) end: Option<DocumentEnd>,
    /// Messages waiting for the session to open.
    pub(super) queued: Vec<Vec<u8>>,
    /// Blocks that came ahead of the one expected, by sequence number
    /// (at most [`REORDER_WINDOW`]), held until the gap fills.
    pub(super) early: Vec<(u16, Vec<u8>)>,
}

/// How many blocks may come ahead of a missing one before the session
/// breaks (`unexpected-request`). XEP-0047 breaks at the first block out
/// of order; ejabberd 23.01 delivers a stanza sent during a stream
/// resumption (XEP-0198) after the ones sent just after it, so a block
/// may come one or two places late (PROFILE.md, "In-band bytestreams").
pub(super) const REORDER_WINDOW: u16 = 8;

impl Session {
    pub(super) fn new(block_size: u16, open: bool, max_message_len: usize) -> Self {
        Self {
            block_size,
            open,
            send_seq: 0,
            recv_seq: 0,
            rx: Vec::new(),
            end: Some(document_end(max_message_len)),
            queued: Vec::new(),
            early: Vec::new(),
        }
    }
}

/// The scanner that finds where a message's document ends.
pub(super) fn document_end(max_message_len: usize) -> DocumentEnd {
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

/// The transport's logic as plain steps (ARCHITECTURE.md, "Composition"):
/// every IBB session of one XMPP entity, writing what it sends and finds to
/// the [`StanzaOut`] it is handed. [`IbbTransport`] runs it with an outbox
/// of its own; the endpoint runs it with a writer that keeps what it finds
/// and acts on it.
#[derive(Debug)]
pub(crate) struct IbbSessions<I> {
    pub(super) config: IbbTransportConfig,
    pub(super) sessions: HashMap<SessionId, Session>,
    /// Our `<open/>`s and `<close/>`s waiting for an answer.
    asked: Requests<I, Asked>,
}

impl<I: Instant> IbbSessions<I> {
    /// No sessions.
    pub(crate) fn new(config: IbbTransportConfig) -> Self {
        Self {
            config,
            sessions: HashMap::new(),
            asked: Requests::new("ibb"),
        }
    }

    /// How many sessions are open or opening.
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is open or opening.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Whether a session is open or opening.
    #[must_use]
    pub(crate) fn contains(&self, key: &SessionId) -> bool {
        self.sessions.contains_key(key)
    }

    /// The sessions with a peer.
    pub(crate) fn sessions_with<'a>(
        &'a self,
        peer: &'a FullJid,
    ) -> impl Iterator<Item = &'a SessionId> {
        self.sessions.keys().filter(move |(p, _)| p == peer)
    }

    /// Every session.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &SessionId> {
        self.sessions.keys()
    }

    /// Opens a session with `block_size`, `message` data stanzas (7.3.1);
    /// messages sent before the peer accepts wait. The caller chooses a
    /// `sid` not in use with that peer. A peer that answers
    /// `resource-constraint` is asked again with half the block size,
    /// down to [`MIN_BLOCK_SIZE`] (XEP-0047 section 2.1). An open not
    /// answered within [`IbbTransportConfig::timeout`] fails with
    /// [`IqFailure::TimedOut`].
    pub(crate) fn open(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        key: SessionId,
        block_size: u16,
    ) {
        self.send_open(out, now, &key, block_size);
        let max = self.config.max_message_len;
        self.sessions
            .insert(key, Session::new(block_size, false, max));
    }

    fn send_open(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        key: &SessionId,
        block_size: u16,
    ) {
        let iq_id = self.asked.id();
        let open = IbbPayload::Open {
            sid: key.1.clone(),
            block_size,
            stanza: DataStanza::Message,
        };
        out.send(open.to_stanza(key.0.clone(), &iq_id));
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
    pub(crate) fn send(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        key: &SessionId,
        bytes: Vec<u8>,
    ) {
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
            out.send(data.to_stanza(key.0.clone(), &id));
        }
    }

    /// Sends `<close/>` and forgets the session, without an event; its
    /// answer is awaited until [`IbbTransportConfig::timeout`] and changes nothing.
    pub(crate) fn close(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        key: &SessionId,
    ) {
        if self.forget(key) {
            let iq_id = self.asked.id();
            let close = IbbPayload::Close { sid: key.1.clone() };
            out.send(close.to_stanza(key.0.clone(), &iq_id));
            let deadline = now + self.config.timeout;
            self.asked.wait(iq_id, Asked::Close, deadline);
        }
    }

    /// Forgets every session without a word (the connection is gone);
    /// returns their keys.
    pub(crate) fn clear(&mut self) -> Vec<SessionId> {
        self.asked.clear();
        self.sessions.drain().map(|(k, _)| k).collect()
    }

    /// Forgets a session without a word (its peer is gone); whether it
    /// was known.
    pub(crate) fn forget(&mut self, key: &SessionId) -> bool {
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
    pub(crate) fn take(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        stanza: &Stanza,
    ) -> bool {
        match stanza.kind {
            StanzaKind::Iq => self.handle_iq(out, now, stanza),
            StanzaKind::Message => self.handle_message(out, now, stanza),
            StanzaKind::Presence => false,
        }
    }

    /// An answer to one of our requests; `false` when it answers none.
    fn answered(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        stanza: &Stanza,
    ) -> bool {
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
            Ok(_) => self.opened(out, &key),
            Err(IqFailure::Error(DefinedCondition::ResourceConstraint))
                if smaller >= MIN_BLOCK_SIZE && self.sessions.contains_key(&key) =>
            {
                // XEP-0047 2.1: the block size was too large for the
                // peer; ask again with a smaller one.
                if let Some(session) = self.sessions.get_mut(&key) {
                    session.block_size = smaller;
                }
                self.send_open(out, now, &key, smaller);
            }
            Err(failure) => {
                if self.forget(&key) {
                    out.event(IbbTransportEvent::Refused(key, failure));
                }
            }
        }
        true
    }

    fn handle_iq(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        stanza: &Stanza,
    ) -> bool {
        match stanza.iq_type() {
            Some(IqType::Result | IqType::Error) => self.answered(out, now, stanza),
            Some(IqType::Set) => {
                let payload = match IbbPayload::from_stanza(stanza) {
                    Err(IbbError::NotIbb) => return false,
                    Err(_) => {
                        Self::bad_request(out, stanza, "");
                        return true;
                    }
                    Ok(p) => p,
                };
                let Some(peer) = full_from(stanza) else {
                    let sid = payload.sid().to_owned();
                    Self::bad_request(out, stanza, &sid);
                    return true;
                };
                match payload {
                    IbbPayload::Open {
                        sid,
                        block_size,
                        stanza: kind,
                    } => self.peer_opens(out, stanza, (peer, sid), block_size, kind),
                    IbbPayload::Close { sid } => {
                        let key = (peer, sid);
                        if self.forget(&key) {
                            out.send(stanza.result_reply());
                            out.event(IbbTransportEvent::Closed(key));
                        } else {
                            Self::item_not_found(out, stanza, &key.1);
                        }
                    }
                    IbbPayload::Data { sid, .. } => {
                        // 7.3.1: data travels in message stanzas only.
                        Self::reply_error(
                            out,
                            stanza,
                            ErrorType::Cancel,
                            DefinedCondition::NotAcceptable,
                            &sid,
                        );
                        let key = (peer, sid);
                        if self.sessions.contains_key(&key) {
                            self.close(out, now, &key);
                            out.event(IbbTransportEvent::Broken(
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

    fn peer_opens(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        stanza: &Stanza,
        key: SessionId,
        block_size: u16,
        kind: DataStanza,
    ) {
        if kind != DataStanza::Message || self.sessions.contains_key(&key) {
            Self::reply_error(
                out,
                stanza,
                ErrorType::Cancel,
                DefinedCondition::NotAcceptable,
                &key.1,
            );
            return;
        }
        if !self.config.access.allows(&key.0, stanza.to.as_ref()) {
            Self::reply_error(
                out,
                stanza,
                ErrorType::Auth,
                DefinedCondition::Forbidden,
                &key.1,
            );
            return;
        }
        if block_size > self.config.max_block_size
            || self.sessions.len() >= self.config.max_sessions
            || self.sessions_with(&key.0).count() >= self.config.max_sessions_per_peer
        {
            Self::reply_error(
                out,
                stanza,
                ErrorType::Modify,
                DefinedCondition::ResourceConstraint,
                &key.1,
            );
            return;
        }
        out.send(stanza.result_reply());
        let max = self.config.max_message_len;
        self.sessions
            .insert(key.clone(), Session::new(block_size, true, max));
        out.event(IbbTransportEvent::Accepted(key));
    }

    /// The peer accepted our open: send what waited.
    fn opened(&mut self, out: &mut impl StanzaOut<IbbTransportEvent>, key: &SessionId) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        session.open = true;
        let queued = core::mem::take(&mut session.queued);
        out.event(IbbTransportEvent::Opened(key.clone()));
        for bytes in queued {
            self.send(out, key, bytes);
        }
    }

    /// A received stanza broke the rules of a session: answer it with the
    /// condition, report, and close the session.
    pub(super) fn break_session(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
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
        out.send(stanza.error_reply_with(echo, ErrorType::Cancel, condition));
        out.event(IbbTransportEvent::ProtocolError {
            peer: Some(Jid::from(key.0.clone())),
            sid: key.1.clone(),
            condition,
        });
        self.close(out, now, &key);
        out.event(IbbTransportEvent::Broken(key, condition));
    }

    /// Answers a stanza `item-not-found` (`cancel`: no such session) and
    /// reports it.
    pub(super) fn item_not_found(
        out: &mut impl StanzaOut<IbbTransportEvent>,
        stanza: &Stanza,
        sid: &str,
    ) {
        Self::reply_error(
            out,
            stanza,
            ErrorType::Cancel,
            DefinedCondition::ItemNotFound,
            sid,
        );
    }

    /// Answers a stanza `bad-request` (`modify`) and reports it.
    pub(super) fn bad_request(
        out: &mut impl StanzaOut<IbbTransportEvent>,
        stanza: &Stanza,
        sid: &str,
    ) {
        Self::reply_error(
            out,
            stanza,
            ErrorType::Modify,
            DefinedCondition::BadRequest,
            sid,
        );
    }

    /// Answers a stanza with an error and reports it.
    pub(super) fn reply_error(
        out: &mut impl StanzaOut<IbbTransportEvent>,
        stanza: &Stanza,
        error_type: ErrorType,
        condition: DefinedCondition,
        sid: &str,
    ) {
        out.send(stanza.error_reply(error_type, condition));
        out.event(IbbTransportEvent::ProtocolError {
            peer: stanza.from.clone(),
            sid: sid.to_owned(),
            condition,
        });
    }
    /// An `<open/>` not answered in time fails its session with
    /// [`IqFailure::TimedOut`] ([`IbbTransportEvent::Refused`]); a
    /// `<close/>` not answered is forgotten.
    pub(crate) fn timeout(&mut self, out: &mut impl StanzaOut<IbbTransportEvent>, now: I) {
        for asked in self.asked.expire(now) {
            if let Asked::Open(key, _) = asked
                && self.forget(&key)
            {
                out.event(IbbTransportEvent::Refused(key, IqFailure::TimedOut));
            }
        }
    }

    /// When the first request gives up waiting.
    pub(crate) fn deadline(&self) -> Option<I> {
        self.asked.next_deadline()
    }
}

/// The sender, when it is a full JID.
pub(super) fn full_from(stanza: &Stanza) -> Option<FullJid> {
    stanza.from.clone()?.try_into_full().ok()
}
