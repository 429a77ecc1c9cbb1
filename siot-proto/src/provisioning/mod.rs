//! The provisioning service's state machine (sections 4-9): a registry of
//! things by name and key, claims, one owner per thing, is-friend answers,
//! pending requests per owner with notifications, friend state updates from
//! owners, and friendship-state notifications to things.
//!
//! Neither the pending-requests query nor the friend state update names a
//! thing (sections 7 and 8), so pending requests are kept per owner, each
//! with the things the requestor asked about: an owner's `friend` decision
//! on a pending requestor is granted on those things only; on a requestor
//! who asked nothing (a friend the owner adds unprompted), on every thing
//! the owner has; a `non-friend` decision is applied to every thing the
//! owner has.

use std::collections::{BTreeSet, VecDeque};

use iot_sansio::store::{AnswerError, Awaiting, RequestId, Store, StoreAnswer, StoreOp};
use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use iot_xmpp::{DefinedCondition, ErrorType, IqType, Stanza, StanzaLimits, StanzaMachine};

mod claims;
mod friends;
mod kinds;
mod records;
mod registry;
mod steps;
mod tx;

use kinds::{Ctx, Work};
pub use kinds::{ProvisioningConfig, ProvisioningEnd, ProvisioningEvent};
pub use records::{ClaimEntry, OwnerEntry, Record, RestoreError, ThingEntry};
pub use registry::Registry;
use steps::{is_ours, steps};
use tx::{Reads, Stop, Tx, Write};

use iot_xmpp::keepalive::Watching;
use iot_xmpp::request::Ids;

/// The input being served: what it read, and once decided, what is left
/// to write and what it then sends and reports.
#[derive(Debug)]
struct Job {
    work: Work,
    reads: Reads,
    writes: VecDeque<Write>,
    decided: Option<(Vec<Stanza>, Vec<ProvisioningEvent>)>,
    conflicts: u8,
}

impl Job {
    fn new(work: Work) -> Self {
        Self {
            work,
            reads: Reads::new(),
            writes: VecDeque::new(),
            decided: None,
            conflicts: 0,
        }
    }
}

/// The provisioning service (section 2.4), over a store of [`Record`]s
/// that several services may share.
///
/// Each input reads the records it needs as requests of its store `S`,
/// decides, and writes what it changed compare-and-set on the versions it
/// read; a write that conflicts (another service changed the record) runs
/// the input again on fresh reads, up to
/// [`ProvisioningConfig::max_conflicts`] times. What an input answers and
/// sends goes out only once every write is stored (write-ahead), and a
/// store that is unavailable or silent gets the sender a `wait` error
/// (`resource-constraint`, PROFILE.md) rather than a refusal. Inputs are
/// served one at a time, in the order they came.
///
/// With a [`Registry`] (the default) the store answers inside each call
/// and the service is as simple to drive as any machine; with
/// [`iot_sansio::store::Deferred`] every request leaves as a
/// [`ProvisioningEvent::Store`] for the runtime, answered with
/// [`ProvisioningService::provide`].
///
/// ```
/// use std::time::Duration;
/// use siot_proto::{Machine, StanzaMachine};
/// use siot_proto::provisioning::{ProvisioningService, ProvisioningEvent, Registry};
/// use siot_proto::stanza::{IqType, PresenceType};
///
/// let mut ps = ProvisioningService::<Duration>::new(Default::default());
/// let register = "<iq type='set' from='thing@example.org/f65dece8' to='provisioning.example.org' id='register-1'>\
///     <register xmlns='urn:xmpp:siot:1' key='TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW'><name>Bulb</name></register></iq>";
/// ps.handle_stanza(Duration::ZERO, register)?;
/// assert_eq!(ps.poll_event(), Some(ProvisioningEvent::Registered("thing@example.org".parse()?)));
/// let result = ps.poll_transmit().unwrap();
/// assert_eq!((result.iq_type(), result.id.as_deref()), (Some(IqType::Result), Some("register-1")));
/// let subscribe = ps.poll_transmit().unwrap();
/// assert_eq!(subscribe.presence_type(), Some(PresenceType::Subscribe));
/// // The thing's record and its claim index entry are in the store.
/// assert_eq!(ps.store().thing_count(), 1);
/// assert_eq!(ps.store().records().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ProvisioningService<I, S = Registry> {
    ctx: Ctx,
    store: S,
    job: Option<Job>,
    queue: VecDeque<Work>,
    asked: Awaiting<String, Record>,
    deadline: Option<I>,
    keepalive: Watching<I>,
    out: Outbox<Stanza, ProvisioningEvent>,
}

