//! The DAS's check of a registration (sections 6 and 7, F1 before F2)
//! against the device's [`KeyRecord`], read and written through the
//! session's store: each answer of the store gives the next step.

use iot_sansio::Instant;
use iot_sansio::store::{RequestId, StoreAnswer, StoreOp, Version, Versioned};

use super::kinds::DasSessionConfig;
use super::register::{PROOF_LEN, Registration};
use crate::mqtt::ConnectReturnCode;
use crate::records::{KeyAnswer, KeyOp, KeyRecord};

/// A registration waiting for the store (sections 6 and 7: F1 before F2).
#[derive(Debug)]
pub(super) struct Checking<I, R> {
    pub(super) rng: R,
    pub(super) registration: Registration,
    pub(super) proof: [u8; PROOF_LEN],
    /// The request the store has not answered yet, with its deadline.
    pub(super) waiting: Option<(RequestId, I, KeyOp<I>)>,
    /// How many writes found the record changed under them.
    pub(super) conflicts: u8,
}

/// What the session does after an answer of its store.
pub(super) enum Next<I> {
    Ask(KeyOp<I>),
    Accept(Versioned<KeyRecord<I>>),
    Refuse(ConnectReturnCode),
}

impl<I: Instant, R> Checking<I, R> {
    /// The step after the store's answer to `op` (an answer that fits
    /// it).
    pub(super) fn next(
        &mut self,
        config: &DasSessionConfig,
        now: I,
        op: KeyOp<I>,
        answer: KeyAnswer<I>,
    ) -> Next<I> {
        match (op, answer) {
            (StoreOp::Get(_), StoreAnswer::Missing) => {
                Next::Refuse(ConnectReturnCode::IdentifierRejected)
            }
            (StoreOp::Get(devid), StoreAnswer::Found(found)) => {
                match self.check(config, now, found) {
                    Ok((expected, record)) => Next::Ask(StoreOp::Put {
                        key: devid,
                        expected,
                        record,
                    }),
                    Err(code) => Next::Refuse(code),
                }
            }
            (StoreOp::Put { record, .. }, StoreAnswer::Stored(version)) => {
                Next::Accept(Versioned { version, record })
            }
            (StoreOp::Put { key, .. }, StoreAnswer::Conflict)
                if self.conflicts < config.max_conflicts =>
            {
                // Another DAS or the LBS wrote the record since it was
                // read: read it again and check anew.
                self.conflicts += 1;
                Next::Ask(StoreOp::Get(key))
            }
            // Unavailable, too many conflicts, or an answer that does not
            // fit from a store that answers at once.
            _ => Next::Refuse(ConnectReturnCode::ServerUnavailable),
        }
    }

    /// Checks the registration against the device's record: the record
    /// to write (the counter accepted, the node) and the version it was
    /// read at, or the CONNACK refusal.
    fn check(
        &self,
        config: &DasSessionConfig,
        now: I,
        found: Versioned<KeyRecord<I>>,
    ) -> Result<(Version, KeyRecord<I>), ConnectReturnCode> {
        let Versioned {
            version,
            mut record,
        } = found;
        let registration = &self.registration;
        if !record.is_usable(now)
            || !record.is_fresh(registration.counter)
            || !registration.verify(&record.key, &self.proof)
        {
            return Err(ConnectReturnCode::BadUsernameOrPassword);
        }
        let keep_alive = registration.keep_alive;
        if keep_alive > config.max_keep_alive || (keep_alive == 0 && !config.allow_no_keep_alive) {
            return Err(ConnectReturnCode::NotAuthorized);
        }
        record.last_registration = Some(registration.counter);
        record.node = config.node;
        Ok((version, record))
    }
}
