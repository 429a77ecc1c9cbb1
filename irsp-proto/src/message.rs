//! The fifteen messages of clause 8, built to and parsed from request URLs.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::RequestError;
use crate::id::{DeviceName, IdError, ServerAddress, UserName};
use crate::query::{Limits, Param, echo, parse_query, push_param};
use crate::response::Status;
use crate::routing::ServerRole;
use crate::secret::Secret;

/// Which of the fifteen messages of clause 8 a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Message 1 (8.2.1): register a user.
    RegisterUser = 1,
    /// Message 2 (8.2.1): register a device.
    RegisterDevice = 2,
    /// Message 3 (8.2.2): modify a user's information.
    ModifyUser = 3,
    /// Message 4 (8.2.2): modify a device's information.
    ModifyDevice = 4,
    /// Message 5 (8.2.3): delete a user.
    RemoveUser = 5,
    /// Message 6 (8.2.3): delete a device.
    RemoveDevice = 6,
    /// Message 7 (8.2.4): synchronize a reset device verification code.
    ResetVerifyCode = 7,
    /// Message 8 (8.3.1): a user uploads a message.
    UserUpload = 8,
    /// Message 9 (8.3.1): a device uploads a message.
    DeviceUpload = 9,
    /// Message 10 (8.3.2): a device came online.
    DeviceOnline = 10,
    /// Message 11 (8.3.2): a device went offline.
    DeviceOffline = 11,
    /// Message 12 (8.3.3): an application server pushes to a user.
    PushToUser = 12,
    /// Message 13 (8.3.3): an application server pushes to a device.
    PushToDevice = 13,
    /// Message 14 (8.4.1): application servers exchange a user message.
    ExchangeUser = 14,
    /// Message 15 (8.4.1): application servers exchange a device message.
    ExchangeDevice = 15,
}

use MessageKind as K;

impl MessageKind {
    /// Every message, in number order.
    pub const ALL: [Self; 15] = [
        K::RegisterUser,
        K::RegisterDevice,
        K::ModifyUser,
        K::ModifyDevice,
        K::RemoveUser,
        K::RemoveDevice,
        K::ResetVerifyCode,
        K::UserUpload,
        K::DeviceUpload,
        K::DeviceOnline,
        K::DeviceOffline,
        K::PushToUser,
        K::PushToDevice,
        K::ExchangeUser,
        K::ExchangeDevice,
    ];

    /// The message's number in clause 8.
    #[must_use]
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The message with number `n`.
    #[must_use]
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The role of the server that sends the message.
    #[must_use]
    pub fn sender(self) -> ServerRole {
        match self {
            K::ResetVerifyCode
            | K::UserUpload
            | K::DeviceUpload
            | K::DeviceOnline
            | K::DeviceOffline => ServerRole::Message,
            K::PushToUser | K::PushToDevice | K::ExchangeUser | K::ExchangeDevice => {
                ServerRole::Application
            }
            _ => ServerRole::Account,
        }
    }

    /// The role of the server that receives the message.
    #[must_use]
    pub fn receiver(self) -> ServerRole {
        match self {
            K::ResetVerifyCode => ServerRole::Account,
            K::UserUpload
            | K::DeviceUpload
            | K::DeviceOnline
            | K::DeviceOffline
            | K::ExchangeUser
            | K::ExchangeDevice => ServerRole::Application,
            _ => ServerRole::Message,
        }
    }

    /// The number of the table of clause 8 that lists the message's
    /// response status codes.
    #[must_use]
    pub fn table(self) -> u8 {
        match self {
            K::RegisterUser | K::RegisterDevice => 1,
            K::ModifyUser | K::ModifyDevice => 2,
            K::RemoveUser | K::RemoveDevice => 3,
            K::ResetVerifyCode => 4,
            K::UserUpload | K::DeviceUpload | K::DeviceOnline | K::DeviceOffline => 5,
            K::PushToUser | K::PushToDevice => 6,
            K::ExchangeUser | K::ExchangeDevice => 7,
        }
    }

