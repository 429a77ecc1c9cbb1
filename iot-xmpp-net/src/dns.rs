//! DNS lookups of an XMPP domain through hickory-resolver (feature
//! `dns`): the SRV records of its client services (RFC 6120 3.2.1,
//! XEP-0368), ordered by [`crate::route::endpoints`],
//! then each target's addresses.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use rand_core::OsRng;

use crate::NetError;
use crate::connector::Target;
use crate::route::{self, DIRECT_TLS_SERVICE, STARTTLS_SERVICE, SrvRecord};

/// A resolver. Cheap to clone.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl core::fmt::Debug for Dns {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dns").finish_non_exhaustive()
    }
}

impl Dns {
    /// The system's resolver configuration (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// [`NetError::Resolve`] when the configuration cannot be read.
    pub fn system() -> Result<Self, NetError> {
        let builder = TokioResolver::builder_tokio().map_err(|e| NetError::Resolve {
            name: "the system's resolver configuration".into(),
            error: e.to_string(),
        })?;
        Self::build(builder)
    }

    /// The name server at `addr` alone, over UDP and TCP: a resolver of
    /// the caller's, or a test's. The hosts file is not read: every name
    /// is asked of that server.
    ///
    /// # Errors
    ///
    /// [`NetError::Resolve`] when the resolver cannot be built.
    pub fn name_server(addr: SocketAddr) -> Result<Self, NetError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = addr.port();
        let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
        let config = ResolverConfig::from_name_servers(vec![server]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        builder.options_mut().use_hosts_file = ResolveHosts::Never;
        Self::build(builder)
    }

    fn build(
        builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>,
    ) -> Result<Self, NetError> {
        let resolver = builder.build().map_err(|e| NetError::Resolve {
            name: "(resolver)".into(),
            error: e.to_string(),
        })?;
        Ok(Self { resolver })
    }

    /// The SRV records of `service` (`_xmpp-client._tcp`, say) of
    /// `domain`; none when the name has none.
    ///
    /// # Errors
    ///
    /// [`NetError::Resolve`] when the lookup fails otherwise.
    pub async fn srv(&self, service: &str, domain: &str) -> Result<Vec<SrvRecord>, NetError> {
        let name = format!("{service}.{domain}.");
        match self.resolver.srv_lookup(name.as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some(SrvRecord {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv.target.to_ascii(),
                    }),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(NetError::Resolve {
                name,
                error: e.to_string(),
            }),
        }
    }

    /// The addresses of `host` (A and AAAA), at `port`; an address
    /// literal is its own.
    ///
    /// # Errors
    ///
    /// [`NetError::Resolve`] when the lookup fails or finds nothing.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, NetError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let name = format!("{host}.");
        let lookup =
            self.resolver
                .lookup_ip(name.as_str())
                .await
                .map_err(|e| NetError::Resolve {
                    name: host.to_owned(),
                    error: e.to_string(),
                })?;
        Ok(lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect())
    }

    /// The hosts to try for `domain`, in order: its SRV records of both
    /// services, ordered, or the domain itself at 5222; each with its
    /// addresses. A host whose addresses cannot be found is left out
    /// (its error is kept when none is left).
    pub(crate) async fn targets(&self, domain: &str) -> Result<Vec<Target>, NetError> {
        let starttls = self.srv(STARTTLS_SERVICE, domain).await?;
        let direct = self.srv(DIRECT_TLS_SERVICE, domain).await?;
        let endpoints = route::endpoints(domain, &starttls, &direct, &mut OsRng).map_err(
            |route::NoService| NetError::NoService {
                domain: domain.to_owned(),
            },
        )?;
        let mut targets = Vec::with_capacity(endpoints.len());
        let mut last = None;
        for endpoint in endpoints {
            match self.addresses(&endpoint.host, endpoint.port).await {
                Ok(addrs) => targets.push(Target {
                    host: endpoint.host,
                    addrs,
                    tls: endpoint.tls,
                }),
                Err(e) => last = Some(e),
            }
        }
        match (targets.is_empty(), last) {
            (true, Some(e)) => Err(e),
            _ => Ok(targets),
        }
    }
}
