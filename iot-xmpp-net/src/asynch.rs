//! The transport over tokio's sockets (feature `tokio`): the same route
//! as the blocking [`Transport`](crate::Transport) (DNS SRV or an address,
//! direct TLS or STARTTLS), TLS from tokio-rustls, and the same round of
//! the machine loop.

use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine};
use iot_xmpp::sasl::ChannelBindingData;
use iot_xmpp::stream::Tls;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::connector::{Attempts, Target};
use crate::trace::Trace;
use crate::{Connector, NetError, Read};

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while STARTTLS swaps the two.
    Swapping,
}

/// TCP, with TLS once started, on tokio.
pub struct AsyncTransport {
    stream: Stream,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    addr: String,
    mode: Tls,
    trace: Trace,
}

impl core::fmt::Debug for AsyncTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncTransport")
            .field("tls", &matches!(self.stream, Stream::Tls(_)))
            .finish_non_exhaustive()
    }
}

impl AsyncTransport {
    /// Connects to the server of `domain` as `connector` says, as
    /// [`Transport::dial`](crate::Transport::dial) does.
    ///
    /// # Errors
    ///
    /// As [`Transport::dial`](crate::Transport::dial).
    pub async fn dial(connector: &Connector, domain: &str, tls: Tls) -> Result<Self, NetError> {
        let deadline = Instant::now() + connector.login_wait();
        let server_name = connector.tls_name(domain)?;
        let mut attempts = Attempts::new(domain);
        for target in connector.targets_async(domain, tls).await? {
            for addr in &target.addrs {
                let left = deadline.saturating_duration_since(Instant::now());
                let attempt = Self::dial_one(connector, &server_name, &target, *addr, left);
                match attempt.await {
                    Ok(transport) => return Ok(transport),
                    Err(e) => attempts.failed(e),
                }
            }
        }
        Err(attempts.finish())
    }

    async fn dial_one(
        connector: &Connector,
        server_name: &ServerName<'static>,
        target: &Target,
        addr: std::net::SocketAddr,
        left: Duration,
    ) -> Result<Self, NetError> {
        let connect_error = |error| target.connect_error(addr, error);
        let tcp = tokio::time::timeout(left, TcpStream::connect(addr))
            .await
            .map_err(|_| connect_error(std::io::ErrorKind::TimedOut.into()))?
            .map_err(connect_error)?;
        tcp.set_nodelay(true).map_err(connect_error)?;
        let trace = Trace::from_env(tcp.local_addr().ok().map(|a| a.port()));
        let mut transport = Self {
            stream: Stream::Plain(tcp),
            connector: TlsConnector::from(connector.tls_config().clone()),
            server_name: server_name.clone(),
            addr: addr.to_string(),
            mode: target.tls,
            trace,
        };
        if target.tls == Tls::Direct {
            transport.start_tls().await?;
        }
        Ok(transport)
    }

    /// How TLS starts on this connection: what the client machine's
    /// `ClientConfig::tls` must say.
    #[must_use]
    pub fn tls(&self) -> Tls {
        self.mode
    }

    /// The TLS connection's channel binding data once TLS is up, as
    /// [`Transport::channel_binding`](crate::Transport::channel_binding)
    /// gives it; `None` before.
    #[must_use]
    pub fn channel_binding(&self) -> Option<ChannelBindingData> {
        match &self.stream {
            Stream::Tls(tls) => crate::tls::channel_binding(tls.get_ref().1),
            Stream::Plain(_) | Stream::Swapping => None,
        }
    }

    /// Runs the TLS handshake on the connection.
    ///
    /// # Errors
    ///
    /// [`NetError::Tls`], naming the host and address, when the
    /// handshake or the certificate fails.
    pub async fn start_tls(&mut self) -> Result<(), NetError> {
        let stream = std::mem::replace(&mut self.stream, Stream::Swapping);
        let tcp = match stream {
            Stream::Plain(tcp) => tcp,
            other => {
                self.stream = other;
                return Ok(());
            }
        };
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|error| NetError::Tls {
                host: self.server_name.to_str().into_owned(),
                addr: self.addr.clone(),
                error,
            })?;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Writes bytes.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.trace.sent(bytes);
        match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).await?,
            Stream::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await?;
            }
            Stream::Swapping => {}
        }
        Ok(())
    }

    /// Reads what comes within `wait`.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub async fn read(&mut self, buf: &mut [u8], wait: Duration) -> Result<Read, NetError> {
        let read = async {
            match &mut self.stream {
                Stream::Plain(s) => s.read(buf).await,
                Stream::Tls(s) => s.read(buf).await,
                Stream::Swapping => Ok(0),
            }
        };
        match tokio::time::timeout(wait.max(Duration::from_millis(1)), read).await {
            Err(_) => Ok(Read::Timeout),
            Ok(Ok(0)) => Ok(Read::Closed),
            Ok(Ok(n)) => {
                self.trace.received(&buf[..n]);
                Ok(Read::Data(n))
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Read::Closed),
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// One round of the machine loop: write what `machine` transmits, then
    /// read until its deadline (or `deadline`) and feed it, or wake it.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub async fn round<M>(&mut self, machine: &mut M, deadline: Instant) -> Result<(), NetError>
    where
        M: Machine<Instant = Instant, Input = [u8], Transmit = Vec<u8>>,
    {
        while let Some(bytes) = machine.poll_transmit() {
            self.write(&bytes).await?;
            machine.recycle(bytes);
        }
        let wake = machine.poll_timeout().map_or(deadline, |t| t.min(deadline));
        let mut buf = [0u8; 16 * 1024];
        match self
            .read(&mut buf, wake.saturating_duration_since(Instant::now()))
            .await?
        {
            Read::Data(n) => machine.handle_input(Instant::now(), Input::Data(&buf[..n])),
            Read::Closed => machine.handle_input(Instant::now(), Input::PeerClosed),
            Read::Timeout => machine.handle_timeout(Instant::now()),
        }
        while let Some(bytes) = machine.poll_transmit() {
            self.write(&bytes).await?;
            machine.recycle(bytes);
        }
        Ok(())
    }
}
