//! The MQTT 3.1.1 control packets OSAP relies on (draft sections 6 and 7:
//! registration with CONNECT/CONNACK, business messages with PUBLISH at
//! QoS 0 and 1 and subscriptions, heartbeat with PINGREQ/PINGRESP, and
//! DISCONNECT), read from and written to the same frame layer as the OSAP
//! control messages. Section numbers below are those of MQTT 3.1.1
//! (ISO/IEC 20922).

mod connect;
mod packet;
mod publish;
mod qos;
mod subscribe;

pub use connect::{ConnAck, Connect, ConnectReturnCode, Password, Will};
pub use packet::{Packet, PacketType};
pub use publish::{Delivery, Publish};
pub use qos::{PacketId, QoS};
pub use subscribe::{
    ReturnCodes, SubAck, Subscribe, SubscribeReturnCode, TopicFilters, Unsubscribe,
};
