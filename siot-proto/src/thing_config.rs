//! A thing's settings (`crate::thing::ThingConfig`).

use core::time::Duration;

use iot_xmpp::keepalive::KeepaliveConfig;
use iot_xmpp::{Jid, StanzaLimits};

use crate::payload::Name;

/// A thing's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingConfig {
    /// The provisioning service's JID: every stanza that claims to come
    /// from it is checked against this (section 10).
    pub provisioning: Jid,
    /// The names it registers with (section 4), at least one.
    pub names: Vec<Name>,
    /// Limits on received stanzas.
    pub limits: StanzaLimits,
    /// How long an `iq` it sends waits for the answer (default 30 s).
    pub iq_timeout: Duration,
    /// Whether a stanza from any resource of the provisioning service's
    /// account is the service's (default `false`: a full JID configured
    /// must match exactly). For a service run as several processes, each a
    /// resource of one account over a shared store: the thing or owner
    /// sends its requests to the configured resource, and the process that
    /// decided a claim or a friendship may be another one (section 10,
    /// PROFILE.md).
    pub any_resource: bool,
    /// A keepalive on the connection (XEP-0199, `iot_xmpp::keepalive`),
    /// off by default: with one, the machine pings the server after
    /// `interval` of silence, answers the server's pings, and ends with
    /// `End::TimedOut` when a ping goes unanswered, for its runtime to
    /// reconnect (PROFILE.md, "A lost connection").
    pub keepalive: Option<KeepaliveConfig>,
}

impl ThingConfig {
    /// A configuration with the default limits and `iq` timeout.
    #[must_use]
    pub fn new(provisioning: Jid, names: Vec<Name>) -> Self {
        Self {
            provisioning,
            names,
            limits: crate::limits::stanza_limits(),
            iq_timeout: Duration::from_secs(30),
            any_resource: false,
            keepalive: None,
        }
    }
}