    /// The status codes the message's table lists: 200, 400 and 500 always;
    /// 421 ("id existed") for registrations (Table 1); 422 ("id not
    /// existed") where an ID must exist (Tables 2, 3, 4 and 6).
    #[must_use]
    pub fn allowed_statuses(self) -> &'static [Status] {
        use Status as S;
        match self.table() {
            1 => &[S::Ok, S::BadRequest, S::IdExisted, S::InternalError],
            5 | 7 => &[S::Ok, S::BadRequest, S::InternalError],
            _ => &[S::Ok, S::BadRequest, S::IdNotExisted, S::InternalError],
        }
    }

    /// The fixed path of Messages 1 to 7, printed in clause 8 (and kept
    /// exactly as printed, `.xml` suffixes included); `None` for Messages 8
    /// to 15, whose service URI is configuration.
    #[must_use]
    pub fn fixed_path(self) -> Option<&'static str> {
        Some(match self {
            K::RegisterUser => "/user/register.xml",
            K::RegisterDevice => "/device/register",
            K::ModifyUser => "/user/modify",
            K::ModifyDevice => "/device/modify",
            K::RemoveUser => "/user/remove",
            K::RemoveDevice => "/device/remove",
            K::ResetVerifyCode => "/modifyVerifyCode.xml",
            _ => return None,
        })
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// A service URI path that the standard leaves to configuration (8.3, 8.4):
/// it starts with `/` and holds only characters RFC 3986 allows in a path
/// (no `%`, `?` or `#`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServicePath(String);

impl ServicePath {
    /// Validates and wraps a path.
    ///
    /// # Errors
    ///
    /// [`RouteError::Invalid`] when the path is empty, does not start with
    /// `/`, or has a character outside the RFC 3986 path set.
    pub fn new(path: impl Into<String>) -> Result<Self, RouteError> {
        let path = path.into();
        let ok = path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b));
        if ok {
            Ok(Self(path))
        } else {
            Err(RouteError::Invalid { path: echo(&path) })
        }
    }

    /// The path.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a set of service paths cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The path is not a valid absolute path.
    #[error("`{path}` is not an absolute path of RFC 3986 path characters")]
    Invalid {
        /// The path.
        path: String,
    },
    /// Two messages received by the same server would share a path.
    #[error("messages {first} and {second} would share the path `{path}` on the {role}")]
    Conflict {
        /// The receiving server.
        role: ServerRole,
        /// The shared path.
        path: String,
        /// One message.
        first: MessageKind,
        /// The other message.
        second: MessageKind,
    },
}

/// The service URIs of Messages 8 to 15, which each deployment chooses
/// (clause 8 names them "service URI" without fixing them).
///
/// Paths that one server receives must differ from each other and from the
/// fixed paths it receives, so that a path names one service.
///
/// ```
/// use irsp_proto::ServiceRoutes;
/// let routes = ServiceRoutes::new("/upload/user", "/upload/device", "/notify", "/push", "/exchange")?;
/// # Ok::<(), irsp_proto::RouteError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoutes {
    user_upload: ServicePath,
    device_upload: ServicePath,
    notification: ServicePath,
    push: ServicePath,
    exchange: ServicePath,
}

impl ServiceRoutes {
    /// Sets the five service URIs: user upload (Message 8), device upload
    /// (Message 9), online/offline notification (Messages 10 and 11), push
    /// (Messages 12 and 13) and exchange (Messages 14 and 15).
    ///
    /// # Errors
    ///
    /// [`RouteError`] when a path is invalid or two messages received by one
    /// server would share a path.
    pub fn new(
        user_upload: impl Into<String>,
        device_upload: impl Into<String>,
        notification: impl Into<String>,
        push: impl Into<String>,
        exchange: impl Into<String>,
    ) -> Result<Self, RouteError> {
        let routes = Self {
            user_upload: ServicePath::new(user_upload)?,
            device_upload: ServicePath::new(device_upload)?,
            notification: ServicePath::new(notification)?,
            push: ServicePath::new(push)?,
            exchange: ServicePath::new(exchange)?,
        };
        for role in [
            ServerRole::Account,
            ServerRole::Message,
            ServerRole::Application,
        ] {
            let table = routes.table(role);
            for (i, (path, first)) in table.iter().enumerate() {
                if let Some((_, second)) = table.iter().skip(i + 1).find(|(p, _)| p == path) {
                    return Err(RouteError::Conflict {
                        role,
                        path: (*path).to_owned(),
                        first: *first,
                        second: *second,
                    });
                }
            }
        }
        Ok(routes)
    }

