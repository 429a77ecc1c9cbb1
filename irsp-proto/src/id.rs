//! Identifiers of clause 3.1: user IDs, device IDs and server addresses.
//!
//! A user ID is `local@domain` (3.1.12); a device ID is the same shape with a
//! local part that starts with `#` (3.1.3, whose example gives the local part
//! `#igrsdevice` and the device ID `#igrsdevice@igrs.com`). Only the local
//! part travels in the messages of clause 8 (`name=`, `userid=`,
//! `deviceid=`), so [`UserName`] and [`DeviceName`] are what the messages
//! carry. A server address is `domain:port` (3.1.11).

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text is empty.
    #[error("is empty")]
    Empty,
    /// A local part contains a character that no identifier may contain.
    #[error("contains {0:?}, which is not allowed in a local part")]
    ForbiddenChar(char),
    /// A user local part starts with `#`, which marks device IDs (3.1.3).
    #[error("starts with `#`, which marks a device ID")]
    UserStartsWithHash,
    /// A device local part does not start with `#` (3.1.3).
    #[error("does not start with `#` as a device ID must")]
    DeviceWithoutHash,
    /// The ID has no `@` between local part and domain.
    #[error("has no `@` between local part and domain")]
    MissingAt,
    /// The domain is not a host name of RFC 1123 labels.
    #[error("has an invalid domain: {0}")]
    Domain(&'static str),
    /// The server address has no `:port`.
    #[error("has no `:port`")]
    MissingPort,
    /// The port is not a decimal number from 1 to 65535 without leading zeros.
    #[error("has an invalid port")]
    Port,
}

fn check_local(text: &str) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    match text
        .chars()
        .find(|&c| c == '@' || c == '/' || c.is_whitespace() || c.is_control())
    {
        Some(c) => Err(IdError::ForbiddenChar(c)),
        None => Ok(()),
    }
}

/// Checks a host name: dot-separated labels of letters, digits and `-`,
/// each 1 to 63 bytes, not starting or ending with `-`, 253 bytes at most.
fn check_domain(text: &str) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Domain("empty"));
    }
    if text.len() > 253 {
        return Err(IdError::Domain("longer than 253 bytes"));
    }
    for label in text.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(IdError::Domain("a label is empty or longer than 63 bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(IdError::Domain(
                "a label has a character other than a letter, digit or `-`",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(IdError::Domain("a label starts or ends with `-`"));
        }
    }
    Ok(())
}

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $check:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `text`.
            ///
            /// # Errors
            ///
            /// Returns the rule that `text` breaks.
            pub fn new(text: impl Into<String>) -> Result<Self, IdError> {
                let text = text.into();
                ($check)(text.as_str())?;
                Ok(Self(text))
            }

            /// The identifier as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::new(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                Self::new(text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// The local part of a user ID (3.1.12), as carried by `name=` and
    /// `userid=`: not empty, no `@`, `/`, white space or control characters,
    /// and not starting with `#`.
    ///
    /// ```
    /// use irsp_proto::UserName;
    /// assert!(UserName::new("igrsuser").is_ok());
    /// assert!(UserName::new("#igrsdevice").is_err());
    /// ```
    UserName,
    |t: &str| {
        check_local(t)?;
        if t.starts_with('#') {
            return Err(IdError::UserStartsWithHash);
        }
        Ok(())
    }
);

text_newtype!(
    /// The local part of a device ID (3.1.3), `#` included, as carried by
    /// `name=` and `deviceid=`: the rules of [`UserName`], but starting with
    /// `#` and with at least one character after it.
    ///
    /// ```
    /// use irsp_proto::DeviceName;
    /// assert!(DeviceName::new("#igrsdevice").is_ok());
    /// assert!(DeviceName::new("igrsdevice").is_err());
    /// ```
    DeviceName,
    |t: &str| {
        check_local(t)?;
        match t.strip_prefix('#') {
            None => Err(IdError::DeviceWithoutHash),
            Some("") => Err(IdError::Empty),
            Some(_) => Ok(()),
        }
    }
);

text_newtype!(
    /// A domain name: RFC 1123 host name labels joined by dots.
    Domain,
    check_domain
);

/// Splits `local@domain` at its last `@`.
fn split_id(text: &str) -> Result<(&str, Domain), IdError> {
    let (local, domain) = text.rsplit_once('@').ok_or(IdError::MissingAt)?;
    Ok((local, Domain::new(domain)?))
}

/// A user ID, `local@domain` (3.1.12).
///
/// ```
/// use irsp_proto::UserId;
/// let id: UserId = "igrsuser@igrs.com".parse().unwrap();
/// assert_eq!(id.local().as_str(), "igrsuser");
/// assert_eq!(id.to_string(), "igrsuser@igrs.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId {
    local: UserName,
    domain: Domain,
}

impl UserId {
    /// Joins a local part and a domain.
    #[must_use]
    pub fn new(local: UserName, domain: Domain) -> Self {
        Self { local, domain }
    }
    /// The local part, which is what messages carry.
    #[must_use]
    pub fn local(&self) -> &UserName {
        &self.local
    }
    /// The domain, shared by every user and device of one AS (clause 6).
    #[must_use]
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl FromStr for UserId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        let (local, domain) = split_id(text)?;
        Ok(Self::new(UserName::new(local)?, domain))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// A device ID, `#local@domain` (3.1.3).
///
/// ```
/// use irsp_proto::DeviceId;
/// let id: DeviceId = "#igrsdevice@igrs.com".parse().unwrap();
/// assert_eq!(id.local().as_str(), "#igrsdevice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId {
    local: DeviceName,
    domain: Domain,
}

