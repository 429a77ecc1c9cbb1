//! Sans-IO implementation of the ProtoXEP "Simple Internet of Things"
//! (`urn:xmpp:siot:1`).
//!
//! The protocol lets a thing (a light bulb, a sensor) register with a
//! provisioning service using a key (section 4), be claimed by its owner
//! (section 5), and decide which requestors become its friends through
//! presence subscriptions that the provisioning service arbitrates
//! (sections 6 to 9). Friendship is a roster subscription of state `from` or
//! `both` (section 2.3).
//!
//! # Layers
//!
//! * **Codecs** parse and build every element and stanza of the protocol as
//!   XML text.
//! * **Sans-IO state machines** for the thing, the owner and the
//!   provisioning service take received stanzas and give stanzas to send, so
//!   they can be driven by any XMPP client.
//!
//! Choices the specification leaves open, and how the parser treats the
//! typos of the printed examples, are recorded in the crate's `PROFILE.md`.
#![forbid(unsafe_code)]

pub mod key;
pub mod owner;
pub mod payload;
pub mod provisioning;
pub mod roster;
pub mod thing;

/// XMPP stanzas as XML text (the workspace's `iot-xmpp` crate).
pub use iot_xmpp as stanza;