    /// The path a message is sent to.
    #[must_use]
    pub fn path(&self, kind: MessageKind) -> &str {
        if let Some(fixed) = kind.fixed_path() {
            return fixed;
        }
        match kind {
            K::UserUpload => self.user_upload.as_str(),
            K::DeviceUpload => self.device_upload.as_str(),
            K::DeviceOnline | K::DeviceOffline => self.notification.as_str(),
            K::PushToUser | K::PushToDevice => self.push.as_str(),
            _ => self.exchange.as_str(),
        }
    }

    /// The paths a server role receives, each with one message it names
    /// (the first of a pair that shares a service URI).
    fn table(&self, role: ServerRole) -> Vec<(&str, MessageKind)> {
        [
            K::RegisterUser,
            K::RegisterDevice,
            K::ModifyUser,
            K::ModifyDevice,
            K::RemoveUser,
            K::RemoveDevice,
            K::ResetVerifyCode,
            K::UserUpload,
            K::DeviceUpload,
            K::DeviceOnline,
            K::PushToUser,
            K::ExchangeUser,
        ]
        .into_iter()
        .filter(|k| k.receiver() == role)
        .map(|k| (self.path(k), k))
        .collect()
    }

    /// Which service a path names on a server of `role`, if any.
    fn lookup(&self, role: ServerRole, path: &str) -> Option<MessageKind> {
        self.table(role)
            .into_iter()
            .find(|(p, _)| *p == path)
            .map(|(_, k)| k)
    }
}

/// How the account server authenticates itself to the message server: an
/// application ID and a token the message server pre-assigned (8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAuth {
    /// The account server application ID (`appid`).
    pub appid: String,
    /// The account server token (`token`).
    pub token: Secret,
}

/// Parameter names that Messages 2 and 4 define, which an additional
/// parameter may not reuse.
const DEVICE_ACCOUNT_PARAMS: [&str; 9] = [
    "version",
    "appid",
    "token",
    "name",
    "password",
    "verifycode",
    "type",
    "vendor",
    "model",
];

/// Why an additional parameter cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdditionalParamError {
    /// The name is empty.
    #[error("an additional parameter needs a name")]
    EmptyName,
    /// The name is one that Messages 2 and 4 define.
    #[error("`{0}` is a parameter of the message itself")]
    Reserved(String),
    /// The name is already present.
    #[error("additional parameter `{0}` is already present")]
    Duplicate(String),
}

/// The additional registration parameters that Messages 2 and 4 carry
/// (8.2.1, 8.2.2), in the order they were given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(String, String)>", into = "Vec<(String, String)>")]
pub struct AdditionalParams(Vec<(String, String)>);

impl AdditionalParams {
    /// No additional parameters.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a parameter.
    ///
    /// # Errors
    ///
    /// [`AdditionalParamError`] when the name is empty, defined by the
    /// message, or already present.
    pub fn push(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), AdditionalParamError> {
        let name = name.into();
        if name.is_empty() {
            return Err(AdditionalParamError::EmptyName);
        }
        if DEVICE_ACCOUNT_PARAMS.contains(&name.as_str()) {
            return Err(AdditionalParamError::Reserved(name));
        }
        if self.0.iter().any(|(n, _)| *n == name) {
            return Err(AdditionalParamError::Duplicate(name));
        }
        self.0.push((name, value.into()));
        Ok(())
    }

    /// The parameters, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<(String, String)>> for AdditionalParams {
    type Error = AdditionalParamError;
    fn try_from(pairs: Vec<(String, String)>) -> Result<Self, Self::Error> {
        let mut params = Self::new();
        for (n, v) in pairs {
            params.push(n, v)?;
        }
        Ok(params)
    }
}

