//! The device side of the negotiation (section 5, Figures 1 and 2).

use alloc::vec::Vec;
use core::time::Duration;

use iot_sansio::{End, Instant, Outbox};

use super::terms::{
    Negotiated, NegotiationEnd, NegotiationFault, NegotiationRefusal, Offer, expected,
};
use crate::control::{
    ControlFlags, ControlFrame, NegotiationKind, NegotiationMessage, ProtocolVersion,
};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::session::{self, Liveness, Out, Session};

/// What the device side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceNegotiationEvent {
    /// The LBS chose a protocol (Figure 1): authentication follows on this
    /// connection, with [`AuthConfig::after`](crate::AuthConfig::after)
    /// this record.
    Negotiated(Negotiated),
    /// The LBS does not support the offer but the device supports what it
    /// answered (Figure 2): close this connection, open a new one and call
    /// [`DeviceNegotiation::reconnected`].
    Reconnect {
        /// What the device will offer on the new connection.
        offer: Offer,
    },
    /// The negotiation failed; close the connection.
    Ended(NegotiationEnd),
}

impl From<NegotiationEnd> for DeviceNegotiationEvent {
    fn from(end: NegotiationEnd) -> Self {
        Self::Ended(end)
    }
}

/// How the device side negotiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNegotiationConfig {
    /// Protocol types the device supports, each with its group; the first
    /// is offered first.
    pub offers: Vec<Offer>,
    /// Whether to ask for the ECDH key mode (control flag bit 1).
    pub ecdh: bool,
    /// The PROTOCOL-VERSION to send.
    pub version: ProtocolVersion,
    /// The transaction content to send; the response must echo it.
    pub transaction: Vec<u8>,
    /// How long to wait for a response (default 10 s).
    pub response_timeout: Duration,
}

impl DeviceNegotiationConfig {
    /// A configuration offering `offers` in order, in ECDH key mode, with
    /// the default version, an empty transaction content and a 10 s
    /// response timeout.
    #[must_use]
    pub fn new(offers: Vec<Offer>) -> Self {
        Self {
            offers,
            ecdh: true,
            version: ProtocolVersion::DEFAULT,
            transaction: Vec::new(),
            response_timeout: Duration::from_secs(10),
        }
    }

    fn flags(&self) -> ControlFlags {
        ControlFlags::new(self.ecdh)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State<I> {
    Idle,
    Waiting {
        offer: Offer,
        deadline: I,
        retry: bool,
    },
    AwaitingReconnect {
        offer: Offer,
    },
    Negotiated(Negotiated),
    Done,
}

/// The device side of the negotiation (section 5, Figures 1 and 2).
///
/// ```
/// use core::time::Duration;
/// use iot_sansio::testing::{Driver, pair};
/// use osap_proto::{DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent,
///     LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent, Offer, ProtocolGroup, Suite};
/// use osap_proto::Machine as _;
///
/// let now = Duration::ZERO; // any Copy + Ord instant type works
/// let offer = Offer { protocol_type: 1, group: ProtocolGroup::ALL };
/// let mut device = DeviceNegotiation::new(DeviceNegotiationConfig::new(vec![offer]));
/// let lbs_offer = Offer { protocol_type: 1, group: ProtocolGroup::of(&[Suite::Aes128Cbc, Suite::Aes128Gcm]) };
/// let mut lbs = LbsNegotiation::new(now, LbsNegotiationConfig::new(vec![lbs_offer]));
///
/// device.start(now);
/// Driver::new(now).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
///
/// assert!(matches!(device.poll_event(), Some(DeviceNegotiationEvent::Negotiated(n)) if n.suite == Suite::Aes128Gcm));
/// assert!(matches!(lbs.poll_event(), Some(LbsNegotiationEvent::Negotiated(n)) if n.suite == Suite::Aes128Gcm));
/// ```
#[derive(Debug, Clone)]
pub struct DeviceNegotiation<I> {
    decoder: FrameDecoder,
    core: DeviceNegotiationCore<I>,
    out: Out<DeviceNegotiationEvent>,
}

/// The device side's steps, run by [`DeviceNegotiation`] or by the
/// device connection.
#[derive(Debug, Clone)]
pub(crate) struct DeviceNegotiationCore<I> {
    config: DeviceNegotiationConfig,
    state: State<I>,
}

impl<I: Instant> DeviceNegotiation<I> {
    /// A device side that has not sent anything yet.
    #[must_use]
    pub fn new(config: DeviceNegotiationConfig) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core: DeviceNegotiationCore::new(config),
            out: Outbox::new(),
        }
    }

    /// Sends the negotiation request with the first offer.
    pub fn start(&mut self, now: I) {
        self.core.start(&mut self.out, now);
    }

    /// Sends the retry request on the new connection that
    /// [`DeviceNegotiationEvent::Reconnect`] asked for.
    pub fn reconnected(&mut self, now: I) {
        if self.core.reconnected(&mut self.out, now) {
            self.decoder = FrameDecoder::default();
        }
    }
}

impl<I: Instant> DeviceNegotiationCore<I> {
    pub(crate) fn new(config: DeviceNegotiationConfig) -> Self {
        Self {
            config,
            state: State::Idle,
        }
    }

