//! The remote-access resources of section 6.2.2 and Annex A: `oic.ra.xmpp`
//! (the XMPP server and the connection status) and `oic.ra.user` (the
//! account), their JSON representations per the RAML, and an RAE server's
//! handler for them with the CRUDN behaviour of A.1.6 and A.2.6 (retrieve
//! with GET, update with POST; nothing else) and the status transitions of
//! 6.2.1 and Figure 4.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::identity::BareJid;
use crate::rest::{Method, RestMessage};

/// The resource type of the XMPP connection resource (A.1.3).
pub const XMPP_RT: &str = "oic.ra.xmpp";
/// The resource type of the XMPP user resource (A.2.3).
pub const USER_RT: &str = "oic.ra.user";
/// The well-known URI of `oic.ra.xmpp` (A.1.2).
pub const XMPP_URI: &str = "/XMPPResURI";
/// The well-known URI of `oic.ra.user` (A.2.2).
pub const USER_URI: &str = "/XMPPUserResURI";

/// Properties every OIC resource may carry (`oic.core`), accepted
/// alongside a resource's own.
const CORE_PROPERTIES: [&str; 4] = ["rt", "if", "n", "id"];

/// Why a representation or an update is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// The body is not a JSON object.
    #[error("the representation is not a JSON object")]
    NotAnObject,
    /// A required property is missing (the RAML's `required`).
    #[error("required property `{0}` is missing")]
    Missing(&'static str),
    /// A property has the wrong type or value.
    #[error("property `{property}`: {reason}")]
    Invalid {
        /// The property.
        property: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A read-only property (`status`, `ErrorReason`) in an update.
    #[error("property `{0}` is read-only")]
    ReadOnly(&'static str),
    /// A property the resource does not define.
    #[error("unknown property `{0}`")]
    Unknown(String),
    /// `rt` names another resource type.
    #[error("rt `{0}` does not name this resource")]
    ResourceType(String),
}

/// The connection status (6.2.2.1, A.1.4). The wire has three values;
/// this crate also tracks the attempt in progress (Figure 4's "creating
/// connection"), reported on the wire as `NotInitialized` because the
/// RAML's enum has no value for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// No account or server set yet, or nothing tried.
    NotInitialized,
    /// Connecting with the current settings.
    Connecting,
    /// Connected.
    Connected,
    /// The last attempt failed, or the connection dropped; the vendor's
    /// reason (`ErrorReason`).
    Error(String),
}

impl ConnectionStatus {
    /// The `status` value of the RAML enum.
    #[must_use]
    pub fn wire(&self) -> &'static str {
        match self {
            Self::NotInitialized | Self::Connecting => "NotInitialized",
            Self::Connected => "Connected",
            Self::Error(_) => "Error",
        }
    }

    /// The `ErrorReason` value: the reason in `Error`, else empty.
    #[must_use]
    pub fn reason(&self) -> &str {
        match self {
            Self::Error(r) => r,
            _ => "",
        }
    }
}

/// The `oic.ra.xmpp` representation (A.1.4 GET response).
///
/// ```
/// use oic_ra_proto::resource::{ConnectionStatus, XmppResource};
///
/// let json = serde_json::json!({
///     "rt": "oic.ra.xmpp", "address": "www.cisco.oic.xmpp.com",
///     "port": 8080, "status": "Connected", "ErrorReason": ""
/// });
/// let r = XmppResource::from_json(&json)?;
/// assert_eq!(r.status, ConnectionStatus::Connected);
/// assert_eq!(r.to_json(), json);
/// # Ok::<(), oic_ra_proto::resource::ResourceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppResource {
    /// The XMPP server's address (empty before it is set).
    pub address: String,
    /// The XMPP server's port (0 before it is set).
    pub port: u16,
    /// The connection status.
    pub status: ConnectionStatus,
}

