//! One input's work against the store: the records it read (each with
//! its version), the writes it decided (each conditional on the version
//! read), and what it will send and report once those writes are stored.
//!
//! The service's steps run against a [`Tx`] from the start of the input
//! each time: a record not read yet is asked of the store at once, and a
//! step that finds a record must wait for the runtime stops with
//! [`Stop::Asked`]; the input is run again when the answers are in, with
//! the records read so far. A step asks for every record it can name at
//! once ([`Tx::get_all`]), so an input takes as many runs as the longest
//! chain of records it follows (two at most: a claim's index entry, then
//! the thing and the owner), not one per record.

use std::collections::BTreeMap;

use iot_sansio::store::{Store, StoreAnswer, StoreOp, Version, Versioned};
use iot_xmpp::Stanza;

use super::kinds::ProvisioningEvent;
use super::records::{OwnerEntry, Record, ThingEntry, owner_key, thing_key};

/// What the store gave an input so far: the record under each key read
/// (`None`: missing), with its version.
pub(super) type Reads = BTreeMap<String, Option<Versioned<Record>>>;

/// Why a step stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// It needs records the runtime is to give ([`Tx::need`]).
    Asked,
    /// The store cannot answer: the input is answered "retry later".
    Unavailable,
}

/// A step's result.
pub(super) type Step<T> = Result<T, Stop>;

/// One write an input decided: `record` under `key`, if the stored
/// record is still at `expected`.
#[derive(Debug, Clone)]
pub(super) struct Write {
    pub(super) key: String,
    pub(super) expected: Version,
    pub(super) record: Record,
}

impl Write {
    pub(super) fn op(&self) -> StoreOp<String, Record> {
        StoreOp::Put {
            key: self.key.clone(),
            expected: self.expected,
            record: self.record.clone(),
        }
    }
}

/// One run of an input.
pub(super) struct Tx<'a, S> {
    store: &'a mut S,
    reads: &'a mut Reads,
    /// Keys asked of the runtime in this run.
    pub(super) need: Vec<String>,
    /// The writes, in the order the step made them (first made, first
    /// written).
    pub(super) writes: Vec<Write>,
    /// What the input answers and sends, once its writes are stored.
    pub(super) sends: Vec<Stanza>,
    /// What it reports, then.
    pub(super) events: Vec<ProvisioningEvent>,
}

/// Whether `answer` is a record `key` can hold (a thing's record under
/// its own `thing:` key, and so on).
pub(super) fn belongs(key: &str, answer: &StoreAnswer<Record>) -> bool {
    match answer {
        StoreAnswer::Found(found) => found.record.key() == key,
        _ => true,
    }
}

