//! A blocking XMPP client session: the client machine of `iot-xmpp` on a
//! [`Transport`], logged in, with `see-other-host` followed and
//! resumption (XEP-0198); nonces from the operating system.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine};
use iot_xmpp::stream::{
    Client, ClientConfig, ClientEnd, ClientError, ClientEvent, ClientRefusal, Resumption, Tls,
};
use iot_xmpp::{FullJid, Stanza};
use rand_core::OsRng;

use crate::{Connector, NetError, Transport};

/// One logged-in XMPP client session over TCP (and TLS).
#[derive(Debug)]
pub struct Session {
    transport: Transport,
    conn: Client<Instant, OsRng>,
    jid: Option<FullJid>,
    other_resource: bool,
    inbox: VecDeque<Stanza>,
    ended: Option<ClientEnd>,
    /// The session was resumed (XEP-0198).
    resumed: bool,
    /// How many stanzas the resumption sent again.
    resent: usize,
    /// A resumption refused: the old session's stanzas that may be lost.
    unresumed: Option<Vec<Stanza>>,
}

impl Session {
    /// Connects as `connector` says to the server of `config`'s domain,
    /// logs in and waits (up to the connector's time) until the session
    /// is online. A `see-other-host` redirect is followed once. With
    /// `XMPP_TRACE` set in the environment, every byte is printed on
    /// standard error.
    ///
    /// # Errors
    ///
    /// [`NetError`] when the route, the transport, TLS or the login
    /// fails, or the login does not finish in time.
    pub fn login(config: ClientConfig, connector: &Connector) -> Result<Self, NetError> {
        let (domain, tls) = (config.jid.domain().to_string(), config.tls);
        follow_once(connector, &domain, tls, config, |config, tls| {
            Client::new(ClientConfig { tls, ..config }, OsRng)
        })
    }

    /// Connects and resumes the session a lost connection left (XEP-0198,
    /// `resumption` from [`Session::lose_transport`]); when the server
    /// refuses, logs in anew. Returns the session and, when it is a new
    /// one, the stanzas of the old session that may not have arrived.
    ///
    /// # Errors
    ///
    /// As [`Session::login`].
    pub fn resume(
        config: ClientConfig,
        resumption: Resumption,
        connector: &Connector,
    ) -> Result<(Self, Option<Vec<Stanza>>), NetError> {
        let (domain, tls) = (config.jid.domain().to_string(), config.tls);
        let mut session = follow_once(
            connector,
            &domain,
            tls,
            (config, resumption),
            |(config, resumption), tls| {
                Client::resume(ClientConfig { tls, ..config }, OsRng, resumption)
            },
        )?;
        let lost = session.unresumed.take();
        Ok((session, lost))
    }

    /// Loses the transport as a broken link would: the socket is shut
    /// down with no stream close, what the connection has not written yet
    /// is never written, and the session is left for the server to keep.
    /// Returns what a new connection needs to resume it, when the server
    /// enabled resumption.
    #[must_use]
    pub fn lose_transport(mut self) -> Option<Resumption> {
        self.transport.shut_down();
        self.conn.handle_input(Instant::now(), Input::PeerClosed);
        self.conn.resumption()
    }

    /// Takes the stanzas the connection read and [`Session::recv`] has not
    /// given yet, oldest first. A runtime that gives this connection up
    /// (for [`Session::lose_transport`]) owes them to the application all
    /// the same: the server counts them as handled (XEP-0198) and will
    /// not send them again.
    pub fn take_unread(&mut self) -> Vec<Stanza> {
        while let Some(event) = self.conn.poll_event() {
            match event {
                ClientEvent::Stanza(s) => self.inbox.push_back(s),
                ClientEvent::Ended(end) => self.ended = Some(end),
                // A connection given up starts no TLS and binds nothing
                // more: no I/O here.
                _ => {}
            }
        }
        self.inbox.drain(..).collect()
    }

