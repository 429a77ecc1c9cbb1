//! The transport over tokio's sockets (feature `tokio`): TCP, TLS from
//! tokio-rustls once started, and the same round of the machine loop as
//! the blocking [`Transport`](crate::Transport).

use std::sync::Arc;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{NetError, Read};

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
    trace: bool,
}

impl core::fmt::Debug for AsyncTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncTransport")
            .field("tls", &matches!(self.stream, Stream::Tls(_)))
            .finish_non_exhaustive()
    }
}

impl AsyncTransport {
    /// Connects to `addr`; TLS, when started, is verified for
    /// `server_name` with `tls_config`. With `XMPP_TRACE` set, every byte
    /// is printed on standard error.
    ///
    /// # Errors
    ///
    /// [`NetError::Io`], and [`NetError::Tls`] for a bad server name.
    pub async fn connect(
        addr: &str,
        tls_config: Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> Result<Self, NetError> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| NetError::connect(addr, e))?;
        tcp.set_nodelay(true)?;
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| NetError::Tls(rustls::Error::General(e.to_string())))?;
        Ok(Self {
            stream: Stream::Plain(tcp),
            connector: TlsConnector::from(tls_config),
            server_name,
            trace: std::env::var_os("XMPP_TRACE").is_some(),
        })
    }

    /// Runs the TLS handshake on the connection.
    ///
    /// # Errors
    ///
    /// [`NetError::Io`] when the handshake or the certificate fails.
    pub async fn start_tls(&mut self) -> Result<(), NetError> {
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Swapping) else {
            return Ok(());
        };
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await?;
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Writes bytes.
    ///
    /// # Errors
    ///
    /// A transport error.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        if self.trace {
            eprintln!("-> {}", String::from_utf8_lossy(bytes));
        }
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
                if self.trace {
                    eprintln!("<- {}", String::from_utf8_lossy(&buf[..n]));
                }
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