impl XmppResource {
    /// The JSON representation: `rt`, `address`, `port`, `status`,
    /// `ErrorReason` (all four properties are required by the RAML).
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "rt": XMPP_RT,
            "address": self.address,
            "port": self.port,
            "status": self.status.wire(),
            "ErrorReason": self.status.reason(),
        })
    }

    /// Reads a representation (as an RAE client reads a GET response).
    ///
    /// # Errors
    ///
    /// A missing, mistyped or unknown property, or another `rt`.
    pub fn from_json(value: &Value) -> Result<Self, ResourceError> {
        let obj = object(
            value,
            XMPP_RT,
            &["address", "port", "status", "ErrorReason"],
        )?;
        let address = string(obj, "address")?.to_owned();
        let port = port(obj)?;
        let reason = string(obj, "ErrorReason")?;
        let status = match string(obj, "status")? {
            "Connected" => ConnectionStatus::Connected,
            "NotInitialized" => ConnectionStatus::NotInitialized,
            "Error" => ConnectionStatus::Error(reason.to_owned()),
            _ => {
                return Err(ResourceError::Invalid {
                    property: "status",
                    reason: "not Connected, Error or NotInitialized",
                });
            }
        };
        Ok(Self {
            address,
            port,
            status,
        })
    }
}

/// The body of a POST to `oic.ra.xmpp` (A.1.4 `oic.ra.xmpp-Update`):
/// `address` and `port`, both required; `status` and `ErrorReason` are
/// read-only and refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmppUpdate {
    /// The XMPP server's address.
    pub address: String,
    /// The XMPP server's port.
    pub port: u16,
}

impl XmppUpdate {
    /// The JSON body.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({ "rt": XMPP_RT, "address": self.address, "port": self.port })
    }

    /// Reads an update.
    ///
    /// # Errors
    ///
    /// [`ResourceError::ReadOnly`] for `status` or `ErrorReason`, else a
    /// missing, mistyped or unknown property.
    pub fn from_json(value: &Value) -> Result<Self, ResourceError> {
        if let Value::Object(obj) = value {
            for p in ["status", "ErrorReason"] {
                if obj.contains_key(p) {
                    return Err(ResourceError::ReadOnly(p));
                }
            }
        }
        let obj = object(value, XMPP_RT, &["address", "port"])?;
        let address = string(obj, "address")?;
        if address.is_empty() {
            return Err(ResourceError::Invalid {
                property: "address",
                reason: "empty",
            });
        }
        Ok(Self {
            address: address.to_owned(),
            port: port(obj)?,
        })
    }
}

/// The account credential: base64 text (A.2.5), kept secret: wiped on
/// drop, redacted in `Debug`, compared in constant time.
///
/// The text must use the base64 alphabet (`=` padding optional). It is
/// not required to decode, because neither printed example of A.2.4 does
/// (the GET one's last character leaves non-zero bits over, the POST one
/// has 37 characters) and the resource only stores and returns the text;
/// [`Credential::decode`] is strict.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Credential(String);

impl Credential {
    /// Wraps a credential text.
    ///
    /// # Errors
    ///
    /// [`ResourceError::Invalid`] when it is empty or has a character
    /// outside the base64 alphabet.
    pub fn new(text: impl Into<String>) -> Result<Self, ResourceError> {
        let text = text.into();
        let body = text.trim_end_matches('=');
        let ok = !body.is_empty()
            && text.len() - body.len() <= 2
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if ok {
            Ok(Self(text))
        } else {
            Err(ResourceError::Invalid {
                property: "credential",
                reason: "not base64 text",
            })
        }
    }

