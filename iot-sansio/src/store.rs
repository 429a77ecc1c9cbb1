//! Stored data as requests. A machine that needs a record (a device's key,
//! a claim) asks for it with a [`StoreRequest`] in one of its events, and
//! goes on when the runtime hands back the [`StoreAnswer`] (each machine
//! has a `provide(now, id, answer)` for it). The machine does no I/O and
//! never waits inside a call: a store across the network costs a round
//! trip of the runtime's, not a blocked task.
//!
//! Every record carries a [`Version`]; every write names the version it
//! read and is applied only if the record still has it (compare-and-set),
//! so two processes over one store never overwrite each other unseen: the
//! loser gets [`StoreAnswer::Conflict`] and its machine reads again,
//! retries or refuses. A store that cannot answer says
//! [`StoreAnswer::Unavailable`], which a machine turns into a retry-later
//! answer to its peer, never into "unknown".
//!
//! A machine is given a [`Store`] at construction. [`MemoryStore`]
//! answers at once inside the call (a runtime in one process stays as
//! simple as a table lookup); [`Deferred`] answers nothing, so that every
//! request leaves the machine as an event for the runtime to serve.
//!
//! ```
//! use iot_sansio::store::{MemoryStore, StoreAnswer, StoreOp, Version};
//!
//! let mut store = MemoryStore::new();
//! let put = StoreOp::Put { key: "dev-1", expected: Version::ABSENT, record: 7 };
//! assert_eq!(store.answer(&put), StoreAnswer::Stored(Version::FIRST));
//! // A second writer that also read "absent" loses.
//! assert_eq!(store.answer(&put), StoreAnswer::Conflict);
//! let StoreAnswer::Found(found) = store.answer(&StoreOp::Get("dev-1")) else { panic!() };
//! assert_eq!((found.version, found.record), (Version::FIRST, 7));
//! ```

use alloc::collections::BTreeMap;
use core::borrow::Borrow;
use core::fmt;

/// Names one request a machine made of its store, to hand back with the
/// answer. Unique among one machine's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The id a runtime or test names by number (a machine counts its
    /// own from [`RequestId::default`] with [`RequestId::next`]).
    #[must_use]
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The id as a number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The id after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {}", self.0)
    }
}

/// The version of a stored record: [`Version::ABSENT`] for none, then one
/// more at every write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(u64);

impl Version {
    /// No record: a write expecting it creates the record.
    pub const ABSENT: Self = Self(0);
    /// The version of a record written once.
    pub const FIRST: Self = Self(1);

    /// A version by number (a store reads it from its table).
    #[must_use]
    pub const fn new(version: u64) -> Self {
        Self(version)
    }

    /// The version as a number.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The version a write of this one makes.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", self.0)
    }
}

/// A record with the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// Its version.
    pub version: Version,
    /// The record.
    pub record: T,
}

/// What a machine asks of its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOp<K, T> {
    /// Read the record under a key: [`StoreAnswer::Found`],
    /// [`StoreAnswer::Missing`] or [`StoreAnswer::Unavailable`].
    Get(K),
    /// Write a record, only if the stored one still has version
    /// `expected` ([`Version::ABSENT`]: only if there is none):
    /// [`StoreAnswer::Stored`] with the new version,
    /// [`StoreAnswer::Conflict`] or [`StoreAnswer::Unavailable`].
    Put {
        /// The key.
        key: K,
        /// The version the machine read.
        expected: Version,
        /// The record to store.
        record: T,
    },
}

impl<K, T> StoreOp<K, T> {
    /// The key the operation is about.
    pub fn key(&self) -> &K {
        match self {
            Self::Get(key) | Self::Put { key, .. } => key,
        }
    }

    /// Whether `answer` is one this operation can get (a [`Found`] for a
    /// read, a [`Stored`] for a write, and so on).
    ///
    /// [`Found`]: StoreAnswer::Found
    /// [`Stored`]: StoreAnswer::Stored
    pub fn fits(&self, answer: &StoreAnswer<T>) -> bool {
        matches!(
            (self, answer),
            (_, StoreAnswer::Unavailable)
                | (Self::Get(_), StoreAnswer::Found(_) | StoreAnswer::Missing)
                | (
                    Self::Put { .. },
                    StoreAnswer::Stored(_) | StoreAnswer::Conflict
                )
        )
    }
}

/// A request in a machine's event: answer it with the machine's `provide`
/// and the same `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest<K, T> {
    /// Names the request.
    pub id: RequestId,
    /// What is asked.
    pub op: StoreOp<K, T>,
}

