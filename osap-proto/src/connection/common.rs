//! What the two connection machines share: the one reason type, the
//! acts handed to the machine of the current phase, and moving what it
//! queued.

use alloc::vec::Vec;

use iot_sansio::{End, Machine, Outbox};

use crate::auth::{AuthEnd, AuthFault, AuthRefusal, DeviceAuth, DeviceDirectory, LbsAuth};
use crate::control::ControlFrame;
use crate::error::FrameError;
use crate::negotiation::{
    DeviceNegotiation, LbsNegotiation, NegotiationEnd, NegotiationFault, NegotiationRefusal,
};

/// What the peer did wrong on an LBS connection: in the negotiation or in
/// the authentication that followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionFault {
    /// In the negotiation (or a first frame that is neither a negotiation
    /// request nor a refresh).
    #[error("negotiation: {0}")]
    Negotiation(NegotiationFault),
    /// In the authentication or the DAS redirect.
    #[error("authentication: {0}")]
    Auth(AuthFault),
}

/// Why an LBS connection refused its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// Nothing in common, a counter-offer, or the original key mode.
    Negotiation(NegotiationRefusal),
    /// An unknown device, a wrong verification code, a bad proof, or the
    /// directory's refusal.
    Auth(AuthRefusal),
}

impl core::fmt::Display for ConnectionRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Negotiation(r) => write!(f, "negotiation: {r}"),
            Self::Auth(r) => write!(f, "authentication: {r}"),
        }
    }
}

/// How an LBS connection ended other than by the DAS redirect.
pub type ConnectionEnd = End<ConnectionFault, ConnectionRefusal>;

pub(crate) fn from_negotiation(end: NegotiationEnd) -> ConnectionEnd {
    end.map(ConnectionFault::Negotiation, ConnectionRefusal::Negotiation)
}

pub(crate) fn from_auth(end: AuthEnd) -> ConnectionEnd {
    end.map(ConnectionFault::Auth, ConnectionRefusal::Auth)
}

/// What a connection hands to the machine of its current phase.
#[derive(Clone, Copy)]
pub(crate) enum Act<'a, 'f, I> {
    /// Send the first frame.
    Start(I),
    /// A frame from the peer.
    Frame(I, &'a ControlFrame<'f>),
    /// The peer closed the connection.
    Closed(I),
    /// Time passed.
    Timeout(I),
}

impl<I: Copy> Act<'_, '_, I> {
    pub(crate) fn now(self) -> I {
        match self {
            Self::Start(now) | Self::Frame(now, _) | Self::Closed(now) | Self::Timeout(now) => now,
        }
    }
}

/// A machine a connection runs in one of its phases.
pub(crate) trait Inner: Machine<Input = [u8], Transmit = Vec<u8>> {
    /// Sends the machine's first frame, if it speaks first.
    fn begin(&mut self, _now: Self::Instant) {}
    /// Takes one frame cut by the connection's decoder.
    fn take(&mut self, now: Self::Instant, frame: &ControlFrame<'_>);
    /// Hands `act` to the machine.
    fn act(&mut self, act: Act<'_, '_, Self::Instant>) {
        match act {
            Act::Start(now) => self.begin(now),
            Act::Frame(now, frame) => self.take(now, frame),
            Act::Closed(now) => self.handle_input(now, iot_sansio::Input::PeerClosed),
            Act::Timeout(now) => self.handle_timeout(now),
        }
    }
}

impl<I: iot_sansio::Instant> Inner for LbsNegotiation<I> {
    fn take(&mut self, now: I, frame: &ControlFrame<'_>) {
        self.take_frame(now, frame);
    }
}

impl<I: iot_sansio::Instant> Inner for DeviceNegotiation<I> {
    fn begin(&mut self, now: I) {
        self.start(now);
    }
    fn take(&mut self, now: I, frame: &ControlFrame<'_>) {
        self.take_frame(now, frame);
    }
}

impl<I, R, D> Inner for LbsAuth<I, R, D>
where
    I: iot_sansio::Instant,
    R: rand_core::CryptoRngCore,
    D: DeviceDirectory,
{
    fn take(&mut self, now: I, frame: &ControlFrame<'_>) {
        self.take_frame(now, frame);
    }
}

impl<I: iot_sansio::Instant, R: rand_core::CryptoRngCore> Inner for DeviceAuth<I, R> {
    fn begin(&mut self, now: I) {
        self.start(now);
    }
    fn take(&mut self, now: I, frame: &ControlFrame<'_>) {
        self.take_frame(now, frame);
    }
}

/// Moves what an inner machine queued into the connection's outbox:
/// frames in order, events through `event` (which may stop the
/// connection by returning what its phase becomes).
pub(crate) fn drain<M, E>(
    machine: &mut M,
    out: &mut Outbox<Vec<u8>, E>,
    mut event: impl FnMut(M::Event, &mut Outbox<Vec<u8>, E>),
) where
    M: Machine<Transmit = Vec<u8>>,
{
    while let Some(frame) = machine.poll_transmit() {
        out.send(frame);
    }
    while let Some(e) = machine.poll_event() {
        event(e, out);
    }
}

/// A stream that cannot be read on: the frame layer's fault, reported by
/// the phase it broke.
pub(crate) fn fault(e: FrameError, in_auth: bool) -> ConnectionEnd {
    End::PeerFault(if in_auth {
        ConnectionFault::Auth(e.into())
    } else {
        ConnectionFault::Negotiation(e.into())
    })
}
