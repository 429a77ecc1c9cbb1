//! The ECDH authentication of draft section 5 (Figures 3 and 4, Table 3)
//! and the DAS redirect of section 6: the control messages ([`message`]),
//! and the device ([`DeviceAuth`]) and LBS ([`LbsAuth`]) state machines
//! under the family's contract ([`iot_sansio::Machine`]).
//!
//! Every message is a control frame in ECDH key mode (flags `0x3`) whose
//! variable header carries the negotiated protocol type and suite, whose
//! transaction content is the 16-byte nonce of the exchange (chosen by the
//! device, echoed by the LBS), and whose application payload is a list of
//! fields `tag (1) || length (2, big endian) || value`. Sealed fields are
//! [`crate::crypto::seal`]ed under the key Table 3's flow names, with the
//! message type and the nonce as associated data, so a response replayed
//! from another exchange does not open. See `PROFILE.md` for every body.

mod config;
mod device;
mod directory;
mod error;
mod lbs;
mod lbs_steps;
pub mod message;

pub use config::AuthConfig;
pub(crate) use device::DeviceAuthCore;
pub use device::{DeviceAuth, DeviceAuthEvent};
pub use directory::{
    DeviceDirectory, DeviceEntry, DirectoryAnswer, DirectoryOp, DirectoryRequest, Enrolled,
    MemoryDirectory,
};
pub use error::{AuthEnd, AuthFault, AuthRefusal};
pub(crate) use lbs::LbsAuthCore;
pub use lbs::{LbsAuth, LbsAuthEvent};
pub use message::{AuthFrame, AuthKind, AuthMessage, AuthResult, NONCE_LEN};
