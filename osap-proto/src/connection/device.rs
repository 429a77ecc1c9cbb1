//! The device side of one LBS connection: negotiation then first
//! authentication, or a refresh at once (section 5; section 6).

use alloc::string::String;

use iot_sansio::{Instant, Outbox};
use rand_core::CryptoRngCore;

use super::common::{
    ConnectionEnd, ConnectionFault, ConnectionRefusal, Phase, Phases, from_auth, from_negotiation,
};
use crate::auth::{AuthConfig, DeviceAuthCore, DeviceAuthEvent, Enrolled};
use crate::control::{ControlFrame, Suite};
use crate::crypto::{SessionKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::negotiation::{
    DeviceNegotiationConfig, DeviceNegotiationCore, DeviceNegotiationEvent, Negotiated, Offer,
};
use crate::session::{self, Out, Session};

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

/// What the device side of an LBS connection reports: what its
/// negotiation and its authentication report, each converted.
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

impl From<DeviceNegotiationEvent> for DeviceConnectionEvent {
    fn from(event: DeviceNegotiationEvent) -> Self {
        match event {
            DeviceNegotiationEvent::Negotiated(n) => Self::Negotiated(n),
            DeviceNegotiationEvent::Reconnect { offer } => Self::Reconnect { offer },
            DeviceNegotiationEvent::Ended(end) => Self::Ended(from_negotiation(end)),
        }
    }
}

impl From<DeviceAuthEvent> for DeviceConnectionEvent {
    fn from(event: DeviceAuthEvent) -> Self {
        match event {
            DeviceAuthEvent::Enrolled(enrolled) => Self::Enrolled(enrolled),
            DeviceAuthEvent::SessionKey(key) => Self::SessionKey(key),
            DeviceAuthEvent::DasAddress(address) => Self::DasAddress(address),
            DeviceAuthEvent::Ended(end) => Self::Ended(from_auth(end)),
        }
    }
}

/// What the first authentication takes once the negotiation chose.
type First<R> = (R, String, VerificationCode);

type DevicePhases<I, R> = Phases<DeviceNegotiationCore<I>, DeviceAuthCore<I, R>, First<R>>;

/// The device side of one LBS connection, under the family's contract:
/// the negotiation and the first authentication on one connection (with
/// a reconnect when the LBS counter-offers), or a reauthentication with
/// the record of an earlier enrollment. See [`LbsConnection`](crate::LbsConnection)
/// for a run against the LBS side.
pub struct DeviceConnection<I, R> {
    decoder: FrameDecoder,
    core: DevicePhases<I, R>,
    out: Out<DeviceConnectionEvent>,
}

impl<I, R> core::fmt::Debug for DeviceConnection<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceConnection")
            .field("phase", &self.core.name())
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
        let phase = Phase::Negotiating {
            negotiation: DeviceNegotiationCore::new(config.negotiation),
            then: (rng, serial.into(), code),
        };
        Self::with(config.auth, phase)
    }

    /// A device that enrolled earlier: it asks for a new sessionkey
    /// (0x4) at once, in the protocol type and suite it enrolled with.
    #[must_use]
    pub fn reauthenticate(config: DeviceConnectionConfig, rng: R, enrolled: Enrolled) -> Self {
        let params = config.auth.clone().enrolled_with(&enrolled);
        let phase = Phase::Authenticating(DeviceAuthCore::reauthenticate(params, rng, enrolled));
        Self::with(config.auth, phase)
    }

    fn with(
        auth: AuthConfig,
        phase: Phase<DeviceNegotiationCore<I>, DeviceAuthCore<I, R>, First<R>>,
    ) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core: Phases { auth, phase },
            out: Outbox::new(),
        }
    }

    /// Sends the first frame: the negotiation request, or the refresh.
    pub fn start(&mut self, now: I) {
        match &mut self.core.phase {
            Phase::Negotiating { negotiation, .. } => negotiation.start(&mut self.out, now),
            Phase::Authenticating(auth) => auth.start(&mut self.out, now),
            Phase::Done => {}
        }
    }

    /// Sends the retry request on the new connection that
    /// [`DeviceConnectionEvent::Reconnect`] asked for.
    pub fn reconnected(&mut self, now: I) {
        if let Phase::Negotiating { negotiation, .. } = &mut self.core.phase
            && negotiation.reconnected(&mut self.out, now)
        {
            self.decoder = FrameDecoder::default();
        }
    }
}

impl<I: Instant, R: CryptoRngCore> DevicePhases<I, R> {
    /// After the negotiation chose `negotiated`: the first authentication
    /// bound to it, started at once.
    fn authenticate(
        &mut self,
        out: &mut Out<DeviceConnectionEvent>,
        now: I,
        negotiated: Negotiated,
    ) {
        let Some((rng, serial, code)) = self.leave_negotiation() else {
            return;
        };
        let params = self.auth.clone().bound(negotiated);
        let mut auth = DeviceAuthCore::first(params, rng, serial, code);
        auth.start(out, now);
        self.phase = Phase::Authenticating(auth);
    }
}

impl<I: Instant, R: CryptoRngCore> Session<DeviceConnectionEvent> for DevicePhases<I, R> {
    type Fault = ConnectionFault;
    type Refusal = ConnectionRefusal;
    type Error = ConnectionEnd;

    fn end(&mut self, out: &mut Out<DeviceConnectionEvent>, end: ConnectionEnd) {
        self.phase = Phase::Done;
        out.end(DeviceConnectionEvent::Ended(end));
    }

    fn frame(
        &mut self,
        out: &mut Out<DeviceConnectionEvent>,
        now: I,
        frame: &ControlFrame<'_>,
    ) -> Result<(), ConnectionEnd> {
        match &mut self.phase {
            Phase::Negotiating { negotiation, .. } => {
                negotiation
                    .frame(out, now, frame)
                    .map_err(|e| from_negotiation(e.into()))?;
                if let Some(negotiated) = negotiation.negotiated() {
                    self.authenticate(out, now, negotiated);
                }
            }
            Phase::Authenticating(auth) => auth.frame(out, now, frame).map_err(from_auth)?,
            Phase::Done => {}
        }
        Ok(())
    }

    fn broken(&self, e: FrameError) -> ConnectionEnd {
        Phases::broken(self, e)
    }
}

session::framed_machine!(
    DeviceConnection<I, R> where { I: Instant, R: CryptoRngCore },
    event: DeviceConnectionEvent,
    peer: "LBS",
    deadline: "the deadline of the current phase",
);
