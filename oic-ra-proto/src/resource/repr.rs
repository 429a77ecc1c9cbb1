//! The representations of `oic.ra.xmpp` and `oic.ra.user` (A.1.4, A.2.4)
//! and the updates a POST carries, read from and written to JSON.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::{Map, Value, json};

use crate::identity::BareJid;
use iot_sansio::Secret;

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

/// The account credential: base64 text (A.2.5), kept secret as the
/// family's [`Secret`]: wiped on drop, redacted in `Debug`, compared in
/// constant time.
///
/// The text must use the base64 alphabet (`=` padding optional). It is
/// not required to decode, because neither printed example of A.2.4 does
/// (the GET one's last character leaves non-zero bits over, the POST one
/// has 37 characters) and the resource only stores and returns the text;
/// [`Credential::decode`] is strict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential(Secret<String>);

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
            Ok(Self(Secret::new(text)))
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
        Self(Secret::new(
            base64::engine::general_purpose::STANDARD.encode(raw),
        ))
    }

    /// The text, for the moment it must be used.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The decoded credential, padding optional.
    ///
    /// # Errors
    ///
    /// [`ResourceError::Invalid`] when the text has a length no base64
    /// has.
    pub fn decode(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, ResourceError> {
        STANDARD_NO_PAD
            .decode(self.expose().trim_end_matches('='))
            .map(zeroize::Zeroizing::new)
            .map_err(|_| ResourceError::Invalid {
                property: "credential",
                reason: "does not decode as base64",
            })
    }
}

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
        let jid = iot_xmpp::jids::read_jid::<BareJid>(string(obj, "jid")?).map_err(|_| {
            ResourceError::Invalid {
                property: "jid",
                reason: "not a bare JID",
            }
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

/// What an RAE server keeps of its two resources across a restart (the
/// status is not kept: a restarted RAE connects again). It holds the
/// account's credential: store it as the secret it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaRecord {
    /// The XMPP server's address (empty before it is set).
    pub address: String,
    /// Its port.
    pub port: u16,
    /// The account, once set.
    pub user: Option<UserResource>,
}

impl RaRecord {
    /// The record as JSON, for a store: `address`, `port` and, once set,
    /// `user` as `oic.ra.user` represents it (credential included).
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "address": self.address,
            "port": self.port,
            "user": self.user.as_ref().map(UserResource::to_json),
        })
    }

    /// Reads a stored record.
    ///
    /// # Errors
    ///
    /// [`ResourceError`] for a record that does not read back.
    pub fn from_json(value: &Value) -> Result<Self, ResourceError> {
        let Value::Object(obj) = value else {
            return Err(ResourceError::NotAnObject);
        };
        let address = string(obj, "address")?.to_owned();
        let port = obj
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or(ResourceError::Invalid {
                property: "port",
                reason: "not a port number",
            })?;
        let user = match obj.get("user") {
            None | Some(Value::Null) => None,
            Some(u) => Some(UserResource::from_json(u)?),
        };
        Ok(Self {
            address,
            port,
            user,
        })
    }
}
