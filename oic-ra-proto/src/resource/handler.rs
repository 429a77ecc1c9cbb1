//! An RAE server's CRUDN handler for the two resources (A.1.6, A.2.6) and
//! the status flow of 6.2.1 (Figure 4).

use serde_json::{Value, json};

use super::repr::{
    ConnectionStatus, RaRecord, ResourceError, USER_RT, USER_URI, UserResource, XMPP_URI,
    XmppResource, XmppUpdate,
};
use crate::rest::{Method, RestMessage};

/// Who is asking, as the runtime's OIC security layer decided (6.2.2.2:
/// only a requester allowed to onboard may read or write `oic.ra.user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// A normal end user.
    Normal,
    /// A requester allowed to do onboarding.
    Onboarding,
}

/// What the application must do after a request to the resources.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceEvent {
    /// Both resources are set and one of them changed: (re)connect to the
    /// XMPP server with these settings (6.2.1), then report the outcome
    /// with [`RaResources::connected`] or [`RaResources::failed`].
    Connect {
        /// The server's address.
        address: String,
        /// Its port.
        port: u16,
        /// The account.
        user: UserResource,
    },
    /// A resource changed without a connection attempt (the other one is
    /// not set yet): store the record, which
    /// [`RaResources::restore`] takes back after a restart.
    Saved(RaRecord),
}

impl ResourceEvent {
    /// The durable record the event carries: after [`ResourceEvent::Connect`]
    /// too, the settings to store.
    #[must_use]
    pub fn record(&self) -> RaRecord {
        match self {
            Self::Connect {
                address,
                port,
                user,
            } => RaRecord {
                address: address.clone(),
                port: *port,
                user: Some(user.clone()),
            },
            Self::Saved(record) => record.clone(),
        }
    }
}

