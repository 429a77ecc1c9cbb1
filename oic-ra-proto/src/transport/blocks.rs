//! The receiving side of the IBB transport: a session's state, and the
//! data blocks read into whole messages (XEP-0047 section 2.2, OIC RA
//! 7.3.1).

use iot_sansio::Instant;
use iot_xmpp::vocab::IBB_NS;
use iot_xmpp::{DefinedCondition, Stanza, StanzaOut};

use super::kinds::IbbTransportEvent;
use super::sessions::{IbbSessions, REORDER_WINDOW, Session, document_end, full_from};
use crate::ibb::{IbbError, IbbPayload};

impl<I: Instant> IbbSessions<I> {
    pub(super) fn handle_message(
        &mut self,
        out: &mut impl StanzaOut<IbbTransportEvent>,
        now: I,
        stanza: &Stanza,
    ) -> bool {
        let payload = match IbbPayload::from_stanza(stanza) {
            Err(IbbError::NotIbb) => return false,
            Err(_) if stanza.is_error() => return true,
            Err(_) => {
                self.malformed(out, now, stanza);
                return true;
            }
            Ok(p) => p,
        };
        let IbbPayload::Data { sid, seq, data } = payload else {
            // Open and close travel in iq stanzas.
            if !stanza.is_error() {
                Self::bad_request(out, stanza, "");
            }
            return true;
        };
        let Some(peer) = full_from(stanza) else {
            Self::bad_request(out, stanza, &sid);
            return true;
        };
        let key = (peer, sid);
        if stanza.is_error() {
            // The peer refused one of our blocks: the session is over.
            if self.forget(&key) {
                out.event(IbbTransportEvent::Failed(key, stanza.condition()));
            }
            return true;
        }
        let max = self.config.max_message_len;
        let Some(session) = self.sessions.get_mut(&key).filter(|s| s.open) else {
            Self::item_not_found(out, stanza, &key.1);
            return true;
        };
        if data.len() > usize::from(session.block_size) {
            self.break_session(out, now, stanza, key, DefinedCondition::NotAcceptable);
            return true;
        }
        if seq != session.recv_seq {
            // Ahead of the expected block, within the window, not seen:
            // held until the gap fills. Anything else breaks the session.
            let ahead = seq.wrapping_sub(session.recv_seq);
            let held = session.early.iter().any(|(s, _)| *s == seq);
            if ahead <= REORDER_WINDOW && !held && session.early.len() < usize::from(REORDER_WINDOW)
            {
                session.early.push((seq, data));
                return true;
            }
            self.break_session(out, now, stanza, key, DefinedCondition::UnexpectedRequest);
            return true;
        }
        let mut next = Some(data);
        while let Some(data) = next.take() {
            let Some(session) = self.sessions.get_mut(&key) else {
                return true;
            };
            if session.rx.len() + data.len() > max {
                self.break_session(out, now, stanza, key, DefinedCondition::NotAcceptable);
                return true;
            }
            session.recv_seq = session.recv_seq.wrapping_add(1);
            if let Some(message) = Self::take_block(session, &data, max) {
                out.event(IbbTransportEvent::Message(key.clone(), message));
            }
            let expected = session.recv_seq;
            if let Some(at) = session.early.iter().position(|(s, _)| *s == expected) {
                next = Some(session.early.swap_remove(at).1);
            }
        }
        true
    }

    /// Appends a block in order to the message being received; returns
    /// the message once it is whole.
    fn take_block(session: &mut Session, data: &[u8], max: usize) -> Option<Vec<u8>> {
        session.rx.extend_from_slice(data);
        // The message is whole when its document's root element closed
        // (a peer that never sends an empty block ends a message of a
        // multiple of the block size so), or, XEP-0047's plain rule, at a
        // block shorter than the block size.
        let root_closed = match session.end.as_mut().map(|e| e.scan(data)) {
            Some(Ok(found)) => found.is_some(),
            Some(Err(_)) => {
                session.end = None;
                false
            }
            None => false,
        };
        if !(root_closed || data.len() < usize::from(session.block_size)) {
            return None;
        }
        let bytes = core::mem::take(&mut session.rx);
        session.end = Some(document_end(max));
        // An empty block after a whole document (a peer that ends every
        // message so), or white space after one, is no message.
        (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes)
    }

    /// A message in the IBB namespace that is not a data block: it breaks
    /// its session, if it names one, and is answered `bad-request`.
    fn malformed(&mut self, out: &mut impl StanzaOut<IbbTransportEvent>, now: I, stanza: &Stanza) {
        let sid = stanza
            .payloads
            .iter()
            .find(|p| p.ns == IBB_NS)
            .and_then(|p| p.get_attr("sid"));
        if let (Some(peer), Some(sid)) = (full_from(stanza), sid) {
            let key = (peer, sid.to_owned());
            if self.sessions.contains_key(&key) {
                self.break_session(out, now, stanza, key, DefinedCondition::BadRequest);
                return;
            }
        }
        Self::bad_request(out, stanza, "");
    }
}
