//! The bidirectional protocol negotiation of draft section 5 (Figures 1 and
//! 2) as two sans-IO state machines: the device side and the LBS side.
//!
//! Time is whatever instant type the runtime uses (`std::time::Instant`, a
//! tick counter, a `Duration` since boot): any `Copy + Ord` type to which a
//! [`Duration`] can be added.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ops::Add;
use core::time::Duration;

use crate::control::{
    ControlFlags, ControlFrame, Negotiation, ProtocolGroup, ProtocolVersion, Suite,
    negotiation_kind,
};
use crate::decoder::FrameDecoder;
use crate::error::Error;

/// A protocol type and the protocol group offered with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Offer {
    /// The protocol type.
    pub protocol_type: u8,
    /// The suites supported with it.
    pub group: ProtocolGroup,
}

/// Which suites are more secure than which: "the most secure protocol in
/// the device's protocol group" (section 5) is the first suite of this
/// ranking that the group holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityRanking(Vec<Suite>);

impl SecurityRanking {
    /// A ranking, most secure first. Suites left out are never chosen.
    #[must_use]
    pub fn new(most_secure_first: &[Suite]) -> Self {
        Self(most_secure_first.to_vec())
    }

    /// The most secure suite of `group`, if any.
    #[must_use]
    pub fn best(&self, group: ProtocolGroup) -> Option<Suite> {
        self.0.iter().copied().find(|s| group.contains(*s))
    }
}

impl Default for SecurityRanking {
    /// A higher bit is more secure: 4, 2, 1. Bit 8 names no suite yet, so
    /// it is never chosen by default (see `PROFILE.md`).
    fn default() -> Self {
        Self::new(&[Suite::Aes128Gcm, Suite::Aes128Cbc, Suite::Aes128Ecb])
    }
}

/// A negotiation input that the state machine refuses; the connection must
/// be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The bytes are not a valid control frame.
    #[error("malformed frame: {0}")]
    Frame(#[from] Error),
    /// A control message other than the one expected now.
    #[error("expected control message type {expected}, got {got}")]
    UnexpectedMessage {
        /// The type expected.
        expected: u8,
        /// The type received.
        got: u8,
    },
    /// Reserved control flag bits are set.
    #[error("reserved control flag bits 0x{0:x} are set")]
    ReservedFlags(u8),
    /// The response's control flags differ from the request's (the ECDH
    /// key mode bit must round-trip).
    #[error("response flags 0x{got:x} do not echo request flags 0x{sent:x}")]
    FlagsMismatch {
        /// The request's flags.
        sent: u8,
        /// The response's flags.
        got: u8,
    },
    /// The response does not echo the request's transaction content.
    #[error("response transaction content does not match the request's")]
    TransactionMismatch,
    /// The device offered an empty protocol group.
    #[error("the device offered an empty protocol group")]
    EmptyGroup,
    /// Input arrived after the negotiation ended.
    #[error("the negotiation has ended")]
    Finished,
}

/// Why the device stopped negotiating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveUpReason {
    /// The LBS answered with a protocol type or group the device does not
    /// support (section 5, condition 2: "the device should give up").
    Unsupported {
        /// What the LBS supports.
        server: Offer,
    },
    /// The retry on a new connection was answered inconsistently too.
    RetryRefused {
        /// What the LBS answered the second time.
        server: Offer,
    },
    /// No response came before the deadline.
    Timeout,
    /// The LBS closed the connection before answering.
    PeerClosed,
    /// The LBS sent something the negotiation refuses.
    Protocol(NegotiationError),
}

/// What the device side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// The LBS chose a protocol (Figure 1): authentication follows on this
    /// connection.
    Negotiated {
        /// The protocol type.
        protocol_type: u8,
        /// The suite the LBS chose from the device's group.
        suite: Suite,
        /// Whether the ECDH key mode is in use.
        ecdh: bool,
        /// The PROTOCOL-VERSION of the response.
        version: ProtocolVersion,
    },
    /// The LBS does not support the offer but the device supports what it
    /// answered (Figure 2): close this connection, open a new one and call
    /// [`DeviceNegotiation::reconnected`].
    Reconnect {
        /// What the device will offer on the new connection.
        offer: Offer,
    },
    /// The negotiation failed; close the connection.
    GaveUp(GiveUpReason),
}

/// How the device side negotiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
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

