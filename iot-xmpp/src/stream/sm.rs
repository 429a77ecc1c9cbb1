//! Stream management (XEP-0198, namespace `urn:xmpp:sm:3`): the counts of
//! stanzas handled each way, the stanzas sent and not yet acknowledged,
//! and what a session keeps to be resumed on a new connection.
//!
//! The counting is pure state, tested here on its own; the client
//! connection writes and reads the elements (`core/managed.rs`).

use core::time::Duration;
use std::collections::VecDeque;

use jid::FullJid;

use crate::stanza::Stanza;

/// The namespace of XEP-0198 version 3.
pub const SM_NS: &str = "urn:xmpp:sm:3";

/// How the client uses stream management (XEP-0198).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamManagement {
    /// Enable it when the server offers it (default `true`).
    pub enable: bool,
    /// Ask for resumption (default `true`): after a lost connection, a new
    /// one resumes the session ([`Client::resume`](super::Client::resume))
    /// and what the server did not get is sent again.
    pub resume: bool,
    /// The most stanzas kept unacknowledged (default 1,000); sending one
    /// more is refused ([`ClientError::Backlog`](super::ClientError::Backlog))
    /// until the server acknowledges some.
    pub max_unacked: usize,
    /// How long an acknowledgement request may go unanswered before the
    /// connection counts as dead and ends with
    /// [`End::TimedOut`](iot_sansio::End::TimedOut) (default 30 s).
    pub ack_timeout: Duration,
}

impl Default for StreamManagement {
    fn default() -> Self {
        Self {
            enable: true,
            resume: true,
            max_unacked: 1_000,
            ack_timeout: Duration::from_secs(30),
        }
    }
}

impl StreamManagement {
    /// Stream management off.
    #[must_use]
    pub fn off() -> Self {
        Self {
            enable: false,
            ..Self::default()
        }
    }
}

/// What a session keeps to be resumed on a new connection (XEP-0198
/// section 5): taken from the connection that ended
/// ([`Client::resumption`](super::Client::resumption)) and given to the
/// next ([`Client::resume`](super::Client::resume)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    /// The session's id, from the server's `<enabled/>`.
    pub id: String,
    /// The full JID the session was bound to.
    pub jid: FullJid,
    /// Where the server asked to be reconnected to for resumption
    /// (`host` or `host:port`), if it did.
    pub location: Option<String>,
    /// The stanzas handled from the server (the `h` sent in `<resume/>`).
    pub handled: u32,
    /// The count of the client's stanzas the server had acknowledged.
    pub acked: u32,
    /// The stanzas sent and not acknowledged, oldest first.
    pub unacked: Vec<Stanza>,
}

/// An acknowledgement that counts more stanzas than were sent
/// (XEP-0198 section 4: `handled-count-too-high`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooHigh {
    /// The count acknowledged.
    pub(crate) h: u32,
    /// The count sent.
    pub(crate) sent: u32,
}

/// Where stream management is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SmState {
    /// Not enabled (not offered, not configured, or refused).
    Off,
    /// `<enable/>` sent: the client counts what it sends.
    Requested,
    /// `<enabled/>` read: both sides count.
    On {
        /// The session id, when the server allows resumption.
        id: Option<String>,
        /// Where to reconnect for resumption.
        location: Option<String>,
    },
}

/// The counts of one stream-managed session.
#[derive(Debug, Clone)]
pub(crate) struct Sm {
    pub(crate) state: SmState,
    /// Stanzas handled from the server since `<enabled/>` (mod 2^32).
    handled: u32,
    /// The server's last acknowledged count of the client's stanzas.
    acked: u32,
    /// Sent, not acknowledged, oldest first.
    unacked: VecDeque<Stanza>,
    /// An `<r/>` is out, unanswered.
    pub(crate) requested: bool,
}

impl Sm {
    /// A session with nothing counted.
    pub(crate) fn new() -> Self {
        Self {
            state: SmState::Off,
            handled: 0,
            acked: 0,
            unacked: VecDeque::new(),
            requested: false,
        }
    }

    /// A session taken over from `resumption`, before the server said
    /// whether it resumes.
    pub(crate) fn resuming(resumption: Resumption) -> Self {
        Self {
            state: SmState::On {
                id: Some(resumption.id),
                location: resumption.location,
            },
            handled: resumption.handled,
            acked: resumption.acked,
            unacked: resumption.unacked.into(),
            requested: false,
        }
    }

    /// The session's id, when the server allows resumption.
    pub(crate) fn resumption_id(&self) -> Option<&str> {
        match &self.state {
            SmState::On { id, .. } => id.as_deref(),
            _ => None,
        }
    }

    /// Whether the client counts what it sends.
    pub(crate) fn counting(&self) -> bool {
        !matches!(self.state, SmState::Off)
    }

    /// The count of stanzas handled from the server.
    pub(crate) fn handled(&self) -> u32 {
        self.handled
    }

    /// How many stanzas wait for an acknowledgement.
    pub(crate) fn unacked_len(&self) -> usize {
        self.unacked.len()
    }

    /// The stanzas not acknowledged, oldest first.
    pub(crate) fn unacked(&self) -> impl Iterator<Item = &Stanza> {
        self.unacked.iter()
    }

