//! The bodies of the fifteen messages: the accounts, removals, resets,
//! data and notices they carry, and how the account server authenticates.

use serde::{Deserialize, Serialize};

use crate::id::{DeviceName, UserName};
use crate::secret::Secret;

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
pub struct AdditionalParams(pub(super) Vec<(String, String)>);

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