/// The store's answer to a [`StoreOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAnswer<T> {
    /// The record read, with its version.
    Found(Versioned<T>),
    /// No record under the key.
    Missing,
    /// The write is durable, at this version.
    Stored(Version),
    /// The write was not applied: the record is no longer at the version
    /// the machine read.
    Conflict,
    /// The store cannot answer now (down, unreachable, timed out): the
    /// machine answers its peer "retry later".
    Unavailable,
}

/// A misuse of a machine's `provide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerError {
    /// The machine is not waiting for this request (never asked, answered
    /// already, or given up on when the machine timed it out or ended).
    NotAsked(RequestId),
    /// An answer of the wrong kind for the request (a [`StoreAnswer::Found`]
    /// to a write, say).
    Mismatched(RequestId),
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAsked(id) => write!(f, "{id} is not awaited"),
            Self::Mismatched(id) => write!(f, "the answer to {id} does not fit its operation"),
        }
    }
}

impl core::error::Error for AnswerError {}

/// Where a machine's requests go: a store that answers inside the call
/// ([`MemoryStore`]) or the runtime ([`Deferred`]).
pub trait Store<K, T> {
    /// The answer now, or `None` to ask the runtime with an event.
    fn answer_now(&mut self, op: &StoreOp<K, T>) -> Option<StoreAnswer<T>>;
}

impl<K, T, S: Store<K, T> + ?Sized> Store<K, T> for &mut S {
    fn answer_now(&mut self, op: &StoreOp<K, T>) -> Option<StoreAnswer<T>> {
        (**self).answer_now(op)
    }
}

/// A store that answers nothing at once: every request leaves the machine
/// as an event, for a runtime over a store shared by several processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deferred;

impl<K, T> Store<K, T> for Deferred {
    fn answer_now(&mut self, _: &StoreOp<K, T>) -> Option<StoreAnswer<T>> {
        None
    }
}

/// Records in memory with versions and compare-and-set: the store of one
/// process, and the shared store of tests that run several machines over
/// one table. [`MemoryStore::set_unavailable`] makes it answer
/// [`StoreAnswer::Unavailable`], to try an outage. A removed record leaves
/// its version behind, so that a version never names two records.
#[derive(Debug, Clone)]
pub struct MemoryStore<K, T> {
    /// `None` for a removed record.
    records: BTreeMap<K, Versioned<Option<T>>>,
    unavailable: bool,
}

impl<K, T> Default for MemoryStore<K, T> {
    fn default() -> Self {
        Self {
            records: BTreeMap::new(),
            unavailable: false,
        }
    }
}

impl<K: Ord + Clone, T: Clone> MemoryStore<K, T> {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers an operation: reads, and writes that find the version they
    /// expect (time logarithmic in the number of records).
    pub fn answer(&mut self, op: &StoreOp<K, T>) -> StoreAnswer<T> {
        if self.unavailable {
            return StoreAnswer::Unavailable;
        }
        match op {
            StoreOp::Get(key) => self
                .get(key)
                .map_or(StoreAnswer::Missing, |found| StoreAnswer::Found(found)),
            StoreOp::Put {
                key,
                expected,
                record,
            } => {
                let current = self.version(key);
                let live = self.get(key).map_or(Version::ABSENT, |r| r.version);
                if live != *expected {
                    return StoreAnswer::Conflict;
                }
                StoreAnswer::Stored(self.write(key.clone(), current, Some(record.clone())))
            }
        }
    }

    /// The record under `key`, with its version.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<Versioned<T>>
    where
        K: Borrow<Q>,
    {
        let stored = self.records.get(key)?;
        Some(Versioned {
            version: stored.version,
            record: stored.record.clone()?,
        })
    }

    /// Writes a record whatever is stored (an operator's or a test's
    /// write; machines write with [`StoreOp::Put`]) and returns its new
    /// version.
    pub fn put(&mut self, key: K, record: T) -> Version {
        let current = self.version(&key);
        self.write(key, current, Some(record))
    }

    /// Removes the record under `key`, and returns it.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<Versioned<T>>
    where
        K: Borrow<Q>,
    {
        let stored = self.records.get_mut(key)?;
        let record = stored.record.take()?;
        let removed = Versioned {
            version: stored.version,
            record,
        };
        stored.version = stored.version.next();
        Some(removed)
    }

    /// Every record, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, Version, &T)> {
        self.records
            .iter()
            .filter_map(|(key, r)| Some((key, r.version, r.record.as_ref()?)))
    }

    /// Makes the store answer [`StoreAnswer::Unavailable`] to everything
    /// (`true`) or answer again (`false`).
    pub fn set_unavailable(&mut self, unavailable: bool) {
        self.unavailable = unavailable;
    }

    /// The last version written under `key`, removed or not.
    fn version(&self, key: &K) -> Version {
        self.records.get(key).map_or(Version::ABSENT, |r| r.version)
    }

    fn write(&mut self, key: K, current: Version, record: Option<T>) -> Version {
        let version = current.next();
        self.records.insert(key, Versioned { version, record });
        version
    }
}

