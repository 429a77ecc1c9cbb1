//! The queues every machine keeps ([`Outbox`]), the runtime's side of them
//! ([`Outgoing`]), and the writes they hold transmits behind
//! ([`WriteToken`]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

/// The transmit queue and the event queue of a machine. The end of the
/// session goes out once: after [`Outbox::end`], later ends are dropped.
///
/// A byte-stream machine hands its frames out as `Vec<u8>` and takes them
/// back through [`Machine::recycle`](crate::Machine::recycle): [`Outbox::send_with`] writes the next
/// frame into a buffer given back earlier, so that a runtime that recycles
/// what it has sent allocates nothing per frame on the steady path.
#[derive(Debug, Clone)]
pub struct Outbox<T, E> {
    transmit: VecDeque<T>,
    events: VecDeque<E>,
    ended: bool,
    /// Buffers given back, to be written again (at most [`SPARE_BUFFERS`]).
    spare: Vec<T>,
    /// The writes not yet confirmed stored, in the order they were asked
    /// for: the transmits queued after each wait for it.
    holds: VecDeque<Hold>,
    /// How many transmits were ever taken (those ever queued are these
    /// and the ones still queued).
    taken: u64,
    /// The token of the next write.
    next_token: u64,
}

/// One write the runtime has not confirmed yet.
#[derive(Debug, Clone)]
struct Hold {
    token: WriteToken,
    /// How many transmits were queued before it: those after wait.
    after: u64,
    /// Confirmed, while an earlier write is not.
    stored: bool,
}

/// Names one write a machine asked its runtime to make durable: the
/// machine queues it with [`Outbox::hold`], carries it in the event that
/// holds the record, and the runtime hands it back with
/// [`Machine::persisted`](crate::Machine::persisted) once the record is stored. Until then, nothing
/// the machine queued to send after the write goes out (write-ahead: no
/// peer is told of state that a crash could still lose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriteToken(u64);

impl WriteToken {
    /// The token as a number, unique among one outbox's writes (for logs
    /// and for a runtime's own bookkeeping).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "write {}", self.0)
    }
}

/// How many sent buffers an [`Outbox`] keeps for reuse.
pub const SPARE_BUFFERS: usize = 4;

impl<T, E> Default for Outbox<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> Outbox<T, E> {
    /// Empty queues of a session that has not ended.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            ended: false,
            spare: Vec::new(),
            holds: VecDeque::new(),
            taken: 0,
            next_token: 0,
        }
    }

    /// Queues something to send; nothing once the session ended (a machine
    /// neither sends nor reports anything after its end, whatever call
    /// comes after it).
    pub fn send(&mut self, transmit: T) {
        if !self.ended {
            self.transmit.push_back(transmit);
        }
    }

    /// Queues an event; nothing once the session ended.
    pub fn event(&mut self, event: E) {
        if !self.ended {
            self.events.push_back(event);
        }
    }

    /// Queues the end of the session, the first time only; later calls
    /// change nothing.
    pub fn end(&mut self, event: impl Into<E>) {
        if !self.ended {
            self.ended = true;
            self.events.push_back(event.into());
        }
    }

    /// Whether the session has ended.
    #[must_use]
    pub const fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next thing to send; `None` while it waits for a write the
    /// runtime has not confirmed ([`Outbox::hold`]).
    pub fn pop_transmit(&mut self) -> Option<T> {
        if self.holds.front().is_some_and(|h| self.taken >= h.after) {
            return None;
        }
        let transmit = self.transmit.pop_front()?;
        self.taken += 1;
        Some(transmit)
    }

    /// Asks for a write: returns its token, which the machine carries in
    /// the event that holds the record (queued next, with
    /// [`Outbox::event`]). Every transmit queued from now on waits until
    /// the runtime confirms this write and every earlier one
    /// ([`Outbox::persisted`]); events do not wait (the runtime must see
    /// the record to store it).
    pub fn hold(&mut self) -> WriteToken {
        let token = WriteToken(self.next_token);
        self.next_token += 1;
        self.holds.push_back(Hold {
            token,
            // Every transmit ever queued: those taken, and those waiting.
            after: self.taken + self.transmit.len() as u64,
            stored: false,
        });
        token
    }

    /// The runtime stored the record of `token`: the transmits that waited
    /// for it, and for no write still unconfirmed, may go. Returns whether
    /// the write was awaited (`false` for a token this outbox did not give,
    /// or one confirmed already, which change nothing).
    pub fn persisted(&mut self, token: WriteToken) -> bool {
        let Ok(i) = self.holds.binary_search_by_key(&token, |h| h.token) else {
            return false;
        };
        let hold = &mut self.holds[i];
        if core::mem::replace(&mut hold.stored, true) {
            return false;
        }
        while self.holds.front().is_some_and(|h| h.stored) {
            self.holds.pop_front();
        }
        true
    }

    /// How many writes wait for the runtime's confirmation.
    #[must_use]
    pub fn pending_writes(&self) -> usize {
        self.holds.iter().filter(|h| !h.stored).count()
    }

    /// How many queued transmits wait for a write to be confirmed.
    #[must_use]
    pub fn held_transmits(&self) -> usize {
        let Some(first) = self.holds.front() else {
            return 0;
        };
        let free = usize::try_from(first.after.saturating_sub(self.taken)).unwrap_or(usize::MAX);
        self.transmit.len().saturating_sub(free)
    }

    /// The next event.
    pub fn pop_event(&mut self) -> Option<E> {
        self.events.pop_front()
    }

    /// How many transmits wait, held ones included.
    #[must_use]
    pub fn pending_transmits(&self) -> usize {
        self.transmit.len()
    }

    /// The runtime's side of these queues, what [`Machine::outgoing`](crate::Machine::outgoing)
    /// returns: it takes from them and can add nothing.
    pub fn outgoing(&mut self) -> Outgoing<'_, T, E> {
        Outgoing(self)
    }
}

