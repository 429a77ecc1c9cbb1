//! The IRSP platform over real HTTPS on loopback: an account server, a
//! message server and an application server, each an HTTP/1.1 server on
//! hyper over rustls, each knowing its callers by the TLS client
//! certificate they present (made here, at setup, under a test CA). The
//! account server registers a user and a device at the message server
//! (Messages 1 and 2); the message server uploads a device's data and
//! reports it online to the application server (Messages 9 and 10); the
//! application server pushes to the device through the message server
//! (Message 13). A caller whose certificate names another role, and one
//! without a certificate, are refused (Message 7 at the account server,
//! Message 10 at the application server) before the request has any
//! effect.
//!
//! ```sh
//! cargo run -p irsp-proto --example https_platform
//! ```
//!
//! `tests/https.rs` runs the same scenario as a test and checks that
//! nothing refused reached a server's handler.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request as HttpRequest, Response as HttpResponse};
use hyper_util::rt::TokioIo;
use irsp_proto::{
    AccountAuth, ClientExchange, DeviceAccount, DeviceName, Dispatcher, Outcome, Peer, Request,
    Secret, ServerRole, ServiceRoutes, Status, UserName,
};
use irsp_proto::{AdditionalParams, DeviceData, DeviceNotice, UserAccount, VerifyCodeReset};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// One server's identity: its certificate and key, and its name.
struct Identity {
    name: &'static str,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// A CA and one identity per role, made now: each certificate names its
/// host (and 127.0.0.1) and serves as a TLS server and client identity.
struct Pki {
    ca: CertificateDer<'static>,
    ids: HashMap<ServerRole, Identity>,
    /// A certificate of the same CA that names no IRSP server.
    stranger: Identity,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let make = |name: &'static str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &issuer).unwrap();
        Identity {
            name,
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    };
    let mut ids = HashMap::new();
    ids.insert(ServerRole::Account, make("account.igrs.test"));
    ids.insert(ServerRole::Message, make("message.igrs.test"));
    ids.insert(ServerRole::Application, make("application.igrs.test"));
    Pki {
        ca: ca_cert.der().clone(),
        stranger: make("stranger.example.test"),
        ids,
    }
}

fn roots(pki: &Pki) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    roots
}

// `ring`, as the workspace's XMPP transport (deprecated by rustls 0.23.48
// for lacking post-quantum key exchange).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The role a client certificate names: the one of the identity whose
/// certificate it is (a deployment would read the certificate's name).
fn peer_of(pki: &Pki, cert: Option<&CertificateDer<'_>>) -> Peer {
    let Some(cert) = cert else {
        return Peer::unknown("no certificate");
    };
    pki.ids
        .iter()
        .find(|(_, id)| id.cert.as_ref() == cert.as_ref())
        .map_or_else(
            || Peer::unknown("a certificate naming no IRSP server"),
            |(role, id)| Peer::server(*role, id.name),
        )
}

/// What a server does with a dispatched request: the status to answer.
type Handler = Arc<Mutex<dyn FnMut(&Request) -> Status + Send>>;

