//! The LBS side of the authentication and DAS redirect (section 5,
//! Figures 3 and 4; section 6). What it knows of devices it asks its
//! [`DeviceDirectory`] at each step; the steps that go on from the
//! answers are in `lbs_steps.rs`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::store::{AnswerError, RequestId, Version};
use iot_sansio::{End, Instant, Outbox};
use rand_core::CryptoRngCore;

use super::config::AuthConfig;
use super::directory::{DeviceDirectory, DirectoryAnswer, DirectoryOp, DirectoryRequest, Enrolled};
use super::error::{AuthEnd, AuthFault, AuthRefusal};
use super::message::{AuthFrame, AuthKind, AuthMessage, AuthResult, NONCE_LEN};
use crate::control::ControlFrame;
use crate::crypto::{KEY_LEN, MasterKey, SessionKey};
use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::session::{self, Liveness, Out, Session};

/// What the LBS side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbsAuthEvent<I> {
    /// The LBS asks its directory (one that does not answer at once, such
    /// as [`Deferred`](iot_sansio::store::Deferred)): answer with
    /// [`LbsAuth::provide`]. The device waits; what it sends meanwhile is
    /// read once the answer came.
    Directory(DirectoryRequest<I>),
    /// A device completed first authentication and its enrolment is
    /// stored: it is enrolled (the MQTT registration with the DAS comes
    /// later).
    Enrolled {
        /// The devid.
        devid: String,
    },
    /// The device was sent its DAS address (its sessionkey was stored
    /// first, for the DAS to read); the connection is done.
    Redirected {
        /// The devid.
        devid: String,
        /// The address sent.
        address: String,
    },
    /// The authentication ended without a redirect: the device was
    /// refused (it is told only that; the [`AuthRefusal`] is for the
    /// operator's log), told to retry later ([`AuthRefusal::Unavailable`]),
    /// sent something the authentication refuses, or was silent past the
    /// deadline. Close the connection.
    Ended(AuthEnd),
}

impl<I> From<AuthEnd> for LbsAuthEvent<I> {
    fn from(end: AuthEnd) -> Self {
        Self::Ended(end)
    }
}

/// A nonce of an exchange.
pub(super) type Nonce = [u8; NONCE_LEN];

/// How the DAS request is answered after a confirmation the LBS could
/// not keep (0x9 has no answer of its own).
#[derive(Debug)]
pub(super) enum NotKept {
    Refused(AuthRefusal),
    RetryLater,
}

pub(super) enum LbsStep<I> {
    AwaitFirst,
    AwaitApplyDevid {
        serial: String,
        master: MasterKey,
        /// The version of the serial number's entry read at the ECDH
        /// request, which the enrolment is written against.
        entry: Version,
    },
    AwaitConfirm {
        serial: String,
        master: MasterKey,
        entry: Version,
        devid: String,
        session: SessionKey,
    },
    AwaitDas {
        devid: String,
        session: SessionKey,
    },
    /// The confirmed devid or its sessionkey was not kept: the device's
    /// DAS request (which follows its confirmation at once) is answered
    /// so.
    RefuseDas(NotKept),
    /// Waiting for the directory's answer to a request.
    Asking(Box<Asking<I>>),
    Done,
}

/// A request the directory has not answered, and what to do with the
/// answer.
pub(super) struct Asking<I> {
    pub(super) id: RequestId,
    pub(super) op: DirectoryOp<I>,
    pub(super) then: Then,
}

