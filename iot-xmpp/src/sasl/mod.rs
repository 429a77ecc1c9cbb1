//! SASL for the client (RFC 6120 section 6): the mechanisms, the choice
//! among those a server offers, and the SCRAM client of RFC 5802 and
//! RFC 7677.

mod error;
mod scram;

use iot_sansio::Secret;

pub use error::SaslError;
pub use scram::{Iterations, ScramClient, ScramHash};

/// A SASL mechanism this crate's client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `PLAIN` (RFC 4616): the password itself travels, so the client uses
    /// it only over TLS and only when configured to.
    Plain,
}

impl Mechanism {
    /// The mechanism's registered name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }

    /// The mechanism with this name, if this crate speaks it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::ScramSha256, Self::ScramSha1, Self::Plain]
            .into_iter()
            .find(|m| m.name() == name)
    }

    /// The SCRAM hash, for a SCRAM mechanism.
    #[must_use]
    pub fn scram(self) -> Option<ScramHash> {
        match self {
            Self::ScramSha256 => Some(ScramHash::Sha256),
            Self::ScramSha1 => Some(ScramHash::Sha1),
            Self::Plain => None,
        }
    }
}

/// Which mechanisms the client uses, most preferred first, and the first
/// one a server offers is chosen. The default is SCRAM-SHA-256, then
/// SCRAM-SHA-1; PLAIN is left out unless configured, and even then is
/// used only over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MechanismPreference(Vec<Mechanism>);

impl MechanismPreference {
    /// A preference, most preferred first.
    #[must_use]
    pub fn new(mechanisms: &[Mechanism]) -> Self {
        Self(mechanisms.to_vec())
    }

    /// The mechanisms, most preferred first.
    #[must_use]
    pub fn mechanisms(&self) -> &[Mechanism] {
        &self.0
    }

    /// The first preferred mechanism among `offered` (names as the server
    /// listed them); PLAIN only when `tls` is true.
    #[must_use]
    pub fn choose(&self, offered: &[&str], tls: bool) -> Option<Mechanism> {
        self.0
            .iter()
            .copied()
            .find(|m| (tls || *m != Mechanism::Plain) && offered.contains(&m.name()))
    }
}

impl Default for MechanismPreference {
    fn default() -> Self {
        Self::new(&[Mechanism::ScramSha256, Mechanism::ScramSha1])
    }
}

/// The PLAIN initial response (RFC 4616): no authorization identity, the
/// user name and the password, NUL-separated. A secret: it holds the
/// password.
#[must_use]
pub fn plain_response(username: &str, password: &Secret<String>) -> Secret<Vec<u8>> {
    let mut message = Vec::with_capacity(username.len() + password.expose().len() + 2);
    message.push(0);
    message.extend_from_slice(username.as_bytes());
    message.push(0);
    message.extend_from_slice(password.expose().as_bytes());
    Secret::new(message)
}
