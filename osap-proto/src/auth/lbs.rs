//! The LBS side of the authentication and DAS redirect (section 5,
//! Figures 3 and 4; section 6), and the directory of devices it asks.

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{End, Instant, Outbox};
use rand_core::CryptoRngCore;

use super::config::AuthConfig;
use super::directory::{DeviceDirectory, Enrolled};
use super::error::{AuthEnd, AuthFault, AuthRefusal};
use super::message::{AuthFrame, AuthKind, AuthMessage, AuthResult, NONCE_LEN};
use crate::control::{ControlFrame, Suite};
use crate::crypto::{EcdhKeyPair, KEY_LEN, MasterKey, SessionKey, ShareKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::session::{self, Liveness, Out, Session};

/// What the LBS side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsAuthEvent {
    /// A device completed first authentication and was given a devid: it
    /// is enrolled (the MQTT registration with the DAS comes later).
    Enrolled {
        /// The devid.
        devid: String,
    },
    /// A sessionkey was issued to the device: hand it to the DAS, which
    /// protects the device's business messages with it
    /// ([`KeyTable::issue`](crate::das::KeyTable::issue) or the
    /// runtime's shared store).
    SessionIssued {
        /// The devid.
        devid: String,
        /// The sessionkey.
        session_key: SessionKey,
        /// The suite it is used with.
        suite: Suite,
    },
    /// The device was sent its DAS address; the connection is done.
    Redirected {
        /// The devid.
        devid: String,
        /// The address sent.
        address: String,
    },
    /// The authentication ended without a redirect: the device was
    /// refused (it is told only that; the [`AuthRefusal`] is for the
    /// operator's log), sent something the authentication refuses, or was
    /// silent past the deadline. Close the connection.
    Ended(AuthEnd),
}

impl From<AuthEnd> for LbsAuthEvent {
    fn from(end: AuthEnd) -> Self {
        Self::Ended(end)
    }
}

enum LbsStep {
    AwaitFirst,
    AwaitApplyDevid {
        serial: String,
        master: MasterKey,
    },
    AwaitConfirm {
        serial: String,
        master: MasterKey,
        devid: String,
        session: SessionKey,
    },
    AwaitDas {
        devid: String,
        session: SessionKey,
    },
    /// The directory refused to keep the confirmed devid: the device's
    /// DAS request (which follows its confirmation at once) is refused
    /// with this reason.
    RefuseDas(AuthRefusal),
    Done,
}

impl LbsStep {
    /// The message this step waits for.
    fn expects(&self) -> AuthKind {
        match self {
            Self::AwaitFirst => AuthKind::EcdhRequest,
            Self::AwaitApplyDevid { .. } => AuthKind::ApplyDevidRequest,
            Self::AwaitConfirm { .. } => AuthKind::ApplyDevidConfirm,
            Self::AwaitDas { .. } | Self::RefuseDas(_) | Self::Done => AuthKind::DasRequest,
        }
    }
}

/// The LBS side of the authentication and DAS redirect. It owns the RNG
/// its keys come from and the [`DeviceDirectory`] it asks (a `&mut D`
/// serves when the directory is shared).
pub struct LbsAuth<I, R, D> {
    decoder: FrameDecoder,
    core: LbsAuthCore<I, R, D>,
    out: Out<LbsAuthEvent>,
}

/// The LBS side's steps, run by [`LbsAuth`] or by the LBS connection.
pub(crate) struct LbsAuthCore<I, R, D> {
    params: AuthConfig,
    rng: R,
    directory: D,
    step: LbsStep,
    deadline: Option<I>,
}

impl<I, R, D> core::fmt::Debug for LbsAuth<I, R, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LbsAuth")
            .field("params", &self.core.params)
            .finish_non_exhaustive()
    }
}

