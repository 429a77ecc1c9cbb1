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