/// What a request was made for.
pub(super) enum Then {
    /// The entry of the serial number of an ECDH request.
    Ecdh {
        nonce: Nonce,
        serial: String,
        sealed_public_key: Vec<u8>,
    },
    /// The devid to propose to an authenticated device.
    Propose {
        nonce: Nonce,
        serial: String,
        master: MasterKey,
        entry: Version,
    },
    /// The enrolment of a confirmed devid.
    Enroll { devid: String, session: SessionKey },
    /// The sessionkey record, read then written.
    Key {
        devid: String,
        session: SessionKey,
        conflicts: u8,
        after: AfterKey,
    },
    /// The enrolment a refresh is checked against.
    Refresh {
        nonce: Nonce,
        devid: String,
        proof: Vec<u8>,
    },
    /// The DAS address of a redirect.
    Das {
        nonce: Nonce,
        devid: String,
        session: SessionKey,
    },
}

/// What follows the sessionkey record's write.
pub(super) enum AfterKey {
    /// First authentication: the DAS request.
    Redirect,
    /// A refresh: its answer, with the sessionkey sealed under the
    /// masterkey.
    Refresh { nonce: Nonce, master: MasterKey },
}

impl<I> LbsStep<I> {
    /// The message this step waits for.
    fn expects(&self) -> AuthKind {
        match self {
            Self::AwaitFirst => AuthKind::EcdhRequest,
            Self::AwaitApplyDevid { .. } => AuthKind::ApplyDevidRequest,
            Self::AwaitConfirm { .. } => AuthKind::ApplyDevidConfirm,
            Self::AwaitDas { .. } | Self::RefuseDas(_) | Self::Asking(_) | Self::Done => {
                AuthKind::DasRequest
            }
        }
    }
}

/// The LBS side of the authentication and DAS redirect. It owns the RNG
/// its keys come from and the [`DeviceDirectory`] it asks (a `&mut D`
/// serves when the directory is shared, [`Deferred`] when the runtime
/// answers).
///
/// [`Deferred`]: iot_sansio::store::Deferred
pub struct LbsAuth<I, R, D> {
    decoder: FrameDecoder,
    core: LbsAuthCore<I, R, D>,
    out: Out<LbsAuthEvent<I>>,
}

/// The LBS side's steps, run by [`LbsAuth`] or by the LBS connection.
pub(crate) struct LbsAuthCore<I, R, D> {
    pub(super) params: AuthConfig,
    pub(super) rng: R,
    pub(super) directory: D,
    pub(super) step: LbsStep<I>,
    pub(super) deadline: Option<I>,
    /// The id of the last request made.
    pub(super) last_request: RequestId,
}

