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
//!     DasSessionConfig, DasSessionEvent, DasSession, DeviceSession, DeviceSessionConfig, DeviceSessionEvent,
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
//! let mut das = DasSession::new(now, DasSessionConfig::default(), &mut keys, iot_sansio::testing::rng(2));
//! das.handle_input(now, Input::Data(&device.poll_transmit().unwrap())); // CONNECT
//! device.handle_input(now, Input::Data(&das.poll_transmit().unwrap())); // CONNACK
//! assert!(matches!(das.poll_event(), Some(DasSessionEvent::Registered { .. })));
//! assert_eq!(device.poll_event(), Some(DeviceSessionEvent::Registered));
//! // Thirty seconds without sending: the device pings, the DAS answers.
//! let later = now + Duration::from_secs(30);
//! assert_eq!(device.poll_timeout(), Some(later));
//! device.handle_timeout(later);
//! das.handle_input(later, Input::Data(&device.poll_transmit().unwrap())); // PINGREQ
//! device.handle_input(later, Input::Data(&das.poll_transmit().unwrap())); // PINGRESP
//! assert_eq!(device.poll_event(), None);
//! ```

mod common;
mod device;
mod keys;
mod live;
mod platform;
mod queue;
mod register;

pub use common::{SessionEnd, SessionFault};
pub use device::{DeviceSession, DeviceSessionConfig, DeviceSessionEvent};
pub use keys::{Issued, KeyTable, SessionKeys};
pub use live::SessionError;
pub use platform::{DasSession, DasSessionConfig, DasSessionEvent};
pub use queue::{EventQueue, Overflow, Pushed, QueuedEvent};
pub use register::{
    DEFAULT_KEEP_ALIVE, LastWill, PROOF_LEN, Registration, RegistrationError, USER_PREFIX,
};
