//! A session that outlives its connections: when one fails, it waits as
//! its backoff policy says (`iot_sansio::backoff`) and resumes the session
//! on a new connection (XEP-0198), or, refused, logs in anew.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use iot_sansio::backoff::{Backoff, BackoffConfig};
use iot_xmpp::stream::{ClientConfig, Resumption};
use iot_xmpp::{FullJid, Stanza};
use rand_core::OsRng;

use crate::{Connector, NetError, Session};

/// What a [`ResilientSession`] went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resilience {
    /// Connections lost.
    pub lost: usize,
    /// Sessions resumed on a new connection.
    pub resumed: usize,
    /// Stanzas sent again by those resumptions.
    pub resent: usize,
    /// Resumptions refused: a new session instead.
    pub new_sessions: usize,
    /// Stanzas a refused resumption said may not have arrived.
    pub maybe_lost: usize,
}

impl core::ops::Add for Resilience {
    type Output = Self;

    /// What two sessions went through together.
    fn add(self, other: Self) -> Self {
        Self {
            lost: self.lost + other.lost,
            resumed: self.resumed + other.resumed,
            resent: self.resent + other.resent,
            new_sessions: self.new_sessions + other.new_sessions,
            maybe_lost: self.maybe_lost + other.maybe_lost,
        }
    }
}

/// A logged-in session that survives the loss of its connection, as long
/// as the server resumes it or lets it log in again.
///
/// It stops, with the error, where another attempt would meet the same
/// ([`NetError::is_lasting`]: a refused login, a `conflict` with another
/// login of the resource, a certificate that does not verify), or after
/// 30 failed attempts in a row. The next call after such an error tries
/// again.
#[derive(Debug)]
pub struct ResilientSession {
    config: ClientConfig,
    connector: Connector,
    session: Option<Session>,
    /// The full JID of the last session.
    jid: FullJid,
    /// What lost connections read and the application has not had yet.
    unread: VecDeque<Stanza>,
    /// The session to resume while no attempt has succeeded.
    pending: Option<Resumption>,
    backoff: Backoff<Instant>,
    attempts: u32,
    stats: Resilience,
}

/// How many attempts in a row a recovery makes before it gives up.
const MAX_ATTEMPTS: u32 = 30;

impl ResilientSession {
    /// Logs in as [`Session::login`] does, to reconnect as `backoff` says.
    ///
    /// # Errors
    ///
    /// As [`Session::login`].
    pub fn login(
        config: ClientConfig,
        connector: &Connector,
        backoff: BackoffConfig,
    ) -> Result<Self, NetError> {
        let session = Session::login(config.clone(), connector)?;
        let mut backoff = Backoff::new(backoff);
        backoff.connected(Instant::now());
        Ok(Self {
            config,
            connector: connector.clone(),
            jid: session.jid().clone(),
            unread: VecDeque::new(),
            session: Some(session),
            pending: None,
            backoff,
            attempts: 0,
            stats: Resilience::default(),
        })
    }

    /// The session's full JID (the last one bound, when it is lost).
    #[must_use]
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    /// What the session went through.
    #[must_use]
    pub fn stats(&self) -> Resilience {
        self.stats
    }

    /// How many stanzas sent wait for the server's acknowledgement.
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.session().map_or(0, Session::unacknowledged)
    }

    /// Sends a stanza. A connection that fails as it writes is recovered,
    /// and the stanza goes with the resumed session; one that had ended
    /// before it took the stanza is recovered, and the stanza goes on the
    /// recovered session.
    ///
    /// # Errors
    ///
    /// When the session cannot be recovered; [`NetError::Refused`] when
    /// the connection does not take the stanza (too many wait for the
    /// server's acknowledgement: send again after a `recv`).
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        match self.hand(stanza) {
            Err(NotTaken(e @ NetError::Refused(_))) => Err(e),
            Err(NotTaken(cause)) => {
                self.recover(cause)?;
                // On the new connection, once: a recovered session that
                // ends again at once is the caller's to hear about.
                match self.hand(stanza) {
                    Ok(()) => Ok(()),
                    Err(NotTaken(e)) => Err(e),
                    Err(Held(cause)) => self.recover(cause),
                }
            }
            Err(Held(cause)) => self.recover(cause),
            Ok(()) => Ok(()),
        }
    }

    /// Hands `stanza` to the session and writes it.
    fn hand(&mut self, stanza: &Stanza) -> Result<(), Unsent> {
        let session = self.live().map_err(NotTaken)?;
        session.hold(stanza).map_err(NotTaken)?;
        session.flush().map_err(Held)
    }

    /// The next stanza within `wait` (`None` when none came or the
    /// connection was recovered meanwhile).
    ///
    /// # Errors
    ///
    /// When the session cannot be recovered.
    pub fn recv(&mut self, wait: Duration) -> Result<Option<Stanza>, NetError> {
        if let Some(stanza) = self.unread.pop_front() {
            return Ok(Some(stanza));
        }
        match self.live().and_then(|session| session.recv(wait)) {
            Ok(stanza) => Ok(stanza),
            Err(cause) => self.recover(cause).map(|()| None),
        }
    }

    /// Closes the stream.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn close(mut self) -> Result<(), NetError> {
        match self.session.take() {
            Some(session) => session.close(),
            None => Ok(()),
        }
    }

    fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The session, or the error of having none (a recovery gave up: the
    /// caller's next call tries again).
    fn live(&mut self) -> Result<&mut Session, NetError> {
        self.session.as_mut().ok_or(NetError::Timeout("session"))
    }

    /// The connection failed with `cause`: resume the session on a new
    /// one, waiting as the policy says between attempts; stop where an
    /// attempt would meet the same error again.
    fn recover(&mut self, cause: NetError) -> Result<(), NetError> {
        if let Some(mut session) = self.session.take() {
            self.stats.lost += 1;
            self.unread.extend(session.take_unread());
            if let Some(resumption) = session.lose_transport() {
                self.pending = Some(resumption);
            }
        }
        if cause.is_lasting() {
            return Err(cause);
        }
        loop {
            self.attempts += 1;
            if self.attempts > MAX_ATTEMPTS {
                self.attempts = 0;
                return Err(NetError::Timeout("reconnection"));
            }
            let at = self.backoff.lost(Instant::now(), &mut OsRng);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            let attempt = match self.pending.clone() {
                Some(resumption) => {
                    Session::resume(self.config.clone(), resumption, &self.connector)
                }
                None => Session::login(self.config.clone(), &self.connector)
                    .map(|session| (session, Some(Vec::new()))),
            };
            let (session, lost) = match attempt {
                Ok(recovered) => recovered,
                Err(e) if e.is_lasting() => return Err(e),
                // Lost again before it resumed: the same session, again.
                Err(_) => continue,
            };
            self.backoff.connected(Instant::now());
            self.attempts = 0;
            match lost {
                None => {
                    self.stats.resumed += 1;
                    self.stats.resent += session.resent();
                }
                Some(lost) => {
                    self.stats.new_sessions += 1;
                    self.stats.maybe_lost += lost.len();
                }
            }
            self.pending = None;
            self.jid = session.jid().clone();
            self.session = Some(session);
            return Ok(());
        }
    }
}

/// Why a stanza did not go out.
enum Unsent {
    /// The connection did not take it.
    NotTaken(NetError),
    /// The connection holds it (for a resumption), and failed as it
    /// wrote it.
    Held(NetError),
}
use Unsent::{Held, NotTaken};