impl<I, R, D> core::fmt::Debug for LbsAuth<I, R, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LbsAuth")
            .field("params", &self.core.params)
            .finish_non_exhaustive()
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> LbsAuth<I, R, D> {
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

    /// Hands the LBS its directory's answer to the request `id` of a
    /// [`LbsAuthEvent::Directory`] event; what the device sent meanwhile
    /// is read now.
    ///
    /// # Errors
    ///
    /// [`AnswerError::NotAsked`] when the LBS does not wait for `id`
    /// (answered already, timed out, ended; nothing changes),
    /// [`AnswerError::Mismatched`] for an answer that does not fit the
    /// request.
    pub fn provide(
        &mut self,
        now: I,
        id: RequestId,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AnswerError> {
        self.core.provide(&mut self.out, now, id, answer)?;
        session::resume(&mut self.decoder, &mut self.core, &mut self.out, now);
        Ok(())
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> LbsAuthCore<I, R, D> {
    pub(crate) fn new(now: I, params: AuthConfig, rng: R, directory: D) -> Self {
        let deadline = Some(now + params.timeout);
        Self {
            params,
            rng,
            directory,
            step: LbsStep::AwaitFirst,
            deadline,
            last_request: RequestId::default(),
        }
    }

    /// Waits, until a new deadline, in `step`.
    pub(super) fn wait(&mut self, step: LbsStep<I>, now: I) {
        self.step = step;
        self.deadline = Some(now + self.params.timeout);
    }

    /// Seals `plain` for the answer `kind` in the exchange `nonce`.
    pub(super) fn seal(
        &mut self,
        key: &[u8; KEY_LEN],
        kind: AuthKind,
        nonce: &Nonce,
        plain: &[u8],
        field: &'static str,
    ) -> Result<Vec<u8>, AuthFault> {
        self.params
            .seal(key, kind, nonce, plain, &mut self.rng, field)
    }

    /// Answers the request `kind` of the exchange `nonce` with `result`
    /// and nothing sealed, and ends: a refusal, or "retry later".
    pub(super) fn answer_no<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        kind: AuthKind,
        nonce: Nonce,
        reason: AuthRefusal,
    ) -> Result<(), AuthEnd> {
        let result = match reason {
            AuthRefusal::Unavailable => AuthResult::RetryLater,
            _ => AuthResult::Refused,
        };
        let message = match kind {
            AuthKind::EcdhRequest => AuthMessage::EcdhResponse {
                result,
                sealed_public_key: Vec::new(),
            },
            AuthKind::RefreshRequest => AuthMessage::RefreshResponse {
                result,
                sealed_session_key: Vec::new(),
            },
            AuthKind::ApplyDevidRequest => AuthMessage::ApplyDevidResponse {
                result,
                sealed_devid: Vec::new(),
                sealed_session_key: Vec::new(),
            },
            _ => AuthMessage::DasResponse {
                result,
                sealed_address: Vec::new(),
            },
        };
        self.params.send(out, nonce, message)?;
        self.end(out, End::Refused(reason));
        Ok(())
    }

    /// Takes one authentication message from the device; an error ends
    /// the authentication.
    fn handle_frame<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        frame: &AuthFrame,
    ) -> Result<(), AuthEnd> {
        if matches!(self.step, LbsStep::Done) {
            return Ok(());
        }
        self.params.check(frame)?;
        let nonce = frame.nonce;
        let step = core::mem::replace(&mut self.step, LbsStep::Done);
        match (step, &frame.message) {
            (
                LbsStep::AwaitFirst,
                AuthMessage::EcdhRequest {
                    serial,
                    sealed_public_key,
                },
            ) => {
                let op = DirectoryOp::Device {
                    serial: serial.clone(),
                };
                let then = Then::Ecdh {
                    nonce,
                    serial: serial.clone(),
                    sealed_public_key: sealed_public_key.clone(),
                };
                self.ask(out, now, op, then)
            }
            (
                step @ LbsStep::AwaitApplyDevid { .. },
                AuthMessage::ApplyDevidRequest { serial, proof },
            ) => self.on_apply_request(out, now, step, nonce, serial, proof),
            (
                step @ LbsStep::AwaitConfirm { .. },
                AuthMessage::ApplyDevidConfirm { devid, proof },
            )
            | (step @ LbsStep::AwaitDas { .. }, AuthMessage::DasRequest { devid, proof }) => {
                self.on_devid_proof(out, now, step, frame.message.kind(), nonce, devid, proof)
            }
            (LbsStep::AwaitFirst, AuthMessage::RefreshRequest { devid, proof }) => {
                let op = DirectoryOp::Enrolled {
                    devid: devid.clone(),
                };
                let then = Then::Refresh {
                    nonce,
                    devid: devid.clone(),
                    proof: proof.clone(),
                };
                self.ask(out, now, op, then)
            }
            (LbsStep::RefuseDas(not_kept), AuthMessage::DasRequest { .. }) => {
                let reason = match not_kept {
                    NotKept::Refused(reason) => reason,
                    NotKept::RetryLater => AuthRefusal::Unavailable,
                };
                self.answer_no(out, AuthKind::DasRequest, nonce, reason)
            }
            (step, message) => Err(End::PeerFault(AuthFault::UnexpectedMessage {
                expected: step.expects(),
                got: message.kind(),
            })),
        }
    }

    /// `Apply_Devid_Req`: the serial number proved under the masterkey;
    /// the directory proposes a devid.
    fn on_apply_request<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        step: LbsStep<I>,
        nonce: Nonce,
        claimed: &str,
        proof: &[u8],
    ) -> Result<(), AuthEnd> {
        let LbsStep::AwaitApplyDevid {
            serial,
            master,
            entry,
        } = step
        else {
            return Ok(());
        };
        let kind = AuthKind::ApplyDevidRequest;
        if !self.claims(master.expose(), kind, &nonce, claimed, &serial, proof) {
            return self.answer_no(out, kind, nonce, AuthRefusal::BadProof);
        }
        let op = DirectoryOp::ProposeDevid {
            serial: serial.clone(),
        };
        let then = Then::Propose {
            nonce,
            serial,
            master,
            entry,
        };
        self.ask(out, now, op, then)
    }

    /// `Apply_Devid_Confirm` or `DAS_Req`: the devid proved under the
    /// sessionkey. A confirmation is the moment the devid exists, the
    /// device having shown it holds the sessionkey that came with it: the
    /// enrolment is written. A DAS request asks the directory for the DAS.
    #[allow(clippy::too_many_arguments)]
    fn on_devid_proof<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        step: LbsStep<I>,
        kind: AuthKind,
        nonce: Nonce,
        claimed: &str,
        proof: &[u8],
    ) -> Result<(), AuthEnd> {
        let (LbsStep::AwaitConfirm { devid, session, .. } | LbsStep::AwaitDas { devid, session }) =
            &step
        else {
            return Ok(());
        };
        if !self.claims(session.expose(), kind, &nonce, claimed, devid, proof) {
            return self.answer_no(out, kind, nonce, AuthRefusal::BadProof);
        }
        match step {
            LbsStep::AwaitConfirm {
                serial,
                master,
                entry,
                devid,
                session,
            } => {
                let enrolled = Enrolled {
                    devid: devid.clone(),
                    master_key: master,
                    protocol_type: self.params.protocol_type,
                    suite: self.params.suite,
                };
                let op = DirectoryOp::Enroll {
                    serial,
                    expected: entry,
                    enrolled,
                };
                self.ask(out, now, op, Then::Enroll { devid, session })
            }
            LbsStep::AwaitDas { devid, session } => {
                let op = DirectoryOp::DasAddress {
                    devid: devid.clone(),
                };
                let then = Then::Das {
                    nonce,
                    devid,
                    session,
                };
                self.ask(out, now, op, then)
            }
            _ => Ok(()),
        }
    }

    /// Whether the peer claims `expected` (a serial number or devid) and
    /// proves it: `proof`, in the exchange `nonce` of a message `kind`, is
    /// it sealed with `key`.
    pub(super) fn claims(
        &self,
        key: &[u8; KEY_LEN],
        kind: AuthKind,
        nonce: &Nonce,
        claimed: &str,
        expected: &str,
        proof: &[u8],
    ) -> bool {
        claimed == expected
            && self
                .params
                .proves(key, kind, nonce, proof, expected.as_bytes())
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> Liveness for LbsAuthCore<I, R, D> {
    type Instant = I;

    fn is_live(&self) -> bool {
        !matches!(self.step, LbsStep::Done)
    }

    fn deadline(&self) -> Option<I> {
        self.deadline
    }

    fn is_paused(&self) -> bool {
        matches!(self.step, LbsStep::Asking(_))
    }
}

impl<I, R, D, E> Session<E> for LbsAuthCore<I, R, D>
where
    I: Instant,
    R: CryptoRngCore,
    D: DeviceDirectory<I>,
    E: From<LbsAuthEvent<I>>,
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

    fn timed_out(&mut self, out: &mut Out<E>, now: I) {
        self.gave_up(out, now);
    }
}

session::framed_machine!(
    LbsAuth<I, R, D> where { I: Instant, R: CryptoRngCore, D: DeviceDirectory<I> },
    event: LbsAuthEvent<I>,
    peer: "device",
    deadline: "the deadline of the awaited message",
);
