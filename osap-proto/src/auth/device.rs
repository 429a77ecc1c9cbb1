//! The device side of the authentication and DAS redirect (section 5,
//! Figures 3 and 4; section 6).

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{End, Instant, Outbox};
use rand_core::CryptoRngCore;

use super::config::AuthConfig;
use super::directory::Enrolled;
use super::error::{AuthEnd, AuthFault, AuthRefusal, accepted, crypto_err};
use super::message::{AuthFrame, AuthKind, AuthMessage, NONCE_LEN};
use crate::control::ControlFrame;
use crate::crypto::{EcdhKeyPair, KEY_LEN, MasterKey, SessionKey, ShareKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::session::{self, Liveness, Out, Session};

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
    core: DeviceAuthCore<I, R>,
    out: Out<DeviceAuthEvent>,
}

/// The device side's steps, run by [`DeviceAuth`] or by the device
/// connection.
pub(crate) struct DeviceAuthCore<I, R> {
    params: AuthConfig,
    rng: R,
    serial: String,
    code: Option<VerificationCode>,
    stored: Option<(String, MasterKey)>,
    step: DeviceStep,
    nonce: [u8; NONCE_LEN],
    expect: AuthKind,
    deadline: Option<I>,
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
    /// First authentication (Figure 3) of a device with its serial number
    /// and verification code; nonces, keys and IVs come from `rng`.
    #[must_use]
    pub fn first(
        params: AuthConfig,
        rng: R,
        serial: impl Into<String>,
        code: VerificationCode,
    ) -> Self {
        Self::with(DeviceAuthCore::first(params, rng, serial.into(), code))
    }

    /// Reauthentication (Figure 4) of a device that kept what it enrolled
    /// as in a first authentication; `params` are usually
    /// [`AuthConfig::refresh`]`(&enrolled)`.
    #[must_use]
    pub fn reauthenticate(params: AuthConfig, rng: R, enrolled: Enrolled) -> Self {
        Self::with(DeviceAuthCore::reauthenticate(params, rng, enrolled))
    }

    fn with(core: DeviceAuthCore<I, R>) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core,
            out: Outbox::new(),
        }
    }

    /// Sends the first message: `Authentication_ECDH_Req` for a first
    /// authentication, `Refresh_SessionKey_Req` for a reauthentication.
    pub fn start(&mut self, now: I) {
        self.core.start(&mut self.out, now);
    }
}

impl<I: Instant, R: CryptoRngCore> DeviceAuthCore<I, R> {
    fn with(
        params: AuthConfig,
        rng: R,
        serial: String,
        code: Option<VerificationCode>,
        stored: Option<(String, MasterKey)>,
    ) -> Self {
        Self {
            params,
            rng,
            serial,
            code,
            stored,
            step: DeviceStep::Idle,
            nonce: [0; NONCE_LEN],
            expect: AuthKind::EcdhResponse,
            deadline: None,
        }
    }

    pub(crate) fn first(
        params: AuthConfig,
        rng: R,
        serial: String,
        code: VerificationCode,
    ) -> Self {
        Self::with(params, rng, serial, Some(code), None)
    }

    pub(crate) fn reauthenticate(params: AuthConfig, rng: R, enrolled: Enrolled) -> Self {
        let Enrolled {
            devid, master_key, ..
        } = enrolled;
        Self::with(params, rng, String::new(), None, Some((devid, master_key)))
    }

    /// Sends the first message, once.
    pub(crate) fn start<E: From<DeviceAuthEvent>>(&mut self, out: &mut Out<E>, now: I) {
        if !matches!(self.step, DeviceStep::Idle) {
            return;
        }
        if let Err(end) = self.begin(out, now) {
            self.end(out, end);
        }
    }

    /// Queues a request and waits, until the deadline, for `expect`.
    fn send<E>(
        &mut self,
        out: &mut Out<E>,
        message: AuthMessage,
        now: I,
        expect: AuthKind,
    ) -> Result<(), AuthFault> {
        self.params.send(out, self.nonce, message)?;
        self.expect = expect;
        self.deadline = Some(now + self.params.timeout);
        Ok(())
    }

    fn fresh_nonce(&mut self) {
        self.rng.fill_bytes(&mut self.nonce);
    }

    /// A fresh nonce, and a proof over `data` sealed with `key` for a
    /// message of kind `kind`.
    fn prove(
        &mut self,
        key: &[u8; KEY_LEN],
        kind: AuthKind,
        data: &[u8],
    ) -> Result<Vec<u8>, AuthFault> {
        self.fresh_nonce();
        self.params
            .seal(key, kind, &self.nonce, data, &mut self.rng, "proof")
    }

    fn begin<E>(&mut self, out: &mut Out<E>, now: I) -> Result<(), AuthEnd> {
        if let Some((devid, master)) = self.stored.take() {
            let proof = self.prove(master.expose(), AuthKind::RefreshRequest, devid.as_bytes())?;
            let message = AuthMessage::RefreshRequest {
                devid: devid.clone(),
                proof,
            };
            self.send(out, message, now, AuthKind::RefreshResponse)?;
            self.step = DeviceStep::AwaitRefresh { devid, master };
            return Ok(());
        }
        let Some(code) = self.code.take() else {
            return Ok(());
        };
        self.fresh_nonce();
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
        let message = AuthMessage::EcdhRequest {
            serial: self.serial.clone(),
            sealed_public_key,
        };
        self.send(out, message, now, AuthKind::EcdhResponse)?;
        self.step = DeviceStep::AwaitEcdh { pair, share };
        Ok(())
    }