impl From<AdditionalParams> for Vec<(String, String)> {
    fn from(value: AdditionalParams) -> Self {
        value.0
    }
}

/// A user account: Messages 1 (register) and 3 (modify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccount {
    /// The account server's credentials.
    pub auth: AccountAuth,
    /// The local part of the user ID (`name`).
    pub name: UserName,
    /// The user's password (`password`).
    pub password: Secret,
}

/// A device account: Messages 2 (register) and 4 (modify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAccount {
    /// The account server's credentials.
    pub auth: AccountAuth,
    /// The local part of the device ID, `#` included (`name`).
    pub name: DeviceName,
    /// The device's password (`password`).
    pub password: Secret,
    /// The device verification code (`verifycode`, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifycode: Option<Secret>,
    /// The device type (`type`, optional).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// The device vendor (`vendor`, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The device model (`model`, optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Additional parameters given at registration, in order.
    #[serde(default, skip_serializing_if = "AdditionalParams::is_empty")]
    pub additional: AdditionalParams,
}

/// The deletion of a user account: Message 5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRemoval {
    /// The account server's credentials.
    pub auth: AccountAuth,
    /// The local part of the user ID (`name`).
    pub name: UserName,
}

/// The deletion of a device account: Message 6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRemoval {
    /// The account server's credentials.
    pub auth: AccountAuth,
    /// The local part of the device ID (`name`).
    pub name: DeviceName,
}

/// A reset device verification code: Message 7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCodeReset {
    /// The local part of the device ID (`deviceid`).
    pub deviceid: DeviceName,
    /// The new verification code (`verifycode`); empty when the code was
    /// cleared, as the message allows.
    pub verifycode: Secret,
}

/// Data for or from a user: Messages 8, 12 and 14.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserData {
    /// The local part of the user ID (`userid`).
    pub userid: UserName,
    /// The message contents (`data`).
    pub data: String,
}

/// Data for or from a device: Messages 9, 13 and 15.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceData {
    /// The local part of the device ID (`deviceid`).
    pub deviceid: DeviceName,
    /// The message contents (`data`).
    pub data: String,
}

/// A device online or offline notification: Messages 10 and 11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceNotice {
    /// The local part of the device ID (`deviceid`).
    pub deviceid: DeviceName,
}

/// One IRSP request: any of Messages 1 to 15.
///
/// ```
/// use irsp_proto::{AccountAuth, Request, Secret, ServiceRoutes, UserAccount, UserName};
///
/// let routes = ServiceRoutes::new("/u", "/d", "/n", "/p", "/x")?;
/// let message = Request::RegisterUser(UserAccount {
///     auth: AccountAuth { appid: "as1".into(), token: Secret::new("t0k") },
///     name: UserName::new("igrsuser")?,
///     password: Secret::new("pa ss&word"),
/// });
/// let url = message.to_url(&"ms.igrs.com:443".parse()?, &routes);
/// assert_eq!(
///     url,
///     "https://ms.igrs.com:443/user/register.xml?version=1&appid=as1&token=t0k&name=igrsuser&password=pa%20ss%26word"
/// );
/// let parsed = Request::parse_url(&url, irsp_proto::ServerRole::Message, &routes, &Default::default())?;
/// assert_eq!(parsed, message);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
#[allow(missing_docs)] // Each variant is documented by its MessageKind.
pub enum Request {
    RegisterUser(UserAccount),
    RegisterDevice(DeviceAccount),
    ModifyUser(UserAccount),
    ModifyDevice(DeviceAccount),
    RemoveUser(UserRemoval),
    RemoveDevice(DeviceRemoval),
    ResetVerifyCode(VerifyCodeReset),
    UserUpload(UserData),
    DeviceUpload(DeviceData),
    DeviceOnline(DeviceNotice),
    DeviceOffline(DeviceNotice),
    PushToUser(UserData),
    PushToDevice(DeviceData),
    ExchangeUser(UserData),
    ExchangeDevice(DeviceData),
}

