//! What the four OSAP machines share: control frames cut from the byte
//! stream and handed to the machine's core one by one while its session is
//! live, the peer closing, the deadline passing, and every failure ending
//! the session once through the core's `end`.

use iot_sansio::{End, Input, Instant};

use crate::control::ControlFrame;
use crate::decoder::FrameDecoder;
use crate::error::FrameError;

/// The state of one OSAP machine, without its frame decoder.
pub(crate) trait Session {
    /// The machine's instant.
    type Instant: Instant;
    /// The typed detail of a peer fault.
    type Fault;
    /// The typed detail of a refusal.
    type Refusal;
    /// What handling a frame may fail with.
    type Error: From<FrameError> + Into<End<Self::Fault, Self::Refusal>>;

    /// Whether the session takes input (and may end).
    fn is_live(&self) -> bool;
    /// When the session gives up waiting, if it waits.
    fn deadline(&self) -> Option<Self::Instant>;
    /// Ends the session (the machine's outbox lets the first end out only).
    fn end(&mut self, end: End<Self::Fault, Self::Refusal>);
    /// Handles one frame from the peer.
    fn frame(&mut self, now: Self::Instant, frame: &ControlFrame<'_>) -> Result<(), Self::Error>;
}

/// [`iot_sansio::Machine::handle_input`] for a session and its decoder.
pub(crate) fn handle_input<S: Session>(
    decoder: &mut FrameDecoder,
    session: &mut S,
    now: S::Instant,
    input: Input<'_, [u8]>,
) {
    if !session.is_live() {
        return;
    }
    let Input::Data(data) = input else {
        session.end(End::PeerClosed);
        return;
    };
    let result = decoder.feed_control(data, |frame| {
        session.frame(now, frame)?;
        Ok::<_, S::Error>(session.is_live())
    });
    if let Err(e) = result {
        session.end(e.into());
    }
}

/// [`iot_sansio::Machine::handle_timeout`]: past the deadline the session
/// ends with [`End::TimedOut`].
pub(crate) fn handle_timeout<S: Session>(session: &mut S, now: S::Instant) {
    if session.deadline().is_some_and(|d| now >= d) {
        session.end(End::TimedOut);
    }
}

/// Hands one frame, cut by another machine's decoder, to a live session;
/// an error ends it. Returns whether the session still takes input.
pub(crate) fn take_frame<S: Session>(
    session: &mut S,
    now: S::Instant,
    frame: &ControlFrame<'_>,
) -> bool {
    if !session.is_live() {
        return false;
    }
    if let Err(e) = session.frame(now, frame) {
        session.end(e.into());
    }
    session.is_live()
}
