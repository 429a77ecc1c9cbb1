//! The bidirectional protocol negotiation of draft section 5 (Figures 1 and
//! 2) as two sans-IO state machines under the family's contract
//! ([`iot_sansio::Machine`]): the device side ([`DeviceNegotiation`]) and
//! the LBS side ([`LbsNegotiation`]). Both read bytes and write frames; both
//! end a failed negotiation with one [`NegotiationEnd`].

mod device;
mod lbs;
mod terms;

pub(crate) use device::DeviceNegotiationCore;
pub use device::{DeviceNegotiation, DeviceNegotiationConfig, DeviceNegotiationEvent};
pub(crate) use lbs::LbsNegotiationCore;
pub use lbs::{LbsNegotiation, LbsNegotiationConfig, LbsNegotiationEvent};
pub use terms::{
    Negotiated, NegotiationEnd, NegotiationFault, NegotiationRefusal, Offer, SecurityRanking,
};
