//! Server and client flows: dispatching incoming requests, pairing a sent
//! request with its response, and the extension point of 8.8.

use crate::error::{RequestError, ResponseError};
use crate::id::ServerAddress;
use crate::kind::{MessageKind, ServerRole, Status};
use crate::message::{AccountAuth, Request};
use crate::query::Limits;
use crate::response::Response;
use crate::routing::ServiceRoutes;

/// The server side: turns an incoming HTTP request into a typed message, or
/// into the error that says how to answer it.
///
/// A message server only accepts Messages 1 to 6 whose `appid` and `token`
/// match an account server registered with
/// [`Dispatcher::accept_account_server`] (8.2.1); with none registered it
/// accepts none.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    role: ServerRole,
    routes: ServiceRoutes,
    limits: Limits,
    account_servers: Vec<AccountAuth>,
    senders: SenderPolicy,
}

/// The peer a request came from, as the runtime authenticated it (the
/// client certificate of its TLS connection, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The IRSP role its identity names, if any.
    pub role: Option<ServerRole>,
    /// Its name, for logs (the certificate's subject, say).
    pub name: String,
}

impl Peer {
    /// A server of `role`.
    #[must_use]
    pub fn server(role: ServerRole, name: impl Into<String>) -> Self {
        Self {
            role: Some(role),
            name: name.into(),
        }
    }

    /// A peer with no IRSP role (no client certificate, or one naming no
    /// server).
    #[must_use]
    pub fn unknown(name: impl Into<String>) -> Self {
        Self {
            role: None,
            name: name.into(),
        }
    }
}

/// Which peers may send which messages.
#[derive(Clone, Copy, Default)]
pub enum SenderPolicy {
    /// 8.1's roles: each message only from a server of the role that
    /// sends it ([`MessageKind::sender`]); an unauthenticated peer sends
    /// nothing. The default.
    #[default]
    Roles,
    /// The caller's decision.
    Decide(fn(MessageKind, &Peer) -> bool),
}

impl SenderPolicy {
    /// Whether `peer` may send `message`.
    #[must_use]
    pub fn allows(&self, message: MessageKind, peer: &Peer) -> bool {
        match self {
            Self::Roles => peer.role == Some(message.sender()),
            Self::Decide(decide) => decide(message, peer),
        }
    }
}

impl core::fmt::Debug for SenderPolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Roles => "Roles",
            Self::Decide(_) => "Decide(..)",
        })
    }
}

impl Dispatcher {
    /// A dispatcher for a server of `role`, with the deployment's service
    /// URIs and the default [`Limits`].
    #[must_use]
    pub fn new(role: ServerRole, routes: ServiceRoutes) -> Self {
        Self {
            role,
            routes,
            limits: Limits::default(),
            account_servers: Vec::new(),
            senders: SenderPolicy::Roles,
        }
    }

    /// Replaces the policy of which peers may send which messages.
    #[must_use]
    pub fn with_sender_policy(mut self, senders: SenderPolicy) -> Self {
        self.senders = senders;
        self
    }

    /// Replaces the size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Accepts Messages 1 to 6 from the account server holding these
    /// credentials, which this message server pre-assigned to it (8.2.1).
    #[must_use]
    pub fn accept_account_server(mut self, credentials: AccountAuth) -> Self {
        self.account_servers.push(credentials);
        self
    }

    /// Parses an incoming request from `peer` (as the runtime
    /// authenticated it): its HTTP method, path and query string (without
    /// `?`).
    ///
    /// # Errors
    ///
    /// [`RequestError::Method`] for a method other than GET,
    /// [`RequestError::Forbidden`] for a message `peer` may not send (the
    /// [`SenderPolicy`]), [`RequestError::Unauthenticated`] for
    /// account-server messages whose credentials are not accepted, and
    /// every error of [`Request::parse`]. [`RequestError::http_status`] and
    /// [`RequestError::response`] say how to answer.
    pub fn dispatch(
        &self,
        peer: &Peer,
        method: &str,
        path: &str,
        query: &str,
    ) -> Result<Request, RequestError> {
        if method != "GET" {
            return Err(RequestError::Method {
                method: crate::query::echo(method),
            });
        }
        let request = Request::parse(self.role, path, query, &self.routes, &self.limits)?;
        if !self.senders.allows(request.kind(), peer) {
            return Err(RequestError::Forbidden {
                message: request.kind(),
                peer: peer.role,
            });
        }
        if let Some(auth) = account_auth(&request) {
            // Compare with every registered pair, so the time taken does not
            // say which pair was closest.
            let accepted = self.account_servers.iter().fold(false, |found, known| {
                let appid = known.appid == auth.appid;
                let token = known.token == auth.token;
                found | (appid & token)
            });
            if !accepted {
                return Err(RequestError::Unauthenticated);
            }
        }
        Ok(request)
    }