impl<K: Ord + Clone, T: Clone> Store<K, T> for MemoryStore<K, T> {
    fn answer_now(&mut self, op: &StoreOp<K, T>) -> Option<StoreAnswer<T>> {
        Some(self.answer(op))
    }
}

/// An operation a machine asks of its runtime, and the answers that fit
/// it: a [`StoreOp`], or a protocol's own (the OSAP LBS's directory
/// operations).
pub trait Operation {
    /// What answers it.
    type Answer;

    /// Whether `answer` is one this operation can get.
    fn fits(&self, answer: &Self::Answer) -> bool;
}

impl<K, T> Operation for StoreOp<K, T> {
    type Answer = StoreAnswer<T>;

    fn fits(&self, answer: &StoreAnswer<T>) -> bool {
        StoreOp::fits(self, answer)
    }
}

/// Checks an answer handed to a machine's `provide`: `awaited` is the
/// request the machine waits for (its id and operation), if any.
///
/// # Errors
///
/// [`AnswerError::NotAsked`] when `id` is not the request awaited,
/// [`AnswerError::Mismatched`] when the answer does not fit it.
pub fn check_answer<O: Operation>(
    awaited: Option<(RequestId, &O)>,
    id: RequestId,
    answer: &O::Answer,
) -> Result<(), AnswerError> {
    match awaited {
        Some((asked, op)) if asked == id => {
            if op.fits(answer) {
                Ok(())
            } else {
                Err(AnswerError::Mismatched(id))
            }
        }
        _ => Err(AnswerError::NotAsked(id)),
    }
}

/// The requests a machine has put to its store and not yet had answered,
/// each with the operation asked: the part of every machine's `provide`
/// that checks an answer is awaited and fits before the machine acts on
/// it.
///
/// ```
/// use iot_sansio::store::{AnswerError, Awaiting, StoreAnswer, StoreOp};
///
/// let mut awaiting = Awaiting::<&str, u32>::default();
/// let request = awaiting.ask(StoreOp::Get("dev-1"));
/// assert_eq!(
///     awaiting.take(request.id, &StoreAnswer::Conflict),
///     Err(AnswerError::Mismatched(request.id)),
/// );
/// assert_eq!(awaiting.take(request.id, &StoreAnswer::Missing), Ok(StoreOp::Get("dev-1")));
/// assert!(awaiting.is_empty());
/// assert_eq!(
///     awaiting.take(request.id, &StoreAnswer::Missing),
///     Err(AnswerError::NotAsked(request.id)),
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Awaiting<K, T> {
    next: RequestId,
    asked: BTreeMap<RequestId, StoreOp<K, T>>,
}

impl<K, T> Default for Awaiting<K, T> {
    fn default() -> Self {
        Self {
            next: RequestId::default(),
            asked: BTreeMap::new(),
        }
    }
}

impl<K: Clone, T: Clone> Awaiting<K, T> {
    /// Records `op` as asked under a new id, and returns the request to
    /// put in the machine's event.
    pub fn ask(&mut self, op: StoreOp<K, T>) -> StoreRequest<K, T> {
        let id = self.next;
        self.next = id.next();
        self.asked.insert(id, op.clone());
        StoreRequest { id, op }
    }

    /// The operation asked under `id`, while it is awaited.
    #[must_use]
    pub fn get(&self, id: RequestId) -> Option<&StoreOp<K, T>> {
        self.asked.get(&id)
    }

    /// Takes the operation `answer` answers, if it is awaited and the
    /// answer fits it ([`StoreOp::fits`]); a misfit stays awaited.
    ///
    /// # Errors
    ///
    /// [`AnswerError::NotAsked`] for an id not awaited,
    /// [`AnswerError::Mismatched`] for an answer of the wrong kind.
    pub fn take(
        &mut self,
        id: RequestId,
        answer: &StoreAnswer<T>,
    ) -> Result<StoreOp<K, T>, AnswerError> {
        match self.asked.get(&id) {
            None => Err(AnswerError::NotAsked(id)),
            Some(op) if !op.fits(answer) => Err(AnswerError::Mismatched(id)),
            Some(_) => self.asked.remove(&id).ok_or(AnswerError::NotAsked(id)),
        }
    }

    /// Whether no request is awaited.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.asked.is_empty()
    }

    /// How many requests are awaited.
    #[must_use]
    pub fn len(&self) -> usize {
        self.asked.len()
    }

    /// Gives up on every request (timed out, or the machine ended): their
    /// late answers are [`AnswerError::NotAsked`].
    pub fn clear(&mut self) {
        self.asked.clear();
    }
}
