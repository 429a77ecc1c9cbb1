//! How a DAS learns the sessionkeys the LBS issued, and keeps registration
//! counters fresh across connections and processes.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::crypto::SessionKey;

/// The sessionkeys the LBS issued, as a DAS sees them: the runtime
/// implements it over a table in one process, or over a store shared by
/// many LBS and DAS processes.
pub trait SessionKeys {
    /// The sessionkey issued to `devid`, and the highest registration
    /// counter accepted under it so far (`None` before the first); `None`
    /// for a devid the LBS did not issue.
    fn session(&mut self, devid: &str) -> Option<(SessionKey, Option<u64>)>;

    /// Records that `counter` was accepted for `devid`, if it is still
    /// greater than the last one accepted (a store shared between DAS
    /// processes compares and sets); `false` when another connection
    /// accepted it or a later one first.
    fn accept(&mut self, devid: &str, counter: u64) -> bool;
}

impl<T: SessionKeys + ?Sized> SessionKeys for &mut T {
    fn session(&mut self, devid: &str) -> Option<(SessionKey, Option<u64>)> {
        (**self).session(devid)
    }
    fn accept(&mut self, devid: &str, counter: u64) -> bool {
        (**self).accept(devid, counter)
    }
}

/// [`SessionKeys`] in memory, for one process (and for tests).
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    devices: BTreeMap<String, (SessionKey, Option<u64>)>,
}

impl KeyTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a sessionkey the LBS issued; a new key for a devid starts
    /// its counters afresh.
    pub fn insert(&mut self, devid: impl Into<String>, key: SessionKey) {
        self.devices.insert(devid.into(), (key, None));
    }

    /// Forgets a device.
    pub fn remove(&mut self, devid: &str) {
        self.devices.remove(devid);
    }
}

impl SessionKeys for KeyTable {
    fn session(&mut self, devid: &str) -> Option<(SessionKey, Option<u64>)> {
        self.devices.get(devid).cloned()
    }

    fn accept(&mut self, devid: &str, counter: u64) -> bool {
        match self.devices.get_mut(devid) {
            Some((_, last)) if last.is_none_or(|l| counter > l) => {
                *last = Some(counter);
                true
            }
            _ => false,
        }
    }
}
