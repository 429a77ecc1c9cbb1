//! The LBS side of the authentication and DAS redirect (section 5,
//! Figures 3 and 4; section 6), and the directory of devices it asks.

use alloc::string::String;
use alloc::vec::Vec;

use iot_sansio::{End, Input, Instant, Machine, Outbox, Outgoing};
use rand_core::CryptoRngCore;

use super::config::AuthConfig;
use super::directory::{DeviceDirectory, Enrolled};
use super::error::{AuthEnd, AuthFault, AuthRefusal};
use super::message::{AuthFrame, AuthKind, AuthMessage, AuthResult, NONCE_LEN};
use crate::control::{ControlFrame, Suite};
use crate::crypto::{EcdhKeyPair, MasterKey, SessionKey, ShareKey, VerificationCode};
use crate::decoder::FrameDecoder;
use crate::session::{self, Session};

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
    /// ([`KeyTable::insert`](crate::das::KeyTable::insert) or the
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

/// The LBS side of the authentication and DAS redirect. It owns the RNG
/// its keys come from and the [`DeviceDirectory`] it asks (a `&mut D`
/// serves when the directory is shared).
pub struct LbsAuth<I, R, D> {
    decoder: FrameDecoder,
    core: Core<I, R, D>,
}

struct Core<I, R, D> {
    params: AuthConfig,
    rng: R,
    directory: D,
    step: LbsStep,
    deadline: Option<I>,
    out: Outbox<Vec<u8>, LbsAuthEvent>,
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
    /// Takes one frame cut from the stream by the LBS or device
    /// connection that runs this machine.
    pub(crate) fn take_frame(&mut self, now: I, frame: &ControlFrame<'_>) -> bool {
        session::take_frame(&mut self.core, now, frame)
    }

    /// An LBS side waiting, from `now`, for the device's first message.
    #[must_use]
    pub fn new(now: I, params: AuthConfig, rng: R, directory: D) -> Self {
        let deadline = Some(now + params.timeout);
        Self {
            decoder: FrameDecoder::default(),
            core: Core {
                params,
                rng,
                directory,
                step: LbsStep::AwaitFirst,
                deadline,
                out: Outbox::new(),
            },
        }
    }

    /// The self.directory.
    pub fn directory(&self) -> &D {
        &self.core.directory
    }

