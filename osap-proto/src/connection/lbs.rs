//! The LBS side of one device connection: negotiation then first
//! authentication, or a refresh at once (section 5; section 6).

use alloc::string::String;

use iot_sansio::store::{AnswerError, RequestId};
use iot_sansio::{End, Instant, Outbox};
use rand_core::CryptoRngCore;

use super::common::{
    ConnectionEnd, ConnectionFault, ConnectionRefusal, Phase, Phases, from_auth, from_negotiation,
};
use crate::auth::{
    AuthConfig, AuthFrame, AuthKind, DeviceDirectory, DirectoryAnswer, DirectoryRequest,
    LbsAuthCore, LbsAuthEvent,
};
use crate::control::{ControlFrame, Suite};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::negotiation::{
    LbsNegotiationConfig, LbsNegotiationCore, LbsNegotiationEvent, Negotiated,
};
use crate::session::{self, Out, Session};

/// How the LBS serves a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbsConnectionConfig {
    /// The negotiation: supported types and groups, ranking, request
    /// timeout.
    pub negotiation: LbsNegotiationConfig,
    /// The authentication's key derivation and timeout. Its protocol
    /// type, suite and version are replaced by what the negotiation chose
    /// ([`AuthConfig::bound`]), or for a refresh by what the device
    /// enrolled with ([`AuthConfig::enrolled_with`]).
    pub auth: AuthConfig,
}

impl LbsConnectionConfig {
    /// Serves `negotiation` with the default authentication parameters.
    #[must_use]
    pub fn new(negotiation: LbsNegotiationConfig) -> Self {
        Self {
            negotiation,
            auth: AuthConfig::new(0, Suite::Aes128Gcm),
        }
    }
}

/// What the LBS side of a connection reports: what its negotiation and
/// its authentication report, each converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsConnectionEvent<I> {
    /// The negotiation chose a protocol (Figure 1); the authentication
    /// follows on this connection, bound to it.
    Negotiated(Negotiated),
    /// The LBS asks its directory (one that does not answer at once):
    /// answer with [`LbsConnection::provide`].
    Directory(DirectoryRequest<I>),
    /// A device completed first authentication, confirmed its devid (0x9)
    /// and its enrolment is stored: it is enrolled (the MQTT registration
    /// with the DAS comes later).
    Enrolled {
        /// The devid.
        devid: String,
    },
    /// The device was sent its DAS address (its sessionkey was stored
    /// first, for the DAS to read): the connection is done; close it.
    Redirected {
        /// The devid.
        devid: String,
        /// The address sent.
        address: String,
    },
    /// The connection ended without a redirect; close it. Frames queued
    /// before (a counter-offer, a refusal) are still to be written.
    Ended(ConnectionEnd),
}

impl<I> From<LbsNegotiationEvent> for LbsConnectionEvent<I> {
    fn from(event: LbsNegotiationEvent) -> Self {
        match event {
            LbsNegotiationEvent::Negotiated(n) => Self::Negotiated(n),
            LbsNegotiationEvent::Ended(end) => Self::Ended(from_negotiation(end)),
        }
    }
}

impl<I> From<LbsAuthEvent<I>> for LbsConnectionEvent<I> {
    fn from(event: LbsAuthEvent<I>) -> Self {
        match event {
            LbsAuthEvent::Directory(request) => Self::Directory(request),
            LbsAuthEvent::Enrolled { devid } => Self::Enrolled { devid },
            LbsAuthEvent::Redirected { devid, address } => Self::Redirected { devid, address },
            LbsAuthEvent::Ended(end) => Self::Ended(from_auth(end)),
        }
    }
}

type LbsPhases<I, R, D> = Phases<LbsNegotiationCore<I>, LbsAuthCore<I, R, D>, (R, D)>;

/// The LBS side of one device connection, under the family's contract.
///
/// The first frame decides: a negotiation request (0x1) starts the
/// negotiation (Figures 1 and 2) and, when it chooses a protocol, the
/// first authentication and DAS redirect follow (Figure 3, section 6)
/// bound to it; a `Refresh_SessionKey_Req` (0x4) is a reauthentication
/// (Figure 4), checked against the protocol type and suite the devid
/// enrolled with. One decoder reads the whole connection, so bytes that
/// follow a frame in the same read are never lost at a hand-off.
///
/// ```
/// use core::time::Duration;
/// use iot_sansio::testing::{Driver, pair, rng};
/// use osap_proto::auth::MemoryDirectory;
/// use osap_proto::crypto::VerificationCode;
/// use osap_proto::{DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent,
///     DeviceNegotiationConfig, LbsConnection, LbsConnectionConfig, LbsConnectionEvent,
///     LbsNegotiationConfig, Machine as _, Offer, ProtocolGroup};
///
/// let offer = Offer { protocol_type: 1, group: ProtocolGroup::ALL };
/// let mut directory = MemoryDirectory::new("das.example.net:8883");
/// directory.add_device("SN-1", VerificationCode::new("4711"));
/// let now = Duration::ZERO;
/// let mut lbs = LbsConnection::new(
///     now,
///     LbsConnectionConfig::new(LbsNegotiationConfig::new(vec![offer])),
///     rng(1),
///     &mut directory,
/// );
/// let mut device = DeviceConnection::first(
///     DeviceConnectionConfig::new(DeviceNegotiationConfig::new(vec![offer])),
///     rng(2),
///     "SN-1",
///     VerificationCode::new("4711"),
/// );
/// device.start(now);
/// Driver::new(now).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
/// let events: Vec<_> = std::iter::from_fn(|| device.poll_event()).collect();
/// assert!(matches!(events.last(), Some(DeviceConnectionEvent::DasAddress(a)) if a == "das.example.net:8883"));
/// assert!(std::iter::from_fn(|| lbs.poll_event())
///     .any(|e| matches!(e, LbsConnectionEvent::Redirected { .. })));
/// // The sessionkey was stored, where the DAS reads it, before the redirect.
/// assert_eq!(directory.keys().record("dev-SN-1").map(|r| r.record.epoch), Some(1));
/// ```
pub struct LbsConnection<I, R, D> {
    decoder: FrameDecoder,
    core: LbsPhases<I, R, D>,
    out: Out<LbsConnectionEvent<I>>,
}