    /// Hands a stanza to the connection without writing it to the socket:
    /// what a stanza still in a buffer is when the link breaks (for tests
    /// of resumption; [`Session::send`] writes at once).
    ///
    /// # Errors
    ///
    /// [`NetError::Ended`] when the connection ended and keeps nothing
    /// for a resumption; [`NetError::Refused`] when it does not take the
    /// stanza (too many wait for acknowledgement, a character XML
    /// forbids).
    pub fn hold(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        self.conn.send(stanza).map_err(|e| match e {
            ClientError::NotOnline => self.ended_error(),
            other => NetError::Refused(other),
        })
    }

    /// The SASL mechanism the login used (`SCRAM-SHA-1-PLUS` when it
    /// bound the channel).
    #[must_use]
    pub fn mechanism(&self) -> Option<iot_xmpp::sasl::Mechanism> {
        self.conn.mechanism()
    }

    /// How TLS started on the session's connection: [`Tls::Direct`] on a
    /// direct TLS endpoint (XEP-0368), [`Tls::StartTls`] otherwise.
    #[must_use]
    pub fn tls(&self) -> Tls {
        self.transport.tls()
    }

    /// The address the session's connection went to.
    #[must_use]
    pub fn addr(&self) -> &str {
        self.transport.addr()
    }

    /// Whether this session was resumed rather than logged in anew.
    #[must_use]
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// How many stanzas the resumption sent again (those the server had
    /// not acknowledged).
    #[must_use]
    pub fn resent(&self) -> usize {
        self.resent
    }

    /// How many stanzas sent wait for the server's acknowledgement.
    #[must_use]
    pub fn unacknowledged(&self) -> usize {
        self.conn.unacknowledged().count()
    }

    fn open(
        transport: Transport,
        mut conn: Client<Instant, OsRng>,
        deadline: Instant,
    ) -> Result<Self, NetError> {
        if let Some(binding) = transport.channel_binding() {
            conn.set_channel_binding(binding);
        }
        let mut session = Self {
            transport,
            conn,
            jid: None,
            other_resource: false,
            inbox: VecDeque::new(),
            ended: None,
            resumed: false,
            resent: 0,
            unresumed: None,
        };
        session.conn.start(Instant::now());
        while session.jid.is_none() {
            session.round(deadline)?;
            if Instant::now() >= deadline && session.jid.is_none() {
                return Err(NetError::Timeout("login"));
            }
        }
        Ok(session)
    }

    /// The full JID the server bound.
    #[must_use]
    pub fn jid(&self) -> &FullJid {
        self.jid
            .as_ref()
            .unwrap_or_else(|| unreachable!("a session is online"))
    }

    /// Whether the server bound another resource than the one asked for.
    #[must_use]
    pub fn other_resource(&self) -> bool {
        self.other_resource
    }

