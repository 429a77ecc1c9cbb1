//! SASL for the client (RFC 6120 section 6): the mechanisms, the choice
//! among those a server offers, and the SCRAM client of RFC 5802 and
//! RFC 7677, with channel binding (the `-PLUS` mechanisms; RFC 6120
//! section 13.8.1 makes SCRAM-SHA-1-PLUS a client's must).

mod binding;
mod error;
mod scram;
#[cfg(feature = "testing")]
pub(crate) mod server;

use iot_sansio::Secret;

pub use binding::{BindingType, ChannelBinding, ChannelBindingData};
pub use error::SaslError;
pub use scram::{Iterations, ScramClient, ScramHash};

/// A SASL mechanism this crate's client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `SCRAM-SHA-256-PLUS` (RFC 7677, with channel binding).
    ScramSha256Plus,
    /// `SCRAM-SHA-1-PLUS` (RFC 5802, with channel binding).
    ScramSha1Plus,
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
            Self::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Self::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }

    /// Whether the mechanism binds the channel (`-PLUS`).
    #[must_use]
    pub fn is_plus(self) -> bool {
        matches!(self, Self::ScramSha256Plus | Self::ScramSha1Plus)
    }

    /// The `-PLUS` form of a SCRAM mechanism (itself for one).
    #[must_use]
    pub fn plus(self) -> Option<Self> {
        match self {
            Self::ScramSha256 | Self::ScramSha256Plus => Some(Self::ScramSha256Plus),
            Self::ScramSha1 | Self::ScramSha1Plus => Some(Self::ScramSha1Plus),
            Self::Plain => None,
        }
    }

    /// The mechanism with this name, if this crate speaks it.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::ScramSha256Plus,
            Self::ScramSha1Plus,
            Self::ScramSha256,
            Self::ScramSha1,
            Self::Plain,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    /// The SCRAM hash, for a SCRAM mechanism.
    #[must_use]
    pub fn scram(self) -> Option<ScramHash> {
        match self {
            Self::ScramSha256 | Self::ScramSha256Plus => Some(ScramHash::Sha256),
            Self::ScramSha1 | Self::ScramSha1Plus => Some(ScramHash::Sha1),
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
    /// listed them); PLAIN only when `tls` is true; a `-PLUS` mechanism
    /// only when listed in the preference (see
    /// [`MechanismPreference::choose_bound`]).
    #[must_use]
    pub fn choose(&self, offered: &[&str], tls: bool) -> Option<Mechanism> {
        self.0
            .iter()
            .copied()
            .find(|m| (tls || *m != Mechanism::Plain) && offered.contains(&m.name()))
    }

    /// The mechanism for a client that can bind the channel or not
    /// (`bound`: it has the TLS connection's binding data): the `-PLUS`
    /// form of the first preferred SCRAM mechanism the server offers it
    /// for; else the first preferred mechanism offered that does not bind
    /// (its GS2 header then says `y` when the client could have bound).
    /// Binding is chosen over a preferred hash: it is what stops a server
    /// in the middle.
    #[must_use]
    pub fn choose_bound(&self, offered: &[&str], tls: bool, bound: bool) -> Option<Mechanism> {
        if bound
            && let Some(plus) = self
                .0
                .iter()
                .filter_map(|m| m.plus())
                .find(|p| offered.contains(&p.name()))
        {
            return Some(plus);
        }
        self.0
            .iter()
            .copied()
            .filter(|m| !m.is_plus())
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