impl<I: Instant> ProvisioningService<I> {
    /// A service over an empty [`Registry`].
    #[must_use]
    pub fn new(config: ProvisioningConfig) -> Self {
        Self::with_store(config, Registry::new())
    }
}

impl<I: Instant, S: Store<String, Record>> ProvisioningService<I, S> {
    /// The session ends: nothing waits any longer.
    fn end(&mut self, end: ProvisioningEnd) {
        self.asked.clear();
        self.job = None;
        self.queue.clear();
        self.deadline = None;
        self.keepalive.stop();
        self.out.end(end);
    }

    /// A service over `store`: a [`Registry`] rebuilt from stored records,
    /// a store of the runtime's, or [`iot_sansio::store::Deferred`].
    #[must_use]
    pub fn with_store(config: ProvisioningConfig, store: S) -> Self {
        Self {
            keepalive: Watching::new(config.keepalive),
            ctx: Ctx {
                config,
                ids: Ids::new("ps"),
                roster_to: BTreeSet::new(),
            },
            store,
            job: None,
            queue: VecDeque::new(),
            asked: Awaiting::default(),
            deadline: None,
            out: Outbox::new(),
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, to change (an outage to try, records an operator
    /// writes).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Takes the store's answer to the request `id` of a
    /// [`ProvisioningEvent::Store`], and goes on with the input that
    /// asked.
    ///
    /// # Errors
    ///
    /// [`AnswerError::NotAsked`] for a request not awaited (answered
    /// already, or given up when the store timed out or the session
    /// ended); [`AnswerError::Mismatched`] for an answer that does not
    /// fit the request (a record found under another record's key, a
    /// `Stored` for a read). Neither changes anything.
    pub fn provide(
        &mut self,
        now: I,
        id: RequestId,
        answer: StoreAnswer<Record>,
    ) -> Result<(), AnswerError> {
        let Some(op) = self.asked.get(id) else {
            return Err(AnswerError::NotAsked(id));
        };
        if !tx::belongs(op.key(), &answer) {
            return Err(AnswerError::Mismatched(id));
        }
        let op = self.asked.take(id, &answer)?;
        let Some(job) = &mut self.job else {
            return Ok(());
        };
        match (op, answer) {
            (_, StoreAnswer::Unavailable) => {
                self.give_up();
                self.serve(now);
                return Ok(());
            }
            (StoreOp::Get(key), StoreAnswer::Found(found)) => {
                job.reads.insert(key, Some(found));
            }
            (StoreOp::Get(key), _) => {
                job.reads.insert(key, None);
            }
            (StoreOp::Put { .. }, StoreAnswer::Stored(_)) => {
                job.writes.pop_front();
            }
            (StoreOp::Put { .. }, _) => {
                if !Self::conflicted(job, self.ctx.config.max_conflicts) {
                    self.give_up();
                }
            }
        }
        if self.asked.is_empty() {
            self.serve(now);
        }
        Ok(())
    }

    /// Takes a change of the service's roster, as the runtime reads it
    /// from the server (the roster result and pushes, RFC 6121 2): a thing
    /// the roster shows the service subscribed to (`to` or `both`) is
    /// subscribed, whether or not its `subscribed` presence reached the
    /// service. The runtime must ask for the roster before it sends
    /// presence (RFC 6121 2.2): a resource that did not is no interested
    /// resource, the server need not deliver it that presence (RFC 6121
    /// 3.1.6), and a subscription approved before the service connected
    /// (or auto-approved by the server, 3.1.3) would never be known.
    pub fn apply_roster_change(&mut self, now: I, change: &iot_xmpp::roster::RosterChange) {
        use iot_xmpp::Subscription;
        let (jid, to) = match change {
            iot_xmpp::roster::RosterChange::Updated(item) => (
                item.jid.clone(),
                matches!(item.subscription, Subscription::To | Subscription::Both),
            ),
            iot_xmpp::roster::RosterChange::Removed(jid) => (jid.clone(), false),
        };
        if !to {
            self.ctx.roster_to.remove(&jid);
            return;
        }
        self.ctx.roster_to.insert(jid.clone());
        if !self.out.is_ended() {
            self.take(now, Work::Subscribed(jid));
        }
    }

    /// Takes an input: served now, or queued behind the one waiting for
    /// the store, or answered "retry later" when the queue is full.
    fn take(&mut self, now: I, work: Work) {
        if self.job.is_none() {
            self.job = Some(Job::new(work));
            self.serve(now);
        } else if self.queue.len() < self.ctx.config.max_queued {
            self.queue.push_back(work);
        } else {
            self.retry_later(&work);
        }
    }

    /// Runs the input being served as far as the store's answers let it,
    /// then the queued ones.
    fn serve(&mut self, now: I) {
        while self.asked.is_empty() {
            let Some(job) = &mut self.job else {
                let Some(work) = self.queue.pop_front() else {
                    self.deadline = None;
                    return;
                };
                self.job = Some(Job::new(work));
                continue;
            };
            if job.decided.is_none() {
                let mut tx = Tx::new(&mut self.store, &mut job.reads);
                match steps(&mut self.ctx, &mut tx, &job.work) {
                    Ok(()) => {
                        job.writes = tx.writes.into();
                        job.decided = Some((tx.sends, tx.events));
                    }
                    Err(Stop::Asked) => {
                        for key in tx.need {
                            let request = self.asked.ask(StoreOp::Get(key));
                            self.out.event(ProvisioningEvent::Store(Box::new(request)));
                        }
                        self.deadline = Some(now + self.ctx.config.store_timeout);
                    }
                    Err(Stop::Unavailable) => self.give_up(),
                }
                continue;
            }
            let Some(write) = job.writes.front() else {
                // Every write stored: the input's answers go out.
                if let Some((sends, events)) = job.decided.take() {
                    sends.into_iter().for_each(|s| self.out.send(s));
                    events.into_iter().for_each(|e| self.out.event(e));
                }
                self.job = None;
                continue;
            };
            let op = write.op();
            match self.store.answer_now(&op) {
                None => {
                    let request = self.asked.ask(op);
                    self.out.event(ProvisioningEvent::Store(Box::new(request)));
                    self.deadline = Some(now + self.ctx.config.store_timeout);
                }
                Some(StoreAnswer::Stored(_)) => {
                    job.writes.pop_front();
                }
                Some(StoreAnswer::Conflict) => {
                    if !Self::conflicted(job, self.ctx.config.max_conflicts) {
                        self.give_up();
                    }
                }
                Some(_) => self.give_up(),
            }
        }
    }

    /// A write conflicted: the input is to run again on fresh reads;
    /// whether it may.
    fn conflicted(job: &mut Job, max: u8) -> bool {
        job.conflicts = job.conflicts.saturating_add(1);
        job.reads.clear();
        job.writes.clear();
        job.decided = None;
        job.conflicts <= max
    }

    /// The input being served is answered "retry later"; what it wrote
    /// already stays (a request sent again finds it, and finishes).
    fn give_up(&mut self) {
        self.asked.clear();
        if let Some(job) = self.job.take() {
            self.retry_later(&job.work);
        }
    }

    /// Answers an input "retry later" (RFC 6120 8.3.3.18, type `wait`).
    fn retry_later(&mut self, work: &Work) {
        if let Work::Stanza(stanza) = work
            && matches!(stanza.iq_type(), Some(IqType::Get | IqType::Set))
        {
            self.out
                .send(stanza.error_reply(ErrorType::Wait, DefinedCondition::ResourceConstraint));
            self.out.event(ProvisioningEvent::RetryLater {
                from: stanza.from.clone(),
            });
        }
    }
}

impl<I: Instant, S: Store<String, Record>> Machine for ProvisioningService<I, S> {
    type Instant = I;
    type Input = Stanza;
    type Transmit = Stanza;
    type Event = ProvisioningEvent;

    /// Reads a received stanza (others than this protocol's are ignored),
    /// or ends the session when the connection closed.
    fn handle_input(&mut self, now: I, input: Input<'_, Stanza>) {
        if self.out.is_ended() {
            return;
        }
        match input {
            Input::Data(stanza) => {
                if !self.keepalive.answer(now, stanza, &mut self.out) && is_ours(stanza) {
                    self.take(now, Work::Stanza(stanza.clone()));
                }
            }
            Input::PeerClosed => self.end(End::PeerClosed),
        }
    }

    /// The store did not answer in time: the input that asked is
    /// answered "retry later", and the next is served.
    fn handle_timeout(&mut self, now: I) {
        if self.out.is_ended() {
            return;
        }
        if self.keepalive.due(now, &mut self.out) {
            self.end(End::TimedOut);
            return;
        }
        if self.deadline.is_some_and(|d| d <= now) && !self.asked.is_empty() {
            self.give_up();
            self.serve(now);
        }
    }

    fn poll_timeout(&self) -> Option<I> {
        self.keepalive
            .before(self.deadline.filter(|_| !self.asked.is_empty()))
    }

    fn outgoing(&mut self) -> Outgoing<'_, Stanza, ProvisioningEvent> {
        self.out.outgoing()
    }
}

impl<I: Instant, S: Store<String, Record>> StanzaMachine for ProvisioningService<I, S> {
    fn stanza_limits(&self) -> &StanzaLimits {
        &self.ctx.config.limits
    }
}
