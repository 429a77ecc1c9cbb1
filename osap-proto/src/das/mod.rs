//! The session with the device access service (draft sections 6 and 7):
//! registration (Figure 5: CONNECT, CONNACK, DISCONNECT), the heartbeat
//! (Figure 6: PINGREQ, PINGRESP), on the device ([`DeviceSession`]) and on
//! the DAS ([`DasSession`]), which trusts the sessionkeys the LBS issued
//! through a store of [`KeyRecord`]s.
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
//! keys.issue("dev-1", key.clone(), Suite::Aes128Gcm, None);
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
//!
//! Over a store that answers later (one shared by several DAS processes),
//! the session asks with events and the runtime answers each; the CONNACK
//! goes out once the counter is stored:
//!
//! ```
//! # use core::time::Duration;
//! # use osap_proto::crypto::SessionKey;
//! # use osap_proto::das::{DasSession, DasSessionConfig, DasSessionEvent, KeyTable, Registration};
//! # use osap_proto::{Input, Machine, Packet, Suite};
//! use iot_sansio::store::Deferred;
//!
//! # let key = SessionKey::from_bytes([7; 16]);
//! # let now = Duration::ZERO;
//! let mut shared = KeyTable::new(); // stands for the shared store
//! shared.issue("dev-1", key.clone(), Suite::Aes128Gcm, Some(now + Duration::from_secs(86_400)));
//! let mut das = DasSession::new(now, DasSessionConfig::default(), Deferred, iot_sansio::testing::rng(2));
//! let mut connect = Vec::new();
//! Packet::Connect(Registration::new("dev-1", 1).to_connect(&key)).encode(&mut connect)?;
//! das.handle_input(now, Input::Data(&connect));
//! let mut registered = false;
//! while let Some(event) = das.poll_event() {
//!     match event {
//!         // A read, then the write of the counter (compare-and-set).
//!         DasSessionEvent::Store(request) => {
//!             assert!(das.poll_transmit().is_none(), "nothing said before the counter is stored");
//!             let answer = shared.answer(&request.op);
//!             das.provide(now, request.id, answer)?;
//!         }
//!         DasSessionEvent::Registered { .. } => registered = true,
//!         other => panic!("{other:?}"),
//!     }
//! }
//! assert!(registered);
//! assert_eq!(shared.record("dev-1").unwrap().record.last_registration, Some(1));
//! assert!(das.poll_transmit().is_some()); // CONNACK 0
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod common;
mod device;
mod kinds;
mod live;
mod platform;
mod queue;
mod register;
mod registrar;

pub use crate::records::{KeyAnswer, KeyOp, KeyRecord, KeyRequest, KeyTable};
pub use common::{SessionEnd, SessionFault};
pub use device::{DeviceSession, DeviceSessionConfig, DeviceSessionEvent};
pub use kinds::DasSessionConfig;
pub use live::SessionError;
pub use platform::{DasSession, DasSessionEvent};
pub use queue::{EventQueue, Overflow, Pushed, QueuedEvent};
pub use register::{
    DEFAULT_KEEP_ALIVE, LastWill, PROOF_LEN, Registration, RegistrationError, USER_PREFIX,
};