/// Starts an HTTPS server for `role` on a free loopback port; client
/// certificates of the CA are asked for but optional, so that a caller
/// without one reaches the dispatcher and is refused there.
async fn serve(
    pki: Arc<Pki>,
    role: ServerRole,
    routes: ServiceRoutes,
    handler: Handler,
) -> Res<SocketAddr> {
    let me = pki.ids[&role].clone();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&pki)), provider())
        .allow_unauthenticated()
        .build()?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![me.cert.clone()], me.key.clone_key())?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut dispatcher = Dispatcher::new(role, routes);
    if role == ServerRole::Message {
        dispatcher = dispatcher.accept_account_server(credentials());
    }
    let dispatcher = Arc::new(dispatcher);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, pki, dispatcher, handler) = (
                acceptor.clone(),
                pki.clone(),
                dispatcher.clone(),
                handler.clone(),
            );
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let peer = peer_of(
                    &pki,
                    tls.get_ref().1.peer_certificates().and_then(|c| c.first()),
                );
                let service = hyper::service::service_fn(move |req: HttpRequest<Incoming>| {
                    let (dispatcher, handler, peer) =
                        (dispatcher.clone(), handler.clone(), peer.clone());
                    async move {
                        let path = req.uri().path().to_owned();
                        let query = req.uri().query().unwrap_or_default().to_owned();
                        let (code, body) = match dispatcher.dispatch(
                            &peer,
                            req.method().as_str(),
                            &path,
                            &query,
                        ) {
                            Ok(request) => {
                                let status = (handler.lock().unwrap())(&request);
                                let response = dispatcher.respond(&request, status).unwrap();
                                (response.status_code(), response.body())
                            }
                            Err(e) => (
                                e.http_status(),
                                e.response().map(Status::body).unwrap_or_default(),
                            ),
                        };
                        HttpResponse::builder()
                            .status(code)
                            .header("content-type", "text/xml")
                            .body(Full::new(Bytes::from(body)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// Sends one request over HTTPS as `from` (its client certificate; none
/// for `None`) to the server of `to` at `addr`; returns the outcome.
async fn send(
    pki: &Pki,
    from: Option<&Identity>,
    to: ServerRole,
    addr: SocketAddr,
    routes: &ServiceRoutes,
    request: Request,
) -> Res<(u16, Outcome)> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(pki));
    let config = match from {
        Some(id) => builder.with_client_auth_cert(vec![id.cert.clone()], id.key.clone_key())?,
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(pki.ids[&to].name)?;
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let exchange = ClientExchange::new(request);
    let target = exchange.target(routes);
    let http = HttpRequest::get(&target)
        .header("host", pki.ids[&to].name)
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(http).await?;
    let code = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    let label = from.map_or("(no certificate)", |id| id.name);
    println!(
        "{label} -> {}: GET {target}\n  -> {code} {}",
        pki.ids[&to].name,
        String::from_utf8_lossy(&body)
    );
    if code == 403 {
        // Refused by the policy, with no IRSP body.
        return Ok((code, Outcome::Refused(Status::BadRequest)));
    }
    Ok((code, exchange.handle_response(code, &body)?))
}

fn credentials() -> AccountAuth {
    AccountAuth {
        appid: "account.igrs.test".into(),
        token: Secret::new("assigned-by-message-server"),
    }
}

fn routes() -> ServiceRoutes {
    ServiceRoutes::new(
        "/upload/user",
        "/upload/device",
        "/notify",
        "/push",
        "/exchange",
    )
    .unwrap()
}

/// Records what each server accepted.
fn recorder(log: &Arc<Mutex<Vec<String>>>, server: &'static str) -> Handler {
    let log = log.clone();
    Arc::new(Mutex::new(move |request: &Request| {
        log.lock()
            .unwrap()
            .push(format!("{server} accepted message {}", request.kind()));
        Status::Ok
    }))
}

/// The whole scenario; returns what each server accepted, in order.
///
/// # Errors
///
/// A transport, TLS or protocol failure.
pub async fn run() -> Res<Vec<String>> {
    let pki = Arc::new(pki());
    let routes = routes();
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = |role, name| serve(pki.clone(), role, routes.clone(), recorder(&log, name));
    let account = server(ServerRole::Account, "account").await?;
    let message = server(ServerRole::Message, "message").await?;
    let application = server(ServerRole::Application, "application").await?;
    let id = |role| pki.ids.get(&role);
    let device = DeviceName::new("#livingroom-tv")?;

    // Messages 1 and 2: the account server registers a user and a device.
    let user = Request::RegisterUser(UserAccount {
        auth: credentials(),
        name: UserName::new("alice")?,
        password: Secret::new("correct horse"),
    });
    let registered = send(
        &pki,
        id(ServerRole::Account),
        ServerRole::Message,
        message,
        &routes,
        user,
    )
    .await?;
    assert_eq!(registered, (200, Outcome::Success));
    let tv = Request::RegisterDevice(DeviceAccount {
        auth: credentials(),
        name: device.clone(),
        password: Secret::new("tv password"),
        verifycode: Some(Secret::new("482913")),
        device_type: Some("television".into()),
        vendor: None,
        model: None,
        additional: AdditionalParams::new(),
    });
    assert_eq!(
        send(
            &pki,
            id(ServerRole::Account),
            ServerRole::Message,
            message,
            &routes,
            tv
        )
        .await?,
        (200, Outcome::Success)
    );

    // Messages 9 and 10: the message server uploads data and reports the
    // device online to the application server.
    let upload = Request::DeviceUpload(DeviceData {
        deviceid: device.clone(),
        data: "alarm=smoke".into(),
    });
    assert_eq!(
        send(
            &pki,
            id(ServerRole::Message),
            ServerRole::Application,
            application,
            &routes,
            upload
        )
        .await?
        .0,
        200
    );
    let online = Request::DeviceOnline(DeviceNotice {
        deviceid: device.clone(),
    });
    assert_eq!(
        send(
            &pki,
            id(ServerRole::Message),
            ServerRole::Application,
            application,
            &routes,
            online.clone()
        )
        .await?
        .0,
        200
    );

    // Message 13: the application server pushes to the device.
    let push = Request::PushToDevice(DeviceData {
        deviceid: device.clone(),
        data: "volume=10".into(),
    });
    assert_eq!(
        send(
            &pki,
            id(ServerRole::Application),
            ServerRole::Message,
            message,
            &routes,
            push
        )
        .await?
        .0,
        200
    );

    // Refused: Message 7 (reset a device's verification code) from the
    // application server's certificate, from a stranger's, and from a
    // caller without one; Message 10 from the account server.
    let reset = Request::ResetVerifyCode(VerifyCodeReset {
        deviceid: device.clone(),
        verifycode: Secret::new("000000"),
    });
    for from in [id(ServerRole::Application), Some(&pki.stranger), None] {
        let (code, _) = send(
            &pki,
            from,
            ServerRole::Account,
            account,
            &routes,
            reset.clone(),
        )
        .await?;
        assert_eq!(code, 403);
    }
    let (code, _) = send(
        &pki,
        id(ServerRole::Account),
        ServerRole::Application,
        application,
        &routes,
        online,
    )
    .await?;
    assert_eq!(code, 403);
    // ...and the message server's own certificate may send Message 7.
    assert_eq!(
        send(
            &pki,
            id(ServerRole::Message),
            ServerRole::Account,
            account,
            &routes,
            reset
        )
        .await?
        .0,
        200
    );

    let accepted = log.lock().unwrap().clone();
    Ok(accepted)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    for line in run().await? {
        println!("{line}");
    }
    Ok(())
}
