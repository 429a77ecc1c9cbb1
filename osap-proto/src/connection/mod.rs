//! The LBS connection as one machine on each side (section 5, Figures 1
//! to 4; section 6): the negotiation, then on the same connection the
//! authentication and the DAS redirect, with one frame decoder across the
//! hand-off (bytes that follow the negotiation in the same read go to the
//! authentication), or, on a reauthentication connection, the refresh
//! (0x4) at once. The first frame the LBS reads decides which.
//!
//! [`LbsConnection`] and [`DeviceConnection`] run the negotiation machines
//! ([`LbsNegotiation`](crate::LbsNegotiation),
//! [`DeviceNegotiation`](crate::DeviceNegotiation)) and the authentication
//! machines of [`crate::auth`], and report one session: its events, and one
//! [`ConnectionEnd`].

mod common;
mod device;
mod lbs;

pub use common::{ConnectionEnd, ConnectionFault, ConnectionRefusal};
pub use device::{DeviceConnection, DeviceConnectionConfig, DeviceConnectionEvent};
pub use lbs::{LbsConnection, LbsConnectionConfig, LbsConnectionEvent};
