//! Where and how a client connects: the route to the server (the
//! domain's DNS records, or an address given), the certificates trusted,
//! the name they are checked against, and the time a login may take.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use iot_xmpp::stream::Tls;
use rustls::pki_types::ServerName;

#[cfg(not(feature = "dns"))]
use crate::route::Endpoint;
use crate::{NetError, Roots};

/// How a client reaches its server. Cheap to clone; one serves any
/// number of connections.
#[derive(Debug, Clone)]
pub struct Connector {
    tls: Arc<rustls::ClientConfig>,
    address: Option<String>,
    server_name: Option<String>,
    wait: Duration,
    #[cfg(feature = "dns")]
    dns: Option<crate::dns::Dns>,
}

/// One host to try: its addresses, and how TLS starts there.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The host name (for errors).
    pub(crate) host: String,
    /// Its addresses, in the order tried.
    pub(crate) addrs: Vec<SocketAddr>,
    /// TLS from the first byte, or after STARTTLS.
    pub(crate) tls: Tls,
}

impl Connector {
    /// A connector that trusts `roots` and finds the server from the
    /// account's domain: its SRV records with the `dns` feature (RFC 6120
    /// 3.2, XEP-0368), else the domain's own addresses at port 5222.
    /// TLS is checked against the domain; a login may take 30 s.
    ///
    /// # Errors
    ///
    /// As [`Roots::client_config`].
    pub fn new(roots: &Roots) -> Result<Self, NetError> {
        Ok(Self::with_tls(roots.client_config()?))
    }

    /// A connector with a TLS configuration of the caller's.
    #[must_use]
    pub fn with_tls(tls: Arc<rustls::ClientConfig>) -> Self {
        Self {
            tls,
            address: None,
            server_name: None,
            wait: Duration::from_secs(30),
            #[cfg(feature = "dns")]
            dns: None,
        }
    }

    /// Dials `address` (`host:port`) instead of looking the domain up;
    /// TLS starts as the client's configuration says.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Checks the server's certificate against `name` rather than the
    /// account's domain (a test server's `localhost`, say).
    #[must_use]
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// How long a login (connection, TLS, authentication, binding) may
    /// take, every address tried included.
    #[must_use]
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Looks domains up with this resolver (the system's configuration
    /// unless given).
    #[cfg(feature = "dns")]
    #[must_use]
    pub fn dns(mut self, dns: crate::dns::Dns) -> Self {
        self.dns = Some(dns);
        self
    }

    /// The TLS configuration connections use.
    #[must_use]
    pub fn tls_config(&self) -> &Arc<rustls::ClientConfig> {
        &self.tls
    }

    /// The time a login may take.
    #[must_use]
    pub fn login_wait(&self) -> Duration {
        self.wait
    }

    /// The name the certificate of `domain`'s server is checked against.
    pub(crate) fn tls_name(&self, domain: &str) -> Result<ServerName<'static>, NetError> {
        let name = self.server_name.as_deref().unwrap_or(domain);
        ServerName::try_from(name.to_owned())
            .map_err(|e| NetError::TlsConfig(rustls::Error::General(format!("{name}: {e}"))))
    }

    /// A copy dialling `address`: where `see-other-host` sent the client.
    pub(crate) fn redirected(&self, address: String) -> Self {
        Self {
            address: Some(address),
            ..self.clone()
        }
    }

    /// The hosts to try for `domain`, blocking on the lookups.
    pub(crate) fn targets(&self, domain: &str, tls: Tls) -> Result<Vec<Target>, NetError> {
        if let Some(address) = &self.address {
            return Ok(vec![system_target(address, tls)?]);
        }
        #[cfg(feature = "dns")]
        {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(self.resolver()?.targets(domain))
        }
        #[cfg(not(feature = "dns"))]
        {
            fallback_targets(domain)
        }
    }

    /// The hosts to try for `domain`, on a tokio runtime.
    #[cfg(feature = "tokio")]
    pub(crate) async fn targets_async(
        &self,
        domain: &str,
        tls: Tls,
    ) -> Result<Vec<Target>, NetError> {
        if let Some(address) = &self.address {
            return Ok(vec![system_target(address, tls)?]);
        }
        #[cfg(feature = "dns")]
        {
            self.resolver()?.targets(domain).await
        }
        #[cfg(not(feature = "dns"))]
        {
            fallback_targets(domain)
        }
    }

    #[cfg(feature = "dns")]
    fn resolver(&self) -> Result<crate::dns::Dns, NetError> {
        match &self.dns {
            Some(dns) => Ok(dns.clone()),
            None => crate::dns::Dns::system(),
        }
    }
}

impl Target {
    /// A failed connection to `addr`, one of this host's addresses.
    pub(crate) fn connect_error(&self, addr: SocketAddr, error: std::io::Error) -> NetError {
        NetError::Connect {
            host: self.host.clone(),
            addr: addr.to_string(),
            error,
        }
    }
}

/// Without DNS SRV lookups: the domain itself at port 5222 with STARTTLS
/// (RFC 6120 3.2.2), through the system's resolver.
#[cfg(not(feature = "dns"))]
fn fallback_targets(domain: &str) -> Result<Vec<Target>, NetError> {
    let fallback = Endpoint::fallback(domain);
    let address = format!("{}:{}", fallback.host, fallback.port);
    Ok(vec![system_target(&address, fallback.tls)?])
}

/// `address` (`host:port`) looked up by the system's resolver.
fn system_target(address: &str, tls: Tls) -> Result<Target, NetError> {
    let addrs = address
        .to_socket_addrs()
        .map_err(|e| NetError::Resolve {
            name: address.to_owned(),
            error: e.to_string(),
        })?
        .collect();
    let host = match address.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => address,
    };
    Ok(Target {
        host: host.to_owned(),
        addrs,
        tls,
    })
}

/// The errors of the addresses tried for one domain, shaped into the one
/// error a failed connection reports.
#[derive(Debug)]
pub(crate) struct Attempts {
    domain: String,
    errors: Vec<NetError>,
}

impl Attempts {
    pub(crate) fn new(domain: &str) -> Self {
        Self {
            domain: domain.to_owned(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn failed(&mut self, error: NetError) {
        self.errors.push(error);
    }

    /// One attempt's error as it was; several as [`NetError::Unreachable`].
    pub(crate) fn finish(mut self) -> NetError {
        if self.errors.len() == 1
            && let Some(only) = self.errors.pop()
        {
            return only;
        }
        NetError::Unreachable {
            domain: self.domain,
            attempts: self.errors,
        }
    }
}