impl<'a, S: Store<String, Record>> Tx<'a, S> {
    pub(super) fn new(store: &'a mut S, reads: &'a mut Reads) -> Self {
        Self {
            store,
            reads,
            need: Vec::new(),
            writes: Vec::new(),
            sends: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The record under `key` as this input sees it (its own write, or
    /// what the store gave), asking the store if it was not read yet.
    fn look(&mut self, key: &str) -> Step<Option<Record>> {
        if let Some(w) = self.writes.iter().find(|w| w.key == key) {
            return Ok(Some(w.record.clone()));
        }
        if let Some(read) = self.reads.get(key) {
            return Ok(read.as_ref().map(|r| r.record.clone()));
        }
        match self.store.answer_now(&StoreOp::Get(key.to_owned())) {
            None => {
                self.need.push(key.to_owned());
                Err(Stop::Asked)
            }
            Some(answer) if !belongs(key, &answer) => Err(Stop::Unavailable),
            Some(StoreAnswer::Found(found)) => {
                let record = found.record.clone();
                self.reads.insert(key.to_owned(), Some(found));
                Ok(Some(record))
            }
            Some(StoreAnswer::Missing) => {
                self.reads.insert(key.to_owned(), None);
                Ok(None)
            }
            Some(_) => Err(Stop::Unavailable),
        }
    }

    /// The records under `keys`, all asked at once: if any must wait for
    /// the runtime, every one of them that must is asked in this run.
    pub(super) fn get_all(&mut self, keys: &[String]) -> Step<Vec<Option<Record>>> {
        let mut found = Vec::with_capacity(keys.len());
        let mut stop = None;
        for key in keys {
            match self.look(key) {
                Ok(record) => found.push(record),
                Err(Stop::Unavailable) => return Err(Stop::Unavailable),
                Err(Stop::Asked) => stop = Some(Stop::Asked),
            }
        }
        stop.map_or(Ok(found), Err)
    }

    /// A thing's record.
    pub(super) fn thing(&mut self, jid: &str) -> Step<Option<ThingEntry>> {
        Ok(self.look(&thing_key(jid))?.and_then(|r| match r {
            Record::Thing(t) => Some(t),
            _ => None,
        }))
    }

    /// An owner's record (an empty one for an owner never stored).
    pub(super) fn owner(&mut self, jid: &str) -> Step<OwnerEntry> {
        Ok(match self.look(&owner_key(jid))? {
            Some(Record::Owner(o)) => o,
            _ => OwnerEntry {
                jid: jid.to_owned(),
                ..OwnerEntry::default()
            },
        })
    }

    /// Writes `record` once the input is decided, conditional on the
    /// version read; a record the same as the one read is not written.
    pub(super) fn put(&mut self, record: Record) {
        let key = record.key();
        let read = self.reads.get(&key);
        let unchanged = read.is_some_and(|r| r.as_ref().is_some_and(|r| r.record == record));
        let expected = read
            .and_then(|r| r.as_ref().map(|r| r.version))
            .unwrap_or(Version::ABSENT);
        let at = self.writes.iter().position(|w| w.key == key);
        match (at, unchanged) {
            (Some(at), true) => {
                self.writes.remove(at);
            }
            (Some(at), false) => {
                if let Some(w) = self.writes.get_mut(at) {
                    w.record = record;
                }
            }
            (None, true) => {}
            (None, false) => self.writes.push(Write {
                key,
                expected,
                record,
            }),
        }
    }

    pub(super) fn send(&mut self, stanza: Stanza) {
        self.sends.push(stanza);
    }

    pub(super) fn event(&mut self, event: ProvisioningEvent) {
        self.events.push(event);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use iot_sansio::store::{Deferred, MemoryStore};

    use super::*;
    use crate::provisioning::records::OwnerEntry;

    fn owner(things: &[&str]) -> Record {
        Record::Owner(OwnerEntry {
            jid: "owner@example.com".into(),
            things: things.iter().map(|t| (*t).to_owned()).collect(),
            pending: Vec::new(),
        })
    }

    #[test]
    fn a_run_sees_its_own_writes_and_writes_each_key_once() {
        let mut store = MemoryStore::new();
        let version = store.put("owner:owner@example.com".to_owned(), owner(&[]));
        let mut reads = Reads::new();
        let mut tx = Tx::new(&mut store, &mut reads);
        assert_eq!(tx.owner("owner@example.com").unwrap().things.len(), 0);
        tx.put(owner(&["a@example.org"]));
        assert_eq!(
            tx.owner("owner@example.com").unwrap().things,
            ["a@example.org"]
        );
        // A second write of the key replaces the first, at the version read.
        tx.put(owner(&["a@example.org", "b@example.org"]));
        assert_eq!(tx.writes.len(), 1);
        assert_eq!(tx.writes[0].expected, version);
        assert_eq!(
            tx.writes[0].record,
            owner(&["a@example.org", "b@example.org"])
        );
        // Back to what was read: nothing to write.
        tx.put(owner(&[]));
        assert!(tx.writes.is_empty());
    }

    #[test]
    fn a_run_asks_for_every_record_it_cannot_read_at_once() {
        let mut store = Deferred;
        let mut reads = Reads::new();
        reads.insert(thing_key("a@example.org"), None);
        let mut tx = Tx::new(&mut store, &mut reads);
        let keys = [
            thing_key("a@example.org"),
            thing_key("b@example.org"),
            owner_key("o@example.com"),
        ];
        assert_eq!(tx.get_all(&keys), Err(Stop::Asked));
        assert_eq!(
            tx.need,
            [thing_key("b@example.org"), owner_key("o@example.com")]
        );
        // A record of another kind under a thing's key is no thing.
        reads.insert(
            thing_key("c@example.org"),
            Some(Versioned {
                version: Version::FIRST,
                record: owner(&[]),
            }),
        );
        let mut tx = Tx::new(&mut store, &mut reads);
        assert_eq!(tx.thing("c@example.org").unwrap(), None);
    }

    #[test]
    fn a_store_that_gives_a_record_of_another_key_is_unavailable() {
        struct Wrong;
        impl Store<String, Record> for Wrong {
            fn answer_now(&mut self, _: &StoreOp<String, Record>) -> Option<StoreAnswer<Record>> {
                Some(StoreAnswer::Found(Versioned {
                    version: Version::FIRST,
                    record: owner(&[]),
                }))
            }
        }
        let mut reads = Reads::new();
        let mut store = Wrong;
        let mut tx = Tx::new(&mut store, &mut reads);
        assert_eq!(tx.thing("a@example.org"), Err(Stop::Unavailable));
    }
}