/// The verification code used for an unknown serial number, so that
/// refusing it costs the same work as refusing a wrong code.
const DECOY_CODE: &str = "unknown-device";

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> LbsAuth<I, R, D> {
    /// An LBS side waiting, from `now`, for the device's first message.
    #[must_use]
    pub fn new(now: I, params: AuthConfig, rng: R, directory: D) -> Self {
        Self {
            decoder: FrameDecoder::default(),
            core: LbsAuthCore::new(now, params, rng, directory),
            out: Outbox::new(),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &D {
        &self.core.directory
    }

    /// The directory, to change.
    pub fn directory_mut(&mut self) -> &mut D {
        &mut self.core.directory
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> LbsAuthCore<I, R, D> {
    pub(crate) fn new(now: I, params: AuthConfig, rng: R, directory: D) -> Self {
        let deadline = Some(now + params.timeout);
        Self {
            params,
            rng,
            directory,
            step: LbsStep::AwaitFirst,
            deadline,
        }
    }

    /// Waits, until a new deadline, in `step`.
    fn wait(&mut self, step: LbsStep, now: I) {
        self.step = step;
        self.deadline = Some(now + self.params.timeout);
    }

    /// Seals `plain` for the answer `kind` in the exchange `nonce`.
    fn seal(
        &mut self,
        key: &[u8; KEY_LEN],
        kind: AuthKind,
        nonce: &[u8; NONCE_LEN],
        plain: &[u8],
        field: &'static str,
    ) -> Result<Vec<u8>, AuthFault> {
        self.params
            .seal(key, kind, nonce, plain, &mut self.rng, field)
    }

    /// Answers `frame` with a refusal and ends.
    fn refuse<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        frame: &AuthFrame,
        reason: AuthRefusal,
    ) -> Result<(), AuthEnd> {
        let message = match frame.message.kind() {
            AuthKind::EcdhRequest => AuthMessage::EcdhResponse {
                result: AuthResult::Refused,
                sealed_public_key: Vec::new(),
            },
            AuthKind::RefreshRequest => AuthMessage::RefreshResponse {
                result: AuthResult::Refused,
                sealed_session_key: Vec::new(),
            },
            AuthKind::ApplyDevidRequest => AuthMessage::ApplyDevidResponse {
                result: AuthResult::Refused,
                sealed_devid: Vec::new(),
                sealed_session_key: Vec::new(),
            },
            _ => AuthMessage::DasResponse {
                result: AuthResult::Refused,
                sealed_address: Vec::new(),
            },
        };
        self.params.send(out, frame.nonce, message)?;
        self.end(out, End::Refused(reason));
        Ok(())
    }

    /// Takes one authentication message from the device; an error ends
    /// the authentication.
    fn handle_frame<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
    ) -> Result<(), AuthEnd> {
        if matches!(self.step, LbsStep::Done) {
            return Ok(());
        }
        self.params.check(frame)?;
        let step = core::mem::replace(&mut self.step, LbsStep::Done);
        match (step, &frame.message) {
            (
                LbsStep::AwaitFirst,
                AuthMessage::EcdhRequest {
                    serial,
                    sealed_public_key,
                },
            ) => self.on_ecdh(out, now, frame, serial, sealed_public_key),
            (
                LbsStep::AwaitApplyDevid { serial, master },
                AuthMessage::ApplyDevidRequest {
                    serial: claimed,
                    proof,
                },
            ) => {
                if !self.claims(master.expose(), frame, claimed, &serial, proof) {
                    return self.refuse(out, frame, AuthRefusal::BadProof);
                }
                self.on_apply_devid(out, now, frame, serial, master)
            }
            (
                LbsStep::AwaitConfirm {
                    serial,
                    master,
                    devid,
                    session,
                },
                AuthMessage::ApplyDevidConfirm {
                    devid: claimed,
                    proof,
                },
            ) => {
                if !self.claims(session.expose(), frame, claimed, &devid, proof) {
                    return self.refuse(out, frame, AuthRefusal::BadProof);
                }
                self.on_confirm(out, now, &serial, master, devid, session);
                Ok(())
            }
            (LbsStep::AwaitFirst, AuthMessage::RefreshRequest { devid, proof }) => {
                self.on_refresh(out, now, frame, devid, proof)
            }
            (LbsStep::RefuseDas(reason), AuthMessage::DasRequest { .. }) => {
                self.refuse(out, frame, reason)
            }
            (
                LbsStep::AwaitDas { devid, session },
                AuthMessage::DasRequest {
                    devid: claimed,
                    proof,
                },
            ) => {
                if !self.claims(session.expose(), frame, claimed, &devid, proof) {
                    return self.refuse(out, frame, AuthRefusal::BadProof);
                }
                self.on_das(out, frame, devid, &session)
            }
            (step, message) => Err(End::PeerFault(AuthFault::UnexpectedMessage {
                expected: step.expects(),
                got: message.kind(),
            })),
        }
    }

    /// Whether the peer claims `expected` (a serial number or devid) and
    /// proves it: `proof`, in `frame`'s exchange, is it sealed with `key`.
    fn claims(
        &self,
        key: &[u8; KEY_LEN],
        frame: &AuthFrame,
        claimed: &str,
        expected: &str,
        proof: &[u8],
    ) -> bool {
        claimed == expected && self.proves(key, frame, proof, expected.as_bytes())
    }

    /// Whether `proof`, in `frame`'s exchange, is `expected` sealed with
    /// `key`.
    fn proves(
        &self,
        key: &[u8; KEY_LEN],
        frame: &AuthFrame,
        proof: &[u8],
        expected: &[u8],
    ) -> bool {
        let kind = frame.message.kind();
        self.params.proves(key, kind, &frame.nonce, proof, expected)
    }

    /// `Authentication_ECDH_Req`: open the device's public key with the
    /// share key of its serial number, answer with the LBS's.
    fn on_ecdh<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
        serial: &str,
        sealed_public_key: &[u8],
    ) -> Result<(), AuthEnd> {
        let nonce = frame.nonce;
        let known = self.directory.verification_code(serial);
        let code = known
            .clone()
            .unwrap_or_else(|| VerificationCode::new(DECOY_CODE));
        let share = ShareKey::derive(&code, serial, &self.params.share_key);
        let opened = self.params.open(
            share.expose(),
            AuthKind::EcdhRequest,
            &nonce,
            sealed_public_key,
            "device public key",
        );
        let device_public = match (known, opened) {
            (None, _) => return self.refuse(out, frame, AuthRefusal::UnknownDevice),
            (Some(_), Err(_)) => {
                return self.refuse(out, frame, AuthRefusal::WrongVerificationCode);
            }
            (Some(_), Ok(public)) => public,
        };
        let pair = EcdhKeyPair::generate(&mut self.rng);
        let Ok(master) = pair.master_key(&device_public, self.params.master_key) else {
            return self.refuse(out, frame, AuthRefusal::InvalidPublicKey);
        };
        let sealed_public_key = self.seal(
            share.expose(),
            AuthKind::EcdhResponse,
            &nonce,
            &pair.public_key(),
            "LBS public key",
        )?;
        let answer = AuthMessage::EcdhResponse {
            result: AuthResult::Accepted,
            sealed_public_key,
        };
        self.params.send(out, nonce, answer)?;
        let serial = String::from(serial);
        self.wait(LbsStep::AwaitApplyDevid { serial, master }, now);
        Ok(())
    }

    /// `Apply_Devid_Req`, its proof checked: propose a devid and issue a
    /// sessionkey.
    fn on_apply_devid<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
        serial: String,
        master: MasterKey,
    ) -> Result<(), AuthEnd> {
        let nonce = frame.nonce;
        let devid = match self.directory.propose_devid(&serial) {
            Ok(devid) => devid,
            Err(reason) => return self.refuse(out, frame, AuthRefusal::Directory(reason)),
        };
        let session = SessionKey::generate(&mut self.rng);
        let kind = AuthKind::ApplyDevidResponse;
        let sealed_devid = self.seal(master.expose(), kind, &nonce, devid.as_bytes(), "devid")?;
        let sealed_session_key = self.seal(
            master.expose(),
            kind,
            &nonce,
            session.expose(),
            "session key",
        )?;
        let answer = AuthMessage::ApplyDevidResponse {
            result: AuthResult::Accepted,
            sealed_devid,
            sealed_session_key,
        };
        self.params.send(out, nonce, answer)?;
        let step = LbsStep::AwaitConfirm {
            serial,
            master,
            devid,
            session,
        };
        self.wait(step, now);
        Ok(())
    }

    /// `Apply_Devid_Confirm`, its proof checked: only now does the devid
    /// exist, the device having shown it holds the sessionkey that came
    /// with it.
    fn on_confirm<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        serial: &str,
        master: MasterKey,
        devid: String,
        session: SessionKey,
    ) {
        let enrolled = Enrolled {
            devid: devid.clone(),
            master_key: master,
            protocol_type: self.params.protocol_type,
            suite: self.params.suite,
        };
        if let Err(reason) = self.directory.assign_devid(serial, &enrolled) {
            // 0x9 has no answer: the refusal answers the DAS request that
            // follows it.
            self.step = LbsStep::RefuseDas(AuthRefusal::Directory(reason));
            return;
        }
        out.event(
            LbsAuthEvent::Enrolled {
                devid: devid.clone(),
            }
            .into(),
        );
        self.issued(out, &devid, &session);
        self.wait(LbsStep::AwaitDas { devid, session }, now);
    }

    fn issued<E: From<LbsAuthEvent>>(&self, out: &mut Out<E>, devid: &str, session: &SessionKey) {
        out.event(
            LbsAuthEvent::SessionIssued {
                devid: String::from(devid),
                session_key: session.clone(),
                suite: self.params.suite,
            }
            .into(),
        );
    }

    /// `Refresh_SessionKey_Req`: the device refreshes with the protocol
    /// type and suite it enrolled with, which `check` has compared with
    /// the frame; a record kept under another one does not serve.
    fn on_refresh<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
        devid: &str,
        proof: &[u8],
    ) -> Result<(), AuthEnd> {
        let proven = self.directory.enrolled(devid).filter(|e| {
            e.protocol_type == self.params.protocol_type
                && e.suite == self.params.suite
                && self.proves(e.master_key.expose(), frame, proof, devid.as_bytes())
        });
        let Some(Enrolled {
            master_key: master, ..
        }) = proven
        else {
            return self.refuse(out, frame, AuthRefusal::BadProof);
        };
        let session = SessionKey::generate(&mut self.rng);
        let sealed_session_key = self.seal(
            master.expose(),
            AuthKind::RefreshResponse,
            &frame.nonce,
            session.expose(),
            "session key",
        )?;
        let answer = AuthMessage::RefreshResponse {
            result: AuthResult::Accepted,
            sealed_session_key,
        };
        self.params.send(out, frame.nonce, answer)?;
        self.issued(out, devid, &session);
        let devid = String::from(devid);
        self.wait(LbsStep::AwaitDas { devid, session }, now);
        Ok(())
    }

    /// `DAS_Req`, its proof checked: the redirect.
    fn on_das<E: From<LbsAuthEvent>>(
        &mut self,
        out: &mut Out<E>,
        frame: &AuthFrame,
        devid: String,
        session: &SessionKey,
    ) -> Result<(), AuthEnd> {
        let address = match self.directory.das_address(&devid) {
            Ok(address) => address,
            Err(reason) => return self.refuse(out, frame, AuthRefusal::Directory(reason)),
        };
        let sealed_address = self.seal(
            session.expose(),
            AuthKind::DasResponse,
            &frame.nonce,
            address.as_bytes(),
            "DAS address",
        )?;
        let answer = AuthMessage::DasResponse {
            result: AuthResult::Accepted,
            sealed_address,
        };
        self.params.send(out, frame.nonce, answer)?;
        self.deadline = None;
        out.event(LbsAuthEvent::Redirected { devid, address }.into());
        Ok(())
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> Liveness for LbsAuthCore<I, R, D> {
    type Instant = I;

    fn is_live(&self) -> bool {
        !matches!(self.step, LbsStep::Done)
    }

    fn deadline(&self) -> Option<I> {
        self.deadline
    }
}

impl<I, R, D, E> Session<E> for LbsAuthCore<I, R, D>
where
    I: Instant,
    R: CryptoRngCore,
    D: DeviceDirectory,
    E: From<LbsAuthEvent>,
{
    type Fault = AuthFault;
    type Refusal = AuthRefusal;
    type Error = AuthEnd;

    fn end(&mut self, out: &mut Out<E>, end: AuthEnd) {
        self.step = LbsStep::Done;
        self.deadline = None;
        out.end(E::from(LbsAuthEvent::Ended(end)));
    }

    fn frame(&mut self, out: &mut Out<E>, now: I, frame: &ControlFrame<'_>) -> Result<(), AuthEnd> {
        self.handle_frame(out, now, &AuthFrame::from_control(frame)?)
    }

    fn broken(&self, e: FrameError) -> AuthEnd {
        e.into()
    }
}

session::framed_machine!(
    LbsAuth<I, R, D> where { I: Instant, R: CryptoRngCore, D: DeviceDirectory },
    event: LbsAuthEvent,
    peer: "device",
    deadline: "the deadline of the awaited message",
);
