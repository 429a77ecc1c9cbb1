//! The XEP-0047 In-Band Bytestream transport under the CRUDN exchange of
//! [`crate::endpoint`]: sessions keyed by the peer's full JID and the
//! whole `sid`, `<open/>`/`<close/>` in `iq` stanzas, data blocks in
//! `message` stanzas (OIC RA 7.3.1), `seq` checked and wrapping at 65535,
//! messages cut into blocks and reassembled (the boundary rule is in the
//! [`crate::endpoint`] documentation and `PROFILE.md`), and the XEP-0047
//! errors. It knows nothing of `<rest>`; a message is a byte string, and
//! one of whole blocks is known to end when it is an XML document whose
//! root element closed (7.3.1's messages are).
//!
//! The transport is a [`Machine`](iot_sansio::Machine) of its own,
//! [`IbbTransport`]: it reads stanzas (with [`IbbTransport::take`], which
//! says whether a stanza was about In-Band Bytestreams), queues the stanzas
//! to send, and reports [`IbbTransportEvent`]s. Its `<open/>` and
//! `<close/>` requests wait in an [`iot_xmpp::Requests`] table: each is
//! answered or fails with an [`IqFailure`](iot_xmpp::IqFailure) at
//! [`IbbTransportConfig::timeout`]. The endpoint runs the same logic as
//! steps of its own (ARCHITECTURE.md, "Composition"): what they send goes
//! into the endpoint's outbox, and it acts on what they find in the same
//! call.

mod blocks;
mod kinds;
mod machine;
mod sessions;

pub use kinds::{IbbTransportConfig, IbbTransportEnd, IbbTransportEvent, PeerAccess, SessionId};
pub use machine::IbbTransport;
pub(crate) use sessions::IbbSessions;
pub use sessions::MIN_BLOCK_SIZE;
