//! The device side of the authentication and DAS redirect (section 5,
//! Figures 3 and 4; section 6).

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::config::AuthConfig;
use super::directory::Enrolled;
use super::error::{AuthEnd, AuthFault, AuthRefusal, accepted, crypto_err};
use super::message::{AuthFrame, AuthKind, AuthMessage, NONCE_LEN};
use crate::control::ControlFrame;
use crate::crypto::{EcdhKeyPair, MasterKey, SessionKey, ShareKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::session::{self, Session};

/// What the device side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAuthEvent {
    /// First authentication succeeded (Figure 3): keep the record for
    /// reauthentication (Figure 4).
    Enrolled(Enrolled),
    /// A sessionkey was issued (first authentication) or refreshed
    /// (Figure 4).
    SessionKey(SessionKey),
    /// The DAS address (section 6): connect there with the sessionkey.
    DasAddress(String),
    /// The authentication failed; close the connection.
    Ended(AuthEnd),
}

impl From<AuthEnd> for DeviceAuthEvent {
    fn from(end: AuthEnd) -> Self {
        Self::Ended(end)
    }
}

enum DeviceStep {
    Idle,
    AwaitEcdh { pair: EcdhKeyPair, share: ShareKey },
    AwaitDevid { master: MasterKey },
    AwaitRefresh { devid: String, master: MasterKey },
    AwaitDas { session: SessionKey },
    Done,
}

/// The device side of the authentication and DAS redirect, on the
/// connection where the negotiation ran.
///
/// ```
/// use core::time::Duration;
/// use osap_proto::auth::{AuthConfig, DeviceAuth, DeviceAuthEvent, LbsAuth, MemoryDirectory};
/// use osap_proto::crypto::VerificationCode;
/// use osap_proto::{Machine as _, Suite};
/// use iot_sansio::testing::{Driver, pair, rng};
///
/// let mut directory = MemoryDirectory::new("das1.example.com:8883");
/// directory.add_device("SN-1", VerificationCode::new("4711"));
/// let params = AuthConfig::new(1, Suite::Aes128Gcm);
/// let now = Duration::ZERO;
/// let code = VerificationCode::new("4711");
/// let mut device = DeviceAuth::first(params.clone(), rng(1), "SN-1", code);
/// let mut lbs = LbsAuth::new(now, params, rng(2), directory);
///
/// device.start(now);
/// Driver::new(now).run(&mut [&mut device, &mut lbs], pair(|_, _| {}));
/// let events: Vec<_> = std::iter::from_fn(|| device.poll_event()).collect();
/// assert!(matches!(events.last(), Some(DeviceAuthEvent::DasAddress(a)) if a == "das1.example.com:8883"));
/// ```
pub struct DeviceAuth<I, R> {
    decoder: FrameDecoder,
    core: Core<I, R>,
}

struct Core<I, R> {
    params: AuthConfig,
    rng: R,
    serial: String,
    code: Option<VerificationCode>,
    stored: Option<(String, MasterKey)>,
    step: DeviceStep,
    nonce: [u8; NONCE_LEN],
    expect: AuthKind,
    deadline: Option<I>,
    out: Outbox<Vec<u8>, DeviceAuthEvent>,
}

impl<I, R> core::fmt::Debug for DeviceAuth<I, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceAuth")
            .field("serial", &self.core.serial)
            .field("expect", &self.core.expect)
            .finish_non_exhaustive()
    }
}

impl<I: Instant, R: CryptoRngCore> DeviceAuth<I, R> {
    /// Takes one frame cut from the stream by the LBS or device
    /// connection that runs this machine.
    pub(crate) fn take_frame(&mut self, now: I, frame: &ControlFrame<'_>) -> bool {
        session::take_frame(&mut self.core, now, frame)
    }

