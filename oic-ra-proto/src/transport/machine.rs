//! The IBB transport as a machine of its own: the steps of
//! [`IbbSessions`] with an outbox.

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use iot_xmpp::Stanza;

use super::kinds::{IbbTransportConfig, IbbTransportEvent, SessionId};
use super::sessions::IbbSessions;
use crate::identity::FullJid;

/// Every IBB session of one XMPP entity, under the family's contract (see
/// the [module documentation](super) for the rules).
#[derive(Debug)]
pub struct IbbTransport<I> {
    sessions: IbbSessions<I>,
    out: Outbox<Stanza, IbbTransportEvent>,
}

impl<I: Instant> IbbTransport<I> {
    /// A transport with no sessions.
    #[must_use]
    pub fn new(config: IbbTransportConfig) -> Self {
        Self {
            sessions: IbbSessions::new(config),
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
        self.sessions.contains(key)
    }

    /// The sessions with a peer.
    pub fn sessions_with<'a>(&'a self, peer: &'a FullJid) -> impl Iterator<Item = &'a SessionId> {
        self.sessions.sessions_with(peer)
    }

    /// Every session.
    pub fn keys(&self) -> impl Iterator<Item = &SessionId> {
        self.sessions.keys()
    }

    /// Opens a session with `block_size`, `message` data stanzas (7.3.1);
    /// messages sent before the peer accepts wait. The caller chooses a
    /// `sid` not in use with that peer. A peer that answers
    /// `resource-constraint` is asked again with half the block size,
    /// down to [`MIN_BLOCK_SIZE`](super::MIN_BLOCK_SIZE) (XEP-0047 section
    /// 2.1). An open not answered within [`IbbTransportConfig::timeout`]
    /// fails with [`IqFailure::TimedOut`](iot_xmpp::IqFailure::TimedOut).
    pub fn open(&mut self, now: I, key: SessionId, block_size: u16) {
        if !self.out.is_ended() {
            self.sessions.open(&mut self.out, now, key, block_size);
        }
    }

    /// Sends a message on a session: cut into blocks, or kept until the
    /// session opens. Nothing happens for an unknown session. No block is
    /// empty: a peer that implements XEP-0047 plainly refuses an empty
    /// `<data/>`, so a message whose length is a multiple of the block
    /// size ends with a full block, and the receiver knows it is whole
    /// because its `<rest>` document is (7.3.1).
    pub fn send(&mut self, key: &SessionId, bytes: Vec<u8>) {
        self.sessions.send(&mut self.out, key, bytes);
    }

    /// Sends `<close/>` and forgets the session, without an event; its
    /// answer is awaited until [`IbbTransportConfig::timeout`] and changes
    /// nothing.
    pub fn close(&mut self, now: I, key: &SessionId) {
        self.sessions.close(&mut self.out, now, key);
    }

    /// Forgets every session without a word (the connection is gone);
    /// returns their keys.
    pub fn clear(&mut self) -> Vec<SessionId> {
        self.sessions.clear()
    }

    /// Forgets a session without a word (its peer is gone); whether it
    /// was known.
    pub fn forget(&mut self, key: &SessionId) -> bool {
        self.sessions.forget(key)
    }

    /// Reads a received stanza; `false` when it is not about In-Band
    /// Bytestreams (and the caller's to handle). [`Machine::handle_input`]
    /// is this without the answer.
    pub fn take(&mut self, now: I, stanza: &Stanza) -> bool {
        !self.out.is_ended() && self.sessions.take(&mut self.out, now, stanza)
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
    /// [`IqFailure::TimedOut`](iot_xmpp::IqFailure::TimedOut)
    /// ([`IbbTransportEvent::Refused`]); a `<close/>` not answered is
    /// forgotten.
    fn handle_timeout(&mut self, now: I) {
        self.sessions.timeout(&mut self.out, now);
    }

    fn poll_timeout(&self) -> Option<I> {
        self.sessions.deadline()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, IbbTransportEvent> {
        self.out.outgoing()
    }
}
