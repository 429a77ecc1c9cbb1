//! The LBS side of the negotiation (section 5, Figures 1 and 2).

use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};

use super::terms::{
    Negotiated, NegotiationEnd, NegotiationFault, NegotiationRefusal, Offer, SecurityRanking,
    expected,
};
use crate::control::{ControlFrame, NegotiationKind, NegotiationMessage, ProtocolGroup, Suite};
use crate::decoder::FrameDecoder;
use crate::session::{self, Session};

/// How the LBS side negotiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbsNegotiationConfig {
    /// The protocol types the LBS supports, each with its group, in order
    /// of preference: the first is what an unsupported type is answered
    /// with.
    pub supported: Vec<Offer>,
    /// Which suites are most secure.
    pub ranking: SecurityRanking,
    /// How long to wait for the device's request (default 10 s).
    pub request_timeout: Duration,
}

impl LbsNegotiationConfig {
    /// A configuration with the default ranking and a 10 s request
    /// timeout.
    #[must_use]
    pub fn new(supported: Vec<Offer>) -> Self {
        Self {
            supported,
            ranking: SecurityRanking::default(),
            request_timeout: Duration::from_secs(10),
        }
    }

    /// What to answer `requested` with: the offer sent back, and the suite
    /// when one is chosen (Figure 1) rather than a counter-offer (Figure 2).
    fn answer(&self, requested: Offer) -> (Offer, Option<Suite>) {
        let ours = self
            .supported
            .iter()
            .find(|o| o.protocol_type == requested.protocol_type)
            .copied();
        let chosen = ours.and_then(|o| self.ranking.best(o.group.intersection(requested.group)));
        match (chosen, ours) {
            (Some(suite), _) => (
                Offer {
                    protocol_type: requested.protocol_type,
                    group: ProtocolGroup::single(suite),
                },
                Some(suite),
            ),
            (None, Some(same_type)) => (same_type, None),
            (None, None) => (
                self.supported.first().copied().unwrap_or(Offer {
                    protocol_type: 0,
                    group: ProtocolGroup::EMPTY,
                }),
                None,
            ),
        }
    }
}

/// What the LBS side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsNegotiationEvent {
    /// The response chose a protocol (Figure 1); authentication follows
    /// on this connection, with
    /// [`AuthConfig::after`](crate::AuthConfig::after) this record.
    Negotiated(Negotiated),
    /// The negotiation ended without a protocol: a counter-offer was sent
    /// ([`NegotiationRefusal::Answered`], Figure 2: send it, then close),
    /// no request came in time, or the device sent something the
    /// negotiation refuses. Close the connection.
    Ended(NegotiationEnd),
}

impl From<NegotiationEnd> for LbsNegotiationEvent {
    fn from(end: NegotiationEnd) -> Self {
        Self::Ended(end)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State<I> {
    Waiting { deadline: I },
    Done,
}

/// The LBS side of the negotiation (section 5, Figures 1 and 2).
#[derive(Debug, Clone)]
pub struct LbsNegotiation<I> {
    decoder: FrameDecoder,
    core: Core<I>,
}

#[derive(Debug, Clone)]
struct Core<I> {
    config: LbsNegotiationConfig,
    state: State<I>,
    out: Outbox<Vec<u8>, LbsNegotiationEvent>,
}

impl<I: Instant> LbsNegotiation<I> {
    /// Takes one frame cut from the stream by the LBS or device
    /// connection that runs this machine.
    pub(crate) fn take_frame(&mut self, now: I, frame: &ControlFrame<'_>) -> bool {
        session::take_frame(&mut self.core, now, frame)
    }

    /// An LBS side waiting, from `now`, for the device's request.
    #[must_use]
    pub fn new(now: I, config: LbsNegotiationConfig) -> Self {
        let deadline = now + config.request_timeout;
        Self {
            decoder: FrameDecoder::default(),
            core: Core {
                config,
                state: State::Waiting { deadline },
                out: Outbox::new(),
            },
        }
    }
}

impl<I: Instant> Session for Core<I> {
    type Instant = I;
    type Fault = NegotiationFault;
    type Refusal = NegotiationRefusal;
    type Error = NegotiationFault;

    fn is_live(&self) -> bool {
        self.state != State::Done
    }

    fn deadline(&self) -> Option<I> {
        match self.state {
            State::Waiting { deadline } => Some(deadline),
            State::Done => None,
        }
    }

    fn end(&mut self, end: NegotiationEnd) {
        self.state = State::Done;
        self.out.end(end);
    }

    fn frame(&mut self, _now: I, frame: &ControlFrame<'_>) -> Result<(), NegotiationFault> {
        self.handle_frame(frame)
    }
}

impl<I> Core<I> {
    /// Reads the device's request and answers it.
    fn handle_frame(&mut self, frame: &ControlFrame<'_>) -> Result<(), NegotiationFault> {
        if frame.kind != NegotiationKind::Request.code() {
            return Err(expected(NegotiationKind::Request, frame.kind));
        }
        let request = NegotiationMessage::from_frame(frame.clone(), NegotiationKind::Request)?;
        if request.flags.reserved_bits() != 0 {
            return Err(NegotiationFault::ReservedFlags(
                request.flags.reserved_bits(),
            ));
        }
        if request.protocol_group.is_empty() {
            return Err(NegotiationFault::EmptyGroup);
        }
        let requested = Offer {
            protocol_type: request.protocol_type,
            group: request.protocol_group,
        };
        let (answer, chosen) = if request.flags.ecdh() {
            self.config.answer(requested)
        } else {
            // The original key mode: answered with no suite at all, which
            // a device reads as nothing in common.
            let none = Offer {
                protocol_type: requested.protocol_type,
                group: ProtocolGroup::EMPTY,
            };
            (none, None)
        };
        let response = NegotiationMessage {
            flags: request.flags,
            protocol_type: answer.protocol_type,
            protocol_group: answer.group,
            version: request.version,
            transaction: request.transaction,
        };
        let frame = response.to_frame(NegotiationKind::Response);
        self.out.send_with(|buf| frame.encode(buf))?;
        self.state = State::Done;
        match chosen {
            Some(suite) => self.out.event(LbsNegotiationEvent::Negotiated(Negotiated {
                protocol_type: requested.protocol_type,
                offered: requested.group,
                suite,
                ecdh: request.flags.ecdh(),
                version: response.version,
            })),
            None if !request.flags.ecdh() => {
                self.out.end(End::Refused(NegotiationRefusal::OriginalMode));
            }
            None => self.out.end(End::Refused(NegotiationRefusal::Answered {
                requested,
                answered: answer,
            })),
        }
        Ok(())
    }
}

impl<I: Instant> Machine for LbsNegotiation<I> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = LbsNegotiationEvent;

    /// Takes bytes from the device, or the news that it closed the
    /// connection.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        session::handle_input(&mut self.decoder, &mut self.core, now, input);
    }

    /// Past the request deadline the negotiation ends with
    /// [`End::TimedOut`].
    fn handle_timeout(&mut self, now: I) {
        session::handle_timeout(&mut self.core, now);
    }

    fn poll_timeout(&self) -> Option<I> {
        self.core.deadline()
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, LbsNegotiationEvent> {
        self.core.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.core.out.recycle(frame);
    }
}