impl Request {
    /// Which message this is.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::RegisterUser(_) => K::RegisterUser,
            Self::RegisterDevice(_) => K::RegisterDevice,
            Self::ModifyUser(_) => K::ModifyUser,
            Self::ModifyDevice(_) => K::ModifyDevice,
            Self::RemoveUser(_) => K::RemoveUser,
            Self::RemoveDevice(_) => K::RemoveDevice,
            Self::ResetVerifyCode(_) => K::ResetVerifyCode,
            Self::UserUpload(_) => K::UserUpload,
            Self::DeviceUpload(_) => K::DeviceUpload,
            Self::DeviceOnline(_) => K::DeviceOnline,
            Self::DeviceOffline(_) => K::DeviceOffline,
            Self::PushToUser(_) => K::PushToUser,
            Self::PushToDevice(_) => K::PushToDevice,
            Self::ExchangeUser(_) => K::ExchangeUser,
            Self::ExchangeDevice(_) => K::ExchangeDevice,
        }
    }

    /// Appends the query string (without `?`) to `out`, parameters in the
    /// order clause 8 prints them, every value percent-encoded.
    pub fn write_query(&self, out: &mut String) {
        let start = out.len();
        let mut push = |name: &str, value: &str| push_param(out, start, name, value);
        fn auth(push: &mut dyn FnMut(&str, &str), a: &AccountAuth) {
            push("version", "1");
            push("appid", &a.appid);
            push("token", a.token.expose());
        }
        match self {
            Self::RegisterUser(m) | Self::ModifyUser(m) => {
                auth(&mut push, &m.auth);
                push("name", m.name.as_str());
                push("password", m.password.expose());
            }
            Self::RegisterDevice(m) | Self::ModifyDevice(m) => {
                auth(&mut push, &m.auth);
                push("name", m.name.as_str());
                push("password", m.password.expose());
                let optional = [
                    ("verifycode", m.verifycode.as_ref().map(Secret::expose)),
                    ("type", m.device_type.as_deref()),
                    ("vendor", m.vendor.as_deref()),
                    ("model", m.model.as_deref()),
                ];
                for (name, value) in optional {
                    if let Some(value) = value {
                        push(name, value);
                    }
                }
                for (name, value) in m.additional.iter() {
                    push(name, value);
                }
            }
            Self::RemoveUser(m) => {
                auth(&mut push, &m.auth);
                push("name", m.name.as_str());
            }
            Self::RemoveDevice(m) => {
                auth(&mut push, &m.auth);
                push("name", m.name.as_str());
            }
            Self::ResetVerifyCode(m) => {
                push("deviceid", m.deviceid.as_str());
                push("verifycode", m.verifycode.expose());
            }
            Self::UserUpload(m) | Self::PushToUser(m) | Self::ExchangeUser(m) => {
                push("userid", m.userid.as_str());
                push("data", &m.data);
            }
            Self::DeviceUpload(m) | Self::PushToDevice(m) | Self::ExchangeDevice(m) => {
                push("deviceid", m.deviceid.as_str());
                push("data", &m.data);
            }
            Self::DeviceOnline(m) => {
                push("deviceid", m.deviceid.as_str());
                push("type", "online");
            }
            Self::DeviceOffline(m) => {
                push("deviceid", m.deviceid.as_str());
                push("type", "offline");
            }
        }
    }

    /// The query string (without `?`).
    #[must_use]
    pub fn query(&self) -> String {
        let mut out = String::new();
        self.write_query(&mut out);
        out
    }

    /// The path and query, `/path?query`, as an HTTP request target.
    #[must_use]
    pub fn target(&self, routes: &ServiceRoutes) -> String {
        let path = routes.path(self.kind());
        let mut out = String::with_capacity(path.len() + 64);
        out.push_str(path);
        out.push('?');
        self.write_query(&mut out);
        out
    }

    /// The full request URL, `https://{server}{path}?{query}` (clause 8
    /// prints every message as an `https` URL).
    #[must_use]
    pub fn to_url(&self, server: &ServerAddress, routes: &ServiceRoutes) -> String {
        format!("https://{server}{}", self.target(routes))
    }

    /// Parses a full request URL received by a server of role `receiver`.
    ///
    /// # Errors
    ///
    /// [`RequestError::Url`] when the URL is not `https://host:port/path?query`
    /// (the query may be absent), and every error of [`Request::parse`].
    pub fn parse_url(
        url: &str,
        receiver: ServerRole,
        routes: &ServiceRoutes,
        limits: &Limits,
    ) -> Result<Self, RequestError> {
        let rest = url.strip_prefix("https://").ok_or(RequestError::Url {
            reason: "scheme is not https",
        })?;
        let slash = rest.find('/').ok_or(RequestError::Url {
            reason: "no path after the server address",
        })?;
        let (authority, target) = rest.split_at(slash);
        authority
            .parse::<ServerAddress>()
            .map_err(|_| RequestError::Url {
                reason: "server address is not domain:port",
            })?;
        if target.contains('#') {
            return Err(RequestError::Url {
                reason: "a request URL has no fragment",
            });
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self::parse(receiver, path, query, routes, limits)
    }

    /// Parses a request from its path and query string (without `?`), as a
    /// server of role `receiver` gets them from its HTTP stack.
    ///
    /// # Errors
    ///
    /// A distinct [`RequestError`] for an unknown path, a message this role
    /// does not receive, a malformed or overlong query, a duplicated,
    /// unknown, missing or empty parameter, a wrong version and an invalid
    /// identifier.
    pub fn parse(
        receiver: ServerRole,
        path: &str,
        query: &str,
        routes: &ServiceRoutes,
        limits: &Limits,
    ) -> Result<Self, RequestError> {
        let Some(kind) = routes.lookup(receiver, path) else {
            let elsewhere = [
                ServerRole::Account,
                ServerRole::Message,
                ServerRole::Application,
            ]
            .into_iter()
            .find_map(|role| routes.lookup(role, path));
            return Err(match elsewhere {
                Some(message) => RequestError::WrongReceiver {
                    message,
                    role: receiver,
                },
                None => RequestError::UnknownPath { path: echo(path) },
            });
        };
        let mut f = Fields::new(kind, parse_query(query, limits)?);
        let request = match kind {
            K::RegisterUser | K::ModifyUser => {
                let m = UserAccount {
                    auth: f.auth()?,
                    name: f.user("name")?,
                    password: Secret::new(f.non_empty("password")?),
                };
                if kind == K::RegisterUser {
                    Self::RegisterUser(m)
                } else {
                    Self::ModifyUser(m)
                }
            }
            K::RegisterDevice | K::ModifyDevice => {
                let auth = f.auth()?;
                let name = f.device("name")?;
                let password = Secret::new(f.non_empty("password")?);
                let verifycode = f.take("verifycode").map(Secret::new);
                let m = DeviceAccount {
                    auth,
                    name,
                    password,
                    verifycode,
                    device_type: f.take("type"),
                    vendor: f.take("vendor"),
                    model: f.take("model"),
                    additional: f.rest(),
                };
                if kind == K::RegisterDevice {
                    Self::RegisterDevice(m)
                } else {
                    Self::ModifyDevice(m)
                }
            }
            K::RemoveUser => Self::RemoveUser(UserRemoval {
                auth: f.auth()?,
                name: f.user("name")?,
            }),
            K::RemoveDevice => Self::RemoveDevice(DeviceRemoval {
                auth: f.auth()?,
                name: f.device("name")?,
            }),
            K::ResetVerifyCode => Self::ResetVerifyCode(VerifyCodeReset {
                deviceid: f.device("deviceid")?,
                verifycode: Secret::new(f.required("verifycode")?),
            }),
            K::UserUpload => Self::UserUpload(f.user_data()?),
            K::DeviceUpload => Self::DeviceUpload(f.device_data()?),
            K::DeviceOnline | K::DeviceOffline => {
                let deviceid = f.device("deviceid")?;
                let kind = f.required("type")?;
                let notice = DeviceNotice { deviceid };
                match kind.as_str() {
                    "online" => Self::DeviceOnline(notice),
                    "offline" => Self::DeviceOffline(notice),
                    _ => return Err(RequestError::NotificationType { found: echo(&kind) }),
                }
            }
            _ => {
                // Push (12/13) and exchange (14/15) share one service URI for
                // users and devices: the parameter names the addressee.
                let (user, device) = (f.has("userid"), f.has("deviceid"));
                let (user_kind, device_kind) = if kind == K::PushToUser {
                    (K::PushToUser, K::PushToDevice)
                } else {
                    (K::ExchangeUser, K::ExchangeDevice)
                };
                match (user, device) {
                    (true, false) => {
                        f.kind = user_kind;
                        let m = f.user_data()?;
                        if user_kind == K::PushToUser {
                            Self::PushToUser(m)
                        } else {
                            Self::ExchangeUser(m)
                        }
                    }
                    (false, true) => {
                        f.kind = device_kind;
                        let m = f.device_data()?;
                        if device_kind == K::PushToDevice {
                            Self::PushToDevice(m)
                        } else {
                            Self::ExchangeDevice(m)
                        }
                    }
                    _ => return Err(RequestError::Addressee { path: echo(path) }),
                }
            }
        };
        f.finish()?;
        Ok(request)
    }
}