/// The runtime's side of a machine's [`Outbox`]: the next transmit and the
/// next event, taken in the order they were queued. It cannot queue
/// anything, so a runtime cannot speak for the machine.
#[derive(Debug)]
pub struct Outgoing<'a, T, E>(&'a mut Outbox<T, E>);

impl<T, E> Outgoing<'_, T, E> {
    /// The next thing to send.
    pub fn pop_transmit(&mut self) -> Option<T> {
        self.0.pop_transmit()
    }

    /// The next event.
    pub fn pop_event(&mut self) -> Option<E> {
        self.0.pop_event()
    }

    /// Whether the session has ended: its end is the last event queued,
    /// and nothing is queued after it.
    #[must_use]
    pub fn is_ended(&self) -> bool {
        self.0.is_ended()
    }

    /// The runtime stored the record of `token` (see [`Outbox::persisted`]).
    pub fn persisted(&mut self, token: WriteToken) -> bool {
        self.0.persisted(token)
    }

    /// How many queued transmits wait for a write to be confirmed.
    #[must_use]
    pub fn held_transmits(&self) -> usize {
        self.0.held_transmits()
    }
}

impl<E> Outbox<Vec<u8>, E> {
    /// Queues a frame that `write` appends to an empty buffer: one given
    /// back with [`Outbox::recycle`] when there is one. When `write` fails
    /// nothing is queued and the buffer is kept for the next frame.
    ///
    /// # Errors
    ///
    /// What `write` returns.
    pub fn send_with<X>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), X>,
    ) -> Result<(), X> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        match write(&mut buf) {
            Ok(()) if self.ended => {
                self.recycle(buf);
                Ok(())
            }
            Ok(()) => {
                self.transmit.push_back(buf);
                Ok(())
            }
            Err(e) => {
                self.recycle(buf);
                Err(e)
            }
        }
    }

    /// Takes back a frame the runtime has sent, so that its buffer serves
    /// again; beyond [`SPARE_BUFFERS`] kept, it is dropped.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS && buf.capacity() > 0 {
            self.spare.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &'static [u8]) -> impl FnOnce(&mut Vec<u8>) -> Result<(), ()> {
        move |buf| {
            buf.extend_from_slice(bytes);
            Ok(())
        }
    }

    /// Nothing is sent or reported after the end, whatever comes after it
    /// (found by the fuzz targets of the RAE and the Simple IoT owner: a
    /// status or a timed-out request reported after the end).
    #[test]
    fn nothing_goes_out_after_the_end() {
        let mut out: Outbox<Vec<u8>, u8> = Outbox::new();
        out.send(b"before".to_vec());
        out.event(1);
        out.end(2);
        out.send(b"after".to_vec());
        out.send_with(write(b"after too")).unwrap();
        out.event(3);
        out.end(4);
        assert_eq!(out.pop_transmit().as_deref(), Some(&b"before"[..]));
        assert_eq!(out.pop_transmit(), None);
        assert_eq!(
            (out.pop_event(), out.pop_event(), out.pop_event()),
            (Some(1), Some(2), None)
        );
    }

    #[test]
    fn a_recycled_buffer_carries_the_next_frame() {
        let mut out: Outbox<Vec<u8>, ()> = Outbox::new();
        out.send_with(write(b"first frame")).unwrap();
        let first = out.pop_transmit().unwrap();
        let at = first.as_ptr();
        out.recycle(first);
        out.send_with(write(b"next")).unwrap();
        let next = out.pop_transmit().unwrap();
        assert_eq!(next, b"next");
        assert_eq!(next.as_ptr(), at, "the same allocation, cleared");
    }

    #[test]
    fn a_failed_write_queues_nothing_and_keeps_the_buffer() {
        let mut out: Outbox<Vec<u8>, ()> = Outbox::new();
        out.recycle(Vec::with_capacity(16));
        let failed = out.send_with(|buf| {
            buf.extend_from_slice(b"half");
            Err("too long")
        });
        assert_eq!(failed, Err("too long"));
        assert_eq!(out.pending_transmits(), 0);
        out.send_with(write(b"whole")).unwrap();
        assert_eq!(out.pop_transmit().unwrap(), b"whole");
    }

    #[test]
    fn the_spare_buffers_are_bounded() {
        let mut out: Outbox<Vec<u8>, ()> = Outbox::new();
        for _ in 0..10 {
            out.recycle(Vec::with_capacity(8));
        }
        out.recycle(Vec::new());
        assert_eq!(out.spare.len(), SPARE_BUFFERS);
    }
}