impl<I, R, D> core::fmt::Debug for LbsConnection<I, R, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LbsConnection")
            .field("phase", &self.core.name())
            .finish_non_exhaustive()
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> LbsConnection<I, R, D> {
    /// An LBS side of a connection accepted at `now`, waiting for the
    /// device's first frame.
    #[must_use]
    pub fn new(now: I, config: LbsConnectionConfig, rng: R, directory: D) -> Self {
        let phase = Phase::Negotiating {
            negotiation: LbsNegotiationCore::new(now, config.negotiation),
            then: (rng, directory),
        };
        Self {
            decoder: FrameDecoder::default(),
            core: Phases {
                auth: config.auth,
                phase,
            },
            out: Outbox::new(),
        }
    }

    /// The directory's answer to the request `id` of a
    /// [`LbsConnectionEvent::Directory`] event, as
    /// [`LbsAuth::provide`](crate::auth::LbsAuth::provide) takes it (with
    /// its errors).
    ///
    /// # Errors
    ///
    /// [`AnswerError`], as [`LbsAuth::provide`](crate::auth::LbsAuth::provide).
    pub fn provide(
        &mut self,
        now: I,
        id: RequestId,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AnswerError> {
        let Phase::Authenticating(auth) = &mut self.core.phase else {
            return Err(AnswerError::NotAsked(id));
        };
        auth.provide(&mut self.out, now, id, answer)?;
        session::resume(&mut self.decoder, &mut self.core, &mut self.out, now);
        Ok(())
    }
}

type Lbs<I> = LbsConnectionEvent<I>;

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> LbsPhases<I, R, D> {
    /// Takes the phase's RNG and directory on to the authentication, with
    /// `params` made from the configured ones.
    fn authentication(&mut self, now: I, params: impl FnOnce(AuthConfig) -> AuthConfig) {
        let Some((rng, directory)) = self.leave_negotiation() else {
            return;
        };
        let params = params(self.auth.clone());
        self.phase = Phase::Authenticating(LbsAuthCore::new(now, params, rng, directory));
    }

    /// A connection that begins with a refresh (Figure 4): the
    /// authentication runs in the frame's protocol type and suite, which
    /// must be those the devid enrolled with (a refresh in another suite
    /// is refused with `ProtocolMismatch`, once the enrolment is read); an
    /// unknown devid is answered, in the frame's own suite, with a
    /// refusal.
    fn refresh(
        &mut self,
        out: &mut Out<Lbs<I>>,
        now: I,
        frame: &ControlFrame<'_>,
    ) -> Result<(), ConnectionEnd> {
        let parsed = AuthFrame::from_control(frame)
            .map_err(|e| End::PeerFault(ConnectionFault::Auth(e.into())))?;
        self.authentication(now, |base| AuthConfig {
            protocol_type: parsed.protocol_type,
            suite: parsed.suite,
            negotiated: None,
            ..base
        });
        if let Phase::Authenticating(auth) = &mut self.phase {
            session::take_frame(auth, out, now, frame);
        }
        Ok(())
    }
}

/// The negotiation takes one frame and is done: while it waits, a frame
/// is the connection's first, and a refresh (0x4) goes to the
/// authentication instead.
impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> Session<Lbs<I>> for LbsPhases<I, R, D> {
    type Fault = ConnectionFault;
    type Refusal = ConnectionRefusal;
    type Error = ConnectionEnd;

    fn end(&mut self, out: &mut Out<Lbs<I>>, end: ConnectionEnd) {
        self.phase = Phase::Done;
        out.end(Lbs::Ended(end));
    }

    fn frame(
        &mut self,
        out: &mut Out<Lbs<I>>,
        now: I,
        frame: &ControlFrame<'_>,
    ) -> Result<(), ConnectionEnd> {
        match &mut self.phase {
            Phase::Negotiating { .. } if frame.kind == AuthKind::RefreshRequest.code() => {
                self.refresh(out, now, frame)?;
            }
            Phase::Negotiating { negotiation, .. } => {
                negotiation
                    .frame(out, now, frame)
                    .map_err(|e| from_negotiation(e.into()))?;
                if let Some(n) = negotiation.negotiated() {
                    self.authentication(now, |base| base.bound(n));
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

    fn timed_out(&mut self, out: &mut Out<Lbs<I>>, now: I) {
        match &mut self.phase {
            Phase::Authenticating(auth) => Session::<Lbs<I>>::timed_out(auth, out, now),
            _ => self.end(out, End::TimedOut),
        }
    }
}

session::framed_machine!(
    LbsConnection<I, R, D> where { I: Instant, R: CryptoRngCore, D: DeviceDirectory<I> },
    event: LbsConnectionEvent<I>,
    peer: "device",
    deadline: "the deadline of the current phase",
);
