//! The records of a service in one process: a [`MemoryStore`] that
//! answers inside each call, with the questions an application and its
//! tests ask of it.

use iot_sansio::store::{MemoryStore, Store, StoreAnswer, StoreOp};
use iot_xmpp::BareJid;

use super::friends::friendship;
use super::records::{Record, RestoreError, ThingEntry, bare, owner_key, thing_key};
use crate::payload::Friendship;

/// A provisioning service's records in memory, versioned, answering its
/// requests at once: the store of a service in one process, of tests, and
/// of several services sharing one table in a test. Built empty, or from
/// records a runtime stored ([`Registry::from_records`]).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    records: MemoryStore<String, Record>,
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding `records` (the latest of each key, in any
    /// order): after a restart the service knows every thing, owner,
    /// friendship, pending request and claim it knew.
    ///
    /// # Errors
    ///
    /// [`RestoreError`] for a record that does not read back.
    pub fn from_records(records: impl IntoIterator<Item = Record>) -> Result<Self, RestoreError> {
        let mut registry = Self::new();
        for record in records {
            record.check()?;
            registry.records.put(record.key(), record);
        }
        Ok(registry)
    }

    /// Every record, sorted by key.
    #[must_use]
    pub fn records(&self) -> Vec<Record> {
        self.records.iter().map(|(_, _, r)| r.clone()).collect()
    }

    /// The versioned table underneath, to share, inspect or make
    /// unavailable.
    pub fn table_mut(&mut self) -> &mut MemoryStore<String, Record> {
        &mut self.records
    }

    /// The versioned table underneath.
    #[must_use]
    pub fn table(&self) -> &MemoryStore<String, Record> {
        &self.records
    }

    /// A thing's record.
    #[must_use]
    pub fn thing(&self, thing: &BareJid) -> Option<ThingEntry> {
        match self.records.get(&thing_key(&thing.to_string()))?.record {
            Record::Thing(t) => Some(t),
            _ => None,
        }
    }

    /// How many things are registered.
    #[must_use]
    pub fn thing_count(&self) -> usize {
        self.records
            .iter()
            .filter(|(_, _, r)| matches!(r, Record::Thing(_)))
            .count()
    }

    /// A thing's owner.
    #[must_use]
    pub fn owner_of(&self, thing: &BareJid) -> Option<BareJid> {
        bare(self.thing(thing)?.owner.as_deref()?).ok()
    }

    /// The answer an is-friend query would get, without recording
    /// anything: `Pending` means the owner has not decided.
    #[must_use]
    pub fn friendship(&self, thing: &BareJid, requestor: &BareJid) -> Friendship {
        friendship(self.thing(thing).as_ref(), &requestor.to_string())
    }

    /// The requests waiting for an owner's decision.
    #[must_use]
    pub fn pending(&self, owner: &BareJid) -> Vec<BareJid> {
        match self.records.get(&owner_key(&owner.to_string())) {
            Some(found) => match found.record {
                Record::Owner(o) => o.pending.iter().filter_map(|(r, _)| bare(r).ok()).collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        }
    }

    /// Whether a thing approved the service's presence subscription
    /// (section 4).
    #[must_use]
    pub fn is_subscribed(&self, thing: &BareJid) -> bool {
        self.thing(thing).is_some_and(|t| t.subscribed)
    }
}

impl Store<String, Record> for Registry {
    fn answer_now(&mut self, op: &StoreOp<String, Record>) -> Option<StoreAnswer<Record>> {
        Some(self.records.answer(op))
    }
}