    fn with(
        params: AuthConfig,
        rng: R,
        serial: String,
        code: Option<VerificationCode>,
        stored: Option<(String, MasterKey)>,
    ) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core: Core {
                params,
                rng,
                serial,
                code,
                stored,
                step: DeviceStep::Idle,
                nonce: [0; NONCE_LEN],
                expect: AuthKind::EcdhResponse,
                deadline: None,
                out: Outbox::new(),
            },
        }
    }

    /// First authentication (Figure 3) of a device with its serial number
    /// and verification code; nonces, keys and IVs come from `rng`.
    #[must_use]
    pub fn first(
        params: AuthConfig,
        rng: R,
        serial: impl Into<String>,
        code: VerificationCode,
    ) -> Self {
        Self::with(params, rng, serial.into(), Some(code), None)
    }

    /// Reauthentication (Figure 4) of a device that kept what it enrolled
    /// as in a first authentication; `params` are usually
    /// [`AuthConfig::refresh`]`(&enrolled)`.
    #[must_use]
    pub fn reauthenticate(params: AuthConfig, rng: R, enrolled: Enrolled) -> Self {
        let Enrolled {
            devid, master_key, ..
        } = enrolled;
        Self::with(params, rng, String::new(), None, Some((devid, master_key)))
    }

    /// Sends the first message: `Authentication_ECDH_Req` for a first
    /// authentication, `Refresh_SessionKey_Req` for a reauthentication.
    pub fn start(&mut self, now: I) {
        let core = &mut self.core;
        if !matches!(core.step, DeviceStep::Idle) {
            return;
        }
        if let Err(end) = core.begin(now) {
            core.end(end);
        }
    }
}

impl<I: Instant, R: CryptoRngCore> Core<I, R> {
    /// Queues a request and waits, until the deadline, for `expect`.
    fn send(&mut self, message: AuthMessage, now: I, expect: AuthKind) -> Result<(), AuthFault> {
        self.params.send(&mut self.out, self.nonce, message)?;
        self.expect = expect;
        self.deadline = Some(now + self.params.timeout);
        Ok(())
    }

    fn fresh_nonce(&mut self) {
        self.rng.fill_bytes(&mut self.nonce);
    }

    fn begin(&mut self, now: I) -> Result<(), AuthEnd> {
        self.fresh_nonce();
        if let Some((devid, master)) = self.stored.take() {
            let proof = self.params.seal(
                master.expose(),
                AuthKind::RefreshRequest,
                &self.nonce,
                devid.as_bytes(),
                &mut self.rng,
                "proof",
            )?;
            self.send(
                AuthMessage::RefreshRequest {
                    devid: devid.clone(),
                    proof,
                },
                now,
                AuthKind::RefreshResponse,
            )?;
            self.step = DeviceStep::AwaitRefresh { devid, master };
            return Ok(());
        }
        let Some(code) = self.code.take() else {
            return Ok(());
        };
        let pair = EcdhKeyPair::generate(&mut self.rng);
        let share = ShareKey::derive(&code, &self.serial, &self.params.share_key);
        let sealed_public_key = self.params.seal(
            share.expose(),
            AuthKind::EcdhRequest,
            &self.nonce,
            &pair.public_key(),
            &mut self.rng,
            "device public key",
        )?;
        self.send(
            AuthMessage::EcdhRequest {
                serial: self.serial.clone(),
                sealed_public_key,
            },
            now,
            AuthKind::EcdhResponse,
        )?;
        self.step = DeviceStep::AwaitEcdh { pair, share };
        Ok(())
    }

