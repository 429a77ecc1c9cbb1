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
//! Choices the specification leaves open are recorded in the crate's
//! `PROFILE.md`.
//!
//! # What is implemented so far
//!
//! * [`identity`]: bare and full JIDs and the RAE full-JID scheme of 7.1.1;
//! * [`presence`]: presence and priority of 7.3 (Table 4);
//! * [`rest`]: the CRUDN payload of section 7.3.1, parsed and built, with
//!   base64 around the whole document.
//!
//! The remote-access resources, In-Band Bytestreams and the keepalive are
//! still to come.
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
pub mod stanza;
