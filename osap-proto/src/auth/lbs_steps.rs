//! The LBS's steps that go on from its directory's answers (section 5,
//! Figures 3 and 4; section 6; PROFILE.md section 8): each request is
//! answered at once by a directory that can, or later through
//! [`LbsAuthCore::provide`]; an answer "unavailable", or none in time,
//! tells the device to retry later, never that it is unknown.

use alloc::boxed::Box;
use alloc::string::String;

use iot_sansio::store::{
    AnswerError, RequestId, StoreAnswer, StoreOp, Version, Versioned, check_answer,
};
use iot_sansio::{End, Instant};
use rand_core::CryptoRngCore;

use super::directory::{
    DeviceDirectory, DeviceEntry, DirectoryAnswer, DirectoryOp, DirectoryRequest, Enrolled,
};
use super::error::{AuthEnd, AuthFault, AuthRefusal};
use super::lbs::{AfterKey, Asking, LbsAuthCore, LbsAuthEvent, LbsStep, Nonce, NotKept, Then};
use super::message::{AuthKind, AuthMessage, AuthResult};
use crate::crypto::{EcdhKeyPair, MasterKey, SessionKey, ShareKey, VerificationCode};
use crate::records::KeyRecord;
use crate::session::{Out, Session};

/// The verification code used for an unknown serial number, so that
/// refusing it costs the same work as refusing a wrong code.
const DECOY_CODE: &str = "unknown-device";

