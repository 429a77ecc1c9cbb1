//! A session that outlives its connections: when one fails, it waits as
//! its backoff policy says (`iot_sansio::backoff`) and resumes the session
//! on a new connection (XEP-0198), or, refused, logs in anew.

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
#[derive(Debug)]
pub struct ResilientSession {
    config: ClientConfig,
    connector: Connector,
    session: Option<Session>,
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
            session: Some(session),
            pending: None,
            backoff,
            attempts: 0,
            stats: Resilience::default(),
        })
    }

    /// The session's full JID.
    ///
    /// # Panics
    ///
    /// Never: a resilient session always holds a session between calls.
    #[must_use]
    pub fn jid(&self) -> &FullJid {
        self.session()
            .map_or_else(|| unreachable!("a session between calls"), Session::jid)
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

    /// Sends a stanza; a connection that fails is recovered (the stanza
    /// goes with the resumed session).
    ///
    /// # Errors
    ///
    /// When the session cannot be recovered.
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        let result = match self.session.as_mut() {
            Some(session) => session.send(stanza),
            None => Err(NetError::Timeout("no session")),
        };
        match result {
            Ok(()) => Ok(()),
            Err(_) => self.recover(),
        }
    }

    /// The next stanza within `wait` (`None` when none came or the
    /// connection was recovered meanwhile).
    ///
    /// # Errors
    ///
    /// When the session cannot be recovered.
    pub fn recv(&mut self, wait: Duration) -> Result<Option<Stanza>, NetError> {
        let result = match self.session.as_mut() {
            Some(session) => session.recv(wait),
            None => Err(NetError::Timeout("no session")),
        };
        match result {
            Ok(stanza) => Ok(stanza),
            Err(_) => self.recover().map(|()| None),
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

    /// The connection failed: resume the session on a new one, waiting
    /// as the policy says between attempts.
    fn recover(&mut self) -> Result<(), NetError> {
        self.stats.lost += 1;
        if let Some(session) = self.session.take()
            && let Some(resumption) = session.lose_transport()
        {
            self.pending = Some(resumption);
        }
        loop {
            self.attempts += 1;
            if self.attempts > MAX_ATTEMPTS {
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
            // Lost again before it resumed: the same session, again.
            let Ok((session, lost)) = attempt else {
                continue;
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
            self.session = Some(session);
            return Ok(());
        }
    }
}
