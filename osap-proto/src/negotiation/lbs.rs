//! The LBS side of the negotiation (section 5, Figures 1 and 2).

use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Instant, Outbox};

use super::terms::{
    Negotiated, NegotiationEnd, NegotiationFault, NegotiationRefusal, Offer, SecurityRanking,
    expected,
};
use crate::control::{ControlFrame, NegotiationKind, NegotiationMessage, ProtocolGroup, Suite};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::session::{self, Liveness, Out, Session};

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
    Negotiated(Negotiated),
    Done,
}

/// The LBS side of the negotiation (section 5, Figures 1 and 2).
#[derive(Debug, Clone)]
pub struct LbsNegotiation<I> {
    decoder: FrameDecoder,
    core: LbsNegotiationCore<I>,
    out: Out<LbsNegotiationEvent>,
}

/// The LBS side's steps, run by [`LbsNegotiation`] or by the LBS
/// connection.
#[derive(Debug, Clone)]
pub(crate) struct LbsNegotiationCore<I> {
    config: LbsNegotiationConfig,
    state: State<I>,
}

impl<I: Instant> LbsNegotiation<I> {
    /// An LBS side waiting, from `now`, for the device's request.
    #[must_use]
    pub fn new(now: I, config: LbsNegotiationConfig) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core: LbsNegotiationCore::new(now, config),
            out: Outbox::new(),
        }
    }
}

impl<I: Instant> LbsNegotiationCore<I> {
    pub(crate) fn new(now: I, config: LbsNegotiationConfig) -> Self {
        let deadline = now + config.request_timeout;
        Self {
            config,
            state: State::Waiting { deadline },
        }
    }

    /// What the negotiation chose, once it has.
    pub(crate) fn negotiated(&self) -> Option<Negotiated> {
        match self.state {
            State::Negotiated(n) => Some(n),
            _ => None,
        }
    }
}

impl<I: Instant> Liveness for LbsNegotiationCore<I> {
    type Instant = I;

    fn is_live(&self) -> bool {
        matches!(self.state, State::Waiting { .. })
    }

    fn deadline(&self) -> Option<I> {
        match self.state {
            State::Waiting { deadline } => Some(deadline),
            _ => None,
        }
    }
}

impl<I: Instant, E: From<LbsNegotiationEvent>> Session<E> for LbsNegotiationCore<I> {
    type Fault = NegotiationFault;
    type Refusal = NegotiationRefusal;
    type Error = NegotiationFault;

    fn end(&mut self, out: &mut Out<E>, end: NegotiationEnd) {
        self.state = State::Done;
        out.end(E::from(LbsNegotiationEvent::Ended(end)));
    }

    fn frame(
        &mut self,
        out: &mut Out<E>,
        _now: I,
        frame: &ControlFrame<'_>,
    ) -> Result<(), NegotiationFault> {
        self.handle_frame(out, frame)
    }

    fn broken(&self, e: FrameError) -> NegotiationEnd {
        End::PeerFault(e.into())
    }
}

impl<I: Instant> LbsNegotiationCore<I> {
    /// Reads the device's request and answers it.
    fn handle_frame<E: From<LbsNegotiationEvent>>(
        &mut self,
        out: &mut Out<E>,
        frame: &ControlFrame<'_>,
    ) -> Result<(), NegotiationFault> {
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
        out.send_with(|buf| frame.encode(buf))?;
        match chosen {
            Some(suite) => {
                let negotiated = Negotiated {
                    protocol_type: requested.protocol_type,
                    offered: requested.group,
                    suite,
                    ecdh: request.flags.ecdh(),
                    version: response.version,
                };
                self.state = State::Negotiated(negotiated);
                out.event(LbsNegotiationEvent::Negotiated(negotiated).into());
            }
            None if !request.flags.ecdh() => {
                self.end(out, End::Refused(NegotiationRefusal::OriginalMode));
            }
            None => self.end(
                out,
                End::Refused(NegotiationRefusal::Answered {
                    requested,
                    answered: answer,
                }),
            ),
        }
        Ok(())
    }
}

session::framed_machine!(
    LbsNegotiation<I> where { I: Instant },
    event: LbsNegotiationEvent,
    peer: "device",
    deadline: "the request deadline",
);
