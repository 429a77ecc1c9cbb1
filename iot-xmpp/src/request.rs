//! The `iq` requests a machine has sent and waits on, each with a
//! deadline, so that every request is answered or fails, the same way in
//! every XMPP machine of the family (RFC 6120 8.2.3: an `iq` get or set
//! must be answered with a result or an error).
//!
//! ```
//! use core::time::Duration;
//! use iot_xmpp::request::{IqFailure, Requests};
//! use iot_xmpp::{IqType, Stanza};
//!
//! let mut asked: Requests<Duration, &str> = Requests::new("q");
//! let id = asked.id();
//! asked.wait(id.clone(), "roster", Duration::from_secs(30));
//! let answer: Stanza = format!("<iq type='error' id='{id}'><error type='cancel'>\
//!     <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
//!     .parse()?;
//! assert!(asked.is_answer(&answer));
//! let (what, outcome) = asked.answer(&answer).unwrap();
//! assert_eq!(what, "roster");
//! assert_eq!(outcome.err(), Some(IqFailure::Error(iot_xmpp::DefinedCondition::ItemNotFound)));
//! // Another request, unanswered: it fails at its deadline.
//! let id = asked.id();
//! asked.wait(id, "ping", Duration::from_secs(10));
//! assert_eq!(asked.next_deadline(), Some(Duration::from_secs(10)));
//! assert_eq!(asked.expire(Duration::from_secs(10)), ["ping"]);
//! assert!(asked.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use std::collections::BTreeMap;

use iot_sansio::Instant;

use crate::stanza::Stanza;
use crate::vocab::{DefinedCondition, IqType};

/// Why an `iq` request this side sent got no useful answer: the one
/// failure type of every request an XMPP machine of the family sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IqFailure {
    /// The answer was an error with this condition (RFC 6120 8.3).
    Error(DefinedCondition),
    /// No answer came before the deadline.
    TimedOut,
    /// The answer was a result, but not what the request asks for.
    Malformed,
}

impl IqFailure {
    /// The failure an answer carries: its error condition for an `iq` of
    /// type `error` (`undefined-condition` when it names none), `None`
    /// for a result.
    #[must_use]
    pub fn of(answer: &Stanza) -> Option<Self> {
        (answer.iq_type() == Some(IqType::Error)).then(|| Self::Error(answer.condition()))
    }
}

impl fmt::Display for IqFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(c) => write!(f, "answered with {c}"),
            Self::TimedOut => f.write_str("no answer in time"),
            Self::Malformed => f.write_str("a malformed answer"),
        }
    }
}

impl core::error::Error for IqFailure {}

/// Fresh ids for the stanzas a machine sends: the prefix, a dash and a
/// count from 1.
#[derive(Debug, Clone)]
pub struct Ids {
    prefix: &'static str,
    next: u64,
}

impl Ids {
    /// Ids that start with `prefix`.
    #[must_use]
    pub const fn new(prefix: &'static str) -> Self {
        Self { prefix, next: 0 }
    }

    /// A fresh stanza id.
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }
}

/// Requests waiting for their answers, by `iq` id, each with what it
/// asked (`T`, the machine's own record of it) and a deadline; and the
/// fresh [`Ids`] of what the machine sends.
#[derive(Debug, Clone)]
pub struct Requests<I, T> {
    ids: Ids,
    waiting: BTreeMap<String, (T, I)>,
}

impl<I: Instant, T> Requests<I, T> {
    /// No request waits; ids start with `prefix`.
    #[must_use]
    pub const fn new(prefix: &'static str) -> Self {
        Self {
            ids: Ids::new(prefix),
            waiting: BTreeMap::new(),
        }
    }

    /// A fresh stanza id.
    pub fn id(&mut self) -> String {
        self.ids.next_id()
    }

    /// Waits for the answer to `id` until `deadline`.
    pub fn wait(&mut self, id: String, what: T, deadline: I) {
        self.waiting.insert(id, (what, deadline));
    }

    /// What `id` asked, while it waits.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&T> {
        self.waiting.get(id).map(|(t, _)| t)
    }

    /// Whether `stanza` is an answer (an `iq` result or error) to a
    /// request that waits. Who sent it is the caller's to check.
    #[must_use]
    pub fn is_answer(&self, stanza: &Stanza) -> bool {
        matches!(stanza.iq_type(), Some(IqType::Result | IqType::Error))
            && stanza
                .id
                .as_deref()
                .is_some_and(|id| self.waiting.contains_key(id))
    }

    /// Takes the request `stanza` answers, with the answer: the stanza
    /// for a result, the [`IqFailure`] for an error. `None` when it is no
    /// answer to a request that waits.
    pub fn answer<'s>(&mut self, stanza: &'s Stanza) -> Option<(T, Result<&'s Stanza, IqFailure>)> {
        self.answer_if(stanza, |_| true)
    }

    /// [`Requests::answer`] for an answer that `accept` takes for the
    /// request it names (the peer a request went to, say); an answer it
    /// refuses leaves the request waiting.
    pub fn answer_if<'s>(
        &mut self,
        stanza: &'s Stanza,
        accept: impl FnOnce(&T) -> bool,
    ) -> Option<(T, Result<&'s Stanza, IqFailure>)> {
        if !matches!(stanza.iq_type(), Some(IqType::Result | IqType::Error)) {
            return None;
        }
        let id = stanza.id.as_deref()?;
        if !self.get(id).is_some_and(accept) {
            return None;
        }
        let what = self.take(id)?;
        Some((what, IqFailure::of(stanza).map_or(Ok(stanza), Err)))
    }

    /// Stops waiting for `id`.
    pub fn take(&mut self, id: &str) -> Option<T> {
        self.waiting.remove(id).map(|(t, _)| t)
    }

    /// Stops waiting for every request `keep` refuses.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.waiting.retain(|_, (t, _)| keep(t));
    }

    /// The earliest deadline.
    #[must_use]
    pub fn next_deadline(&self) -> Option<I> {
        self.waiting.values().map(|(_, d)| *d).min()
    }

    /// The requests due by `now`, earliest deadline first (then by id);
    /// they wait no more: each failed with [`IqFailure::TimedOut`].
    pub fn expire(&mut self, now: I) -> Vec<T> {
        let mut due: Vec<(I, String)> = self
            .waiting
            .iter()
            .filter(|(_, (_, d))| *d <= now)
            .map(|(id, (_, d))| (*d, id.clone()))
            .collect();
        due.sort();
        due.into_iter()
            .filter_map(|(_, id)| self.take(&id))
            .collect()
    }

    /// Forgets every request (the connection is gone); returns what they
    /// asked, by id.
    pub fn clear(&mut self) -> Vec<T> {
        core::mem::take(&mut self.waiting)
            .into_values()
            .map(|(t, _)| t)
            .collect()
    }

    /// How many requests wait.
    #[must_use]
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no request waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}
