//! The `iq` requests a machine waits on, each with a deadline, so that every
//! request it sends is answered or times out; and the ids of what it sends.

use std::collections::HashMap;

use iot_sansio::Instant;
use iot_xmpp::DefinedCondition;

/// Why an `iq` request this side sent got no useful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IqFailure {
    /// The answer was an error with this condition.
    Error(DefinedCondition),
    /// No answer came before the deadline.
    TimedOut,
    /// The answer was not what the request asks for.
    Malformed,
}

impl core::fmt::Display for IqFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Error(c) => write!(f, "answered with {c}"),
            Self::TimedOut => f.write_str("no answer in time"),
            Self::Malformed => f.write_str("a malformed answer"),
        }
    }
}

/// Fresh ids for the stanzas a machine sends: the prefix, a dash and a
/// count from 1.
#[derive(Debug)]
pub(crate) struct Ids {
    prefix: &'static str,
    next: u64,
}

impl Ids {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Self { prefix, next: 0 }
    }

    /// A fresh stanza id.
    pub(crate) fn next(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }
}

/// Requests waiting for their answers, by `iq` id.
#[derive(Debug)]
pub(crate) struct Requests<I, T> {
    ids: Ids,
    waiting: HashMap<String, (T, I)>,
}

impl<I: Instant, T> Requests<I, T> {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Self {
            ids: Ids::new(prefix),
            waiting: HashMap::new(),
        }
    }

    /// A fresh stanza id.
    pub(crate) fn id(&mut self) -> String {
        self.ids.next()
    }

    /// Waits for the answer to `id` until `deadline`.
    pub(crate) fn wait(&mut self, id: String, what: T, deadline: I) {
        self.waiting.insert(id, (what, deadline));
    }

    /// What `id` asked, while it waits.
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.waiting.get(id).map(|(t, _)| t)
    }

    /// Stops waiting for `id`.
    pub(crate) fn take(&mut self, id: &str) -> Option<T> {
        self.waiting.remove(id).map(|(t, _)| t)
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<I> {
        self.waiting.values().map(|(_, d)| *d).min()
    }

    /// The requests due by `now`, earliest first; they wait no more.
    pub(crate) fn expire(&mut self, now: I) -> Vec<T> {
        let mut due: Vec<(I, String)> = self
            .waiting
            .iter()
            .filter(|(_, (_, d))| *d <= now)
            .map(|(id, (_, d))| (*d, id.clone()))
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        due.into_iter()
            .filter_map(|(_, id)| self.take(&id))
            .collect()
    }

    /// Forgets every request.
    pub(crate) fn clear(&mut self) {
        self.waiting.clear();
    }
}