    /// The base64 encoding of a credential (the password, say).
    #[must_use]
    pub fn encode(raw: &[u8]) -> Self {
        Self(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// The text, for the moment it must be used.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The decoded credential, padding optional.
    ///
    /// # Errors
    ///
    /// [`ResourceError::Invalid`] when the text has a length no base64
    /// has.
    pub fn decode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, ResourceError> {
        STANDARD_NO_PAD
            .decode(self.0.trim_end_matches('='))
            .map(zeroize::Zeroizing::new)
            .map_err(|_| ResourceError::Invalid {
                property: "credential",
                reason: "does not decode as base64",
            })
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Credential {}

/// The `oic.ra.user` representation (A.2.4), for GET and POST alike:
/// `jid` (a bare JID) and `credential`, both required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserResource {
    /// The account's bare JID.
    pub jid: BareJid,
    /// The account's credential.
    pub credential: Credential,
}

impl UserResource {
    /// The JSON representation (it holds the credential in clear: send it
    /// only under OIC security, 6.2.1).
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({ "rt": USER_RT, "jid": self.jid.as_str(), "credential": self.credential.expose() })
    }

    /// Reads a representation or an update.
    ///
    /// # Errors
    ///
    /// A missing, mistyped or unknown property, a `jid` that is not a bare
    /// JID, a credential that is not base64 text.
    pub fn from_json(value: &Value) -> Result<Self, ResourceError> {
        let obj = object(value, USER_RT, &["jid", "credential"])?;
        let jid = BareJid::new(string(obj, "jid")?).map_err(|_| ResourceError::Invalid {
            property: "jid",
            reason: "not a bare JID",
        })?;
        let credential = Credential::new(string(obj, "credential")?)?;
        Ok(Self { jid, credential })
    }
}

/// Checks an object's properties: every `required` one present, none but
/// these and the core ones, `rt` (if present) naming the resource.
fn object<'a>(
    value: &'a Value,
    rt: &str,
    required: &[&'static str],
) -> Result<&'a Map<String, Value>, ResourceError> {
    let Value::Object(obj) = value else {
        return Err(ResourceError::NotAnObject);
    };
    for key in obj.keys() {
        if !required.contains(&key.as_str()) && !CORE_PROPERTIES.contains(&key.as_str()) {
            return Err(ResourceError::Unknown(key.clone()));
        }
    }
    for p in required {
        if !obj.contains_key(*p) {
            return Err(ResourceError::Missing(p));
        }
    }
    match obj.get("rt") {
        None => Ok(obj),
        Some(Value::String(s)) if s == rt => Ok(obj),
        Some(Value::Array(a)) if a.iter().any(|v| v.as_str() == Some(rt)) => Ok(obj),
        Some(other) => Err(ResourceError::ResourceType(other.to_string())),
    }
}

fn string<'a>(
    obj: &'a Map<String, Value>,
    property: &'static str,
) -> Result<&'a str, ResourceError> {
    obj.get(property)
        .and_then(Value::as_str)
        .ok_or(ResourceError::Invalid {
            property,
            reason: "not a string",
        })
}

fn port(obj: &Map<String, Value>) -> Result<u16, ResourceError> {
    obj.get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(ResourceError::Invalid {
            property: "port",
            reason: "not an integer from 0 to 65535",
        })
}

/// Who is asking, as the runtime's OIC security layer decided (6.2.2.2:
/// only a requester allowed to onboard may read or write `oic.ra.user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
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
}

/// A status change the flow of 6.2.1 does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no connection attempt is in progress (status {0})")]
pub struct TransitionError(pub &'static str);

/// An RAE server's two remote-access resources and their CRUDN handler.
///
/// ```
/// use oic_ra_proto::resource::{Access, RaResources, ResourceEvent};
/// use oic_ra_proto::rest::{Method, RestMessage};
///
/// let mut res = RaResources::new();
/// let post = RestMessage::request(Method::Post, "coap://light/XMPPResURI")
///     .with_json(&serde_json::json!({"address": "xmpp.example.org", "port": 5222}));
/// let (reply, event) = res.handle(&post, Access::Onboarding);
/// assert_eq!(reply.status(), Some(200));
/// assert!(event.is_none()); // no account yet
///
/// let write_status = RestMessage::request(Method::Post, "coap://light/XMPPResURI")
///     .with_json(&serde_json::json!({"address": "x.org", "port": 5222, "status": "Connected"}));
/// assert_eq!(res.handle(&write_status, Access::Onboarding).0.status(), Some(403));
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
    /// an observe (neither table lists Notify).
    pub fn handle(
        &mut self,
        request: &RestMessage,
        access: Access,
    ) -> (RestMessage, Option<ResourceEvent>) {
        let path = url_path(&request.url);
        let is_user = match path {
            XMPP_URI => false,
            USER_URI => true,
            _ => return (RestMessage::response(404, "Not Found"), None),
        };
        let observe = request.header("Observe").is_some();
        match request.method {
            Method::Get | Method::Post if is_user && access != Access::Onboarding => {
                (RestMessage::response(403, "Forbidden"), None)
            }
            Method::Get if !observe => {
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
    /// (or nothing was tried yet), start a connection attempt.
    fn reconnect(&mut self, changed: bool) -> Option<ResourceEvent> {
        let user = self.user.clone()?;
        if self.xmpp.address.is_empty() {
            return None;
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
