//! How every OSAP control machine is built (ARCHITECTURE.md,
//! "Composition"): the machine owns one frame decoder and one outbox; its
//! protocol logic is a [`Session`], a plain struct that reads the frames
//! the decoder cuts and writes to the outbox it is handed. A machine of
//! several phases (the LBS and device connections) owns the sessions of
//! its phases, never machines, so a frame goes from the decoder to the
//! session of the current phase in one call and what that session writes
//! is already in the connection's outbox.

use alloc::vec::Vec;

use iot_sansio::{End, Input, Instant, Outbox};

use crate::control::ControlFrame;
use crate::decoder::FrameDecoder;
use crate::error::FrameError;

/// The outbox a session writes to: frames, and events of the machine that
/// runs it (`E`, which converts from the session's own events).
pub(crate) type Out<E> = Outbox<Vec<u8>, E>;

/// Whether a session takes input, and until when it waits: what does not
/// depend on the outbox it writes to.
pub(crate) trait Liveness {
    /// The machine's instant.
    type Instant: Instant;
    /// Whether the session takes input (and may end).
    fn is_live(&self) -> bool;
    /// When the session gives up waiting, if it waits.
    fn deadline(&self) -> Option<Self::Instant>;
    /// Whether the session reads nothing more for now (it waits for its
    /// store): bytes that come are held by the decoder until [`resume`].
    fn is_paused(&self) -> bool {
        false
    }
}

/// The protocol logic of one OSAP machine or phase, writing to an outbox
/// of events `E`.
pub(crate) trait Session<E>: Liveness {
    /// The typed detail of a peer fault.
    type Fault;
    /// The typed detail of a refusal.
    type Refusal;
    /// What handling a frame may fail with.
    type Error: Into<End<Self::Fault, Self::Refusal>>;
    /// Ends the session and queues its end (the outbox lets the first end
    /// out only).
    fn end(&mut self, out: &mut Out<E>, end: End<Self::Fault, Self::Refusal>);
    /// Handles one frame from the peer.
    fn frame(
        &mut self,
        out: &mut Out<E>,
        now: Self::Instant,
        frame: &ControlFrame<'_>,
    ) -> Result<(), Self::Error>;
    /// How a stream that cannot be read on ends the session.
    fn broken(&self, e: FrameError) -> End<Self::Fault, Self::Refusal>;
    /// The deadline passed: by default the session ends with
    /// [`End::TimedOut`].
    fn timed_out(&mut self, out: &mut Out<E>, now: Self::Instant) {
        let _ = now;
        self.end(out, End::TimedOut);
    }
}

/// [`iot_sansio::Machine::handle_input`] for a machine's decoder, session
/// and outbox. While the session is paused, what comes is held by the
/// decoder (a frame's worth at most), to be read by [`resume`].
pub(crate) fn handle_input<S: Session<E>, E>(
    decoder: &mut FrameDecoder,
    session: &mut S,
    out: &mut Out<E>,
    now: S::Instant,
    input: Input<'_, [u8]>,
) {
    if !session.is_live() {
        return;
    }
    let Input::Data(data) = input else {
        session.end(out, End::PeerClosed);
        return;
    };
    if session.is_paused() {
        if let Err(e) = decoder.hold(data) {
            let end = session.broken(e);
            session.end(out, end);
        }
        return;
    }
    let mut failed = None;
    let result = decoder.feed_control(data, |frame| {
        if let Err(e) = session.frame(out, now, frame) {
            failed = Some(e.into());
            return Ok(false);
        }
        Ok::<_, FrameError>(session.is_live() && !session.is_paused())
    });
    match result {
        Ok(rest) if failed.is_none() && session.is_paused() => {
            if let Err(e) = decoder.hold(rest) {
                failed = Some(session.broken(e));
            }
        }
        Ok(_) => {}
        Err(e) => failed = Some(session.broken(e)),
    }
    if let Some(end) = failed {
        session.end(out, end);
    }
}

/// Reads what the decoder held while the session was paused, once its
/// store has answered.
pub(crate) fn resume<S: Session<E>, E>(
    decoder: &mut FrameDecoder,
    session: &mut S,
    out: &mut Out<E>,
    now: S::Instant,
) {
    if session.is_paused() {
        return;
    }
    let held = decoder.take_held();
    if !held.is_empty() {
        handle_input(decoder, session, out, now, Input::Data(&held));
    }
}

/// [`iot_sansio::Machine::handle_timeout`]: past the deadline the session
/// times out ([`Session::timed_out`]), and reads what it held if that
/// ended its pause.
pub(crate) fn handle_timeout<S: Session<E>, E>(
    decoder: &mut FrameDecoder,
    session: &mut S,
    out: &mut Out<E>,
    now: S::Instant,
) {
    if session.is_live() && session.deadline().is_some_and(|d| now >= d) {
        session.timed_out(out, now);
        resume(decoder, session, out, now);
    }
}

/// Hands one frame, cut by the decoder of the machine that runs the
/// session, to it while it is live; an error ends it.
pub(crate) fn take_frame<S: Session<E>, E>(
    session: &mut S,
    out: &mut Out<E>,
    now: S::Instant,
    frame: &ControlFrame<'_>,
) {
    if !session.is_live() {
        return;
    }
    if let Err(e) = session.frame(out, now, frame) {
        session.end(out, e.into());
    }
}

/// Implements [`iot_sansio::Machine`] for an OSAP control machine: a
/// struct of `decoder`, `core` (its [`Session`]) and `out`. `$peer` names
/// who sends the bytes, `$deadline` what the deadline is, in the docs.
macro_rules! framed_machine {
    (
        $machine:ident<$($param:ident),*> where { $($bound:tt)* },
        event: $event:ty, peer: $peer:literal, deadline: $deadline:literal $(,)?
    ) => {
        impl<$($param),*> iot_sansio::Machine for $machine<$($param),*>
        where
            $($bound)*
        {
            type Instant = I;
            type Input = [u8];
            type Transmit = alloc::vec::Vec<u8>;
            type Event = $event;

            #[doc = concat!("Takes bytes from the ", $peer, ", or the news that it closed the connection.")]
            fn handle_input(&mut self, now: I, input: iot_sansio::Input<'_, [u8]>) {
                $crate::session::handle_input(
                    &mut self.decoder,
                    &mut self.core,
                    &mut self.out,
                    now,
                    input,
                );
            }

            #[doc = concat!("Past ", $deadline, " the session ends with [`End::TimedOut`](iot_sansio::End::TimedOut).")]
            fn handle_timeout(&mut self, now: I) {
                $crate::session::handle_timeout(&mut self.decoder, &mut self.core, &mut self.out, now);
            }

            fn poll_timeout(&self) -> Option<I> {
                $crate::session::Liveness::deadline(&self.core)
            }

            fn outgoing(&mut self) -> iot_sansio::Outgoing<'_, alloc::vec::Vec<u8>, $event> {
                self.out.outgoing()
            }

            fn recycle(&mut self, frame: alloc::vec::Vec<u8>) {
                self.out.recycle(frame);
            }
        }
    };
}

pub(crate) use framed_machine;