    /// Takes one authentication message from the LBS; an error ends the
    /// authentication.
    fn handle_frame(&mut self, now: I, frame: &AuthFrame) -> Result<(), AuthEnd> {
        if !self.is_waiting() {
            return Ok(());
        }
        if frame.message.kind() != self.expect {
            return Err(End::PeerFault(AuthFault::UnexpectedMessage {
                expected: self.expect,
                got: frame.message.kind(),
            }));
        }
        self.params.check(frame)?;
        if frame.nonce != self.nonce {
            return Err(AuthFault::NonceMismatch.into());
        }
        let nonce = self.nonce;
        let k = frame.message.kind();
        let step = core::mem::replace(&mut self.step, DeviceStep::Done);
        match (step, &frame.message) {
            (
                DeviceStep::AwaitEcdh { pair, share },
                AuthMessage::EcdhResponse {
                    result,
                    sealed_public_key,
                },
            ) => {
                accepted(*result)?;
                let lbs_public = self.params.open(
                    share.expose(),
                    k,
                    &nonce,
                    sealed_public_key,
                    "LBS public key",
                )?;
                let master = pair
                    .master_key(&lbs_public, self.params.master_key)
                    .map_err(crypto_err("LBS public key"))?;
                self.fresh_nonce();
                let proof = self.params.seal(
                    master.expose(),
                    AuthKind::ApplyDevidRequest,
                    &self.nonce,
                    self.serial.as_bytes(),
                    &mut self.rng,
                    "proof",
                )?;
                let serial = self.serial.clone();
                self.send(
                    AuthMessage::ApplyDevidRequest { serial, proof },
                    now,
                    AuthKind::ApplyDevidResponse,
                )?;
                self.step = DeviceStep::AwaitDevid { master };
            }
            (
                DeviceStep::AwaitDevid { master },
                AuthMessage::ApplyDevidResponse {
                    result,
                    sealed_devid,
                    sealed_session_key,
                },
            ) => {
                accepted(*result)?;
                let devid =
                    self.params
                        .open_text(master.expose(), k, &nonce, sealed_devid, "devid")?;
                let session =
                    self.params
                        .open_session_key(&master, k, &nonce, sealed_session_key)?;
                self.out.event(DeviceAuthEvent::Enrolled(Enrolled {
                    devid: devid.clone(),
                    master_key: master,
                    protocol_type: self.params.protocol_type,
                    suite: self.params.suite,
                }));
                self.out.event(DeviceAuthEvent::SessionKey(session.clone()));
                // Confirm (0x9), then ask for the DAS address in the same
                // connection (section 6).
                self.fresh_nonce();
                let proof = self.params.seal(
                    session.expose(),
                    AuthKind::ApplyDevidConfirm,
                    &self.nonce,
                    devid.as_bytes(),
                    &mut self.rng,
                    "proof",
                )?;
                self.params.send(
                    &mut self.out,
                    self.nonce,
                    AuthMessage::ApplyDevidConfirm {
                        devid: devid.clone(),
                        proof,
                    },
                )?;
                self.request_das(&devid, session, now)?;
            }
            (
                DeviceStep::AwaitRefresh { devid, master },
                AuthMessage::RefreshResponse {
                    result,
                    sealed_session_key,
                },
            ) => {
                accepted(*result)?;
                let session =
                    self.params
                        .open_session_key(&master, k, &nonce, sealed_session_key)?;
                self.out.event(DeviceAuthEvent::SessionKey(session.clone()));
                self.request_das(&devid, session, now)?;
            }
            (
                DeviceStep::AwaitDas { session, .. },
                AuthMessage::DasResponse {
                    result,
                    sealed_address,
                },
            ) => {
                accepted(*result)?;
                let address = self.params.open_text(
                    session.expose(),
                    k,
                    &nonce,
                    sealed_address,
                    "DAS address",
                )?;
                self.deadline = None;
                self.out.event(DeviceAuthEvent::DasAddress(address));
            }
            _ => {
                return Err(End::PeerFault(AuthFault::UnexpectedMessage {
                    expected: self.expect,
                    got: k,
                }));
            }
        }
        Ok(())
    }

    fn request_das(&mut self, devid: &str, session: SessionKey, now: I) -> Result<(), AuthFault> {
        self.fresh_nonce();
        let proof = self.params.seal(
            session.expose(),
            AuthKind::DasRequest,
            &self.nonce,
            devid.as_bytes(),
            &mut self.rng,
            "proof",
        )?;
        self.send(
            AuthMessage::DasRequest {
                devid: String::from(devid),
                proof,
            },
            now,
            AuthKind::DasResponse,
        )?;
        self.step = DeviceStep::AwaitDas { session };
        Ok(())
    }

    fn is_waiting(&self) -> bool {
        !matches!(self.step, DeviceStep::Done | DeviceStep::Idle) && self.deadline.is_some()
    }
}

impl<I: Instant, R: CryptoRngCore> Session for Core<I, R> {
    type Instant = I;
    type Fault = AuthFault;
    type Refusal = AuthRefusal;
    type Error = AuthEnd;

    fn is_live(&self) -> bool {
        self.is_waiting()
    }

    fn deadline(&self) -> Option<I> {
        self.deadline
    }

    fn end(&mut self, end: AuthEnd) {
        self.step = DeviceStep::Done;
        self.deadline = None;
        self.out.end(end);
    }

    fn frame(&mut self, now: I, frame: &ControlFrame<'_>) -> Result<(), AuthEnd> {
        self.handle_frame(now, &AuthFrame::from_control(frame)?)
    }
}

impl<I: Instant, R: CryptoRngCore> Machine for DeviceAuth<I, R> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = DeviceAuthEvent;

    /// Takes bytes from the LBS, or the news that it closed the connection.
    fn handle_input(&mut self, now: I, input: Input<'_, [u8]>) {
        session::handle_input(&mut self.decoder, &mut self.core, now, input);
    }

    /// Past the deadline the authentication ends with [`End::TimedOut`].
    fn handle_timeout(&mut self, now: I) {
        session::handle_timeout(&mut self.core, now);
    }

    fn poll_timeout(&self) -> Option<I> {
        self.core.deadline
    }

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, DeviceAuthEvent> {
        self.core.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.core.out.recycle(frame);
    }
}
