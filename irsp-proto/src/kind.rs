//! The vocabulary every other module of the crate uses, with no
//! dependency on them: which message a request is ([`MessageKind`]), which
//! server sends or receives it ([`ServerRole`]), and the statuses of its
//! response ([`Status`]).

use core::fmt;

use serde::{Deserialize, Serialize};

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

/// A response status of clause 8 (the "Status code" column of Tables 1 to
/// 7), with the `<detail>` text each table gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum Status {
    /// 200, successful; the body is empty.
    Ok,
    /// 400, wrong parameter: `bad request`.
    BadRequest,
    /// 421, the ID exists already: `id existed` (Table 1 only).
    IdExisted,
    /// 422, the ID does not exist: `id not existed` (Tables 2, 3, 4, 6).
    IdNotExisted,
    /// 500, server internal error: `server internal error`.
    InternalError,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Self; 5] = [
        Self::Ok,
        Self::BadRequest,
        Self::IdExisted,
        Self::IdNotExisted,
        Self::InternalError,
    ];

    /// The HTTP status code.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::BadRequest => 400,
            Self::IdExisted => 421,
            Self::IdNotExisted => 422,
            Self::InternalError => 500,
        }
    }

    /// The status with this code, if clause 8 defines one.
    #[must_use]
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The `<detail>` text of the tables; `None` for 200, whose body is
    /// empty.
    #[must_use]
    pub fn detail(self) -> Option<&'static str> {
        match self {
            Self::Ok => None,
            Self::BadRequest => Some("bad request"),
            Self::IdExisted => Some("id existed"),
            Self::IdNotExisted => Some("id not existed"),
            Self::InternalError => Some("server internal error"),
        }
    }

    /// The "Result" column of the tables, which is not sent in the body
    /// but suits an HTTP reason phrase.
    #[must_use]
    pub fn result(self) -> &'static str {
        match self {
            Self::Ok => "Successful",
            Self::BadRequest => "Wrong parameter",
            Self::IdExisted => "ID existed",
            Self::IdNotExisted => "ID does not exist",
            Self::InternalError => "Server internal error",
        }
    }

    /// Appends the response body to `out`: nothing for 200, else
    /// `<error><code>N</code><detail>text</detail></error>`.
    pub fn write_body(self, out: &mut String) {
        if let Some(detail) = self.detail() {
            out.push_str("<error><code>");
            out.push_str(itoa_status(self.code()));
            out.push_str("</code><detail>");
            out.push_str(detail);
            out.push_str("</detail></error>");
        }
    }

    /// The response body: empty for 200, else the `<error>` document.
    #[must_use]
    pub fn body(self) -> String {
        let mut out = String::new();
        self.write_body(&mut out);
        out
    }
}

/// The decimal text of a status code of clause 8.
pub(crate) fn itoa_status(code: u16) -> &'static str {
    match code {
        200 => "200",
        400 => "400",
        421 => "421",
        422 => "422",
        _ => "500",
    }
}

impl From<Status> for u16 {
    fn from(status: Status) -> u16 {
        status.code()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}
