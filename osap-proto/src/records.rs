//! The record the LBS and the DAS share for each device: the sessionkey
//! the LBS issued (section 5), the registration counters the DAS accepted
//! under it (section 6), and where the device's session lives. Both ask
//! for it through a store ([`iot_sansio::store`]): [`KeyTable`] in one
//! process, the runtime's shared store otherwise.

use alloc::string::String;

use iot_sansio::store::{MemoryStore, Store, StoreAnswer, StoreOp, StoreRequest, Versioned};

use crate::control::Suite;
use crate::crypto::SessionKey;

/// A device's sessionkey, as the LBS issued it and the DAS uses it. Each
/// sessionkey the LBS issues to a devid is a new record with the next
/// epoch, whose counters start afresh; the DAS writes the counter it
/// accepts into the record it verified the proof with (compare-and-set on
/// its version), so a counter is bound to the key that proved it.
///
/// `I` is the machines' instant. Several processes that share the record
/// must share a clock for [`KeyRecord::expires`] to mean one thing: drive
/// them with `std::time::SystemTime` (or a count of milliseconds since the
/// Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord<I> {
    /// The sessionkey.
    pub key: SessionKey,
    /// The suite negotiated on the LBS connection, which business messages
    /// are sealed with.
    pub suite: Suite,
    /// How many sessionkeys the LBS has issued to the devid, this one
    /// included.
    pub epoch: u64,
    /// When the sessionkey stops being accepted (`None`: never); the device
    /// refreshes it at the LBS.
    pub expires: Option<I>,
    /// Set to refuse the sessionkey before it expires.
    pub revoked: bool,
    /// The highest registration counter accepted under this sessionkey
    /// (`None` before the first).
    pub last_registration: Option<u64>,
    /// The DAS node whose session with the device is live (the DAS
    /// session's configured `node`), to route an application's read or
    /// operation to it; `None` when no session is.
    pub node: Option<u64>,
}

impl<I: Ord + Copy> KeyRecord<I> {
    /// A sessionkey just issued: epoch `epoch`, no counter yet, no node.
    #[must_use]
    pub fn new(key: SessionKey, suite: Suite, epoch: u64, expires: Option<I>) -> Self {
        Self {
            key,
            suite,
            epoch,
            expires,
            revoked: false,
            last_registration: None,
            node: None,
        }
    }

    /// Whether the sessionkey is accepted at `now`: not revoked, not
    /// expired.
    #[must_use]
    pub fn is_usable(&self, now: I) -> bool {
        !self.revoked && self.expires.is_none_or(|expires| now < expires)
    }

    /// Whether `counter` is greater than every counter accepted under this
    /// sessionkey.
    #[must_use]
    pub fn is_fresh(&self, counter: u64) -> bool {
        self.last_registration.is_none_or(|last| counter > last)
    }
}

/// A DAS's request about a device's [`KeyRecord`], keyed by devid.
pub type KeyRequest<I> = StoreRequest<String, KeyRecord<I>>;
/// The operation of a [`KeyRequest`].
pub type KeyOp<I> = StoreOp<String, KeyRecord<I>>;
/// The answer to a [`KeyRequest`].
pub type KeyAnswer<I> = StoreAnswer<KeyRecord<I>>;

/// The [`KeyRecord`]s of one process (and of tests), answering a DAS at
/// once.
#[derive(Debug, Clone)]
pub struct KeyTable<I> {
    records: MemoryStore<String, KeyRecord<I>>,
}

impl<I> Default for KeyTable<I> {
    fn default() -> Self {
        Self {
            records: MemoryStore::default(),
        }
    }
}

impl<I: Ord + Copy> KeyTable<I> {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a sessionkey the LBS issued under the negotiated suite, as
    /// the devid's next epoch (its counters start afresh), and returns the
    /// epoch.
    pub fn issue(
        &mut self,
        devid: impl Into<String>,
        key: SessionKey,
        suite: Suite,
        expires: Option<I>,
    ) -> u64 {
        let devid = devid.into();
        let epoch = self.records.get(&devid).map_or(0, |r| r.record.epoch) + 1;
        self.records
            .put(devid, KeyRecord::new(key, suite, epoch, expires));
        epoch
    }

    /// Revokes a device's sessionkey: the DAS refuses it from now on (a
    /// session already live goes on until it ends). `false` for an unknown
    /// devid.
    pub fn revoke(&mut self, devid: &str) -> bool {
        let Some(mut found) = self.records.get(devid) else {
            return false;
        };
        found.record.revoked = true;
        self.records.put(devid.into(), found.record);
        true
    }

    /// Forgets a device.
    pub fn remove(&mut self, devid: &str) {
        self.records.remove(devid);
    }

    /// A device's record, with its version.
    #[must_use]
    pub fn record(&self, devid: &str) -> Option<Versioned<KeyRecord<I>>> {
        self.records.get(devid)
    }

    /// The DAS node holding the device's live session, if any.
    #[must_use]
    pub fn node(&self, devid: &str) -> Option<u64> {
        self.record(devid)?.record.node
    }

    /// Answers a DAS's request (compare-and-set for writes).
    pub fn answer(&mut self, op: &KeyOp<I>) -> KeyAnswer<I> {
        self.records.answer(op)
    }

    /// Makes the table answer "unavailable" to every request (`true`), as a
    /// store that is down, or answer again (`false`).
    pub fn set_unavailable(&mut self, unavailable: bool) {
        self.records.set_unavailable(unavailable);
    }
}

impl<I: Ord + Copy> Store<String, KeyRecord<I>> for KeyTable<I> {
    fn answer_now(&mut self, op: &KeyOp<I>) -> Option<KeyAnswer<I>> {
        Some(self.answer(op))
    }
}