    /// Takes one authentication message from the LBS; an error ends the
    /// authentication.
    fn handle_frame<E: From<DeviceAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
    ) -> Result<(), AuthEnd> {
        if !self.is_waiting() {
            return Ok(());
        }
        let k = frame.message.kind();
        let unexpected = AuthFault::UnexpectedMessage {
            expected: self.expect,
            got: k,
        };
        if k != self.expect {
            return Err(End::PeerFault(unexpected));
        }
        self.params.check(frame)?;
        if frame.nonce != self.nonce {
            return Err(AuthFault::NonceMismatch.into());
        }
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
                self.on_ecdh(out, now, &pair, &share, sealed_public_key)
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
                self.on_devid(out, now, master, sealed_devid, sealed_session_key)
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
                        .open_session_key(&master, k, &self.nonce, sealed_session_key)?;
                out.event(DeviceAuthEvent::SessionKey(session.clone()).into());
                Ok(self.request_das(out, &devid, session, now)?)
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
                    &self.nonce,
                    sealed_address,
                    "DAS address",
                )?;
                self.deadline = None;
                out.event(DeviceAuthEvent::DasAddress(address).into());
                Ok(())
            }
            _ => Err(End::PeerFault(unexpected)),
        }
    }

    /// `Authentication_ECDH_Rsp`: the master key, then the devid request.
    fn on_ecdh<E>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        pair: &EcdhKeyPair,
        share: &ShareKey,
        sealed_public_key: &[u8],
    ) -> Result<(), AuthEnd> {
        let lbs_public = self.params.open(
            share.expose(),
            AuthKind::EcdhResponse,
            &self.nonce,
            sealed_public_key,
            "LBS public key",
        )?;
        let master = pair
            .master_key(&lbs_public, self.params.master_key)
            .map_err(crypto_err("LBS public key"))?;
        let serial = self.serial.clone();
        let proof = self.prove(
            master.expose(),
            AuthKind::ApplyDevidRequest,
            serial.as_bytes(),
        )?;
        let message = AuthMessage::ApplyDevidRequest { serial, proof };
        self.send(out, message, now, AuthKind::ApplyDevidResponse)?;
        self.step = DeviceStep::AwaitDevid { master };
        Ok(())
    }

    /// `Apply_Devid_Rsp`: enrolled; confirm (0x9), then ask for the DAS
    /// address on the same connection (section 6).
    fn on_devid<E: From<DeviceAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        master: MasterKey,
        sealed_devid: &[u8],
        sealed_session_key: &[u8],
    ) -> Result<(), AuthEnd> {
        let k = AuthKind::ApplyDevidResponse;
        let devid =
            self.params
                .open_text(master.expose(), k, &self.nonce, sealed_devid, "devid")?;
        let session = self
            .params
            .open_session_key(&master, k, &self.nonce, sealed_session_key)?;
        out.event(
            DeviceAuthEvent::Enrolled(Enrolled {
                devid: devid.clone(),
                master_key: master,
                protocol_type: self.params.protocol_type,
                suite: self.params.suite,
            })
            .into(),
        );
        out.event(DeviceAuthEvent::SessionKey(session.clone()).into());
        let proof = self.prove(
            session.expose(),
            AuthKind::ApplyDevidConfirm,
            devid.as_bytes(),
        )?;
        let confirm = AuthMessage::ApplyDevidConfirm {
            devid: devid.clone(),
            proof,
        };
        self.params.send(out, self.nonce, confirm)?;
        Ok(self.request_das(out, &devid, session, now)?)
    }

    fn request_das<E>(
        &mut self,
        out: &mut Out<E>,
        devid: &str,
        session: SessionKey,
        now: I,
    ) -> Result<(), AuthFault> {
        let proof = self.prove(session.expose(), AuthKind::DasRequest, devid.as_bytes())?;
        let message = AuthMessage::DasRequest {
            devid: String::from(devid),
            proof,
        };
        self.send(out, message, now, AuthKind::DasResponse)?;
        self.step = DeviceStep::AwaitDas { session };
        Ok(())
    }

    fn is_waiting(&self) -> bool {
        !matches!(self.step, DeviceStep::Done | DeviceStep::Idle) && self.deadline.is_some()
    }
}

impl<I: Instant, R: CryptoRngCore> Liveness for DeviceAuthCore<I, R> {
    type Instant = I;

    fn is_live(&self) -> bool {
        self.is_waiting()
    }

    fn deadline(&self) -> Option<I> {
        self.deadline
    }
}

impl<I: Instant, R: CryptoRngCore, E: From<DeviceAuthEvent>> Session<E> for DeviceAuthCore<I, R> {
    type Fault = AuthFault;
    type Refusal = AuthRefusal;
    type Error = AuthEnd;

    fn end(&mut self, out: &mut Out<E>, end: AuthEnd) {
        self.step = DeviceStep::Done;
        self.deadline = None;
        out.end(E::from(DeviceAuthEvent::Ended(end)));
    }

    fn frame(&mut self, out: &mut Out<E>, now: I, frame: &ControlFrame<'_>) -> Result<(), AuthEnd> {
        self.handle_frame(out, now, &AuthFrame::from_control(frame)?)
    }

    fn broken(&self, e: FrameError) -> AuthEnd {
        e.into()
    }
}

session::framed_machine!(
    DeviceAuth<I, R> where { I: Instant, R: CryptoRngCore },
    event: DeviceAuthEvent,
    peer: "LBS",
    deadline: "the deadline of the awaited answer",
);
