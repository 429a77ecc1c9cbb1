//! The OSAP platform's records in PostgreSQL (feature `osap`): the LBS's
//! directory of devices, the sessionkey records the LBS and the DAS share
//! (with the registration counters and the locator), and the DAS nodes'
//! heartbeats, for a deployment of several LBS and DAS processes.
//!
//! [`PgDirectory`] answers an LBS connection's [`DirectoryOp`]s (section
//! 5): a device's entry is read by serial number and its enrolment written
//! over it compare-and-set; a device's DAS is the least-loaded live node
//! ([`DasBalancer`]) of those that announced themselves with
//! [`PgDirectory::announce`] (with none live, the device is told to retry
//! later: `DirectoryAnswer::Unavailable`); the sessionkey records are answered as the
//! DAS asks for them. A DAS answers its own requests with
//! [`PgDirectory::answer_key`], so that both read and write one record per
//! device.
//!
//! Records sit in three spaces of the table ([`OsapSpaces`]); the
//! instants in them (a sessionkey's expiry, a node's lease) are the
//! machines' instant type `I`, which every process of the deployment must
//! share: `std::time::SystemTime`.

use core::time::Duration;
use std::sync::{Mutex, PoisonError};

use iot_sansio::Instant;
use iot_sansio::store::{StoreAnswer, StoreOp, Version};
use osap_proto::auth::{DeviceEntry, DirectoryAnswer, DirectoryOp};
use osap_proto::crypto::VerificationCode;
use osap_proto::records::{DasBalancer, DasNode, KeyAnswer, KeyOp};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::PgStore;

/// How long a [`PgDirectory`] goes on with the nodes it read before it
/// reads them again (one round trip for all of them).
pub const NODES_READ: Duration = Duration::from_millis(200);

/// The most DAS nodes a [`PgDirectory`] reads.
pub const MAX_NODES: u32 = 1024;

/// The spaces of one OSAP deployment's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsapSpaces {
    /// Each serial number's [`DeviceEntry`].
    pub device: String,
    /// Each devid's [`KeyRecord`](osap_proto::records::KeyRecord).
    pub key: String,
    /// Each DAS node's [`DasNode`], by its number in decimal.
    pub node: String,
}

impl OsapSpaces {
    /// The spaces `{prefix}/device`, `{prefix}/key` and `{prefix}/node`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        Self {
            device: format!("{prefix}/device"),
            key: format!("{prefix}/key"),
            node: format!("{prefix}/node"),
        }
    }
}

/// The nodes as last read, and when.
#[derive(Debug)]
struct Nodes<I> {
    balancer: DasBalancer<I>,
    read_at: Option<I>,
}

/// The directory of an LBS (and the records of a DAS) in PostgreSQL,
/// shared by every process over the same database and spaces.
///
/// Devids are `dev-` and the serial number, so that a refresh finds the
/// serial number's entry from the devid in one read.
#[derive(Debug)]
pub struct PgDirectory<I> {
    store: PgStore,
    spaces: OsapSpaces,
    nodes: Mutex<Nodes<I>>,
}

