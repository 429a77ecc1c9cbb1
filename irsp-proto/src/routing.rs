//! Which servers may exchange messages directly (8.1, 8.7), and the
//! service paths of Messages 8 to 15 that each deployment chooses.

use crate::kind::{MessageKind, MessageKind as K, ServerRole};
use crate::query::echo;

/// A server taking part in an exchange: its role and the AS it belongs to.
///
/// The account server serves every AS (7.1), so its `autonomous_system` is
/// not consulted. ASs are named by the caller (for example by the domain its
/// users share, clause 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerLocation<'a> {
    /// The server's role.
    pub role: ServerRole,
    /// The AS it belongs to.
    pub autonomous_system: &'a str,
}

impl<'a> ServerLocation<'a> {
    /// A server of `role` in the AS `autonomous_system`.
    #[must_use]
    pub fn new(role: ServerRole, autonomous_system: &'a str) -> Self {
        Self {
            role,
            autonomous_system,
        }
    }
}

/// How a message from one server reaches another (8.1, 8.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// The two servers have a direct message exchange interface.
    Direct,
    /// No direct interface: the message goes first to the application
    /// server of this AS, which forwards it (8.7).
    ViaApplicationServerOf(&'a str),
    /// IRSP defines no interface between the two servers.
    None,
}

/// Says how a message from `from` reaches `to`, by the interfaces 8.1
/// lists: account and message server; message servers in one AS or in
/// different ASs; message and application server in one AS; application
/// servers in one AS (8.4) or different ASs (8.6); internal and external
/// application servers (8.8). The account server has no interface to any
/// application server, and a message server reaches an application server
/// of another AS only through an application server of its own AS (8.7).
///
/// ```
/// use irsp_proto::{ServerLocation, Route, ServerRole, route};
/// let ms = ServerLocation::new(ServerRole::Message, "as1");
/// let app2 = ServerLocation::new(ServerRole::Application, "as2");
/// assert_eq!(route(ms, app2), Route::ViaApplicationServerOf("as1"));
/// let account = ServerLocation::new(ServerRole::Account, "as1");
/// assert_eq!(route(account, ServerLocation::new(ServerRole::Application, "as1")), Route::None);
/// ```
#[must_use]
pub fn route<'a>(from: ServerLocation<'a>, to: ServerLocation<'_>) -> Route<'a> {
    use ServerRole as R;
    let same_as = from.autonomous_system == to.autonomous_system;
    match (from.role, to.role) {
        (R::Account, R::Message) | (R::Message, R::Account) => Route::Direct,
        (R::Message, R::Message) | (R::Application, R::Application) => Route::Direct,
        (R::Message, R::Application) | (R::Application, R::Message) if same_as => Route::Direct,
        (R::Message, R::Application) => Route::ViaApplicationServerOf(from.autonomous_system),
        // The reverse direction of 8.7: the application server hands the
        // message to an application server of the message server's AS.
        (R::Application, R::Message) => Route::None,
        (R::Application, R::ExternalApplication) | (R::ExternalApplication, R::Application) => {
            Route::Direct
        }
        _ => Route::None,
    }
}

/// Why a message may not go from one server to another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForbiddenRoute {
    /// The sender's role is not the one that sends this message.
    #[error("message {message} is sent by the {expected}, not the {actual}")]
    WrongSender {
        /// The message.
        message: MessageKind,
        /// Who sends it.
        expected: ServerRole,
        /// Who tried to.
        actual: ServerRole,
    },
    /// The receiver's role is not the one that receives this message.
    #[error("message {message} is received by the {expected}, not the {actual}")]
    WrongReceiver {
        /// The message.
        message: MessageKind,
        /// Who receives it.
        expected: ServerRole,
        /// Who was addressed.
        actual: ServerRole,
    },
    /// The message is defined between servers of one AS (8.3, 8.4).
    #[error("message {message} is exchanged within one AS only")]
    DifferentAs {
        /// The message.
        message: MessageKind,
    },
}