impl<I: Instant, R: CryptoRngCore, D: DeviceDirectory<I>> LbsAuthCore<I, R, D> {
    /// Asks the directory: one that answers at once is followed through
    /// its answer; otherwise the request leaves as an event and the LBS
    /// reads nothing more until the answer.
    pub(super) fn ask<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        op: DirectoryOp<I>,
        then: Then,
    ) -> Result<(), AuthEnd> {
        if let Some(answer) = self.directory.answer_now(&op) {
            return self.answered(out, now, op, then, answer);
        }
        self.last_request = self.last_request.next();
        let id = self.last_request;
        let request = DirectoryRequest { id, op: op.clone() };
        self.step = LbsStep::Asking(Box::new(Asking { id, op, then }));
        self.deadline = Some(now + self.params.store_timeout);
        out.event(LbsAuthEvent::Directory(request).into());
        Ok(())
    }

    /// The runtime's answer to the request `id`.
    pub(crate) fn provide<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        id: RequestId,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AnswerError> {
        let awaited = match &self.step {
            LbsStep::Asking(asking) => Some((asking.id, &asking.op)),
            _ => None,
        };
        check_answer(awaited, id, &answer)?;
        let LbsStep::Asking(asking) = core::mem::replace(&mut self.step, LbsStep::Done) else {
            return Err(AnswerError::NotAsked(id));
        };
        let Asking { op, then, .. } = *asking;
        if let Err(end) = self.answered(out, now, op, then, answer) {
            self.end(out, end);
        }
        Ok(())
    }

    /// The directory did not answer in time: the device is told to retry
    /// later (and a DAS request still to come, after a confirmation).
    pub(super) fn gave_up<E: From<LbsAuthEvent<I>>>(&mut self, out: &mut Out<E>, now: I) {
        let LbsStep::Asking(asking) = core::mem::replace(&mut self.step, LbsStep::Done) else {
            self.end(out, End::TimedOut);
            return;
        };
        let asked = match asking.then {
            Then::Ecdh { nonce, .. } => Some((AuthKind::EcdhRequest, nonce)),
            Then::Propose { nonce, .. } => Some((AuthKind::ApplyDevidRequest, nonce)),
            Then::Refresh { nonce, .. }
            | Then::Key {
                after: AfterKey::Refresh { nonce, .. },
                ..
            } => Some((AuthKind::RefreshRequest, nonce)),
            Then::Das { nonce, .. } => Some((AuthKind::DasRequest, nonce)),
            Then::Enroll { .. } | Then::Key { .. } => None,
        };
        let result = match asked {
            Some((kind, nonce)) => self.answer_no(out, kind, nonce, AuthRefusal::Unavailable),
            None => {
                self.wait(LbsStep::RefuseDas(NotKept::RetryLater), now);
                Ok(())
            }
        };
        if let Err(end) = result {
            self.end(out, end);
        }
    }

    /// Goes on from the directory's answer to `op` (an answer that fits).
    fn answered<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        op: DirectoryOp<I>,
        then: Then,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AuthEnd> {
        match then {
            Then::Ecdh {
                nonce,
                serial,
                sealed_public_key,
            } => match answer {
                DirectoryAnswer::Device(entry) => {
                    self.on_entry(out, now, nonce, serial, &sealed_public_key, entry)
                }
                _ => self.answer_no(out, AuthKind::EcdhRequest, nonce, AuthRefusal::Unavailable),
            },
            Then::Propose {
                nonce,
                serial,
                master,
                entry,
            } => self.on_devid(out, now, (nonce, serial, master, entry), answer),
            Then::Enroll { devid, session } => self.on_enrolled(out, now, devid, session, &answer),
            Then::Key {
                devid,
                session,
                conflicts,
                after,
            } => self.on_key(out, now, (devid, session, conflicts, after), op, answer),
            Then::Refresh {
                nonce,
                devid,
                proof,
            } => match answer {
                DirectoryAnswer::Enrolled(enrolled) => {
                    self.on_refresh(out, now, nonce, devid, &proof, enrolled)
                }
                _ => self.answer_no(
                    out,
                    AuthKind::RefreshRequest,
                    nonce,
                    AuthRefusal::Unavailable,
                ),
            },
            Then::Das {
                nonce,
                devid,
                session,
            } => self.on_address(out, nonce, devid, &session, answer),
        }
    }

    /// `Authentication_ECDH_Req` with its serial number's entry: open the
    /// device's public key with the sharekey, answer with the LBS's.
    fn on_entry<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        nonce: Nonce,
        serial: String,
        sealed_public_key: &[u8],
        entry: Option<Versioned<DeviceEntry>>,
    ) -> Result<(), AuthEnd> {
        let kind = AuthKind::EcdhRequest;
        let code = entry.as_ref().map_or_else(
            || VerificationCode::new(DECOY_CODE),
            |e| e.record.code.clone(),
        );
        let share = ShareKey::derive(&code, &serial, &self.params.share_key);
        let opened = self.params.open(
            share.expose(),
            kind,
            &nonce,
            sealed_public_key,
            "device public key",
        );
        let (version, device_public) = match (entry, opened) {
            (None, _) => return self.answer_no(out, kind, nonce, AuthRefusal::UnknownDevice),
            (Some(_), Err(_)) => {
                return self.answer_no(out, kind, nonce, AuthRefusal::WrongVerificationCode);
            }
            (Some(entry), Ok(public)) => (entry.version, public),
        };
        let pair = EcdhKeyPair::generate(&mut self.rng);
        let Ok(master) = pair.master_key(&device_public, self.params.master_key) else {
            return self.answer_no(out, kind, nonce, AuthRefusal::InvalidPublicKey);
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
        let step = LbsStep::AwaitApplyDevid {
            serial,
            master,
            entry: version,
        };
        self.wait(step, now);
        Ok(())
    }

    /// `Apply_Devid_Req` with the devid to propose: send it and a new
    /// sessionkey.
    fn on_devid<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        (nonce, serial, master, entry): (Nonce, String, MasterKey, Version),
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AuthEnd> {
        let kind = AuthKind::ApplyDevidRequest;
        let devid = match answer {
            DirectoryAnswer::Devid(Ok(devid)) => devid,
            DirectoryAnswer::Devid(Err(reason)) => {
                return self.answer_no(out, kind, nonce, AuthRefusal::Directory(reason));
            }
            _ => return self.answer_no(out, kind, nonce, AuthRefusal::Unavailable),
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
            entry,
            devid,
            session,
        };
        self.wait(step, now);
        Ok(())
    }

    /// `Apply_Devid_Confirm`, its enrolment written or not: on to the
    /// sessionkey record. 0x9 has no answer: a refusal answers the DAS
    /// request that follows it.
    fn on_enrolled<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        devid: String,
        session: SessionKey,
        answer: &DirectoryAnswer<I>,
    ) -> Result<(), AuthEnd> {
        let not_kept = match answer {
            DirectoryAnswer::Stored => {
                out.event(
                    LbsAuthEvent::Enrolled {
                        devid: devid.clone(),
                    }
                    .into(),
                );
                let op = DirectoryOp::Key(StoreOp::Get(devid.clone()));
                let then = Then::Key {
                    devid,
                    session,
                    conflicts: 0,
                    after: AfterKey::Redirect,
                };
                return self.ask(out, now, op, then);
            }
            // Another connection enrolled this serial number since its
            // entry was read: this one is not kept.
            DirectoryAnswer::Conflict => NotKept::Refused(AuthRefusal::Directory(
                "enrolled on another connection meanwhile",
            )),
            _ => NotKept::RetryLater,
        };
        self.wait(LbsStep::RefuseDas(not_kept), now);
        Ok(())
    }

    /// The sessionkey record, read then written as the devid's next epoch
    /// (compare-and-set on the version read); once stored, what the
    /// device waits for.
    fn on_key<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        (devid, session, conflicts, after): (String, SessionKey, u8, AfterKey),
        op: DirectoryOp<I>,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AuthEnd> {
        let read = match (op, answer) {
            (
                DirectoryOp::Key(StoreOp::Get(_)),
                DirectoryAnswer::Key(StoreAnswer::Found(found)),
            ) => Some((found.version, found.record.epoch)),
            (DirectoryOp::Key(StoreOp::Get(_)), DirectoryAnswer::Key(StoreAnswer::Missing)) => {
                Some((Version::ABSENT, 0))
            }
            (_, DirectoryAnswer::Key(StoreAnswer::Stored(_))) => {
                return self.key_stored(out, now, devid, session, after);
            }
            (_, DirectoryAnswer::Key(StoreAnswer::Conflict))
                if conflicts < self.params.max_conflicts =>
            {
                // The DAS or another LBS wrote the record since it was
                // read: read it again.
                let op = DirectoryOp::Key(StoreOp::Get(devid.clone()));
                let then = Then::Key {
                    devid,
                    session,
                    conflicts: conflicts + 1,
                    after,
                };
                return self.ask(out, now, op, then);
            }
            _ => None,
        };
        let Some((expected, epoch)) = read else {
            return match after {
                AfterKey::Redirect => {
                    self.wait(LbsStep::RefuseDas(NotKept::RetryLater), now);
                    Ok(())
                }
                AfterKey::Refresh { nonce, .. } => self.answer_no(
                    out,
                    AuthKind::RefreshRequest,
                    nonce,
                    AuthRefusal::Unavailable,
                ),
            };
        };
        let expires = self.params.session_key_lifetime.map(|l| now + l);
        let record = KeyRecord::new(session.clone(), self.params.suite, epoch + 1, expires);
        let op = DirectoryOp::Key(StoreOp::Put {
            key: devid.clone(),
            expected,
            record,
        });
        let then = Then::Key {
            devid,
            session,
            conflicts,
            after,
        };
        self.ask(out, now, op, then)
    }

    /// The sessionkey is stored, for the DAS to read: only now is the
    /// device told it (a refresh) or sent on (the DAS request).
    fn key_stored<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        devid: String,
        session: SessionKey,
        after: AfterKey,
    ) -> Result<(), AuthEnd> {
        if let AfterKey::Refresh { nonce, master } = after {
            let sealed_session_key = self.seal(
                master.expose(),
                AuthKind::RefreshResponse,
                &nonce,
                session.expose(),
                "session key",
            )?;
            let answer = AuthMessage::RefreshResponse {
                result: AuthResult::Accepted,
                sealed_session_key,
            };
            self.params.send(out, nonce, answer)?;
        }
        self.wait(LbsStep::AwaitDas { devid, session }, now);
        Ok(())
    }

    /// `Refresh_SessionKey_Req` with the devid's enrolment: the device
    /// refreshes with the protocol type and suite it enrolled with, and
    /// proves the devid under its masterkey.
    fn on_refresh<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        now: I,
        nonce: Nonce,
        devid: String,
        proof: &[u8],
        enrolled: Option<Enrolled>,
    ) -> Result<(), AuthEnd> {
        let kind = AuthKind::RefreshRequest;
        let Some(enrolled) = enrolled else {
            return self.answer_no(out, kind, nonce, AuthRefusal::BadProof);
        };
        if (enrolled.protocol_type, enrolled.suite)
            != (self.params.protocol_type, self.params.suite)
        {
            return Err(End::PeerFault(AuthFault::ProtocolMismatch));
        }
        let master = enrolled.master_key;
        if !self.claims(master.expose(), kind, &nonce, &devid, &devid, proof) {
            return self.answer_no(out, kind, nonce, AuthRefusal::BadProof);
        }
        let session = SessionKey::generate(&mut self.rng);
        let op = DirectoryOp::Key(StoreOp::Get(devid.clone()));
        let then = Then::Key {
            devid,
            session,
            conflicts: 0,
            after: AfterKey::Refresh { nonce, master },
        };
        self.ask(out, now, op, then)
    }

    /// `DAS_Req` with the DAS address: the redirect.
    fn on_address<E: From<LbsAuthEvent<I>>>(
        &mut self,
        out: &mut Out<E>,
        nonce: Nonce,
        devid: String,
        session: &SessionKey,
        answer: DirectoryAnswer<I>,
    ) -> Result<(), AuthEnd> {
        let kind = AuthKind::DasRequest;
        let address = match answer {
            DirectoryAnswer::Address(Ok(address)) => address,
            DirectoryAnswer::Address(Err(reason)) => {
                return self.answer_no(out, kind, nonce, AuthRefusal::Directory(reason));
            }
            _ => return self.answer_no(out, kind, nonce, AuthRefusal::Unavailable),
        };
        let sealed_address = self.seal(
            session.expose(),
            AuthKind::DasResponse,
            &nonce,
            address.as_bytes(),
            "DAS address",
        )?;
        let answer = AuthMessage::DasResponse {
            result: AuthResult::Accepted,
            sealed_address,
        };
        self.params.send(out, nonce, answer)?;
        self.step = LbsStep::Done;
        self.deadline = None;
        out.event(LbsAuthEvent::Redirected { devid, address }.into());
        Ok(())
    }
}