    /// Notes a stanza sent.
    pub(crate) fn sent(&mut self, stanza: &Stanza) {
        if self.counting() {
            self.unacked.push_back(stanza.clone());
        }
    }

    /// Notes a stanza read from the server.
    pub(crate) fn received(&mut self) {
        if matches!(self.state, SmState::On { .. }) {
            self.handled = self.handled.wrapping_add(1);
        }
    }

    /// The server acknowledged `h` stanzas in all: those are forgotten.
    pub(crate) fn acknowledge(&mut self, h: u32) -> Result<(), TooHigh> {
        let newly = h.wrapping_sub(self.acked);
        let outstanding = u32::try_from(self.unacked.len()).unwrap_or(u32::MAX);
        if newly > outstanding {
            return Err(TooHigh {
                h,
                sent: self.acked.wrapping_add(outstanding),
            });
        }
        self.unacked.drain(..newly as usize);
        self.acked = h;
        Ok(())
    }

    /// The server refused to enable or to resume: nothing is counted any
    /// more, and the stanzas it did not acknowledge are handed back.
    pub(crate) fn fail(&mut self) -> Vec<Stanza> {
        self.state = SmState::Off;
        self.requested = false;
        self.handled = 0;
        self.acked = 0;
        self.unacked.drain(..).collect()
    }

    /// What a new connection needs to resume this session, if the server
    /// allows it.
    pub(crate) fn resumption(&self, jid: &FullJid) -> Option<Resumption> {
        let SmState::On {
            id: Some(id),
            location,
        } = &self.state
        else {
            return None;
        };
        Some(Resumption {
            id: id.clone(),
            jid: jid.clone(),
            location: location.clone(),
            handled: self.handled,
            acked: self.acked,
            unacked: self.unacked.iter().cloned().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StanzaKind;

    fn message(id: &str) -> Stanza {
        Stanza::new(StanzaKind::Message).with_id(id)
    }

    fn on() -> Sm {
        let mut sm = Sm::new();
        sm.state = SmState::On {
            id: Some("s1".into()),
            location: None,
        };
        sm
    }

    #[test]
    fn nothing_is_counted_while_off() {
        let mut sm = Sm::new();
        sm.sent(&message("m1"));
        sm.received();
        assert_eq!((sm.unacked_len(), sm.handled()), (0, 0));
        assert_eq!(sm.resumption(&"a@b/c".parse().unwrap()), None);
    }

    #[test]
    fn the_client_counts_from_its_enable_and_the_server_from_enabled() {
        let mut sm = Sm::new();
        sm.state = SmState::Requested;
        sm.sent(&message("m1"));
        sm.received();
        assert_eq!((sm.unacked_len(), sm.handled()), (1, 0));
        sm.state = SmState::On {
            id: None,
            location: None,
        };
        sm.received();
        assert_eq!(sm.handled(), 1);
        // Enabled without resumption: nothing to resume with.
        assert_eq!(sm.resumption(&"a@b/c".parse().unwrap()), None);
    }

    #[test]
    fn acknowledgements_forget_what_they_count_and_no_more() {
        let mut sm = on();
        for id in ["m1", "m2", "m3"] {
            sm.sent(&message(id));
        }
        sm.acknowledge(2).unwrap();
        let left: Vec<_> = sm.unacked().map(|s| s.id.clone().unwrap()).collect();
        assert_eq!(left, ["m3"]);
        // An acknowledgement of what was acknowledged already changes
        // nothing; one beyond what was sent is refused.
        sm.acknowledge(2).unwrap();
        assert_eq!(sm.acknowledge(4), Err(TooHigh { h: 4, sent: 3 }));
        assert_eq!(sm.unacked_len(), 1);
        sm.acknowledge(3).unwrap();
        assert_eq!(sm.unacked_len(), 0);
    }

    #[test]
    fn counts_wrap_at_two_to_the_thirty_second() {
        let mut sm = on();
        sm.acked = u32::MAX - 1;
        sm.handled = u32::MAX;
        sm.received();
        assert_eq!(sm.handled(), 0);
        for id in ["m1", "m2", "m3"] {
            sm.sent(&message(id));
        }
        // u32::MAX - 1 + 3 wraps to 1.
        sm.acknowledge(1).unwrap();
        assert_eq!(sm.unacked_len(), 0);
    }

    #[test]
    fn a_resumption_holds_the_counts_and_the_stanzas() {
        let mut sm = on();
        sm.sent(&message("m1"));
        sm.sent(&message("m2"));
        sm.acknowledge(1).unwrap();
        sm.received();
        let jid: FullJid = "a@b/c".parse().unwrap();
        let resumption = sm.resumption(&jid).unwrap();
        assert_eq!(resumption.handled, 1);
        assert_eq!(resumption.acked, 1);
        assert_eq!(resumption.unacked, vec![message("m2")]);
        let again = Sm::resuming(resumption.clone());
        assert_eq!(again.resumption(&jid), Some(resumption));
        let mut failed = again;
        assert_eq!(failed.fail(), vec![message("m2")]);
        assert!(!failed.counting());
    }
}