/// Checks that `message` may go directly from `from` to `to`: the roles are
/// those clause 8 gives it, and Messages 8 to 15 stay within one AS (8.3,
/// 8.4). A platform calls this to refuse a misrouted message.
///
/// # Errors
///
/// [`ForbiddenRoute`] naming the rule the exchange breaks.
pub fn check_route(
    message: MessageKind,
    from: ServerLocation<'_>,
    to: ServerLocation<'_>,
) -> Result<(), ForbiddenRoute> {
    if from.role != message.sender() {
        return Err(ForbiddenRoute::WrongSender {
            message,
            expected: message.sender(),
            actual: from.role,
        });
    }
    if to.role != message.receiver() {
        return Err(ForbiddenRoute::WrongReceiver {
            message,
            expected: message.receiver(),
            actual: to.role,
        });
    }
    let within_as = message.number() >= 8;
    if within_as && from.autonomous_system != to.autonomous_system {
        return Err(ForbiddenRoute::DifferentAs { message });
    }
    Ok(())
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
    /// [`ServicePathError::Invalid`] when the path is empty, does not start with
    /// `/`, or has a character outside the RFC 3986 path set.
    pub fn new(path: impl Into<String>) -> Result<Self, ServicePathError> {
        let path = path.into();
        let ok = path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b));
        if ok {
            Ok(Self(path))
        } else {
            Err(ServicePathError::Invalid { path: echo(&path) })
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
pub enum ServicePathError {
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
/// # Ok::<(), irsp_proto::ServicePathError>(())
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
    /// [`ServicePathError`] when a path is invalid or two messages received by one
    /// server would share a path.
    pub fn new(
        user_upload: impl Into<String>,
        device_upload: impl Into<String>,
        notification: impl Into<String>,
        push: impl Into<String>,
        exchange: impl Into<String>,
    ) -> Result<Self, ServicePathError> {
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
            let table: Vec<_> = routes.table(role).collect();
            for (i, (path, first)) in table.iter().enumerate() {
                if let Some((_, second)) = table.iter().skip(i + 1).find(|(p, _)| p == path) {
                    return Err(ServicePathError::Conflict {
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
    fn table(&self, role: ServerRole) -> impl Iterator<Item = (&str, MessageKind)> {
        // Each pair that shares a service URI is named by its first
        // message: the second is left out.
        K::ALL
            .into_iter()
            .filter(move |k| {
                k.receiver() == role
                    && !matches!(k, K::DeviceOffline | K::PushToDevice | K::ExchangeDevice)
            })
            .map(|k| (self.path(k), k))
    }

    /// Which service a path names on a server of `role`, if any.
    pub(crate) fn lookup(&self, role: ServerRole, path: &str) -> Option<MessageKind> {
        self.table(role).find(|(p, _)| *p == path).map(|(_, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServerRole as R;

    fn e(role: ServerRole, a: &str) -> ServerLocation<'_> {
        ServerLocation::new(role, a)
    }

    #[test]
    fn interfaces_of_8_1() {
        // a) account server and message server
        assert_eq!(route(e(R::Account, "x"), e(R::Message, "a")), Route::Direct);
        assert_eq!(route(e(R::Message, "a"), e(R::Account, "x")), Route::Direct);
        // b) and d) message servers, same or different AS
        assert_eq!(route(e(R::Message, "a"), e(R::Message, "a")), Route::Direct);
        assert_eq!(route(e(R::Message, "a"), e(R::Message, "b")), Route::Direct);
        // c) message and application server, same AS
        assert_eq!(
            route(e(R::Message, "a"), e(R::Application, "a")),
            Route::Direct
        );
        assert_eq!(
            route(e(R::Application, "a"), e(R::Message, "a")),
            Route::Direct
        );
        // e) application servers, same AS (8.4) and different ASs (8.6)
        assert_eq!(
            route(e(R::Application, "a"), e(R::Application, "b")),
            Route::Direct
        );
        assert_eq!(
            route(e(R::Application, "a"), e(R::Application, "a")),
            Route::Direct
        );
        // f) internal and external application servers
        assert_eq!(
            route(e(R::Application, "a"), e(R::ExternalApplication, "z")),
            Route::Direct
        );
        assert_eq!(
            route(e(R::ExternalApplication, "z"), e(R::Application, "a")),
            Route::Direct
        );
    }

    #[test]
    fn forbidden_exchanges() {
        // 1) account server and any application server
        for a in ["a", "b"] {
            assert_eq!(route(e(R::Account, "a"), e(R::Application, a)), Route::None);
            assert_eq!(route(e(R::Application, a), e(R::Account, "a")), Route::None);
        }
        assert_eq!(
            route(e(R::Account, "a"), e(R::ExternalApplication, "z")),
            Route::None
        );
        // 2) message server and application server in different ASs (8.7)
        assert_eq!(
            route(e(R::Message, "a"), e(R::Application, "b")),
            Route::ViaApplicationServerOf("a")
        );
        assert_eq!(
            route(e(R::Application, "b"), e(R::Message, "a")),
            Route::None
        );
        // No interface with external servers but through an internal
        // application server (8.8).
        assert_eq!(
            route(e(R::Message, "a"), e(R::ExternalApplication, "z")),
            Route::None
        );
        assert_eq!(
            route(
                e(R::ExternalApplication, "z"),
                e(R::ExternalApplication, "y")
            ),
            Route::None
        );
        assert_eq!(route(e(R::Account, "a"), e(R::Account, "a")), Route::None);
    }

    #[test]
    fn check_route_enforces_roles_and_as() {
        let k = MessageKind::RegisterDevice;
        assert_eq!(
            check_route(k, e(R::Account, "a"), e(R::Message, "b")),
            Ok(())
        );
        assert!(matches!(
            check_route(k, e(R::Message, "a"), e(R::Message, "a")),
            Err(ForbiddenRoute::WrongSender { .. })
        ));
        assert!(matches!(
            check_route(k, e(R::Account, "a"), e(R::Application, "a")),
            Err(ForbiddenRoute::WrongReceiver { .. })
        ));
        let push = MessageKind::PushToDevice;
        assert_eq!(
            check_route(push, e(R::Application, "a"), e(R::Message, "a")),
            Ok(())
        );
        assert_eq!(
            check_route(push, e(R::Application, "a"), e(R::Message, "b")),
            Err(ForbiddenRoute::DifferentAs { message: push })
        );
        let reset = MessageKind::ResetVerifyCode;
        assert_eq!(
            check_route(reset, e(R::Message, "a"), e(R::Account, "x")),
            Ok(())
        );
    }
}
