//! The device side of one LBS connection: negotiation then first
//! authentication, or a refresh at once (section 5; section 6).

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::common::{Act, ConnectionEnd, Inner, drain, fault, from_auth, from_negotiation};
use crate::auth::{AuthConfig, DeviceAuth, DeviceAuthEvent, Enrolled};
use crate::control::Suite;
use crate::crypto::{SessionKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::negotiation::{
    DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent, Negotiated, Offer,
};

/// How the device runs its LBS connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConnectionConfig {
    /// The negotiation: offers, key mode, version, transaction content,
    /// response timeout.
    pub negotiation: DeviceNegotiationConfig,
    /// The authentication's key derivation and timeout; its protocol type,
    /// suite and version are replaced as in
    /// [`LbsConnectionConfig::auth`](crate::LbsConnectionConfig::auth).
    pub auth: AuthConfig,
}

impl DeviceConnectionConfig {
    /// Negotiates with `negotiation`, with the default authentication
    /// parameters.
    #[must_use]
    pub fn new(negotiation: DeviceNegotiationConfig) -> Self {
        Self {
            negotiation,
            auth: AuthConfig::new(0, Suite::Aes128Gcm),
        }
    }
}

/// What the device side of an LBS connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceConnectionEvent {
    /// The negotiation chose a protocol (Figure 1).
    Negotiated(Negotiated),
    /// The LBS answered with a protocol the device also supports (Figure
    /// 2): close this connection, open a new one and call
    /// [`DeviceConnection::reconnected`].
    Reconnect {
        /// What the device will offer on the new connection.
        offer: Offer,
    },
    /// First authentication succeeded (Figure 3): persist the record; a
    /// later connection reauthenticates with it
    /// ([`DeviceConnection::reauthenticate`]).
    Enrolled(Enrolled),
    /// A sessionkey was issued or refreshed: register on the DAS with it.
    SessionKey(SessionKey),
    /// The DAS address (`host:port`, section 6): the connection is done.
    DasAddress(String),
    /// The connection failed; close it.
    Ended(ConnectionEnd),
}

enum Phase<I, R> {
    Negotiating {
        machine: DeviceNegotiation<I>,
        rng: R,
        serial: String,
        code: VerificationCode,
    },
    Authenticating(DeviceAuth<I, R>),
    Done,
}

/// The device side of one LBS connection, under the family's contract:
/// the negotiation and the first authentication on one connection (with
/// a reconnect when the LBS counter-offers), or a reauthentication with
/// the record of an earlier enrollment. See [`LbsConnection`](crate::LbsConnection)
/// for a run against the LBS side.
pub struct DeviceConnection<I, R> {
    decoder: FrameDecoder,
    auth: AuthConfig,
    phase: Phase<I, R>,
    out: Outbox<Vec<u8>, DeviceConnectionEvent>,
}

impl<I, R> core::fmt::Debug for DeviceConnection<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let phase = match self.phase {
            Phase::Negotiating { .. } => "negotiating",
            Phase::Authenticating(_) => "authenticating",
            Phase::Done => "done",
        };
        f.debug_struct("DeviceConnection")
            .field("phase", &phase)
            .finish_non_exhaustive()
    }
}