impl DeviceId {
    /// Joins a local part and a domain.
    #[must_use]
    pub fn new(local: DeviceName, domain: Domain) -> Self {
        Self { local, domain }
    }
    /// The local part, `#` included, which is what messages carry.
    #[must_use]
    pub fn local(&self) -> &DeviceName {
        &self.local
    }
    /// The domain.
    #[must_use]
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl FromStr for DeviceId {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        let (local, domain) = split_id(text)?;
        Ok(Self::new(DeviceName::new(local)?, domain))
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// A server address, `domain:port` (3.1.11), such as `www.igrslab.com:8080`.
///
/// ```
/// use irsp_proto::ServerAddress;
/// let a: ServerAddress = "www.igrslab.com:8080".parse().unwrap();
/// assert_eq!(a.port(), 8080);
/// assert!("www.igrslab.com".parse::<ServerAddress>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServerAddress {
    domain: Domain,
    port: u16,
}

impl ServerAddress {
    /// Joins a domain and a port.
    ///
    /// # Errors
    ///
    /// [`IdError::Port`] for port 0.
    pub fn new(domain: Domain, port: u16) -> Result<Self, IdError> {
        if port == 0 {
            return Err(IdError::Port);
        }
        Ok(Self { domain, port })
    }
    /// The server's domain name.
    #[must_use]
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
    /// The TCP port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl FromStr for ServerAddress {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        let (domain, port) = text.rsplit_once(':').ok_or(IdError::MissingPort)?;
        let well_formed = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && !port.starts_with('0');
        if !well_formed {
            return Err(IdError::Port);
        }
        let port = port.parse::<u16>().map_err(|_| IdError::Port)?;
        Self::new(Domain::new(domain)?, port)
    }
}

impl TryFrom<String> for ServerAddress {
    type Error = IdError;
    fn try_from(text: String) -> Result<Self, IdError> {
        text.parse()
    }
}

impl From<ServerAddress> for String {
    fn from(value: ServerAddress) -> String {
        value.to_string()
    }
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.domain, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_of_clause_3() {
        // 3.1.12 EXAMPLE
        let user: UserId = "igrsuser@igrs.com".parse().unwrap();
        assert_eq!(user.local().as_str(), "igrsuser");
        assert_eq!(user.domain().as_str(), "igrs.com");
        assert_eq!(user.to_string(), "igrsuser@igrs.com");
        // 3.1.3 EXAMPLE: the local part includes the `#`.
        let device: DeviceId = "#igrsdevice@igrs.com".parse().unwrap();
        assert_eq!(device.local().as_str(), "#igrsdevice");
        assert_eq!(device.to_string(), "#igrsdevice@igrs.com");
        // 3.1.11 EXAMPLE
        let server: ServerAddress = "www.igrslab.com:8080".parse().unwrap();
        assert_eq!(server.domain().as_str(), "www.igrslab.com");
        assert_eq!(server.port(), 8080);
        assert_eq!(server.to_string(), "www.igrslab.com:8080");
    }

    #[test]
    fn local_part_errors() {
        assert_eq!(UserName::new(""), Err(IdError::Empty));
        assert_eq!(UserName::new("a b"), Err(IdError::ForbiddenChar(' ')));
        assert_eq!(UserName::new("a@b"), Err(IdError::ForbiddenChar('@')));
        assert_eq!(UserName::new("a/b"), Err(IdError::ForbiddenChar('/')));
        assert_eq!(
            UserName::new("a\u{7}"),
            Err(IdError::ForbiddenChar('\u{7}'))
        );
        assert_eq!(UserName::new("#x"), Err(IdError::UserStartsWithHash));
        assert_eq!(DeviceName::new("x"), Err(IdError::DeviceWithoutHash));
        assert_eq!(DeviceName::new("#"), Err(IdError::Empty));
        assert!(UserName::new("用户").is_ok());
    }

    #[test]
    fn id_errors() {
        assert_eq!("igrsuser".parse::<UserId>(), Err(IdError::MissingAt));
        assert_eq!("igrsuser@".parse::<UserId>(), Err(IdError::Domain("empty")));
        assert!(matches!(
            "u@-bad.com".parse::<UserId>(),
            Err(IdError::Domain(_))
        ));
        assert!(matches!(
            "u@a..com".parse::<UserId>(),
            Err(IdError::Domain(_))
        ));
        assert!(matches!(
            "u@a_b.com".parse::<UserId>(),
            Err(IdError::Domain(_))
        ));
        let long = format!("u@{}.com", "a".repeat(64));
        assert!(matches!(long.parse::<UserId>(), Err(IdError::Domain(_))));
        let too_long = format!("u@{}", vec!["a".repeat(60); 5].join("."));
        assert!(matches!(
            too_long.parse::<UserId>(),
            Err(IdError::Domain(_))
        ));
        assert_eq!(
            "igrsuser@igrs.com".parse::<DeviceId>(),
            Err(IdError::DeviceWithoutHash)
        );
    }

    #[test]
    fn server_address_errors() {
        assert_eq!("h".parse::<ServerAddress>(), Err(IdError::MissingPort));
        for bad in ["h:", "h:0", "h:65536", "h:080", "h:+80", "h:8a", "h:123456"] {
            assert_eq!(bad.parse::<ServerAddress>(), Err(IdError::Port), "{bad}");
        }
        assert!(matches!(
            ":80".parse::<ServerAddress>(),
            Err(IdError::Domain(_))
        ));
        assert_eq!("h:65535".parse::<ServerAddress>().unwrap().port(), 65535);
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<UserName>("\"#dev\"").is_err());
        let n: DeviceName = serde_json::from_str("\"#dev\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"#dev\"");
        let a: ServerAddress = serde_json::from_str("\"ms.igrs.com:443\"").unwrap();
        assert_eq!(a.port(), 443);
    }
}
