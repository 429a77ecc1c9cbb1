//! What both sides of a DAS connection share: the fault and end types,
//! cutting bytes into packets, and queueing a packet.

use alloc::vec::Vec;

use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::mqtt::{ConnectReturnCode, Packet, PacketType};
use iot_sansio::{End, Input, Outbox};

use crate::session::Out;

/// What a peer did wrong on a DAS connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionFault {
    /// The bytes are not a valid frame or MQTT packet.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A packet this side does not expect at this point (a second CONNECT,
    /// a PINGRESP without a PINGREQ, anything before the CONNACK).
    #[error("unexpected {0:?}")]
    Unexpected(PacketType),
    /// A PUBLISH at QoS 2: MQTT allows it, the OSAP profile does not (its
    /// business messages are QoS 0 and 1; PROFILE.md section 5).
    #[error("a PUBLISH at QoS 2, which the profile does not use")]
    QoS2,
}

/// Why a DAS session ended: refusals carry the CONNACK return code.
pub type SessionEnd = End<SessionFault, ConnectReturnCode>;

/// The type of a packet, for [`SessionFault::Unexpected`].
pub(super) fn kind(packet: &Packet<'_>) -> PacketType {
    match packet {
        Packet::Connect(_) => PacketType::Connect,
        Packet::ConnAck(_) => PacketType::ConnAck,
        Packet::Publish(_) => PacketType::Publish,
        Packet::PubAck(_) => PacketType::PubAck,
        Packet::PubRec(_) => PacketType::PubRec,
        Packet::PubRel(_) => PacketType::PubRel,
        Packet::PubComp(_) => PacketType::PubComp,
        Packet::Subscribe(_) => PacketType::Subscribe,
        Packet::SubAck(_) => PacketType::SubAck,
        Packet::Unsubscribe(_) => PacketType::Unsubscribe,
        Packet::UnsubAck(_) => PacketType::UnsubAck,
        Packet::PingReq => PacketType::PingReq,
        Packet::PingResp => PacketType::PingResp,
        Packet::Disconnect => PacketType::Disconnect,
    }
}

/// Queues a packet (every packet these sessions write is valid by
/// construction, so encoding cannot fail; a failure would queue nothing).
pub(super) fn send<E>(out: &mut Outbox<Vec<u8>, E>, packet: &Packet<'_>) {
    let _ = out.send_with(|buf| packet.encode(buf));
}

/// The state of a DAS session as the shared input loop sees it (the
/// session's decoder and outbox sit beside it, ARCHITECTURE.md,
/// "Composition").
pub(super) trait PacketSession<E> {
    /// The session's instant.
    type Instant: Copy;
    /// Whether the session has ended.
    fn is_done(&self) -> bool;
    /// Whether the session reads nothing more for now (it waits for its
    /// store); what is left of the input is handed back.
    fn is_paused(&self) -> bool {
        false
    }
    /// Handles one packet from the peer.
    fn packet(
        &mut self,
        out: &mut Out<E>,
        now: Self::Instant,
        packet: &Packet<'_>,
    ) -> Result<(), SessionFault>;
    /// Ends the session.
    fn end(&mut self, out: &mut Out<E>, end: SessionEnd);
}

/// [`iot_sansio::Machine::handle_input`] for a DAS session: packets one by
/// one while it lives, the peer closing, a fault ending it. Returns the
/// bytes left unread when the session paused.
pub(super) fn handle_input<'d, S: PacketSession<E>, E>(
    decoder: &mut FrameDecoder,
    session: &mut S,
    out: &mut Out<E>,
    now: S::Instant,
    input: Input<'d, [u8]>,
) -> &'d [u8] {
    if session.is_done() {
        return &[];
    }
    let Input::Data(data) = input else {
        session.end(out, End::PeerClosed);
        return &[];
    };
    let result = decoder.feed(data, |raw| {
        let packet = Packet::from_raw(raw)?;
        if let Packet::Publish(p) = &packet
            && p.delivery.qos() == 2
        {
            return Err(SessionFault::QoS2);
        }
        session.packet(out, now, &packet)?;
        Ok::<_, SessionFault>(!session.is_done() && !session.is_paused())
    });
    match result {
        Ok(rest) if session.is_paused() => rest,
        Ok(_) => &[],
        Err(fault) => {
            session.end(out, End::PeerFault(fault));
            &[]
        }
    }
}

/// The earlier of two optional instants.
pub(super) fn earliest<I: Ord>(a: Option<I>, b: Option<I>) -> Option<I> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