/// The decoded parameters of one request, taken one by one.
struct Fields<'a> {
    kind: MessageKind,
    params: Vec<Option<Param<'a>>>,
}

impl<'a> Fields<'a> {
    fn new(kind: MessageKind, params: Vec<Param<'a>>) -> Self {
        Self {
            kind,
            params: params.into_iter().map(Some).collect(),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.params.iter().flatten().any(|(n, _)| n == name)
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.params
            .iter_mut()
            .find(|p| p.as_ref().is_some_and(|(n, _)| n == name))
            .and_then(Option::take)
            .map(|(_, v)| v.into_owned())
    }

    fn required(&mut self, name: &'static str) -> Result<String, RequestError> {
        self.take(name).ok_or(RequestError::MissingParameter {
            message: self.kind,
            name,
        })
    }

    fn non_empty(&mut self, name: &'static str) -> Result<String, RequestError> {
        let value = self.required(name)?;
        if value.is_empty() {
            return Err(RequestError::EmptyParameter {
                message: self.kind,
                name,
            });
        }
        Ok(value)
    }

    fn id<T>(
        &mut self,
        name: &'static str,
        make: fn(String) -> Result<T, IdError>,
    ) -> Result<T, RequestError> {
        make(self.required(name)?).map_err(|reason| RequestError::InvalidId { name, reason })
    }

    fn user(&mut self, name: &'static str) -> Result<UserName, RequestError> {
        self.id(name, UserName::new)
    }

    fn device(&mut self, name: &'static str) -> Result<DeviceName, RequestError> {
        self.id(name, DeviceName::new)
    }

    fn auth(&mut self) -> Result<AccountAuth, RequestError> {
        let version = self.required("version")?;
        if version != "1" {
            return Err(RequestError::Version {
                found: echo(&version),
            });
        }
        Ok(AccountAuth {
            appid: self.non_empty("appid")?,
            token: Secret::new(self.non_empty("token")?),
        })
    }

    fn user_data(&mut self) -> Result<UserData, RequestError> {
        Ok(UserData {
            userid: self.user("userid")?,
            data: self.required("data")?,
        })
    }

    fn device_data(&mut self) -> Result<DeviceData, RequestError> {
        Ok(DeviceData {
            deviceid: self.device("deviceid")?,
            data: self.required("data")?,
        })
    }

    /// Takes every parameter left, in order, as additional parameters
    /// (Messages 2 and 4). The query parser already refused duplicates.
    fn rest(&mut self) -> AdditionalParams {
        AdditionalParams(
            self.params
                .iter_mut()
                .filter_map(Option::take)
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Refuses any parameter the message does not define.
    fn finish(self) -> Result<(), RequestError> {
        match self.params.into_iter().flatten().next() {
            Some((name, _)) => Err(RequestError::UnknownParameter {
                message: self.kind,
                name: echo(&name),
            }),
            None => Ok(()),
        }
    }
}
