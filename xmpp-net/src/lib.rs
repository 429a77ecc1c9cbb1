//! A blocking transport for [`iot_xmpp::stream::Client`]: TCP
//! from `std::net`, TLS from rustls (after STARTTLS, or from the first
//! byte), the clock from `std::time`, nonces from the operating system.
//! It is what the workspace's interoperability tests and blocking examples
//! run the sans-IO client on; the client machine does the XMPP.
#![allow(clippy::print_stderr)]

#[cfg(feature = "tokio")]
pub mod asynch;

pub mod proxy;
mod resilient;

pub use resilient::{Resilience, ResilientSession};

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read as _, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine};
use iot_xmpp::sasl::{BindingType, ChannelBindingData};
use iot_xmpp::stream::{Client, ClientConfig, ClientEnd, ClientEvent, ClientRefusal, Resumption};
use iot_xmpp::{FullJid, Stanza};
use rand_core::OsRng;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Why a session stopped. Its `Debug` is its `Display`, so that an
/// example's `main` that returns it prints a sentence naming the address
/// or the file, not a nested structure.
pub enum NetError {
    /// No connection to the address (nothing listens there, say).
    Connect {
        /// The address dialled.
        addr: String,
        /// Why.
        error: io::Error,
    },
    /// The certificate to trust could not be read.
    Certificate {
        /// Its path.
        path: String,
        /// Why.
        error: io::Error,
    },
    /// The transport failed.
    Io(io::Error),
    /// TLS failed (a certificate that does not verify, say).
    Tls(rustls::Error),
    /// The XMPP connection ended, with its reason.
    Ended(ClientEnd),
    /// Nothing came in time.
    Timeout(&'static str),
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Connect { addr, error } => write!(
                f,
                "cannot connect to {addr}: {error} (is an XMPP server listening there? \
                 `bash .ci/prosody` starts one on 127.0.0.1:15222; --server names another)"
            ),
            Self::Certificate { path, error } => write!(
                f,
                "cannot read the certificate to trust, {path}: {error} (`bash .ci/xmpp-cert` \
                 makes it; XMPP_CERT_DIR names its directory)"
            ),
            Self::Io(e) => write!(f, "i/o: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Ended(end) => write!(f, "the connection ended: {end}"),
            Self::Timeout(what) => write!(f, "no {what} in time"),
        }
    }
}

impl core::fmt::Debug for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for NetError {}

impl NetError {
    /// A failed connection to `addr`.
    #[must_use]
    pub fn connect(addr: &str, error: io::Error) -> Self {
        Self::Connect {
            addr: addr.to_owned(),
            error,
        }
    }
}

impl From<io::Error> for NetError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<rustls::Error> for NetError {
    fn from(e: rustls::Error) -> Self {
        Self::Tls(e)
    }
}

