//! The offline event cache of draft section 2.1.4: events wait while the
//! device is not connected, go out in order at QoS 1 when it is, and leave
//! the queue only when the PUBACK comes. Nothing is lost silently: when
//! the queue is full the caller's policy drops the oldest or refuses the
//! new one, and says which.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::business::BusinessMessage;
use crate::mqtt::PacketId;

/// What a full queue does with one more event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the oldest event (which is handed back) to make room.
    DropOldest,
    /// Refuse the new event (which is handed back).
    RefuseNew,
}

/// What became of an event given to [`EventQueue::push`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    /// It waits in the queue.
    Queued,
    /// It waits in the queue; the oldest event was dropped to make room
    /// ([`Overflow::DropOldest`]) and is handed back to be reported.
    DroppedOldest(QueuedEvent),
    /// The queue was full and it was refused ([`Overflow::RefuseNew`]); it
    /// is handed back to be reported.
    Refused(QueuedEvent),
}

/// One queued event; its serde form is the record a runtime keeps.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueuedEvent {
    /// Its place in the order of events, from 1.
    pub seq: u64,
    /// The event.
    pub message: BusinessMessage,
    /// Whether it has been sent on some connection and not acknowledged:
    /// sending it again sets DUP.
    pub sent_before: bool,
}

/// The events a device has not yet had acknowledged, in order (2.1.4).
///
/// ```
/// use osap_proto::business::{Body, BusinessMessage};
/// use osap_proto::das::{EventQueue, Overflow, Pushed};
///
/// let mut queue = EventQueue::new(2, Overflow::DropOldest);
/// let event = |n: u64| BusinessMessage::new("door", Body::Event {
///     name: "opened".into(),
///     params: serde_json::json!({ "n": n }).as_object().unwrap().clone(),
///     id: None,
/// });
/// assert_eq!(queue.push(event(1)), Pushed::Queued);
/// assert_eq!(queue.push(event(2)), Pushed::Queued);
/// // Full: the oldest goes, and is handed back to be reported.
/// let Pushed::DroppedOldest(dropped) = queue.push(event(3)) else { panic!() };
/// assert_eq!(dropped.seq, 1);
/// assert_eq!(queue.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct EventQueue {
    capacity: usize,
    overflow: Overflow,
    next_seq: u64,
    /// Waiting and in-flight events, oldest first; in-flight ones carry
    /// the packet identifier they went out with on this connection.
    events: VecDeque<(QueuedEvent, Option<PacketId>)>,
    /// How many events at the front are in flight: events go out in
    /// order, so those in flight are always the first ones, and the next
    /// to send is found without a search.
    in_flight: usize,
}

impl EventQueue {
    /// An empty queue holding at most `capacity` events (at least 1).
    #[must_use]
    pub fn new(capacity: usize, overflow: Overflow) -> Self {
        Self {
            capacity: capacity.max(1),
            overflow,
            next_seq: 1,
            events: VecDeque::new(),
            in_flight: 0,
        }
    }

    /// A queue holding `events` again, as [`EventQueue::export`] gave them
    /// (a device that rebooted); in their order, all to be sent again.
    /// Beyond `capacity` the oldest are dropped and handed back.
    #[must_use]
    pub fn restore(
        capacity: usize,
        overflow: Overflow,
        events: Vec<QueuedEvent>,
    ) -> (Self, Vec<QueuedEvent>) {
        let mut queue = Self::new(capacity, overflow);
        let mut events = events;
        events.sort_by_key(|e| e.seq);
        let excess = events.len().saturating_sub(queue.capacity);
        let dropped: Vec<QueuedEvent> = events.drain(..excess).collect();
        queue.next_seq = events
            .last()
            .or(dropped.last())
            .map_or(1, |e| e.seq.saturating_add(1));
        queue.events = events.into_iter().map(|e| (e, None)).collect();
        (queue, dropped)
    }

    /// The events, for the runtime to keep across a reboot. An event in
    /// flight is exported as sent before, so that after a reboot it goes
    /// out again with DUP set.
    #[must_use]
    pub fn export(&self) -> Vec<QueuedEvent> {
        self.events
            .iter()
            .map(|(e, in_flight)| QueuedEvent {
                sent_before: e.sent_before || in_flight.is_some(),
                ..e.clone()
            })
            .collect()
    }

    /// How many events wait or are in flight.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether none do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds an event at the end. When the queue is full, the policy drops
    /// the oldest or refuses this one, and the event that did not make it
    /// is handed back: nothing is lost without the caller knowing.
    pub fn push(&mut self, message: BusinessMessage) -> Pushed {
        let event = QueuedEvent {
            seq: self.next_seq,
            message,
            sent_before: false,
        };
        self.next_seq = self.next_seq.saturating_add(1);
        if self.events.len() < self.capacity {
            self.events.push_back((event, None));
            return Pushed::Queued;
        }
        match self.overflow {
            Overflow::RefuseNew => Pushed::Refused(event),
            Overflow::DropOldest => match self.events.pop_front() {
                Some((dropped, packet_id)) => {
                    if packet_id.is_some() {
                        self.in_flight -= 1;
                    }
                    self.events.push_back((event, None));
                    Pushed::DroppedOldest(dropped)
                }
                None => {
                    self.events.push_back((event, None));
                    Pushed::Queued
                }
            },
        }
    }

    /// The oldest event not yet sent on this connection: the caller sends
    /// it with `packet_id` (DUP set when `sent_before`) and it is in flight
    /// until [`EventQueue::acknowledge`].
    pub fn send_next(&mut self, packet_id: PacketId) -> Option<&QueuedEvent> {
        let (event, in_flight) = self.events.get_mut(self.in_flight)?;
        *in_flight = Some(packet_id);
        self.in_flight += 1;
        Some(&*event)
    }

    /// Whether an event waits to be sent on this connection.
    #[must_use]
    pub fn has_unsent(&self) -> bool {
        self.in_flight < self.events.len()
    }

    /// How many events are in flight: sent on this connection and not yet
    /// acknowledged.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether an event is in flight with `packet_id`; a look at the
    /// events in flight only, which the session bounds by its window.
    #[must_use]
    pub fn is_in_flight(&self, packet_id: PacketId) -> bool {
        self.events
            .range(..self.in_flight)
            .any(|(_, id)| *id == Some(packet_id))
    }

    /// The PUBACK for `packet_id` came: the event leaves the queue and is
    /// handed back; `None` when no event is in flight with that id. Only
    /// the events in flight are looked at.
    pub fn acknowledge(&mut self, packet_id: PacketId) -> Option<QueuedEvent> {
        let at = self
            .events
            .range(..self.in_flight)
            .position(|(_, id)| *id == Some(packet_id))?;
        self.in_flight -= 1;
        self.events.remove(at).map(|(e, _)| e)
    }

    /// The connection is gone: every event in flight waits again, to go
    /// out on the next connection in its place with DUP set.
    pub fn connection_lost(&mut self) {
        for (event, in_flight) in self.events.range_mut(..self.in_flight) {
            if in_flight.take().is_some() {
                event.sent_before = true;
            }
        }
        self.in_flight = 0;
    }
}
