//! How a DAS learns the sessionkeys the LBS issued, and keeps registration
//! counters fresh across connections and processes.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::control::Suite;
use crate::crypto::SessionKey;

/// What the LBS issued to a device, as the DAS needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The sessionkey.
    pub key: SessionKey,
    /// The suite negotiated on the LBS connection, which business messages
    /// are sealed with.
    pub suite: Suite,
    /// The highest registration counter accepted under this sessionkey so
    /// far (`None` before the first).
    pub last_registration: Option<u64>,
}

/// The sessionkeys the LBS issued, as a DAS sees them: the runtime
/// implements it over a table in one process, or over a store shared by
/// many LBS and DAS processes.
pub trait SessionKeys {
    /// What the LBS issued to `devid`; `None` for a devid it did not
    /// issue.
    fn session(&mut self, devid: &str) -> Option<Issued>;

    /// Records that `counter` was accepted for `devid`, if it is still
    /// greater than the last one accepted (a store shared between DAS
    /// processes compares and sets); `false` when another connection
    /// accepted it or a later one first.
    fn accept(&mut self, devid: &str, counter: u64) -> bool;
}

impl<T: SessionKeys + ?Sized> SessionKeys for &mut T {
    fn session(&mut self, devid: &str) -> Option<Issued> {
        (**self).session(devid)
    }
    fn accept(&mut self, devid: &str, counter: u64) -> bool {
        (**self).accept(devid, counter)
    }
}

/// [`SessionKeys`] in memory, for one process (and for tests).
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    devices: BTreeMap<String, Issued>,
}

impl KeyTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a sessionkey the LBS issued under the negotiated suite; a
    /// new key for a devid starts its counters afresh.
    pub fn insert(&mut self, devid: impl Into<String>, key: SessionKey, suite: Suite) {
        self.devices.insert(
            devid.into(),
            Issued {
                key,
                suite,
                last_registration: None,
            },
        );
    }

    /// Forgets a device.
    pub fn remove(&mut self, devid: &str) {
        self.devices.remove(devid);
    }
}

impl SessionKeys for KeyTable {
    fn session(&mut self, devid: &str) -> Option<Issued> {
        self.devices.get(devid).cloned()
    }

    fn accept(&mut self, devid: &str, counter: u64) -> bool {
        match self.devices.get_mut(devid) {
            Some(issued) if issued.last_registration.is_none_or(|l| counter > l) => {
                issued.last_registration = Some(counter);
                true
            }
            _ => false,
        }
    }
}
