//! Which servers may exchange messages directly (8.1, 8.7).

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::message::MessageKind;

/// The kinds of server of clause 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    /// The account server (7.1): one logical server for the whole IRSP.
    Account,
    /// A message server (7.2).
    Message,
    /// An IRSP internal application server (7.3).
    Application,
    /// An IRSP external application server, run by a third party (7.4).
    ExternalApplication,
}

impl fmt::Display for ServerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Account => "account server",
            Self::Message => "message server",
            Self::Application => "application server",
            Self::ExternalApplication => "external application server",
        })
    }
}

/// A server taking part in an exchange: its role and the AS it belongs to.
///
/// The account server serves every AS (7.1), so its `autonomous_system` is
/// not consulted. ASs are named by the caller (for example by the domain its
/// users share, clause 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint<'a> {
    /// The server's role.
    pub role: ServerRole,
    /// The AS it belongs to.
    pub autonomous_system: &'a str,
}

impl<'a> Endpoint<'a> {
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
/// use irsp_proto::{Endpoint, Route, ServerRole, route};
/// let ms = Endpoint::new(ServerRole::Message, "as1");
/// let app2 = Endpoint::new(ServerRole::Application, "as2");
/// assert_eq!(route(ms, app2), Route::ViaApplicationServerOf("as1"));
/// let account = Endpoint::new(ServerRole::Account, "as1");
/// assert_eq!(route(account, Endpoint::new(ServerRole::Application, "as1")), Route::None);
/// ```
#[must_use]
pub fn route<'a>(from: Endpoint<'a>, to: Endpoint<'_>) -> Route<'a> {
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
pub enum RoutingError {
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
/// [`RoutingError`] naming the rule the exchange breaks.
pub fn check_route(
    message: MessageKind,
    from: Endpoint<'_>,
    to: Endpoint<'_>,
) -> Result<(), RoutingError> {
    if from.role != message.sender() {
        return Err(RoutingError::WrongSender {
            message,
            expected: message.sender(),
            actual: from.role,
        });
    }
    if to.role != message.receiver() {
        return Err(RoutingError::WrongReceiver {
            message,
            expected: message.receiver(),
            actual: to.role,
        });
    }
    let within_as = message.number() >= 8;
    if within_as && from.autonomous_system != to.autonomous_system {
        return Err(RoutingError::DifferentAs { message });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServerRole as R;

    fn e(role: ServerRole, a: &str) -> Endpoint<'_> {
        Endpoint::new(role, a)
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
            Err(RoutingError::WrongSender { .. })
        ));
        assert!(matches!(
            check_route(k, e(R::Account, "a"), e(R::Application, "a")),
            Err(RoutingError::WrongReceiver { .. })
        ));
        let push = MessageKind::PushToDevice;
        assert_eq!(
            check_route(push, e(R::Application, "a"), e(R::Message, "a")),
            Ok(())
        );
        assert_eq!(
            check_route(push, e(R::Application, "a"), e(R::Message, "b")),
            Err(RoutingError::DifferentAs { message: push })
        );
        let reset = MessageKind::ResetVerifyCode;
        assert_eq!(
            check_route(reset, e(R::Message, "a"), e(R::Account, "x")),
            Ok(())
        );
    }
}
