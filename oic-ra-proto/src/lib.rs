//! Sans-IO implementation of OIC Remote Access (OIC Remote Access
//! Specification v1.0.0): how two Remote Access Endpoints (RAEs) reach each
//! other's OIC resources through an XMPP server.
//!
//! The specification names RAEs with a full JID scheme (section 7.1), exposes
//! the configuration of the XMPP account through the `oic.ra.xmpp` and
//! `oic.ra.user` resources (section 6.2 and Annex A), carries CRUDN messages
//! as base64 `<rest xmlns="rest.oic.org">` documents over XEP-0047 In-Band
//! Bytestreams (section 7.3.1), maps presence and priority to reachability
//! (section 7.3, Table 4), logs in with SASL SCRAM-SHA-1 and detects an
//! ungraceful disconnect with XEP-0199 ping (section 7.4).
//!
//! # Layers
//!
//! * **Codecs** parse and build identities, resource representations,
//!   `<rest>` payloads and the XMPP stanzas that carry them.
//! * **Sans-IO state machines** under the family's contract
//!   ([`Machine`]): [`Endpoint`] (the CRUDN exchange: request correlation,
//!   observe, deadlines) over [`transport::IbbTransport`] (XEP-0047
//!   sessions, blocks, reassembly), and [`Keepalive`] (XEP-0199). They
//!   take received stanzas and give stanzas to send; time comes in as a
//!   parameter. They work with any XMPP client. [`rae::Rae`] runs the
//!   same logic on the workspace's own client connection, as one machine
//!   with one outbox: bytes in, bytes out.
//!
//! # How to drive this crate
//!
//! Feed every received stanza to [`Machine::handle_input`] of each machine
//! (`Input::Data(&stanza)`, or the text through
//! [`StanzaMachine::handle_stanza`]) and [`Input::PeerClosed`] when the
//! XMPP connection ends; after each call send everything
//! [`Machine::poll_transmit`] gives and handle everything
//! [`Machine::poll_event`] gives; call [`Machine::handle_timeout`] when
//! [`Machine::poll_timeout`] is due. A machine reports the end of its life
//! once, as an `Ended` event carrying an [`End`].
//!
//! # Modules
//!
//! * [`identity`]: bare and full JIDs and the RAE full-JID scheme of 7.1.1;
//! * [`presence`]: presence and priority of 7.3 (Table 4);
//! * [`rest`]: the CRUDN payload of 7.3.1, parsed and built, with base64
//!   around the whole document;
//! * [`resource`]: `oic.ra.xmpp` and `oic.ra.user` (6.2.2, Annex A) and an
//!   RAE server's handler for them;
//! * [`stanza`]: `<iq/>`, `<message/>` and `<presence/>` and the XMPP
//!   vocabulary (the `iot-xmpp` crate);
//! * [`ibb`]: the XEP-0047 elements;
//! * [`transport`]: the XEP-0047 sessions;
//! * [`endpoint`]: the sans-IO RAE endpoint: CRUDN request/response
//!   correlation, observe and timeouts;
//! * [`ping`]: XEP-0199 ping and a keepalive (7.4).
//!
//! * [`rae`]: a whole Remote Access Endpoint on its own XMPP connection
//!   (the `iot-xmpp` client: SCRAM-SHA-1 or SHA-256 over STARTTLS, 7.2),
//!   with its full JID, priority, keepalive, peers and `oic.ra.xmpp`
//!   status.
//!
//! # Example
//!
//! An RAE client asks an RAE server for its resources, through an
//! in-memory XMPP server that sets `from` as a real one does:
//!
//! ```
//! use std::time::Duration;
//! use iot_sansio::testing::{Driver, rng};
//! use iot_xmpp::testing::Server;
//! use oic_ra_proto::{Endpoint, EndpointEvent, Machine};
//! use oic_ra_proto::identity::FullJid;
//! use oic_ra_proto::rest::{Method, RestMessage};
//!
//! let client_jid = FullJid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")?;
//! let light_jid = FullJid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")?;
//! let mut client = Endpoint::new(Default::default(), rng(1));
//! let mut light = Endpoint::new(Default::default(), rng(2));
//! let mut xmpp = Server::new([client_jid.into(), light_jid.clone().into()]);
//! let mut driver = Driver::new(Duration::ZERO);
//! let get = RestMessage::request(Method::Get, "coap://light/oic/res");
//! let id = client.request(driver.now(), &light_jid, &get)?;
//!
//! let mut answered = None;
//! while answered.is_none() {
//!     driver.run(&mut [&mut client, &mut light], |from, s| xmpp.route(from, s));
//!     while let Some(e) = light.poll_event() {
//!         if let EndpointEvent::Request { id, .. } = e {
//!             let links = serde_json::json!([{"href": "/a/switch", "rt": ["oic.r.switch.binary"]}]);
//!             light.respond(driver.now(), id, &RestMessage::response(200, "OK").with_json(&links))?;
//!         }
//!     }
//!     answered = client.poll_event();
//! }
//! assert!(matches!(answered, Some(EndpointEvent::Response { id: got, .. }) if got == id));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Choices the specification leaves open are recorded in the crate's
//! `PROFILE.md`, shown here as [`profile`].
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml): each reads in one screen.
#![warn(clippy::too_many_lines)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[doc = include_str!("../PROFILE.md")]
pub mod profile {}

pub mod endpoint;
pub mod ibb;
pub mod identity;
/// XEP-0199 ping and a keepalive (section 7.4): `iot_xmpp`'s, shared by
/// every XMPP machine of the family.
pub mod ping {
    pub use iot_xmpp::keepalive::*;
}
pub mod presence;
pub mod rae;
pub mod resource;
pub mod rest;
pub mod transport;

/// XMPP stanzas as XML text (the workspace's `iot-xmpp` crate).
pub use iot_xmpp as stanza;

pub use endpoint::{
    Endpoint, EndpointConfig, EndpointEnd, EndpointError, EndpointEvent, Failure, RequestId,
};
pub use iot_sansio::{End, Input, Instant, Machine, Never};
pub use iot_xmpp::StanzaMachine;
pub use ping::{Keepalive, KeepaliveConfig, KeepaliveEnd, KeepaliveEvent};
pub use rae::{Rae, RaeConfig, RaeEnd, RaeEvent, RaeRefusal};
pub use transport::{IbbTransport, IbbTransportConfig, IbbTransportEnd, IbbTransportEvent};
