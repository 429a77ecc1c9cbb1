//! The record the LBS and the DAS share for each device: the sessionkey
//! the LBS issued (section 5), the registration counters the DAS accepted
//! under it (section 6), and where the device's session lives. Both ask
//! for it through a store ([`iot_sansio::store`]): [`KeyTable`] in one
//! process, the runtime's shared store otherwise.
//!
//! A deployment of several DAS processes also shares a [`DasNode`] record
//! per process, written at each of its heartbeats, from which an LBS picks
//! the DAS for each device ([`DasBalancer`]), and which an application
//! reads to reach the node that holds a device's session
//! ([`KeyRecord::node`]).

use alloc::collections::BTreeMap;
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
///
/// With the `serde` feature it is a record a shared store can keep: the
/// sessionkey is written in hexadecimal, in the clear (the store is its
/// keeper).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyRecord<I> {
    /// The sessionkey.
    #[cfg_attr(
        feature = "serde",
        serde(
            serialize_with = "crate::crypto::stored::serialize",
            deserialize_with = "crate::crypto::stored::deserialize"
        )
    )]
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

/// A DAS node as it announces itself in the shared store, under its
/// number: where devices reach it (the address of `DAS_Rsp`, section 5),
/// where it takes requests to relay to its devices, how many device
/// sessions it holds, and until when it counts as live.
///
/// The node writes the record again at each heartbeat, well before
/// `live_until`; a node that stops writing (it crashed, or lost its store)
/// is dead once `live_until` passes, and [`DasBalancer`] sends no device to
/// it. The node sets the deadline itself (a lease), so readers compare
/// instants and never add to one read from the store. As with
/// [`KeyRecord::expires`], processes sharing the record must share a clock
/// (`std::time::SystemTime`, say).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DasNode<I> {
    /// Where devices connect (`host:port`).
    pub address: String,
    /// Where applications ask the node to relay a read or an operation to
    /// one of its devices (the runtime's choice of protocol).
    pub relay: String,
    /// The device sessions live at the node when it wrote the record.
    pub sessions: u64,
    /// When the node stops counting as live unless it writes again.
    pub live_until: I,
}

impl<I: Ord + Copy> DasNode<I> {
    /// Whether the node counts as live at `now`.
    #[must_use]
    pub fn is_live(&self, now: I) -> bool {
        now < self.live_until
    }
}

/// How an LBS picks the DAS for each device (`DAS_Req`, section 5): the
/// live node with the fewest sessions, counting the devices it was sent
/// since its record was last read, so that devices arriving together
/// spread over the nodes instead of all going to the one that was least
/// loaded at its last heartbeat. Ties go to the lowest node number.
///
/// The runtime reads the nodes' records from the store and hands each to
/// [`DasBalancer::update`] (a few times a second is plenty); the balancer
/// never names a node whose lease has passed, and names none when no node
/// is live.
///
/// ```
/// use osap_proto::records::{DasBalancer, DasNode};
/// use iot_sansio::store::{Version, Versioned};
///
/// let node = |address: &str, sessions, live_until| DasNode {
///     address: address.into(),
///     relay: String::new(),
///     sessions,
///     live_until,
/// };
/// let mut balancer = DasBalancer::new();
/// balancer.update(1, Versioned { version: Version::FIRST, record: node("a:1", 3, 100u64) });
/// balancer.update(2, Versioned { version: Version::FIRST, record: node("b:1", 2, 100u64) });
/// // Node 2 has fewer sessions; once sent one device, the nodes are even,
/// // and the tie goes to node 1.
/// assert_eq!(balancer.choose(10), Some((2, "b:1")));
/// assert_eq!(balancer.choose(10), Some((1, "a:1")));
/// // Past its lease a node is dead: nothing is sent to it.
/// assert_eq!(balancer.choose(100), None);
/// ```
#[derive(Debug, Clone)]
pub struct DasBalancer<I> {
    /// Each node's last record read, and the devices sent to it since.
    nodes: BTreeMap<u64, (Versioned<DasNode<I>>, u64)>,
}

impl<I> Default for DasBalancer<I> {
    fn default() -> Self {
        Self {
            nodes: BTreeMap::new(),
        }
    }
}

impl<I: Ord + Copy> DasBalancer<I> {
    /// A balancer that knows no node.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes node `number`'s record as read from the store. A version
    /// newer than the one held replaces it and restarts the count of
    /// devices sent to the node (the record's own count now holds those
    /// that registered); an older or equal one changes nothing.
    pub fn update(&mut self, number: u64, node: Versioned<DasNode<I>>) {
        match self.nodes.get_mut(&number) {
            Some((held, _)) if held.version >= node.version => {}
            Some(entry) => *entry = (node, 0),
            None => {
                self.nodes.insert(number, (node, 0));
            }
        }
    }

    /// Forgets node `number` (taken out of the deployment).
    pub fn remove(&mut self, number: u64) {
        self.nodes.remove(&number);
    }

    /// The least-loaded live node at `now`, its number and device address,
    /// counted as sent one more device; `None` when no node is live.
    pub fn choose(&mut self, now: I) -> Option<(u64, &str)> {
        let (number, (_, sent)) = self
            .nodes
            .iter_mut()
            .filter(|(_, (node, _))| node.record.is_live(now))
            .min_by_key(|(number, (node, sent))| {
                (node.record.sessions.saturating_add(*sent), **number)
            })?;
        *sent = sent.saturating_add(1);
        let number = *number;
        let address = self.nodes.get(&number)?.0.record.address.as_str();
        Some((number, address))
    }

    /// The numbers of the nodes live at `now`.
    pub fn live(&self, now: I) -> impl Iterator<Item = u64> + '_ {
        self.nodes
            .iter()
            .filter(move |(_, (node, _))| node.record.is_live(now))
            .map(|(number, _)| *number)
    }
}
