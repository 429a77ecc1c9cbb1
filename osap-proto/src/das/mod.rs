//! The session with the device access service (draft sections 6 and 7):
//! registration (Figure 5: CONNECT, CONNACK, DISCONNECT), the heartbeat
//! (Figure 6: PINGREQ, PINGRESP), on the device ([`DeviceSession`]) and on
//! the DAS ([`DasSession`]), which trusts the sessionkeys the LBS issued
//! through [`SessionKeys`].
//!
//! ```
//! use core::time::Duration;
//! use osap_proto::crypto::SessionKey;
//! use osap_proto::das::{
//!     DasConfig, DasEvent, DasSession, DeviceSession, DeviceSessionConfig, DeviceSessionEvent,
//!     KeyTable, Registration,
//! };
//! use osap_proto::{Input, Machine, Suite};
//!
//! let key = SessionKey::from_bytes([7; 16]);
//! let mut keys = KeyTable::new();
//! keys.insert("dev-1", key.clone(), Suite::Aes128Gcm);
//! let now = Duration::ZERO;
//! let config = DeviceSessionConfig::new(Registration::new("dev-1", 1), key);
//! let mut device = DeviceSession::new(now, config, iot_sansio::testing::rng(1));
//! let mut das = DasSession::new(now, DasConfig::default(), &mut keys, iot_sansio::testing::rng(2));
//! das.handle_input(now, Input::Data(&device.poll_transmit().unwrap())); // CONNECT
//! device.handle_input(now, Input::Data(&das.poll_transmit().unwrap())); // CONNACK
//! assert!(matches!(das.poll_event(), Some(DasEvent::Registered { .. })));
//! assert_eq!(device.poll_event(), Some(DeviceSessionEvent::Registered));
//! // Thirty seconds without sending: the device pings, the DAS answers.
//! let later = now + Duration::from_secs(30);
//! assert_eq!(device.poll_timeout(), Some(later));
//! device.handle_timeout(later);
//! das.handle_input(later, Input::Data(&device.poll_transmit().unwrap())); // PINGREQ
//! device.handle_input(later, Input::Data(&das.poll_transmit().unwrap())); // PINGRESP
//! assert_eq!(device.poll_event(), None);
//! ```

mod device;
mod keys;
mod live;
mod platform;
mod queue;
mod register;

pub use device::{DeviceSession, DeviceSessionConfig, DeviceSessionEvent};
pub use keys::{Issued, KeyTable, SessionKeys};
pub use live::SessionError;
pub use platform::{DasConfig, DasEvent, DasSession};
pub use queue::{EventQueue, Overflow, Pushed, QueuedEvent};
pub use register::{
    DEFAULT_KEEP_ALIVE, LastWill, PROOF_LEN, Registration, RegistrationError, USER_PREFIX,
};

use alloc::vec::Vec;

use crate::decoder::FrameDecoder;
use crate::error::FrameError;
use crate::mqtt::{ConnectReturnCode, Packet, PacketType};
use iot_sansio::{End, Outbox};

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
}

/// Why a DAS session ended: refusals carry the CONNACK return code.
pub type SessionEnd = End<SessionFault, ConnectReturnCode>;

/// The type of a packet, for [`SessionFault::Unexpected`].
fn kind(packet: &Packet<'_>) -> PacketType {
    match packet {
        Packet::Connect(_) => PacketType::Connect,
        Packet::ConnAck(_) => PacketType::ConnAck,
        Packet::Publish(_) => PacketType::Publish,
        Packet::PubAck(_) => PacketType::PubAck,
        Packet::Subscribe(_) => PacketType::Subscribe,
        Packet::SubAck(_) => PacketType::SubAck,
        Packet::Unsubscribe(_) => PacketType::Unsubscribe,
        Packet::UnsubAck(_) => PacketType::UnsubAck,
        Packet::PingReq => PacketType::PingReq,
        Packet::PingResp => PacketType::PingResp,
        Packet::Disconnect => PacketType::Disconnect,
    }
}

/// Cuts `data` into packets and hands each to `handle` until it says stop
/// (`Ok(false)`) or fails.
fn feed_packets(
    decoder: &mut FrameDecoder,
    mut data: &[u8],
    mut handle: impl FnMut(Packet<'_>) -> Result<bool, SessionFault>,
) -> Result<(), SessionFault> {
    while !data.is_empty() {
        let (used, raw) = decoder.decode(data)?;
        let Some(raw) = raw else {
            return Ok(());
        };
        data = data.get(used..).unwrap_or_default();
        if !handle(Packet::from_raw(raw)?)? {
            return Ok(());
        }
    }
    Ok(())
}

/// Queues a packet (every packet these sessions write is valid by
/// construction, so encoding cannot fail; a failure would queue nothing).
fn send<E>(out: &mut Outbox<Vec<u8>, E>, packet: &Packet<'_>) {
    let _ = out.send_with(|buf| packet.encode(buf));
}
