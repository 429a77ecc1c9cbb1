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
//!   `<rest>` payloads and the XMPP stanzas that carry them, as XML text.
//! * **Sans-IO state machines** (In-Band Bytestream sessions, request
//!   correlation, keepalive) take received stanzas and give stanzas to
//!   send; time comes in as a parameter. They work with any XMPP client.
//!
//! # Modules
//!
//! * [`identity`]: bare and full JIDs and the RAE full-JID scheme of 7.1.1;
//! * [`presence`]: presence and priority of 7.3 (Table 4);
//! * [`rest`]: the CRUDN payload of 7.3.1, parsed and built, with base64
//!   around the whole document;
//! * [`resource`]: `oic.ra.xmpp` and `oic.ra.user` (6.2.2, Annex A) and an
//!   RAE server's handler for them;
//! * [`stanza`]: `<iq/>`, `<message/>` and `<presence/>` as XML text;
//! * [`ibb`]: the XEP-0047 elements;
//! * [`endpoint`]: the sans-IO RAE endpoint: IBB sessions, CRUDN
//!   request/response correlation, observe and timeouts;
//! * [`ping`]: XEP-0199 ping and a keepalive (7.4).
//!
//! SASL SCRAM-SHA-1 (7.2) belongs to the XMPP connection, which the
//! runtime's XMPP client provides.
//!
//! # Example
//!
//! An RAE client asks an RAE server for its resources; the runtime would
//! send each stanza through its XMPP connection, which sets `from`:
//!
//! ```
//! use std::time::Instant;
//! use oic_ra_proto::endpoint::{Endpoint, Event};
//! use oic_ra_proto::identity::FullJid;
//! use oic_ra_proto::rest::{Method, RestMessage};
//! use oic_ra_proto::stanza::Stanza;
//! # use rand_core::{RngCore, CryptoRng, impls};
//! # struct Rng(u64);
//! # impl RngCore for Rng {
//! #     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
//! #     fn next_u64(&mut self) -> u64 { self.0 += 1; self.0 }
//! #     fn fill_bytes(&mut self, d: &mut [u8]) { impls::fill_bytes_via_next(self, d) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { self.fill_bytes(d); Ok(()) }
//! # }
//! # impl CryptoRng for Rng {}
//!
//! let client_jid = FullJid::new("alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11")?;
//! let light_jid = FullJid::new("alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6")?;
//! let mut client = Endpoint::new(Default::default());
//! let mut light: Endpoint<Instant> = Endpoint::new(Default::default());
//! let now = Instant::now();
//! let id = client.request(light_jid.clone(), &RestMessage::request(Method::Get, "coap://light/oic/res"), now, &mut Rng(0))?;
//!
//! // What the XMPP server does: deliver with `from` set.
//! let deliver = |xml: &str, from: &FullJid| -> Result<String, Box<dyn std::error::Error>> {
//!     let mut s = Stanza::parse(xml, &Default::default())?;
//!     s.from = Some(from.clone().into());
//!     Ok(s.to_xml())
//! };
//! let mut answered = None;
//! while answered.is_none() {
//!     while let Some(x) = client.poll_transmit() { light.handle_stanza(&deliver(&x, &client_jid)?)?; }
//!     while let Some(e) = light.poll_event() {
//!         if let Event::Request { id, .. } = e {
//!             let links = serde_json::json!([{"href": "/a/switch", "rt": ["oic.r.switch.binary"]}]);
//!             light.respond(id, &RestMessage::response(200, "OK").with_json(&links))?;
//!         }
//!     }
//!     while let Some(x) = light.poll_transmit() { client.handle_stanza(&deliver(&x, &light_jid)?)?; }
//!     answered = client.poll_event();
//! }
//! assert!(matches!(answered, Some(Event::Response { id: got, .. }) if got == id));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Choices the specification leaves open are recorded in the crate's
//! `PROFILE.md`, shown here as [`profile`].
#![forbid(unsafe_code)]

#[doc = include_str!("../PROFILE.md")]
pub mod profile {}

pub mod endpoint;
pub mod ibb;
pub mod identity;
pub mod ping;
pub mod presence;
pub mod resource;
pub mod rest;

/// XMPP stanzas as XML text (the workspace's `iot-xmpp` crate).
pub use iot_xmpp as stanza;
