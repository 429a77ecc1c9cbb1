//! The blocking transport: TCP from `std::net`, TLS from rustls (after
//! STARTTLS, or from the first byte), the clock from `std::time`.

use std::io::{ErrorKind, Read as _, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine};
use iot_xmpp::stream::Tls;
use rustls::pki_types::ServerName;

use crate::connector::{Attempts, Target};
use crate::trace::Trace;
use crate::{Connector, NetError, Read};

/// TCP, with TLS once started: what any machine of the family that speaks
/// bytes runs over.
#[derive(Debug)]
pub struct Transport {
    tcp: TcpStream,
    tls: Option<rustls::ClientConnection>,
    tls_config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
    /// The address, for errors.
    addr: String,
    /// How TLS starts on this connection.
    mode: Tls,
    trace: Trace,
}

impl Transport {
    /// Connects to the server of `domain` as `connector` says: the
    /// address it names, or the domain's DNS records, trying each address
    /// in turn within the connector's time; on a direct TLS endpoint
    /// (XEP-0368, or `tls` [`Tls::Direct`] with an address) TLS is
    /// started at once. [`Transport::tls`] tells the client machine how
    /// TLS started. With `XMPP_TRACE` set in the environment, every byte
    /// is printed on standard error.
    ///
    /// # Errors
    ///
    /// [`NetError::Resolve`], [`NetError::NoService`],
    /// [`NetError::Connect`] or [`NetError::Tls`] naming the host and
    /// address, [`NetError::Unreachable`] listing each address tried.
    pub fn dial(connector: &Connector, domain: &str, tls: Tls) -> Result<Self, NetError> {
        Self::dial_until(
            connector,
            domain,
            tls,
            Instant::now() + connector.login_wait(),
        )
    }

    pub(crate) fn dial_until(
        connector: &Connector,
        domain: &str,
        tls: Tls,
        deadline: Instant,
    ) -> Result<Self, NetError> {
        let server_name = connector.tls_name(domain)?;
        let mut attempts = Attempts::new(domain);
        for target in connector.targets(domain, tls)? {
            for addr in &target.addrs {
                let left = deadline.saturating_duration_since(Instant::now());
                match Self::dial_one(connector, &server_name, &target, *addr, left) {
                    Ok(transport) => return Ok(transport),
                    Err(e) => attempts.failed(e),
                }
            }
        }
        Err(attempts.finish())
    }

    fn dial_one(
        connector: &Connector,
        server_name: &ServerName<'static>,
        target: &Target,
        addr: std::net::SocketAddr,
        left: Duration,
    ) -> Result<Self, NetError> {
        let connect_error = |error| target.connect_error(addr, error);
        let tcp = TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1)))
            .map_err(connect_error)?;
        tcp.set_nodelay(true).map_err(connect_error)?;
        let trace = Trace::from_env(tcp.local_addr().ok().map(|a| a.port()));
        let mut transport = Self {
            tcp,
            tls: None,
            tls_config: connector.tls_config().clone(),
            server_name: server_name.clone(),
            addr: addr.to_string(),
            mode: target.tls,
            trace,
        };
        if target.tls == Tls::Direct {
            transport.start_tls()?;
        }
        Ok(transport)
    }

    /// Shuts the socket down both ways, with no stream close: what a
    /// broken link does.
    pub(crate) fn shut_down(&self) {
        let _ = self.tcp.shutdown(std::net::Shutdown::Both);
    }

    /// How TLS starts on this connection: what the client machine's
    /// [`ClientConfig::tls`](iot_xmpp::stream::ClientConfig::tls) must say.
    #[must_use]
    pub fn tls(&self) -> Tls {
        self.mode
    }

    /// The address connected to.
    #[must_use]
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Runs the TLS handshake (after STARTTLS's `<proceed/>`, or first
    /// thing for direct TLS).
    ///
    /// # Errors
    ///
    /// [`NetError::Tls`] when the handshake or the certificate fails.
    pub fn start_tls(&mut self) -> Result<(), NetError> {
        if self.tls.is_some() {
            return Ok(());
        }
        let mut tls =
            rustls::ClientConnection::new(self.tls_config.clone(), self.server_name.clone())?;
        self.tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        while tls.is_handshaking() {
            tls.complete_io(&mut self.tcp)
                .map_err(|error| NetError::Tls {
                    host: self.server_name.to_str().into_owned(),
                    addr: self.addr.clone(),
                    error,
                })?;
        }
        self.tls = Some(tls);
        Ok(())
    }

    /// The TLS connection's channel binding data once TLS is up:
    /// `tls-exporter` (RFC 9266) over TLS 1.3, `tls-server-end-point` (RFC
    /// 5929, [`server_end_point`](crate::server_end_point)) over TLS 1.2;
    /// `None` before, or when neither can be had.
    #[must_use]
    pub fn channel_binding(&self) -> Option<iot_xmpp::sasl::ChannelBindingData> {
        crate::tls::channel_binding(self.tls.as_ref()?)
    }

    /// Writes bytes (through TLS once started).
    ///
    /// # Errors
    ///
    /// A transport error.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.trace.sent(bytes);
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
                self.trace.received(&buf[..n]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Roots;

    /// A refused connection names the host and the address.
    #[test]
    fn a_refused_connection_names_the_host_and_the_address() {
        let pem = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
        assert!(Roots::Pem(pem.to_vec()).client_config().is_err());
        let connector = Connector::new(&Roots::Platform)
            .unwrap()
            // Port 1 on loopback: nothing listens there.
            .address("127.0.0.1:1")
            .wait(Duration::from_secs(2));
        let Err(refused) = Transport::dial(&connector, "example.net", Tls::StartTls) else {
            panic!("something listens on 127.0.0.1:1");
        };
        let text = format!("{refused:?}");
        assert!(
            text.starts_with("cannot connect to 127.0.0.1 at 127.0.0.1:1:"),
            "{text}"
        );
        assert!(matches!(refused, NetError::Connect { .. }));
    }
}