    /// The directory, to change.
    pub fn directory_mut(&mut self) -> &mut D {
        &mut self.core.directory
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> Core<I, R, D> {
    /// Frames a message for the exchange `nonce` and queues it.
    fn reply(&mut self, nonce: [u8; NONCE_LEN], message: AuthMessage) -> Result<(), AuthFault> {
        self.params.send(&mut self.out, nonce, message)
    }

    fn refuse(&mut self, frame: &AuthFrame, reason: AuthRefusal) -> Result<(), AuthEnd> {
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
        self.reply(frame.nonce, message)?;
        self.end(End::Refused(reason));
        Ok(())
    }

    /// Takes one authentication message from the device; an error ends
    /// the authentication.
    fn handle_frame(&mut self, now: I, frame: &AuthFrame) -> Result<(), AuthEnd> {
        if matches!(self.step, LbsStep::Done) {
            return Ok(());
        }
        self.params.check(frame)?;
        let k = frame.message.kind();
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
                let known = self.directory.verification_code(serial);
                let code = known
                    .clone()
                    .unwrap_or_else(|| VerificationCode::new(DECOY_CODE));
                let share = ShareKey::derive(&code, serial, &self.params.share_key);
                let opened = self.params.open(
                    share.expose(),
                    k,
                    &nonce,
                    sealed_public_key,
                    "device public key",
                );
                let device_public = match (known, opened) {
                    (None, _) => return self.refuse(frame, AuthRefusal::UnknownDevice),
                    (Some(_), Err(_)) => {
                        return self.refuse(frame, AuthRefusal::WrongVerificationCode);
                    }
                    (Some(_), Ok(public)) => public,
                };
                let pair = EcdhKeyPair::generate(&mut self.rng);
                let Ok(master) = pair.master_key(&device_public, self.params.master_key) else {
                    return self.refuse(frame, AuthRefusal::InvalidPublicKey);
                };
                let sealed_public_key = self.params.seal(
                    share.expose(),
                    AuthKind::EcdhResponse,
                    &nonce,
                    &pair.public_key(),
                    &mut self.rng,
                    "LBS public key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::EcdhResponse {
                        result: AuthResult::Accepted,
                        sealed_public_key,
                    },
                )?;
                self.step = LbsStep::AwaitApplyDevid {
                    serial: serial.clone(),
                    master,
                };
            }
            (
                LbsStep::AwaitApplyDevid { serial, master },
                AuthMessage::ApplyDevidRequest {
                    serial: claimed,
                    proof,
                },
            ) => {
                if *claimed != serial
                    || !self
                        .params
                        .proves(master.expose(), k, &nonce, proof, serial.as_bytes())
                {
                    return self.refuse(frame, AuthRefusal::BadProof);
                }
                let devid = match self.directory.propose_devid(&serial) {
                    Ok(devid) => devid,
                    Err(reason) => return self.refuse(frame, AuthRefusal::Directory(reason)),
                };
                let session = SessionKey::generate(&mut self.rng);
                let sealed_devid = self.params.seal(
                    master.expose(),
                    AuthKind::ApplyDevidResponse,
                    &nonce,
                    devid.as_bytes(),
                    &mut self.rng,
                    "devid",
                )?;
                let sealed_session_key = self.params.seal(
                    master.expose(),
                    AuthKind::ApplyDevidResponse,
                    &nonce,
                    session.expose(),
                    &mut self.rng,
                    "session key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::ApplyDevidResponse {
                        result: AuthResult::Accepted,
                        sealed_devid,
                        sealed_session_key,
                    },
                )?;
                self.step = LbsStep::AwaitConfirm {
                    serial,
                    master,
                    devid,
                    session,
                };
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
                if *claimed != devid
                    || !self
                        .params
                        .proves(session.expose(), k, &nonce, proof, devid.as_bytes())
                {
                    return self.refuse(frame, AuthRefusal::BadProof);
                }
                // Only now does the devid exist: the device has shown it
                // holds the sessionkey that came with it.
                let enrolled = Enrolled {
                    devid: devid.clone(),
                    master_key: master,
                    protocol_type: self.params.protocol_type,
                    suite: self.params.suite,
                };
                if let Err(reason) = self.directory.assign_devid(&serial, &enrolled) {
                    // 0x9 has no answer: the refusal answers the DAS
                    // request that follows it.
                    self.step = LbsStep::RefuseDas(AuthRefusal::Directory(reason));
                    return Ok(());
                }
                self.out.event(LbsAuthEvent::Enrolled {
                    devid: devid.clone(),
                });
                self.out.event(LbsAuthEvent::SessionIssued {
                    devid: devid.clone(),
                    session_key: session.clone(),
                    suite: self.params.suite,
                });
                self.step = LbsStep::AwaitDas { devid, session };
            }
            (LbsStep::AwaitFirst, AuthMessage::RefreshRequest { devid, proof }) => {
                // The device refreshes with the protocol type and suite
                // it enrolled with, which `check` has compared with the
                // frame; a record kept under another one does not serve.
                let proven = self.directory.enrolled(devid).filter(|e| {
                    e.protocol_type == self.params.protocol_type
                        && e.suite == self.params.suite
                        && self.params.proves(
                            e.master_key.expose(),
                            k,
                            &nonce,
                            proof,
                            devid.as_bytes(),
                        )
                });
                let Some(Enrolled {
                    master_key: master, ..
                }) = proven
                else {
                    return self.refuse(frame, AuthRefusal::BadProof);
                };
                let session = SessionKey::generate(&mut self.rng);
                let sealed_session_key = self.params.seal(
                    master.expose(),
                    AuthKind::RefreshResponse,
                    &nonce,
                    session.expose(),
                    &mut self.rng,
                    "session key",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::RefreshResponse {
                        result: AuthResult::Accepted,
                        sealed_session_key,
                    },
                )?;
                self.out.event(LbsAuthEvent::SessionIssued {
                    devid: devid.clone(),
                    session_key: session.clone(),
                    suite: self.params.suite,
                });
                self.step = LbsStep::AwaitDas {
                    devid: devid.clone(),
                    session,
                };
            }
            (LbsStep::RefuseDas(reason), AuthMessage::DasRequest { .. }) => {
                return self.refuse(frame, reason);
            }
            (
                LbsStep::AwaitDas { devid, session },
                AuthMessage::DasRequest {
                    devid: claimed,
                    proof,
                },
            ) => {
                if *claimed != devid
                    || !self
                        .params
                        .proves(session.expose(), k, &nonce, proof, devid.as_bytes())
                {
                    return self.refuse(frame, AuthRefusal::BadProof);
                }
                let address = match self.directory.das_address(&devid) {
                    Ok(address) => address,
                    Err(reason) => return self.refuse(frame, AuthRefusal::Directory(reason)),
                };
                let sealed_address = self.params.seal(
                    session.expose(),
                    AuthKind::DasResponse,
                    &nonce,
                    address.as_bytes(),
                    &mut self.rng,
                    "DAS address",
                )?;
                self.reply(
                    nonce,
                    AuthMessage::DasResponse {
                        result: AuthResult::Accepted,
                        sealed_address,
                    },
                )?;
                self.deadline = None;
                self.out.event(LbsAuthEvent::Redirected { devid, address });
                return Ok(());
            }
            (step, message) => {
                let expected = match step {
                    LbsStep::AwaitFirst => AuthKind::EcdhRequest,
                    LbsStep::AwaitApplyDevid { .. } => AuthKind::ApplyDevidRequest,
                    LbsStep::AwaitConfirm { .. } => AuthKind::ApplyDevidConfirm,
                    LbsStep::AwaitDas { .. } | LbsStep::RefuseDas(_) | LbsStep::Done => {
                        AuthKind::DasRequest
                    }
                };
                return Err(End::PeerFault(AuthFault::UnexpectedMessage {
                    expected,
                    got: message.kind(),
                }));
            }
        }
        self.deadline = Some(now + self.params.timeout);
        Ok(())
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> Session for Core<I, R, D> {
    type Instant = I;
    type Fault = AuthFault;
    type Refusal = AuthRefusal;
    type Error = AuthEnd;

    fn is_live(&self) -> bool {
        !matches!(self.step, LbsStep::Done)
    }

    fn deadline(&self) -> Option<I> {
        self.deadline
    }

    fn end(&mut self, end: AuthEnd) {
        self.step = LbsStep::Done;
        self.deadline = None;
        self.out.end(end);
    }

    fn frame(&mut self, now: I, frame: &ControlFrame<'_>) -> Result<(), AuthEnd> {
        self.handle_frame(now, &AuthFrame::from_control(frame)?)
    }
}

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory> Machine for LbsAuth<I, R, D> {
    type Instant = I;
    type Input = [u8];
    type Transmit = Vec<u8>;
    type Event = LbsAuthEvent;

    /// Takes bytes from the device, or the news that it closed the
    /// connection.
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

    fn outgoing(&mut self) -> Outgoing<'_, Vec<u8>, LbsAuthEvent> {
        self.core.out.outgoing()
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        self.core.out.recycle(frame);
    }
}