impl<I: Instant, R: CryptoRngCore> DeviceConnection<I, R> {
    /// A device that has not enrolled: it negotiates, then authenticates
    /// for the first time with its serial number and verification code.
    #[must_use]
    pub fn first(
        config: DeviceConnectionConfig,
        rng: R,
        serial: impl Into<String>,
        code: VerificationCode,
    ) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            auth: config.auth,
            phase: Phase::Negotiating {
                machine: DeviceNegotiation::new(config.negotiation),
                rng,
                serial: serial.into(),
                code,
            },
            out: Outbox::new(),
        }
    }

    /// A device that enrolled earlier: it asks for a new sessionkey
    /// (0x4) at once, in the protocol type and suite it enrolled with.
    #[must_use]
    pub fn reauthenticate(config: DeviceConnectionConfig, rng: R, enrolled: Enrolled) -> Self {
        let params = config.auth.clone().enrolled_with(&enrolled);
        Self {
            decoder: FrameDecoder::default(),
            auth: config.auth,
            phase: Phase::Authenticating(DeviceAuth::reauthenticate(params, rng, enrolled)),
            out: Outbox::new(),
        }
    }

    /// Sends the first frame: the negotiation request, or the refresh.
    pub fn start(&mut self, now: I) {
        self.act(Act::Start(now));
    }

    /// Sends the retry request on the new connection that
    /// [`DeviceConnectionEvent::Reconnect`] asked for.
    pub fn reconnected(&mut self, now: I) {
        if let Phase::Negotiating { machine, .. } = &mut self.phase {
            self.decoder = FrameDecoder::default();
            machine.reconnected(now);
            // Nothing new reaches the negotiation: this only moves the
            // retry request out.
            self.act(Act::Start(now));
        }
    }

    fn is_live(&self) -> bool {
        !matches!(self.phase, Phase::Done)
    }

    /// Hands `act` to the machine of the current phase and moves on.
    fn act(&mut self, act: Act<'_, '_, I>) {
        self.phase = match core::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Negotiating {
                mut machine,
                rng,
                serial,
                code,
            } => {
                machine.act(act);
                self.negotiated(act.now(), machine, rng, serial, code)
            }
            Phase::Authenticating(mut auth) => {
                auth.act(act);
                self.authenticating(auth)
            }
            Phase::Done => Phase::Done,
        };
    }

    /// After the negotiation moved: on to the first authentication bound
    /// to it, a reconnect, or the end.
    fn negotiated(
        &mut self,
        now: I,
        mut machine: DeviceNegotiation<I>,
        rng: R,
        serial: String,
        code: VerificationCode,
    ) -> Phase<I, R> {
        let mut chosen = None;
        let mut ended = false;
        drain(&mut machine, &mut self.out, |event, out| match event {
            DeviceNegotiationEvent::Negotiated(n) => {
                chosen = Some(n);
                out.event(DeviceConnectionEvent::Negotiated(n));
            }
            DeviceNegotiationEvent::Reconnect { offer } => {
                out.event(DeviceConnectionEvent::Reconnect { offer });
            }
            DeviceNegotiationEvent::Ended(end) => {
                ended = true;
                out.end(DeviceConnectionEvent::Ended(from_negotiation(end)));
            }
        });
        if let Some(n) = chosen {
            let mut auth = DeviceAuth::first(self.auth.clone().bound(n), rng, serial, code);
            auth.start(now);
            return self.authenticating(auth);
        }
        if ended {
            return Phase::Done;
        }
        Phase::Negotiating {
            machine,
            rng,
            serial,
            code,
        }
    }

    fn authenticating(&mut self, mut auth: DeviceAuth<I, R>) -> Phase<I, R> {
        let mut live = true;
        drain(&mut auth, &mut self.out, |event, out| match event {
            DeviceAuthEvent::Enrolled(enrolled) => {
                out.event(DeviceConnectionEvent::Enrolled(enrolled));
            }
            DeviceAuthEvent::SessionKey(key) => out.event(DeviceConnectionEvent::SessionKey(key)),
            DeviceAuthEvent::DasAddress(address) => {
                live = false;
                out.event(DeviceConnectionEvent::DasAddress(address));
            }
            DeviceAuthEvent::Ended(end) => {
                live = false;
                out.end(DeviceConnectionEvent::Ended(from_auth(end)));
            }
        });
        if live {
            Phase::Authenticating(auth)
        } else {
            Phase::Done
        }
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for DeviceConnection<I, R> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DeviceConnectionEvent;

    /// Takes bytes from the LBS, or the news that it closed the
    /// connection.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        if !self.is_live() {
            return;
        }
        let Input::Data(data) = input else {
            self.act(Act::Closed(now));
            return;
        };
        let mut decoder = core::mem::take(&mut self.decoder);
        let result = decoder.feed_control(data, |frame| {
            self.act(Act::Frame(now, frame));
            Ok::<_, crate::error::FrameError>(self.is_live())
        });
        self.decoder = decoder;
        if let Err(e) = result {
            let in_auth = matches!(self.phase, Phase::Authenticating(_));
            self.phase = Phase::Done;
            self.out
                .end(DeviceConnectionEvent::Ended(fault(e, in_auth)));
        }
    }

    /// Past the deadline of the current phase the connection ends with
    /// [`End::TimedOut`](iot_sansio::End::TimedOut).
    fn handle_timeout(&mut self, now: I) {
        self.act(Act::Timeout(now));
    }

    fn poll_timeout(&self) -> Option<I> {
        match &self.phase {
            Phase::Negotiating { machine, .. } => machine.poll_timeout(),
            Phase::Authenticating(auth) => auth.poll_timeout(),
            Phase::Done => None,
        }
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, DeviceConnectionEvent> {
        self.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        match &mut self.phase {
            Phase::Negotiating { machine, .. } => machine.recycle(frame),
            Phase::Authenticating(auth) => auth.recycle(frame),
            Phase::Done => {}
        }
    }
}