impl DeviceConfig {
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceState<I> {
    Idle,
    Waiting {
        offer: Offer,
        deadline: I,
        retry: bool,
    },
    AwaitingReconnect {
        offer: Offer,
    },
    Done,
}

/// The device side of the negotiation (section 5, Figures 1 and 2).
///
/// ```
/// use core::time::Duration;
/// use osap_proto::{DeviceConfig, DeviceEvent, DeviceNegotiation, LbsConfig, LbsEvent,
///     LbsNegotiation, Offer, ProtocolGroup, Suite};
///
/// let now = Duration::ZERO; // any Copy + Ord instant type works
/// let offer = Offer { protocol_type: 1, group: ProtocolGroup::ALL };
/// let mut device = DeviceNegotiation::new(DeviceConfig::new(vec![offer]));
/// let lbs_offer = Offer { protocol_type: 1, group: ProtocolGroup::of(&[Suite::Aes128Cbc, Suite::Aes128Gcm]) };
/// let mut lbs = LbsNegotiation::new(LbsConfig::new(vec![lbs_offer]), now);
///
/// device.start(now);
/// let request = device.poll_transmit().unwrap();
/// lbs.handle_input(&request, now);
/// let response = lbs.poll_transmit().unwrap();
/// device.handle_input(&response, now);
///
/// assert!(matches!(device.poll_event(), Some(DeviceEvent::Negotiated { suite: Suite::Aes128Gcm, .. })));
/// assert!(matches!(lbs.poll_event(), Some(LbsEvent::Negotiated { suite: Suite::Aes128Gcm, .. })));
/// ```
#[derive(Debug, Clone)]
pub struct DeviceNegotiation<I> {
    config: DeviceConfig,
    state: DeviceState<I>,
    decoder: FrameDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<DeviceEvent>,
}

impl<I: Copy + Ord + Add<Duration, Output = I>> DeviceNegotiation<I> {
    /// A device side that has not sent anything yet.
    #[must_use]
    pub fn new(config: DeviceConfig) -> Self {
        Self {
            config,
            state: DeviceState::Idle,
            decoder: FrameDecoder::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn flags(&self) -> ControlFlags {
        ControlFlags::new(self.config.ecdh)
    }

    fn send_request(&mut self, offer: Offer, now: I, retry: bool) {
        let message = Negotiation {
            flags: self.flags(),
            protocol_type: offer.protocol_type,
            protocol_group: offer.group,
            version: self.config.version,
            transaction: self.config.transaction.as_slice().into(),
        };
        let mut out = Vec::new();
        match message.to_frame(negotiation_kind::REQUEST).encode(&mut out) {
            Ok(()) => {
                self.transmit.push_back(out);
                self.state = DeviceState::Waiting {
                    offer,
                    deadline: now + self.config.response_timeout,
                    retry,
                };
            }
            Err(e) => self.give_up(GiveUpReason::Protocol(e.into())),
        }
    }

    fn give_up(&mut self, reason: GiveUpReason) {
        self.state = DeviceState::Done;
        self.events.push_back(DeviceEvent::GaveUp(reason));
    }

    /// Sends the negotiation request with the first offer.
    pub fn start(&mut self, now: I) {
        if self.state != DeviceState::Idle {
            return;
        }
        match self.config.offers.first().copied() {
            Some(offer) if !offer.group.is_empty() => self.send_request(offer, now, false),
            _ => self.give_up(GiveUpReason::Protocol(NegotiationError::EmptyGroup)),
        }
    }

    /// Sends the retry request on the new connection that
    /// [`DeviceEvent::Reconnect`] asked for.
    pub fn reconnected(&mut self, now: I) {
        if let DeviceState::AwaitingReconnect { offer } = self.state {
            self.decoder = FrameDecoder::default();
            self.send_request(offer, now, true);
        }
    }

    /// Takes bytes received from the LBS.
    pub fn handle_input(&mut self, data: &[u8], now: I) {
        if self.state == DeviceState::Done {
            return;
        }
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = decoder.feed_control(data, |frame| {
            self.handle_frame(frame, now)?;
            Ok::<_, NegotiationError>(self.state != DeviceState::Done)
        });
        self.decoder = decoder;
        match result {
            Err(NegotiationError::Finished) | Ok(()) => {}
            Err(e) => self.give_up(GiveUpReason::Protocol(e)),
        }
    }

    /// Takes one control frame from the LBS.
    ///
    /// # Errors
    ///
    /// A frame that is not the expected response; the negotiation has then
    /// failed (and a [`DeviceEvent::GaveUp`] is queued by
    /// [`DeviceNegotiation::handle_input`]), except for
    /// [`NegotiationError::Finished`], which leaves the outcome as it was.
    pub fn handle_frame(
        &mut self,
        frame: &ControlFrame<'_>,
        _now: I,
    ) -> Result<(), NegotiationError> {
        let DeviceState::Waiting { offer, retry, .. } = self.state else {
            return Err(NegotiationError::Finished);
        };
        if frame.kind != negotiation_kind::RESPONSE {
            return Err(NegotiationError::UnexpectedMessage {
                expected: negotiation_kind::RESPONSE,
                got: frame.kind,
            });
        }
        let response = Negotiation::from_frame(frame.clone(), negotiation_kind::RESPONSE)?;
        if response.flags.reserved_bits() != 0 {
            return Err(NegotiationError::ReservedFlags(
                response.flags.reserved_bits(),
            ));
        }
        if response.flags != self.flags() {
            return Err(NegotiationError::FlagsMismatch {
                sent: self.flags().bits(),
                got: response.flags.bits(),
            });
        }
        if response.transaction.as_ref() != self.config.transaction.as_slice() {
            return Err(NegotiationError::TransactionMismatch);
        }
        let chosen = response
            .protocol_group
            .as_single()
            .filter(|s| offer.group.contains(*s));
        if response.protocol_type == offer.protocol_type
            && let Some(suite) = chosen
        {
            self.state = DeviceState::Done;
            self.events.push_back(DeviceEvent::Negotiated {
                protocol_type: response.protocol_type,
                suite,
                ecdh: response.flags.ecdh(),
                version: response.version,
            });
            return Ok(());
        }
        let server = Offer {
            protocol_type: response.protocol_type,
            group: response.protocol_group,
        };
        if retry {
            self.give_up(GiveUpReason::RetryRefused { server });
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
                self.state = DeviceState::AwaitingReconnect { offer };
                self.events.push_back(DeviceEvent::Reconnect { offer });
            }
            None => self.give_up(GiveUpReason::Unsupported { server }),
        }
        Ok(())
    }

    /// Tells the machine the LBS closed the connection.
    pub fn handle_disconnect(&mut self) {
        if matches!(self.state, DeviceState::Waiting { .. }) {
            self.give_up(GiveUpReason::PeerClosed);
        }
    }

    /// Tells the machine the time; past the response deadline it gives up.
    pub fn handle_timeout(&mut self, now: I) {
        if let DeviceState::Waiting { deadline, .. } = self.state
            && now >= deadline
        {
            self.give_up(GiveUpReason::Timeout);
        }
    }

    /// When [`DeviceNegotiation::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        match self.state {
            DeviceState::Waiting { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    /// The next frame to send to the LBS.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DeviceEvent> {
        self.events.pop_front()
    }
}

/// How the LBS side negotiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbsConfig {
    /// The protocol types the LBS supports, each with its group, in order
    /// of preference: the first is what an unsupported type is answered
    /// with.
    pub supported: Vec<Offer>,
    /// Which suites are most secure.
    pub ranking: SecurityRanking,
    /// How long to wait for the device's request (default 10 s).
    pub request_timeout: Duration,
}

impl LbsConfig {
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
}

/// What the LBS side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsEvent {
    /// The response chose a protocol (Figure 1); authentication follows.
    Negotiated {
        /// The protocol type.
        protocol_type: u8,
        /// The suite chosen.
        suite: Suite,
        /// Whether the device asked for the ECDH key mode.
        ecdh: bool,
        /// The device's PROTOCOL-VERSION.
        version: ProtocolVersion,
    },
    /// The response named what the LBS supports (Figure 2): send it, then
    /// close the connection.
    Close {
        /// What the device asked for.
        requested: Offer,
        /// What the response offered instead.
        answered: Offer,
    },
    /// No request came before the deadline; close the connection.
    TimedOut,
    /// The device sent something the negotiation refuses; close the
    /// connection.
    Failed(NegotiationError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LbsState<I> {
    Waiting { deadline: I },
    Done,
}

/// The LBS side of the negotiation (section 5, Figures 1 and 2).
#[derive(Debug, Clone)]
pub struct LbsNegotiation<I> {
    config: LbsConfig,
    state: LbsState<I>,
    decoder: FrameDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<LbsEvent>,
}

impl<I: Copy + Ord + Add<Duration, Output = I>> LbsNegotiation<I> {
    /// An LBS side waiting, from `now`, for the device's request.
    #[must_use]
    pub fn new(config: LbsConfig, now: I) -> Self {
        let deadline = now + config.request_timeout;
        Self {
            config,
            state: LbsState::Waiting { deadline },
            decoder: FrameDecoder::default(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn fail(&mut self, error: NegotiationError) {
        self.state = LbsState::Done;
        self.events.push_back(LbsEvent::Failed(error));
    }

    /// Takes bytes received from the device.
    pub fn handle_input(&mut self, data: &[u8], now: I) {
        if self.state == LbsState::Done {
            return;
        }
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = decoder.feed_control(data, |frame| {
            self.handle_frame(frame, now)?;
            Ok::<_, NegotiationError>(self.state != LbsState::Done)
        });
        self.decoder = decoder;
        match result {
            Err(NegotiationError::Finished) | Ok(()) => {}
            Err(e) => self.fail(e),
        }
    }

    /// Takes one control frame from the device.
    ///
    /// # Errors
    ///
    /// A frame that is not a valid negotiation request; the negotiation has
    /// then failed (and [`LbsEvent::Failed`] is queued by
    /// [`LbsNegotiation::handle_input`]), except for
    /// [`NegotiationError::Finished`].
    pub fn handle_frame(
        &mut self,
        frame: &ControlFrame<'_>,
        _now: I,
    ) -> Result<(), NegotiationError> {
        if self.state == LbsState::Done {
            return Err(NegotiationError::Finished);
        }
        if frame.kind != negotiation_kind::REQUEST {
            return Err(NegotiationError::UnexpectedMessage {
                expected: negotiation_kind::REQUEST,
                got: frame.kind,
            });
        }
        let request = Negotiation::from_frame(frame.clone(), negotiation_kind::REQUEST)?;
        if request.flags.reserved_bits() != 0 {
            return Err(NegotiationError::ReservedFlags(
                request.flags.reserved_bits(),
            ));
        }
        if request.protocol_group.is_empty() {
            return Err(NegotiationError::EmptyGroup);
        }
        let requested = Offer {
            protocol_type: request.protocol_type,
            group: request.protocol_group,
        };
        let ours = self
            .config
            .supported
            .iter()
            .find(|o| o.protocol_type == requested.protocol_type)
            .copied();
        let chosen = ours.and_then(|o| {
            self.config
                .ranking
                .best(o.group.intersection(requested.group))
        });
        let (answer, event) = match (chosen, ours) {
            (Some(suite), _) => (
                Offer {
                    protocol_type: requested.protocol_type,
                    group: ProtocolGroup::single(suite),
                },
                LbsEvent::Negotiated {
                    protocol_type: requested.protocol_type,
                    suite,
                    ecdh: request.flags.ecdh(),
                    version: request.version,
                },
            ),
            (None, Some(same_type)) => (
                same_type,
                LbsEvent::Close {
                    requested,
                    answered: same_type,
                },
            ),
            (None, None) => match self.config.supported.first().copied() {
                Some(first) => (
                    first,
                    LbsEvent::Close {
                        requested,
                        answered: first,
                    },
                ),
                None => {
                    let nothing = Offer {
                        protocol_type: 0,
                        group: ProtocolGroup::EMPTY,
                    };
                    (
                        nothing,
                        LbsEvent::Close {
                            requested,
                            answered: nothing,
                        },
                    )
                }
            },
        };
        let response = Negotiation {
            flags: request.flags,
            protocol_type: answer.protocol_type,
            protocol_group: answer.group,
            version: request.version,
            transaction: request.transaction,
        };
        let mut out = Vec::new();
        response
            .to_frame(negotiation_kind::RESPONSE)
            .encode(&mut out)?;
        self.transmit.push_back(out);
        self.state = LbsState::Done;
        self.events.push_back(event);
        Ok(())
    }

    /// Tells the machine the time; past the request deadline it gives up.
    pub fn handle_timeout(&mut self, now: I) {
        if let LbsState::Waiting { deadline } = self.state
            && now >= deadline
        {
            self.state = LbsState::Done;
            self.events.push_back(LbsEvent::TimedOut);
        }
    }

    /// When [`LbsNegotiation::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<I> {
        match self.state {
            LbsState::Waiting { deadline } => Some(deadline),
            LbsState::Done => None,
        }
    }

    /// The next frame to send to the device.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<LbsEvent> {
        self.events.pop_front()
    }
}