/// A rustls client configuration that trusts the certificates in `pem`
/// (a test server's self-signed certificate, say) and nothing else.
///
/// # Errors
///
/// [`NetError::Tls`] when `pem` holds no certificate rustls accepts.
pub fn tls_trusting(pem: &[u8]) -> Result<Arc<rustls::ClientConfig>, NetError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| NetError::Tls(rustls::Error::General(e.to_string())))?;
        roots.add(cert)?;
    }
    if roots.is_empty() {
        return Err(NetError::Tls(rustls::Error::General(
            "no certificate".into(),
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// TCP, with TLS once started: what any machine of the family that speaks
/// bytes runs over.
#[derive(Debug)]
pub struct Transport {
    tcp: TcpStream,
    tls: Option<rustls::ClientConnection>,
    tls_config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
    trace: bool,
}

/// What a read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// This many bytes.
    Data(usize),
    /// The peer closed the transport.
    Closed,
    /// Nothing before the wait ended.
    Timeout,
}

impl Transport {
    /// Connects to `addr`; TLS, when started, is verified for
    /// `server_name` with `tls_config`. With `XMPP_TRACE` set in the
    /// environment, every byte is printed on standard error.
    ///
    /// # Errors
    ///
    /// [`NetError::Io`] and [`NetError::Tls`] for a bad server name.
    pub fn connect(
        addr: &str,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> Result<Self, NetError> {
        let tcp = TcpStream::connect(addr).map_err(|e| NetError::connect(addr, e))?;
        tcp.set_nodelay(true)?;
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| NetError::Tls(rustls::Error::General(e.to_string())))?;
        Ok(Self {
            tcp,
            tls: None,
            tls_config,
            server_name,
            trace: std::env::var_os("XMPP_TRACE").is_some(),
        })
    }

    /// Runs the TLS handshake (after STARTTLS's `<proceed/>`, or first
    /// thing for direct TLS).
    ///
    /// # Errors
    ///
    /// [`NetError::Tls`] when the handshake or the certificate fails.
    pub fn start_tls(&mut self) -> Result<(), NetError> {
        let mut tls =
            rustls::ClientConnection::new(self.tls_config.clone(), self.server_name.clone())?;
        self.tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        while tls.is_handshaking() {
            tls.complete_io(&mut self.tcp)?;
        }
        self.tls = Some(tls);
        Ok(())
    }

    /// The TLS connection's channel binding data (`tls-exporter`, RFC
    /// 9266): the keying material the connection exports under
    /// `EXPORTER-Channel-Binding`, once TLS is up; `None` before, or when
    /// the connection exports nothing.
    #[must_use]
    pub fn channel_binding(&self) -> Option<ChannelBindingData> {
        let tls = self.tls.as_ref()?;
        let material = tls
            .export_keying_material(
                vec![0u8; BindingType::EXPORTER_LEN],
                BindingType::EXPORTER_LABEL,
                None,
            )
            .ok()?;
        Some(ChannelBindingData::tls_exporter(material))
    }

    /// Writes bytes (through TLS once started).
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        if self.trace {
            eprintln!("-> {}", String::from_utf8_lossy(bytes));
        }
        match &mut self.tls {
            Some(tls) => {
                tls.writer().write_all(bytes)?;
                while tls.wants_write() {
                    tls.write_tls(&mut self.tcp)?;
                }
            }
            None => self.tcp.write_all(bytes)?,
        }
        Ok(())
    }

    /// Reads what comes within `wait`.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn read(&mut self, buf: &mut [u8], wait: Duration) -> Result<Read, NetError> {
        self.tcp
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        let got = match &mut self.tls {
            Some(tls) => rustls::Stream::new(tls, &mut self.tcp).read(buf),
            None => self.tcp.read(buf),
        };
        match got {
            Ok(0) => Ok(Read::Closed),
            Ok(n) => {
                if self.trace {
                    eprintln!("<- {}", String::from_utf8_lossy(&buf[..n]));
                }
                Ok(Read::Data(n))
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Ok(Read::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(Read::Closed),
            Err(e) => Err(e.into()),
        }
    }

    /// One round of the loop every machine of the family runs in: write
    /// what `machine` transmits, then read until its deadline (or
    /// `deadline`) and feed it, or wake it at its deadline.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn round<M>(&mut self, machine: &mut M, deadline: Instant) -> Result<(), NetError>
    where
        M: Machine<Instant = Instant, Input = [u8], Transmit = Vec<u8>>,
    {
        while let Some(bytes) = machine.poll_transmit() {
            self.write(&bytes)?;
            machine.recycle(bytes);
        }
        let wake = machine.poll_timeout().map_or(deadline, |t| t.min(deadline));
        let mut buf = [0u8; 16 * 1024];
        match self.read(&mut buf, wake.saturating_duration_since(Instant::now()))? {
            Read::Data(n) => machine.handle_input(Instant::now(), Input::Data(&buf[..n])),
            Read::Closed => machine.handle_input(Instant::now(), Input::PeerClosed),
            Read::Timeout => machine.handle_timeout(Instant::now()),
        }
        while let Some(bytes) = machine.poll_transmit() {
            self.write(&bytes)?;
            machine.recycle(bytes);
        }
        Ok(())
    }
}

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
    /// Connects to `addr`, logs in as `config` says (TLS verified for
    /// `server_name`) and waits up to `wait` until the session is online.
    /// With `XMPP_TRACE` set in the environment, every byte is printed on
    /// standard error.
    ///
    /// # Errors
    ///
    /// [`NetError`] when the transport, TLS or the login fails, or the
    /// login does not finish in time.
    pub fn login(
        addr: &str,
        config: ClientConfig,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: &str,
        wait: Duration,
    ) -> Result<Self, NetError> {
        let deadline = Instant::now() + wait;
        follow_once(
            addr,
            deadline,
            (config, tls_config),
            |addr, wait, (config, tls_config)| {
                let tls = config.tls;
                let conn = Client::new(config, OsRng);
                Self::open(addr, conn, tls, tls_config, server_name, wait)
            },
        )
    }

    /// Connects to `addr` and resumes the session a lost connection left
    /// (XEP-0198, `resumption` from [`Session::lose_transport`]); when the
    /// server refuses, logs in anew. Returns the session and, when it is a
    /// new one, the stanzas of the old session that may not have arrived.
    ///
    /// # Errors
    ///
    /// As [`Session::login`].
    pub fn resume(
        addr: &str,
        config: ClientConfig,
        resumption: Resumption,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: &str,
        wait: Duration,
    ) -> Result<(Self, Option<Vec<Stanza>>), NetError> {
        let deadline = Instant::now() + wait;
        let mut session = follow_once(
            addr,
            deadline,
            (config, resumption, tls_config),
            |addr, wait, (config, resumption, tls_config)| {
                let tls = config.tls;
                let conn = Client::resume(config, OsRng, resumption);
                Self::open(addr, conn, tls, tls_config, server_name, wait)
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
        let _ = self.transport.tcp.shutdown(std::net::Shutdown::Both);
        self.conn.handle_input(Instant::now(), Input::PeerClosed);
        self.conn.resumption()
    }

    /// Hands a stanza to the connection without writing it to the socket:
    /// what a stanza still in a buffer is when the link breaks (for tests
    /// of resumption; [`Session::send`] writes at once).
    ///
    /// # Errors
    ///
    /// [`NetError::Ended`] when the connection ended.
    pub fn hold(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        self.conn.send(stanza).map_err(|_| self.ended_error())
    }

    /// The SASL mechanism the login used (`SCRAM-SHA-1-PLUS` when it
    /// bound the channel).
    #[must_use]
    pub fn mechanism(&self) -> Option<iot_xmpp::sasl::Mechanism> {
        self.conn.mechanism()
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
        addr: &str,
        conn: Client<Instant, OsRng>,
        tls: iot_xmpp::stream::Tls,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: &str,
        wait: Duration,
    ) -> Result<Self, NetError> {
        let mut transport = Transport::connect(addr, tls_config, server_name)?;
        let mut conn = conn;
        if tls == iot_xmpp::stream::Tls::Direct {
            secure(&mut transport, &mut conn)?;
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
        let deadline = Instant::now() + wait;
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
    /// [`NetError::Ended`] when the connection ended, or a transport error.
    pub fn send(&mut self, stanza: &Stanza) -> Result<(), NetError> {
        if self.conn.send(stanza).is_err() {
            return Err(self.ended_error());
        }
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
        self.transport.round(&mut self.conn, deadline)?;
        self.events()
    }

    fn flush(&mut self) -> Result<(), NetError> {
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

/// Runs `connect` against `addr`; when the server answers with
/// `see-other-host` (RFC 6120 4.9.3.19), runs it once more against the host
/// it names (port 5222 unless it names one), within what is left of the
/// same time. A second redirect is not followed.
fn follow_once<C: Clone, T>(
    addr: &str,
    deadline: Instant,
    with: C,
    mut connect: impl FnMut(&str, Duration, C) -> Result<T, NetError>,
) -> Result<T, NetError> {
    let left = || deadline.saturating_duration_since(Instant::now());
    let spare = with.clone();
    match connect(addr, left(), with) {
        Err(NetError::Ended(iot_sansio::End::Refused(ClientRefusal::SeeOtherHost { host }))) => {
            connect(&with_default_port(&host), left(), spare)
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

/// The XMPP servers the workspace's interoperability tests run against, as
/// `.ci/prosody` and `.ci/ejabberd` start them on loopback.
pub const TEST_SERVERS: [(&str, &str); 2] = [
    ("Prosody", "127.0.0.1:15222"),
    ("ejabberd", "127.0.0.1:15223"),
];

/// The test servers that answer. Outside CI, a missing one is skipped
/// with a message on standard error; under `CI=true` it panics, so that
/// CI never skips an interoperability test.
///
/// # Panics
///
/// Under `CI=true`, when a server does not listen.
#[must_use]
pub fn test_servers() -> Vec<(&'static str, &'static str)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    TEST_SERVERS
        .into_iter()
        .filter(|(name, addr)| {
            let up = TcpStream::connect(addr).is_ok();
            let start = format!("`bash .ci/{}` starts it", name.to_lowercase());
            assert!(up || !ci, "{name} does not listen on {addr}: {start}");
            if !up {
                eprintln!("skipping {name}: nothing listens on {addr} ({start})");
            }
            up
        })
        .collect()
}

/// A rustls configuration that trusts the test servers' certificate, the
/// one `.ci/xmpp-cert` made in `$XMPP_CERT_DIR` (default
/// `/tmp/xmpp-cert`).
///
/// # Errors
///
/// [`NetError::Certificate`], naming the file, when the certificate is
/// not there.
pub fn test_servers_tls() -> Result<Arc<rustls::ClientConfig>, NetError> {
    let dir = std::env::var("XMPP_CERT_DIR").unwrap_or_else(|_| "/tmp/xmpp-cert".into());
    tls_trusting_file(&format!("{dir}/localhost.crt"))
}

/// A rustls client configuration that trusts the certificates in the PEM
/// file at `path`.
///
/// # Errors
///
/// [`NetError::Certificate`], naming the file, when it cannot be read;
/// [`NetError::Tls`] when it holds no certificate.
pub fn tls_trusting_file(path: &str) -> Result<Arc<rustls::ClientConfig>, NetError> {
    let pem = std::fs::read(path).map_err(|error| NetError::Certificate {
        path: path.to_owned(),
        error,
    })?;
    tls_trusting(&pem)
}

/// The `--server ADDR` argument of the workspace's XMPP examples (default
/// `127.0.0.1:15222`, the Prosody of `.ci/prosody`).
#[must_use]
pub fn server_arg() -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--server")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| TEST_SERVERS[0].1.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused connection and a missing certificate are reported with
    /// the address and the file, as sentences.
    #[test]
    fn errors_name_the_address_and_the_file() {
        let missing = tls_trusting_file("/nonexistent/localhost.crt").unwrap_err();
        let text = format!("{missing:?}");
        assert!(text.contains("/nonexistent/localhost.crt"), "{text}");
        let roots = rustls::RootCertStore::empty();
        let config = Arc::new(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        );
        // Port 1 on loopback: nothing listens there.
        let Err(refused) = Transport::connect("127.0.0.1:1", config, "localhost") else {
            panic!("something listens on 127.0.0.1:1");
        };
        let text = format!("{refused:?}");
        assert!(text.contains("cannot connect to 127.0.0.1:1"), "{text}");
    }

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