    /// The response to a request this server dispatched.
    ///
    /// # Errors
    ///
    /// [`ResponseError::StatusNotAllowed`] when the message's table does not
    /// list `status`.
    pub fn respond(&self, request: &Request, status: Status) -> Result<Response, ResponseError> {
        Response::new(request.kind(), status)
    }
}

/// The account server's credentials carried by Messages 1 to 6.
fn account_auth(request: &Request) -> Option<&AccountAuth> {
    match request {
        Request::RegisterUser(m) | Request::ModifyUser(m) => Some(&m.auth),
        Request::RegisterDevice(m) | Request::ModifyDevice(m) => Some(&m.auth),
        Request::RemoveUser(m) => Some(&m.auth),
        Request::RemoveDevice(m) => Some(&m.auth),
        _ => None,
    }
}

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Status 200.
    Success,
    /// The receiver refused or failed with this status, one its table
    /// lists.
    Refused(Status),
}

/// The client side of one exchange: a request sent and the response it
/// waits for.
#[derive(Debug, Clone)]
pub struct ClientExchange {
    request: Request,
    limits: Limits,
}

impl ClientExchange {
    /// Starts an exchange for `request`.
    #[must_use]
    pub fn new(request: Request) -> Self {
        Self {
            request,
            limits: Limits::default(),
        }
    }

    /// Replaces the size limits applied to the response body.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The request being sent.
    #[must_use]
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The HTTP request target, `/path?query`, to send with GET.
    #[must_use]
    pub fn target(&self, routes: &ServiceRoutes) -> String {
        self.request.target(routes)
    }

    /// The full request URL.
    #[must_use]
    pub fn url(&self, server: &ServerAddress, routes: &ServiceRoutes) -> String {
        self.request.to_url(server, routes)
    }

    /// Reads the response and ends the exchange.
    ///
    /// # Errors
    ///
    /// Every error of [`Response::parse`]: a response that does not answer
    /// this message as its table says.
    pub fn handle_response(self, code: u16, body: &[u8]) -> Result<Outcome, ResponseError> {
        let response = Response::parse(self.request.kind(), code, body, &self.limits)?;
        Ok(match response.status() {
            Status::Ok => Outcome::Success,
            other => Outcome::Refused(other),
        })
    }
}

/// The extension point for 8.8: an IRSP internal application server
/// converting messages for a third-party external application server, and
/// back.
///
/// 8.8.2 and 8.8.3 (with Table 8, the parameters an external server sends)
/// and clause 9 (security) are missing from the text this crate was built
/// from, so the crate defines no wire format for them. A deployment that
/// has the table implements this trait with its own types; the crate only
/// fixes where the conversion sits: between an IRSP [`Request`] and
/// whatever the third party speaks.
pub trait ThirdPartyGateway {
    /// What is sent to the external application server (8.8.2).
    type Outbound;
    /// What is received from the external application server (8.8.3).
    type Inbound;
    /// Why a conversion failed.
    type Error;

    /// Converts an IRSP message into what the external server expects.
    ///
    /// # Errors
    ///
    /// When the message cannot be expressed for the external server.
    fn outbound(&mut self, request: &Request) -> Result<Self::Outbound, Self::Error>;

    /// Converts what the external server sent into an IRSP message.
    ///
    /// # Errors
    ///
    /// When the inbound message is malformed or not allowed.
    fn inbound(&mut self, inbound: Self::Inbound) -> Result<Request, Self::Error>;
}
