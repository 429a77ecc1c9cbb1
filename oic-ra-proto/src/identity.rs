//! Identities of section 7.1: bare and full JIDs, and the RAE full-JID
//! scheme of 7.1.1 that names the role, protocol version, device type and
//! UUID of each connection.
//!
//! JIDs are parsed and normalized by the `jid` crate, which applies the
//! RFC 6122 stringprep profiles the section cites (nodeprep folds the case
//! of the local part, nameprep the domain), so two bare JIDs that differ
//! only in case compare equal, as 7.1 requires.

use core::fmt;
use core::str::FromStr;

pub use jid::{BareJid, FullJid, Jid};

/// The protocol version of the resource scheme this crate speaks (7.1.1).
pub const OIC_VERSION: &str = "1.0";

/// Why a JID is not an RAE full JID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not a valid full JID (RFC 6122): the `jid` crate's reason.
    #[error("not a valid full JID: {0}")]
    Jid(String),
    /// The resource does not start with `OIC/`.
    #[error("resource does not follow OIC/{{version}}/{{role}}/{{UUID}}")]
    NotOic,
    /// A version other than 1.0.
    #[error("unsupported OIC version `{0}`")]
    Version(String),
    /// An empty device type, or one with characters a resource type
    /// (`rt`) cannot have.
    #[error("invalid device type `{0}`")]
    DeviceType(String),
    /// The UUID is not 8-4-4-4-12 hexadecimal digits.
    #[error("`{0}` is not a UUID (8-4-4-4-12 hexadecimal digits)")]
    Uuid(String),
}

/// A UUID in its RFC 4122 text form, kept as written (case preserved).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uuid(String);

impl Uuid {
    /// Validates the 8-4-4-4-12 hexadecimal form.
    ///
    /// # Errors
    ///
    /// [`IdentityError::Uuid`].
    pub fn new(text: &str) -> Result<Self, IdentityError> {
        let groups: Vec<&str> = text.split('-').collect();
        let ok = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(IdentityError::Uuid(text.to_owned()))
        }
    }

    /// The UUID text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The role of an RAE connection (7.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// An OIC Client: resource `OIC/1.0/Client/{UUID}`.
    Client,
    /// An OIC Server of a device type (the `rt` of its `/oic/d`):
    /// resource `OIC/1.0/{device type}/{UUID}`.
    Server {
        /// The OIC device type, such as `oic.d.light`.
        device_type: String,
    },
}

/// Checks a device type: a resource-type name, lowercase letters, digits,
/// `.` and `-`, not `Client`.
fn check_device_type(text: &str) -> Result<(), IdentityError> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(IdentityError::DeviceType(text.to_owned()))
    }
}

/// The full JID of a Remote Access Endpoint (7.1.1).
///
/// ```
/// use oic_ra_proto::identity::{RaeJid, Role};
///
/// let light: RaeJid = "me@mydomain.com/OIC/1.0/oic.d.light/FFFFB960-BABE-46F7-BEC0-9E6234671ADC".parse()?;
/// assert_eq!(light.role(), &Role::Server { device_type: "oic.d.light".into() });
/// assert_eq!(light.uuid().as_str(), "FFFFB960-BABE-46F7-BEC0-9E6234671ADC");
/// # Ok::<(), oic_ra_proto::identity::IdentityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RaeJid {
    jid: FullJid,
    role: Role,
    uuid: Uuid,
}

impl RaeJid {
    /// The full JID of an OIC Client of the account `bare`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::Jid`] when the resulting JID is not valid.
    pub fn client(bare: &BareJid, uuid: Uuid) -> Result<Self, IdentityError> {
        Self::build(bare, Role::Client, uuid)
    }

    /// The full JID of an OIC Server of `device_type` of the account `bare`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::DeviceType`] or [`IdentityError::Jid`].
    pub fn server(bare: &BareJid, device_type: &str, uuid: Uuid) -> Result<Self, IdentityError> {
        check_device_type(device_type)?;
        Self::build(
            bare,
            Role::Server {
                device_type: device_type.to_owned(),
            },
            uuid,
        )
    }

    fn build(bare: &BareJid, role: Role, uuid: Uuid) -> Result<Self, IdentityError> {
        let kind = match &role {
            Role::Client => "Client",
            Role::Server { device_type } => device_type.as_str(),
        };
        let text = format!("{bare}/OIC/{OIC_VERSION}/{kind}/{uuid}");
        let jid = iot_xmpp::jids::read_jid::<FullJid>(&text)
            .map_err(|e| IdentityError::Jid(e.to_string()))?;
        Ok(Self { jid, role, uuid })
    }

    /// Reads an RAE full JID.
    ///
    /// # Errors
    ///
    /// A distinct [`IdentityError`] for an invalid JID, a resource outside
    /// the scheme, another version, a bad device type and a bad UUID.
    pub fn from_full(jid: FullJid) -> Result<Self, IdentityError> {
        let resource = jid.resource().as_str();
        let mut parts = resource.splitn(4, '/');
        let (Some("OIC"), Some(version), Some(kind), Some(uuid)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdentityError::NotOic);
        };
        if version != OIC_VERSION {
            return Err(IdentityError::Version(version.to_owned()));
        }
        let role = if kind == "Client" {
            Role::Client
        } else {
            check_device_type(kind)?;
            Role::Server {
                device_type: kind.to_owned(),
            }
        };
        let uuid = Uuid::new(uuid)?;
        Ok(Self { jid, role, uuid })
    }

    /// The full JID.
    #[must_use]
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    /// The account: the bare JID, compared without case.
    #[must_use]
    pub fn bare(&self) -> BareJid {
        self.jid.to_bare()
    }

    /// The role.
    #[must_use]
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// The UUID: kept by the endpoint for its lifetime; for a server, the
    /// `di` of its `/oic/d`.
    #[must_use]
    pub fn uuid(&self) -> &Uuid {
        &self.uuid
    }

    /// The device type of a server.
    #[must_use]
    pub fn device_type(&self) -> Option<&str> {
        match &self.role {
            Role::Client => None,
            Role::Server { device_type } => Some(device_type),
        }
    }
}

impl FromStr for RaeJid {
    type Err = IdentityError;
    fn from_str(text: &str) -> Result<Self, IdentityError> {
        let jid = iot_xmpp::jids::read_jid::<FullJid>(text)
            .map_err(|e| IdentityError::Jid(e.to_string()))?;
        Self::from_full(jid)
    }
}

impl fmt::Display for RaeJid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.jid, f)
    }
}

/// The OIC endpoints among full JIDs seen in a roster's presences, with
/// their roles and device types (7.1.1: "discovery of the device-type
/// directly from the full-JID"). JIDs outside the scheme are skipped.
pub fn discover<'a>(jids: impl IntoIterator<Item = &'a FullJid>) -> impl Iterator<Item = RaeJid> {
    jids.into_iter()
        .filter_map(|j| RaeJid::from_full(j.clone()).ok())
}