impl<I> PgDirectory<I>
where
    I: Instant + Serialize + DeserializeOwned,
{
    /// A directory over `store`, in `spaces`.
    #[must_use]
    pub fn new(store: PgStore, spaces: OsapSpaces) -> Self {
        Self {
            store,
            spaces,
            nodes: Mutex::new(Nodes {
                balancer: DasBalancer::new(),
                read_at: None,
            }),
        }
    }

    /// The spaces.
    #[must_use]
    pub fn spaces(&self) -> &OsapSpaces {
        &self.spaces
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// The devid given to a serial number.
    #[must_use]
    pub fn devid_of(serial: &str) -> String {
        format!("dev-{serial}")
    }

    /// Adds a device that may enroll, unless its serial number has an
    /// entry already: `Stored`, `Conflict` (it has one, left as it is), or
    /// `Unavailable`.
    pub async fn add_device(
        &self,
        serial: &str,
        code: VerificationCode,
    ) -> StoreAnswer<DeviceEntry> {
        let put = StoreOp::Put {
            key: serial.to_owned(),
            expected: Version::ABSENT,
            record: DeviceEntry {
                code,
                enrolled: None,
            },
        };
        self.store.answer(&self.spaces.device, &put).await
    }

    /// Answers an LBS connection's request at `now` (the instant the
    /// machines are driven with, which node leases are compared with).
    pub async fn answer(&self, now: I, op: &DirectoryOp<I>) -> DirectoryAnswer<I> {
        match op {
            DirectoryOp::Device { serial } => match self.entry(serial).await {
                StoreAnswer::Found(found) => DirectoryAnswer::Device(Some(found)),
                StoreAnswer::Missing => DirectoryAnswer::Device(None),
                _ => DirectoryAnswer::Unavailable,
            },
            DirectoryOp::ProposeDevid { serial } => {
                DirectoryAnswer::Devid(Ok(Self::devid_of(serial)))
            }
            DirectoryOp::Enroll {
                serial,
                expected,
                enrolled,
            } => {
                // The entry's code is kept: read it, and write over the
                // version the ECDH request read, or not at all.
                let code = match self.entry(serial).await {
                    StoreAnswer::Found(found) if found.version == *expected => found.record.code,
                    StoreAnswer::Found(_) | StoreAnswer::Missing => {
                        return DirectoryAnswer::Conflict;
                    }
                    _ => return DirectoryAnswer::Unavailable,
                };
                let put = StoreOp::Put {
                    key: serial.clone(),
                    expected: *expected,
                    record: DeviceEntry {
                        code,
                        enrolled: Some(enrolled.clone()),
                    },
                };
                match self.store.answer(&self.spaces.device, &put).await {
                    StoreAnswer::Stored(_) => DirectoryAnswer::Stored,
                    StoreAnswer::Conflict => DirectoryAnswer::Conflict,
                    _ => DirectoryAnswer::Unavailable,
                }
            }
            DirectoryOp::Enrolled { devid } => {
                let Some(serial) = devid.strip_prefix("dev-") else {
                    return DirectoryAnswer::Enrolled(None);
                };
                match self.entry(serial).await {
                    StoreAnswer::Found(found) => DirectoryAnswer::Enrolled(
                        found.record.enrolled.filter(|e| e.devid == *devid),
                    ),
                    StoreAnswer::Missing => DirectoryAnswer::Enrolled(None),
                    _ => DirectoryAnswer::Unavailable,
                }
            }
            // No live node is a passing state (nodes restart): the device
            // is told to retry later, not refused.
            DirectoryOp::DasAddress { .. } => match self.choose(now).await {
                Some(address) => DirectoryAnswer::Address(Ok(address)),
                None => DirectoryAnswer::Unavailable,
            },
            DirectoryOp::Key(op) => DirectoryAnswer::Key(self.answer_key(op).await),
        }
    }

    /// Answers a request about a device's sessionkey record: the LBS's
    /// (through [`DirectoryOp::Key`]) and the DAS's
    /// (`DasSessionEvent::Store`).
    pub async fn answer_key(&self, op: &KeyOp<I>) -> KeyAnswer<I> {
        self.store.answer(&self.spaces.key, op).await
    }

    /// Writes node `number`'s record, compare-and-set on `expected` (what
    /// the node's last write returned, [`Version::ABSENT`] the first time):
    /// a DAS's heartbeat.
    pub async fn announce(
        &self,
        number: u64,
        expected: Version,
        node: DasNode<I>,
    ) -> StoreAnswer<DasNode<I>> {
        let put = StoreOp::Put {
            key: number.to_string(),
            expected,
            record: node,
        };
        self.store.answer(&self.spaces.node, &put).await
    }

    /// A node's record, as an application reads it to reach the node that
    /// holds a device's session.
    pub async fn node(&self, number: u64) -> StoreAnswer<DasNode<I>> {
        let get = StoreOp::Get(number.to_string());
        self.store.answer(&self.spaces.node, &get).await
    }

    async fn entry(&self, serial: &str) -> StoreAnswer<DeviceEntry> {
        let get = StoreOp::Get(serial.to_owned());
        self.store.answer(&self.spaces.device, &get).await
    }

    /// The address of the least-loaded live node at `now`, the nodes read
    /// again when those held are older than [`NODES_READ`]; `None` when
    /// they cannot be read or none is live.
    async fn choose(&self, now: I) -> Option<String> {
        let stale = self.lock().read_at.is_none_or(|at| at + NODES_READ <= now);
        if stale {
            let listed = self
                .store
                .list::<DasNode<I>>(&self.spaces.node, MAX_NODES)
                .await?;
            let mut nodes = self.lock();
            for (number, node) in listed {
                if let Ok(number) = number.parse() {
                    nodes.balancer.update(number, node);
                }
            }
            nodes.read_at = Some(now);
        }
        self.lock()
            .balancer
            .choose(now)
            .map(|(_, address)| address.to_owned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Nodes<I>> {
        self.nodes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
