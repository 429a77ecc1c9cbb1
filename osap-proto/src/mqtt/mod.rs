//! Every MQTT 3.1.1 control packet (section 3), read from and written to
//! the same frame layer as the OSAP control messages. OSAP relies on some
//! of them (draft sections 6 and 7: registration with CONNECT/CONNACK,
//! business messages with PUBLISH at QoS 0 and 1 and subscriptions,
//! heartbeat with PINGREQ/PINGRESP, and DISCONNECT); the codec also reads
//! and writes the QoS 2 flow (PUBLISH at QoS 2, PUBREC, PUBREL, PUBCOMP),
//! which a broker sends a subscriber that asked for QoS 2, and leaves the
//! profile's restriction to the session machines. Section numbers below are those of MQTT 3.1.1
//! (ISO/IEC 20922).

mod connect;
mod packet;
mod publish;
mod qos;
mod subscribe;

pub use connect::{ConnAck, Connect, ConnectReturnCode, Password, Will};
pub use packet::{Packet, PacketType};
pub use publish::{Delivery, Publish, TopicName};
pub use qos::{PacketId, QoS};
pub use subscribe::{
    ReturnCodes, SubAck, Subscribe, SubscribeReturnCode, TopicFilters, Unsubscribe,
};