    /// What the negotiation chose, once it has.
    pub(crate) fn negotiated(&self) -> Option<Negotiated> {
        match self.state {
            State::Negotiated(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn start<E: From<DeviceNegotiationEvent>>(&mut self, out: &mut Out<E>, now: I) {
        if self.state != State::Idle {
            return;
        }
        if !self.config.ecdh {
            // Authentication is in the ECDH key mode only: refuse here,
            // not halfway through it.
            self.end(out, End::Refused(NegotiationRefusal::OriginalMode));
            return;
        }
        match self.config.offers.first().copied() {
            Some(offer) if !offer.group.is_empty() => self.send_request(out, now, offer, false),
            _ => self.end(out, End::PeerFault(NegotiationFault::EmptyGroup)),
        }
    }

    /// Sends the retry request, if a reconnect was asked for; the
    /// machine that runs the negotiation starts a new decoder then.
    pub(crate) fn reconnected<E: From<DeviceNegotiationEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
    ) -> bool {
        let State::AwaitingReconnect { offer } = self.state else {
            return false;
        };
        self.send_request(out, now, offer, true);
        true
    }
}

impl<I: Instant> Liveness for DeviceNegotiationCore<I> {
    type Instant = I;

    fn is_live(&self) -> bool {
        matches!(self.state, State::Waiting { .. })
    }

    fn deadline(&self) -> Option<I> {
        match self.state {
            State::Waiting { deadline, .. } => Some(deadline),
            _ => None,
        }
    }
}

impl<I: Instant, E: From<DeviceNegotiationEvent>> Session<E> for DeviceNegotiationCore<I> {
    type Fault = NegotiationFault;
    type Refusal = NegotiationRefusal;
    type Error = NegotiationFault;

    fn end(&mut self, out: &mut Out<E>, end: NegotiationEnd) {
        self.state = State::Done;
        out.end(E::from(DeviceNegotiationEvent::Ended(end)));
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

impl<I: Instant> DeviceNegotiationCore<I> {
    fn send_request<E: From<DeviceNegotiationEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        offer: Offer,
        retry: bool,
    ) {
        let message = NegotiationMessage {
            flags: self.config.flags(),
            protocol_type: offer.protocol_type,
            protocol_group: offer.group,
            version: self.config.version,
            transaction: self.config.transaction.as_slice().into(),
        };
        let frame = message.to_frame(NegotiationKind::Request);
        match out.send_with(|buf| frame.encode(buf)) {
            Ok(()) => {
                self.state = State::Waiting {
                    offer,
                    deadline: now + self.config.response_timeout,
                    retry,
                };
            }
            Err(e) => self.end(out, End::PeerFault(e.into())),
        }
    }

    /// Reads the LBS's response; an error ends the negotiation.
    fn handle_frame<E: From<DeviceNegotiationEvent>>(
        &mut self,
        out: &mut Out<E>,
        frame: &ControlFrame<'_>,
    ) -> Result<(), NegotiationFault> {
        let State::Waiting { offer, retry, .. } = self.state else {
            // Anything after the outcome is not ours to read.
            return Ok(());
        };
        if frame.kind != NegotiationKind::Response.code() {
            return Err(expected(NegotiationKind::Response, frame.kind));
        }
        let response = NegotiationMessage::from_frame(frame.clone(), NegotiationKind::Response)?;
        if response.flags.reserved_bits() != 0 {
            return Err(NegotiationFault::ReservedFlags(
                response.flags.reserved_bits(),
            ));
        }
        let flags = self.config.flags();
        if response.flags != flags {
            return Err(NegotiationFault::FlagsMismatch {
                sent: flags.bits(),
                got: response.flags.bits(),
            });
        }
        if response.transaction.as_ref() != self.config.transaction.as_slice() {
            return Err(NegotiationFault::TransactionMismatch);
        }
        let chosen = response
            .protocol_group
            .as_single()
            .filter(|s| offer.group.contains(*s));
        if response.protocol_type == offer.protocol_type
            && let Some(suite) = chosen
        {
            let negotiated = Negotiated {
                protocol_type: response.protocol_type,
                offered: offer.group,
                suite,
                ecdh: response.flags.ecdh(),
                version: response.version,
            };
            self.state = State::Negotiated(negotiated);
            out.event(DeviceNegotiationEvent::Negotiated(negotiated).into());
            return Ok(());
        }
        let server = Offer {
            protocol_type: response.protocol_type,
            group: response.protocol_group,
        };
        if retry {
            self.end(
                out,
                End::Refused(NegotiationRefusal::RetryRefused { server }),
            );
            return Ok(());
        }
        // Condition 2: retry with the LBS's protocol type if the device
        // supports it with a suite the LBS also supports.
        let ours = self.config.offers.iter().find(|o| {
            o.protocol_type == server.protocol_type
                && !o.group.intersection(server.group).is_empty()
        });
        match ours {
            Some(&offer) => {
                self.state = State::AwaitingReconnect { offer };
                out.event(DeviceNegotiationEvent::Reconnect { offer }.into());
            }
            None => self.end(
                out,
                End::Refused(NegotiationRefusal::Unsupported { server }),
            ),
        }
        Ok(())
    }
}

session::framed_machine!(
    DeviceNegotiation<I> where { I: Instant },
    event: DeviceNegotiationEvent,
    peer: "LBS",
    deadline: "the response deadline",
);
