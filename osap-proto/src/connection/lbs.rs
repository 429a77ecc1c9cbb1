//! The LBS side of one device connection: negotiation then first
//! authentication, or a refresh at once (section 5; section 6).

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::common::{Act, ConnectionEnd, Inner, drain, fault, from_auth, from_negotiation};
use crate::auth::{
    AuthConfig, AuthFrame, AuthKind, AuthMessage, DeviceDirectory, LbsAuth, LbsAuthEvent,
};
use crate::control::{ControlFrame, Suite};
use crate::crypto::SessionKey;
use crate::decoder::FrameDecoder;
use crate::negotiation::{LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent, Negotiated};

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

/// What the LBS side of a connection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsConnectionEvent {
    /// The negotiation chose a protocol (Figure 1); the authentication
    /// follows on this connection, bound to it.
    Negotiated(Negotiated),
    /// A device completed first authentication, confirmed its devid (0x9)
    /// and was kept in the directory: it is enrolled (the MQTT
    /// registration with the DAS comes later).
    Enrolled {
        /// The devid.
        devid: String,
    },
    /// A sessionkey was issued: hand it to the DAS
    /// ([`KeyTable::insert`](crate::das::KeyTable::insert) in one
    /// process, or the store the DAS processes share).
    SessionIssued {
        /// The devid.
        devid: String,
        /// The sessionkey.
        session_key: SessionKey,
        /// The suite it is used with.
        suite: Suite,
    },
    /// The device was sent its DAS address: the connection is done; close
    /// it.
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

enum Phase<I, R, D> {
    Negotiating {
        machine: LbsNegotiation<I>,
        rng: R,
        directory: D,
    },
    Authenticating(LbsAuth<I, R, D>),
    Done,
}

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
///     .any(|e| matches!(e, LbsConnectionEvent::SessionIssued { .. })));
/// ```
pub struct LbsConnection<I, R, D> {
    decoder: FrameDecoder,
    auth: AuthConfig,
    phase: Phase<I, R, D>,
    out: Outbox<Vec<u8>, LbsConnectionEvent>,
}

impl<I, R, D> core::fmt::Debug for LbsConnection<I, R, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let phase = match self.phase {
            Phase::Negotiating { .. } => "negotiating",
            Phase::Authenticating(_) => "authenticating",
            Phase::Done => "done",
        };
        f.debug_struct("LbsConnection")
            .field("phase", &phase)
            .finish_non_exhaustive()
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> LbsConnection<I, R, D> {
    /// An LBS side of a connection accepted at `now`, waiting for the
    /// device's first frame.
    #[must_use]
    pub fn new(now: I, config: LbsConnectionConfig, rng: R, directory: D) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            auth: config.auth,
            phase: Phase::Negotiating {
                machine: LbsNegotiation::new(now, config.negotiation),
                rng,
                directory,
            },
            out: Outbox::new(),
        }
    }

    /// Whether the connection still reads frames.
    fn is_live(&self) -> bool {
        !matches!(self.phase, Phase::Done)
    }

    /// Hands `act` to the machine of the current phase and moves on. The
    /// negotiation takes one frame and is done: while it waits, a frame is
    /// the connection's first, and a refresh (0x4) goes to the
    /// authentication instead.
    fn act(&mut self, act: Act<'_, '_, I>) {
        let now = act.now();
        self.phase = match (core::mem::replace(&mut self.phase, Phase::Done), act) {
            (Phase::Negotiating { rng, directory, .. }, Act::Frame(_, frame))
                if frame.kind == AuthKind::RefreshRequest.code() =>
            {
                self.refresh(now, frame, rng, directory)
            }
            (
                Phase::Negotiating {
                    mut machine,
                    rng,
                    directory,
                },
                act,
            ) => {
                machine.act(act);
                self.negotiated(now, machine, rng, directory)
            }
            (Phase::Authenticating(mut auth), act) => {
                auth.act(act);
                self.authenticating(auth)
            }
            (Phase::Done, _) => Phase::Done,
        };
    }

    /// A connection that begins with a refresh (Figure 4): the
    /// authentication runs with the protocol type and suite the devid
    /// enrolled with, so a refresh in another suite is refused
    /// (`ProtocolMismatch`); an unknown devid is answered, in the frame's
    /// own suite, with a refusal.
    fn refresh(
        &mut self,
        now: I,
        frame: &ControlFrame<'_>,
        rng: R,
        directory: D,
    ) -> Phase<I, R, D> {
        let parsed = match AuthFrame::from_control(frame) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.out.end(LbsConnectionEvent::Ended(fault(e, true)));
                return Phase::Done;
            }
        };
        let enrolled = match &parsed.message {
            AuthMessage::RefreshRequest { devid, .. } => directory.enrolled(devid),
            _ => None,
        };
        let params = match enrolled {
            Some(enrolled) => self.auth.clone().enrolled_with(&enrolled),
            None => AuthConfig {
                protocol_type: parsed.protocol_type,
                suite: parsed.suite,
                negotiated: None,
                ..self.auth.clone()
            },
        };
        let mut auth = LbsAuth::new(now, params, rng, directory);
        auth.take_frame(now, frame);
        self.authenticating(auth)
    }

    /// After the negotiation took a frame: on to the authentication bound
    /// to it, or the end.
    fn negotiated(
        &mut self,
        now: I,
        mut machine: LbsNegotiation<I>,
        rng: R,
        directory: D,
    ) -> Phase<I, R, D> {
        let mut chosen = None;
        drain(&mut machine, &mut self.out, |event, out| match event {
            LbsNegotiationEvent::Negotiated(n) => {
                chosen = Some(n);
                out.event(LbsConnectionEvent::Negotiated(n));
            }
            LbsNegotiationEvent::Ended(end) => {
                out.end(LbsConnectionEvent::Ended(from_negotiation(end)));
            }
        });
        match chosen {
            Some(n) => Phase::Authenticating(LbsAuth::new(
                now,
                self.auth.clone().bound(n),
                rng,
                directory,
            )),
            None if machine.poll_timeout().is_some() => Phase::Negotiating {
                machine,
                rng,
                directory,
            },
            None => Phase::Done,
        }
    }

    /// After the authentication took a frame (or time passed).
    fn authenticating(&mut self, mut auth: LbsAuth<I, R, D>) -> Phase<I, R, D> {
        let mut live = true;
        drain(&mut auth, &mut self.out, |event, out| match event {
            LbsAuthEvent::Enrolled { devid } => {
                out.event(LbsConnectionEvent::Enrolled { devid });
            }
            LbsAuthEvent::SessionIssued {
                devid,
                session_key,
                suite,
            } => out.event(LbsConnectionEvent::SessionIssued {
                devid,
                session_key,
                suite,
            }),
            LbsAuthEvent::Redirected { devid, address } => {
                live = false;
                out.event(LbsConnectionEvent::Redirected { devid, address });
            }
            LbsAuthEvent::Ended(end) => {
                live = false;
                out.end(LbsConnectionEvent::Ended(from_auth(end)));
            }
        });
        if live {
            Phase::Authenticating(auth)
        } else {
            Phase::Done
        }
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> Machine for LbsConnection<I, R, D> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = LbsConnectionEvent;

    /// Takes bytes from the device, or the news that it closed the
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
            self.out.end(LbsConnectionEvent::Ended(fault(e, in_auth)));
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

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, LbsConnectionEvent> {
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
