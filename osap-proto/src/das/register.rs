//! Registration with the device access service (draft section 6, Figure 5,
//! F1 and F2): the MQTT CONNECT fields that name the device and prove it
//! holds the sessionkey the LBS issued, laid out in PROFILE.md section 9.
//!
//! The proof binds the devid, a counter, the keep-alive and the will: a
//! DAS accepts a counter only if it is greater than the last one it
//! accepted for that devid, so a captured CONNECT cannot be replayed on
//! another connection, and no field can be changed without the sessionkey.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use hmac::Mac;
use subtle::ConstantTimeEq;

use crate::crypto::{SessionKey, keyed_mac};
use crate::mqtt::{Connect, Password, QoS, TopicName, Will};

/// The heartbeat interval when the caller gives none: the draft's "usually
/// 30 s" (section 7).
pub const DEFAULT_KEEP_ALIVE: u16 = 30;

/// How the user name of a registration CONNECT starts; the counter follows
/// as 16 lowercase hexadecimal digits.
pub const USER_PREFIX: &str = "osap1:";

/// The length of the proof carried as the CONNECT password.
pub const PROOF_LEN: usize = 32;

/// The label of the key the proof is made with (derived from the
/// sessionkey, so that the sessionkey itself only ever keys AES).
const PROOF_LABEL: &[u8] = b"osap-proto registration";

/// The will a device leaves with the DAS: what is published for it if it
/// vanishes without a DISCONNECT (MQTT 3.1.1 section 3.1.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// The will topic.
    pub topic: TopicName<'static>,
    /// The will message.
    pub message: Vec<u8>,
}

/// What a device registers with: everything its CONNECT says, the proof
/// apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The device ID the LBS issued.
    pub devid: String,
    /// Greater than every counter this device registered with under the
    /// same sessionkey: the DAS refuses any other.
    pub counter: u64,
    /// The heartbeat interval in seconds (section 7); 0 turns the
    /// heartbeat off, which a DAS may refuse.
    pub keep_alive: u16,
    /// The will, if any.
    pub will: Option<LastWill>,
}

/// Why a CONNECT is not an OSAP registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The client identifier (the devid) is empty.
    #[error("the client identifier (devid) is empty")]
    NoDevid,
    /// The user name is missing, or is not `osap1:` and 16 hexadecimal
    /// digits.
    #[error("the user name is not `osap1:` and a 16-digit hexadecimal counter")]
    UserName,
    /// The password is missing or not a 32-byte proof.
    #[error("the password is not a {PROOF_LEN}-byte proof")]
    Proof,
    /// The session is not clean: OSAP keeps no broker session.
    #[error("the clean session flag is not set")]
    NotClean,
    /// The will is not at QoS 1 without retain, as registration writes it.
    #[error("the will is not at QoS 1 without retain")]
    Will,
}

impl Registration {
    /// A registration with the default keep-alive and no will.
    #[must_use]
    pub fn new(devid: impl Into<String>, counter: u64) -> Self {
        Self {
            devid: devid.into(),
            counter,
            keep_alive: DEFAULT_KEEP_ALIVE,
            will: None,
        }
    }

    /// The proof over every field (PROFILE.md section 9).
    fn proof(&self, key: &SessionKey) -> [u8; PROOF_LEN] {
        let mut mac = keyed_mac(key.expose(), PROOF_LABEL);
        let mut field = |bytes: &[u8]| {
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            mac.update(&len.to_be_bytes());
            mac.update(bytes);
        };
        field(self.devid.as_bytes());
        field(&self.counter.to_be_bytes());
        field(&self.keep_alive.to_be_bytes());
        match &self.will {
            None => field(&[0]),
            Some(w) => {
                field(&[1]);
                field(w.topic.as_bytes());
                field(&w.message);
            }
        }
        mac.finalize().into_bytes().into()
    }

    /// The CONNECT that registers this device, proved with `key`.
    #[must_use]
    pub fn to_connect(&self, key: &SessionKey) -> Connect<'static> {
        let mut username = String::with_capacity(USER_PREFIX.len() + 16);
        username.push_str(USER_PREFIX);
        let _ = write!(username, "{:016x}", self.counter);
        Connect {
            client_id: Cow::Owned(self.devid.clone()),
            keep_alive: self.keep_alive,
            clean_session: true,
            will: self.will.as_ref().map(|w| Will {
                topic: w.topic.clone(),
                message: Cow::Owned(w.message.clone()),
                qos: QoS::AtLeastOnce,
                retain: false,
            }),
            username: Some(Cow::Owned(username)),
            password: Some(Password::new(self.proof(key).to_vec())),
        }
    }

    /// Reads what a CONNECT claims, without checking its proof (the DAS
    /// first needs the devid to find the sessionkey): the registration and
    /// the proof to give [`Registration::verify`].
    ///
    /// # Errors
    ///
    /// A [`RegistrationError`] for a CONNECT that is not laid out as
    /// registration writes it.
    pub fn from_connect(c: &Connect<'_>) -> Result<(Self, [u8; PROOF_LEN]), RegistrationError> {
        if c.client_id.is_empty() {
            return Err(RegistrationError::NoDevid);
        }
        if !c.clean_session {
            return Err(RegistrationError::NotClean);
        }
        let counter = c
            .username
            .as_deref()
            .and_then(|u| u.strip_prefix(USER_PREFIX))
            .filter(|hex| {
                hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .ok_or(RegistrationError::UserName)?;
        let proof: [u8; PROOF_LEN] = c
            .password
            .as_ref()
            .and_then(|p| p.expose().try_into().ok())
            .ok_or(RegistrationError::Proof)?;
        let will = match &c.will {
            None => None,
            Some(w) if w.qos == QoS::AtLeastOnce && !w.retain => Some(LastWill {
                topic: w.topic.clone().into_owned(),
                message: w.message.clone().into_owned(),
            }),
            Some(_) => return Err(RegistrationError::Will),
        };
        let registration = Self {
            devid: c.client_id.clone().into_owned(),
            counter,
            keep_alive: c.keep_alive,
            will,
        };
        Ok((registration, proof))
    }

    /// Whether `proof` was made with `key` over this registration,
    /// compared in constant time.
    #[must_use]
    pub fn verify(&self, key: &SessionKey, proof: &[u8; PROOF_LEN]) -> bool {
        self.proof(key).ct_eq(proof).into()
    }
}
