//! What both sides of a registered DAS connection do with business
//! messages (section 2): seal and publish them, open and acknowledge what
//! arrives, and keep the deadlines of the requests they sent.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use iot_sansio::Outbox;
use rand_core::CryptoRngCore;

use super::common::send;
use crate::business::{BusinessChannel, BusinessError, BusinessMessage};
use crate::mqtt::{Delivery, Packet, PacketId, Publish};

/// Why a business call on a session was refused: misuse of the API, never
/// something the peer did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The DAS has not accepted the registration yet, or the session
    /// ended.
    #[error("the session is not registered")]
    NotRegistered,
    /// A request with this id is already waiting for its answer.
    #[error("request {0} is already waiting for its answer")]
    DuplicateRequest(u64),
    /// The message cannot be sent from this side (an event from the DAS,
    /// an area that is not a topic level).
    #[error(transparent)]
    Business(#[from] BusinessError),
    /// Events go through `send_event`, which queues them until their
    /// PUBACK.
    #[error("events are sent with send_event")]
    UseSendEvent,
}

/// The business state of one registered connection.
#[derive(Debug)]
pub(super) struct Live<I, R> {
    channel: BusinessChannel,
    rng: R,
    /// Requests sent and not answered: id -> deadline.
    pending: BTreeMap<u64, I>,
    next_packet_id: u16,
}

impl<I: Copy + Ord, R: CryptoRngCore> Live<I, R> {
    pub(super) fn new(channel: BusinessChannel, rng: R) -> Self {
        Self {
            channel,
            rng,
            pending: BTreeMap::new(),
            next_packet_id: 0,
        }
    }

    /// The next packet identifier for which `in_use` says no.
    pub(super) fn packet_id(&mut self, in_use: impl Fn(PacketId) -> bool) -> PacketId {
        loop {
            self.next_packet_id = self.next_packet_id.wrapping_add(1);
            if let Some(id) = PacketId::new(self.next_packet_id)
                && !in_use(id)
            {
                return id;
            }
        }
    }

    /// Seals `message` and queues it as a PUBLISH.
    pub(super) fn publish<E>(
        &mut self,
        out: &mut Outbox<Vec<u8>, E>,
        message: &BusinessMessage,
        delivery: Delivery,
    ) -> Result<(), BusinessError> {
        let sealed = self.channel.seal(message, &mut self.rng)?;
        send(
            out,
            &Packet::Publish(Publish {
                delivery,
                retain: false,
                topic: sealed.topic,
                payload: sealed.payload.into(),
            }),
        );
        Ok(())
    }

    /// Opens a PUBLISH from the peer. What does not open (replayed,
    /// reordered, tampered, not a business message of this session) is
    /// not acknowledged: the sender keeps it.
    pub(super) fn receive(
        &mut self,
        publish: &Publish<'_>,
    ) -> Result<BusinessMessage, BusinessError> {
        self.channel.open(&publish.topic, &publish.payload)
    }

    /// Acknowledges a PUBLISH at QoS 1 that was taken (PUBACK).
    pub(super) fn acknowledge<E>(&self, out: &mut Outbox<Vec<u8>, E>, publish: &Publish<'_>) {
        if let Delivery::AtLeastOnce { packet_id, .. } = publish.delivery {
            send(out, &Packet::PubAck(packet_id));
        }
    }

    /// A request went out: its answer is due by `deadline`.
    pub(super) fn expect(&mut self, id: u64, deadline: I) -> Result<(), SessionError> {
        if self.pending.contains_key(&id) {
            return Err(SessionError::DuplicateRequest(id));
        }
        self.pending.insert(id, deadline);
        Ok(())
    }

    /// Whether `id` was waiting for its answer (it no longer is).
    pub(super) fn answered(&mut self, id: u64) -> bool {
        self.pending.remove(&id).is_some()
    }

    /// The earliest deadline of a request.
    pub(super) fn next_deadline(&self) -> Option<I> {
        self.pending.values().min().copied()
    }

    /// The requests whose deadline has passed, which stop waiting.
    pub(super) fn expired(&mut self, now: I) -> Vec<u64> {
        let ids: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, due)| **due <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.pending.remove(id);
        }
        ids
    }
}