    /// Sends a stanza.
    ///
    /// # Errors
    ///
    /// As [`Session::hold`], or a transport error (the stanza is then
    /// kept for a resumption).
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        self.hold(stanza)?;
        self.flush()
    }

    /// The next stanza, waiting up to `wait`; `None` when none came.
    ///
    /// # Errors
    ///
    /// [`NetError::Ended`] when the connection ended, or a transport error.
    pub fn recv(&mut self, wait: Duration) -> Result<Option<Stanza>, NetError> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(s) = self.inbox.pop_front() {
                return Ok(Some(s));
            }
            if self.ended.is_some() {
                return Err(self.ended_error());
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.round(deadline)?;
        }
    }

    /// Closes the stream and waits (up to 5 s) for the server's close.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn close(mut self) -> Result<(), NetError> {
        self.conn.close(Instant::now());
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.ended.is_none() && Instant::now() < deadline {
            self.round(deadline)?;
        }
        Ok(())
    }

    fn ended_error(&self) -> NetError {
        NetError::Ended(self.ended.clone().unwrap_or(iot_sansio::End::PeerClosed))
    }

    fn round(&mut self, deadline: Instant) -> Result<(), NetError> {
        let result = self.transport.round(&mut self.conn, deadline);
        // What the connection read before the transport failed is the
        // application's all the same: the server counts it as handled.
        let events = self.events();
        result.and(events)
    }

    /// Writes what the connection has to send.
    pub(crate) fn flush(&mut self) -> Result<(), NetError> {
        while let Some(bytes) = self.conn.poll_transmit() {
            self.transport.write(&bytes)?;
            self.conn.recycle(bytes);
        }
        Ok(())
    }

    fn events(&mut self) -> Result<(), NetError> {
        while let Some(event) = self.conn.poll_event() {
            match event {
                ClientEvent::StartTls => {
                    secure(&mut self.transport, &mut self.conn)?;
                    self.conn.tls_started(Instant::now());
                    self.flush()?;
                }
                ClientEvent::Online {
                    jid,
                    other_resource,
                } => {
                    self.jid = Some(jid);
                    self.other_resource = other_resource;
                }
                ClientEvent::Resumed { jid, resent } => {
                    self.jid = Some(jid);
                    self.resumed = true;
                    self.resent = resent;
                }
                ClientEvent::ResumeFailed { unacknowledged } => {
                    self.unresumed = Some(unacknowledged);
                }
                ClientEvent::Stanza(s) => self.inbox.push_back(s),
                ClientEvent::Ended(end) => self.ended = Some(end),
            }
        }
        if let (Some(end), None) = (&self.ended, &self.jid) {
            return Err(NetError::Ended(end.clone()));
        }
        Ok(())
    }
}

/// Starts TLS on `transport` and gives `conn` the connection's channel
/// binding data, before it authenticates.
fn secure(transport: &mut Transport, conn: &mut Client<Instant, OsRng>) -> Result<(), NetError> {
    transport.start_tls()?;
    if let Some(binding) = transport.channel_binding() {
        conn.set_channel_binding(binding);
    }
    Ok(())
}

/// Dials `domain`'s server and opens a session on a client `make` builds
/// for the connection's TLS; when the server answers with
/// `see-other-host` (RFC 6120 4.9.3.19), does it once more at the host it
/// names (port 5222 unless it names one), within what is left of the
/// same time, the certificate still checked against the domain. A second
/// redirect is not followed.
fn follow_once<C: Clone>(
    connector: &Connector,
    domain: &str,
    tls: Tls,
    with: C,
    make: impl Fn(C, Tls) -> Client<Instant, OsRng>,
) -> Result<Session, NetError> {
    let deadline = Instant::now() + connector.login_wait();
    let attempt = |connector: &Connector, with: C| {
        let transport = Transport::dial_until(connector, domain, tls, deadline)?;
        let conn = make(with, transport.tls());
        Session::open(transport, conn, deadline)
    };
    match attempt(connector, with.clone()) {
        Err(NetError::Ended(iot_sansio::End::Refused(ClientRefusal::SeeOtherHost { host }))) => {
            attempt(&connector.redirected(with_default_port(&host)), with)
        }
        other => other,
    }
}

/// `host` with the XMPP client port (5222) when it names none: a name,
/// an IPv4 address, or an IPv6 address in brackets.
fn with_default_port(host: &str) -> String {
    let has_port = match host.rfind(']') {
        Some(end) => host[end..].contains(':'),
        None => host.contains(':'),
    };
    if has_port {
        host.to_owned()
    } else {
        format!("{host}:5222")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_without_a_port_gets_the_client_port() {
        assert_eq!(with_default_port("example.org"), "example.org:5222");
        assert_eq!(with_default_port("example.org:5223"), "example.org:5223");
        assert_eq!(with_default_port("192.0.2.1"), "192.0.2.1:5222");
        assert_eq!(with_default_port("[2001:db8::1]"), "[2001:db8::1]:5222");
        assert_eq!(
            with_default_port("[2001:db8::1]:5223"),
            "[2001:db8::1]:5223"
        );
    }
}
