//! The fifteen messages of clause 8, built to and parsed from request URLs.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::RequestError;
use crate::id::{DeviceName, IdError, ServerAddress, UserName};
use crate::kind::{MessageKind, MessageKind as K, ServerRole};
use crate::query::{Limits, Param, echo, parse_query, push_param};
use crate::routing::ServiceRoutes;
use crate::secret::Secret;

mod body;

pub use body::{
    AccountAuth, AdditionalParamError, AdditionalParams, DeviceAccount, DeviceData, DeviceNotice,
    DeviceRemoval, UserAccount, UserData, UserRemoval, VerifyCodeReset,
};

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
                    (
                        "verifycode",
                        m.verifycode.as_ref().map(|c| c.expose().as_str()),
                    ),
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
        let kind = route(receiver, path, routes)?;
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
            _ => Self::addressed(&mut f, kind, path)?,
        };
        f.finish()?;
        Ok(request)
    }

    /// Push (12/13) and exchange (14/15) share one service URI for users
    /// and devices: the parameter names the addressee.
    fn addressed(f: &mut Fields<'_>, kind: MessageKind, path: &str) -> Result<Self, RequestError> {
        let (user_kind, device_kind) = if kind == K::PushToUser {
            (K::PushToUser, K::PushToDevice)
        } else {
            (K::ExchangeUser, K::ExchangeDevice)
        };
        Ok(match (f.has("userid"), f.has("deviceid")) {
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
        })
    }
}

/// The message `path` carries to a server of role `receiver`: an unknown
/// path, and a path another role serves, are told apart.
fn route(
    receiver: ServerRole,
    path: &str,
    routes: &ServiceRoutes,
) -> Result<MessageKind, RequestError> {
    if let Some(kind) = routes.lookup(receiver, path) {
        return Ok(kind);
    }
    let elsewhere = [
        ServerRole::Account,
        ServerRole::Message,
        ServerRole::Application,
    ]
    .into_iter()
    .find_map(|role| routes.lookup(role, path));
    Err(match elsewhere {
        Some(message) => RequestError::WrongReceiver {
            message,
            role: receiver,
        },
        None => RequestError::UnknownPath { path: echo(path) },
    })
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

    /// Takes a parameter's value as the query holds it.
    fn take_raw(&mut self, name: &str) -> Option<Cow<'a, str>> {
        self.params
            .iter_mut()
            .find(|p| p.as_ref().is_some_and(|(n, _)| n == name))
            .and_then(Option::take)
            .map(|(_, v)| v)
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.take_raw(name).map(Cow::into_owned)
    }

    fn required_raw(&mut self, name: &'static str) -> Result<Cow<'a, str>, RequestError> {
        self.take_raw(name).ok_or(RequestError::MissingParameter {
            message: self.kind,
            name,
        })
    }

    fn required(&mut self, name: &'static str) -> Result<String, RequestError> {
        self.required_raw(name).map(Cow::into_owned)
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
        let version = self.required_raw("version")?;
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