/// A status change the flow of 6.2.1 does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no connection attempt is in progress (status {0})")]
pub struct TransitionError(pub &'static str);

/// An RAE server's two remote-access resources and their CRUDN handler.
///
/// ```
/// use oic_ra_proto::resource::{Requester, RaResources, ResourceEvent};
/// use oic_ra_proto::rest::{Method, RestMessage};
///
/// let mut res = RaResources::new();
/// let post = RestMessage::request(Method::Post, "coap://light/XMPPResURI")
///     .with_json(&serde_json::json!({"address": "xmpp.example.org", "port": 5222}));
/// let (reply, event) = res.handle(&post, Requester::Onboarding);
/// assert_eq!(reply.status(), Some(200));
/// // No account yet: no connection, but a record to store.
/// assert!(matches!(event, Some(ResourceEvent::Saved(_))));
///
/// let write_status = RestMessage::request(Method::Post, "coap://light/XMPPResURI")
///     .with_json(&serde_json::json!({"address": "x.org", "port": 5222, "status": "Connected"}));
/// assert_eq!(res.handle(&write_status, Requester::Onboarding).0.status(), Some(403));
/// ```
#[derive(Debug, Clone)]
pub struct RaResources {
    xmpp: XmppResource,
    user: Option<UserResource>,
}

impl Default for RaResources {
    fn default() -> Self {
        Self::new()
    }
}

impl RaResources {
    /// Resources with nothing set: status `NotInitialized`.
    #[must_use]
    pub fn new() -> Self {
        Self {
            xmpp: XmppResource {
                address: String::new(),
                port: 0,
                status: ConnectionStatus::NotInitialized,
            },
            user: None,
        }
    }

    /// The resources from a stored record, status `NotInitialized`; when
    /// both are set, the connection attempt to start
    /// ([`ResourceEvent::Connect`]; the status is `Connecting`).
    #[must_use]
    pub fn restore(record: RaRecord) -> (Self, Option<ResourceEvent>) {
        let mut resources = Self::new();
        resources.xmpp.address = record.address;
        resources.xmpp.port = record.port;
        resources.user = record.user;
        let event = resources
            .reconnect(true)
            .filter(|e| matches!(e, ResourceEvent::Connect { .. }));
        (resources, event)
    }

    /// The durable record, as it is now.
    #[must_use]
    pub fn record(&self) -> RaRecord {
        RaRecord {
            address: self.xmpp.address.clone(),
            port: self.xmpp.port,
            user: self.user.clone(),
        }
    }

    /// The `oic.ra.xmpp` state.
    #[must_use]
    pub fn xmpp(&self) -> &XmppResource {
        &self.xmpp
    }

    /// The account, once set.
    #[must_use]
    pub fn user(&self) -> Option<&UserResource> {
        self.user.as_ref()
    }

    /// The connection attempt succeeded: `Connecting` becomes `Connected`.
    ///
    /// # Errors
    ///
    /// [`TransitionError`] when no attempt is in progress.
    pub fn connected(&mut self) -> Result<(), TransitionError> {
        self.after_attempt(ConnectionStatus::Connected)
    }

    /// The attempt failed, or an established connection dropped: the
    /// status becomes `Error` with the vendor's reason.
    ///
    /// # Errors
    ///
    /// [`TransitionError`] when neither connecting nor connected.
    pub fn failed(&mut self, reason: &str) -> Result<(), TransitionError> {
        self.after_attempt(ConnectionStatus::Error(reason.to_owned()))
    }

    /// Follows the connection of the RAE that serves these resources: the
    /// status becomes what [`Rae`](crate::rae::Rae) reports
    /// ([`RaeEvent::Status`](crate::rae::RaeEvent::Status)), so that
    /// `oic.ra.xmpp` shows the connection as it is (Figure 4). When the
    /// status changed, the notification to send to each observer of
    /// `oic.ra.xmpp` (its new representation); `None` when nothing changed.
    pub fn mirror(&mut self, status: &ConnectionStatus) -> Option<RestMessage> {
        if self.xmpp.status == *status {
            return None;
        }
        self.xmpp.status = status.clone();
        Some(ok(&self.xmpp.to_json()))
    }

    fn after_attempt(&mut self, next: ConnectionStatus) -> Result<(), TransitionError> {
        let allowed = matches!(
            (&self.xmpp.status, &next),
            (ConnectionStatus::Connecting, _)
                | (ConnectionStatus::Connected, ConnectionStatus::Error(_))
        );
        if !allowed {
            return Err(TransitionError(self.xmpp.status.wire()));
        }
        self.xmpp.status = next;
        Ok(())
    }

    /// Answers a request to either resource (the URL's path picks it):
    /// `200 OK` with the representation for GET, `200 OK` with the new
    /// representation for a valid POST (and, when both resources are then
    /// set, [`ResourceEvent::Connect`]); `400 Bad Request` for an invalid
    /// body, `403 Forbidden` for a read-only property or `oic.ra.user`
    /// without onboarding access, `404 Not Found` for another path,
    /// `405 Method Not Allowed` for PUT and DELETE (A.1.6, A.2.6) and for
    /// an observe of `oic.ra.user`. An observe of `oic.ra.xmpp` (a GET with
    /// `Observe: 0`) is answered as a GET: the caller keeps the request as
    /// an observer and sends it what [`RaResources::mirror`] returns when
    /// the status changes. The `if` query parameter, when given, must be
    /// `oic.if.s`, the one interface the RAML lists (A.1.4, A.2.4);
    /// another is a `400 Bad Request`.
    pub fn handle(
        &mut self,
        request: &RestMessage,
        access: Requester,
    ) -> (RestMessage, Option<ResourceEvent>) {
        let path = url_path(&request.url);
        let is_user = match path {
            XMPP_URI => false,
            USER_URI => true,
            _ => return (RestMessage::response(404, "Not Found"), None),
        };
        if let Some(other) = interface(&request.url).filter(|i| *i != INTERFACE) {
            return (
                bad_request(&format!("interface `{other}` is not {INTERFACE}")),
                None,
            );
        }
        let observe = request.header("Observe").is_some();
        match request.method {
            Method::Get | Method::Post if is_user && access != Requester::Onboarding => {
                (RestMessage::response(403, "Forbidden"), None)
            }
            Method::Get if !observe || !is_user => {
                let body = if is_user {
                    self.user
                        .as_ref()
                        .map_or_else(|| json!({ "rt": USER_RT }), UserResource::to_json)
                } else {
                    self.xmpp.to_json()
                };
                (ok(&body), None)
            }
            Method::Post => self.update(request, is_user),
            _ => (RestMessage::response(405, "Method Not Allowed"), None),
        }
    }

    fn update(
        &mut self,
        request: &RestMessage,
        is_user: bool,
    ) -> (RestMessage, Option<ResourceEvent>) {
        let Some(Ok(body)) = request.json() else {
            return (bad_request("the body must be a JSON object"), None);
        };
        if is_user {
            match UserResource::from_json(&body) {
                Ok(user) => {
                    let changed = self.user.as_ref() != Some(&user);
                    self.user = Some(user);
                    let reply = ok(&self
                        .user
                        .as_ref()
                        .map_or(Value::Null, UserResource::to_json));
                    (reply, self.reconnect(changed))
                }
                Err(e) => (refusal(&e), None),
            }
        } else {
            match XmppUpdate::from_json(&body) {
                Ok(update) => {
                    let changed =
                        self.xmpp.address != update.address || self.xmpp.port != update.port;
                    self.xmpp.address = update.address;
                    self.xmpp.port = update.port;
                    let event = self.reconnect(changed);
                    (ok(&self.xmpp.to_json()), event)
                }
                Err(e) => (refusal(&e), None),
            }
        }
    }

    /// After an update: when both resources are set and something changed
    /// (or nothing was tried yet), start a connection attempt; when
    /// something changed without one, the record to store.
    fn reconnect(&mut self, changed: bool) -> Option<ResourceEvent> {
        let saved = changed.then(|| ResourceEvent::Saved(self.record()));
        let Some(user) = self.user.clone() else {
            return saved;
        };
        if self.xmpp.address.is_empty() {
            return saved;
        }
        if !changed && self.xmpp.status != ConnectionStatus::NotInitialized {
            return None;
        }
        self.xmpp.status = ConnectionStatus::Connecting;
        Some(ResourceEvent::Connect {
            address: self.xmpp.address.clone(),
            port: self.xmpp.port,
            user,
        })
    }
}

fn ok(body: &Value) -> RestMessage {
    RestMessage::response(200, "OK")
        .with_header("Content-Type", "application/json")
        .with_json(body)
}

fn bad_request(reason: &str) -> RestMessage {
    RestMessage::response(400, "Bad Request")
        .with_header("Content-Type", "application/json")
        .with_json(&json!({ "error": reason }))
}

fn refusal(e: &ResourceError) -> RestMessage {
    match e {
        ResourceError::ReadOnly(_) => RestMessage::response(403, "Forbidden")
            .with_header("Content-Type", "application/json")
            .with_json(&json!({ "error": e.to_string() })),
        _ => bad_request(&e.to_string()),
    }
}

/// The one interface the resources' RAML lists (A.1.4, A.2.4).
pub const INTERFACE: &str = "oic.if.s";

/// The value of the `if` query parameter of a request URL, if any.
fn interface(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query
        .split(['&', ';'])
        .find_map(|pair| pair.strip_prefix("if="))
}

/// The path of a request URL: after `scheme://authority` when there is
/// one, without a query or fragment.
#[must_use]
pub fn url_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            after.find('/').map_or("/", |j| &after[j..])
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}
