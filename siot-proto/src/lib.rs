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
//! # Modules
//!
//! * [`key`]: thing keys (section 4), generated from the caller's RNG and
//!   kept secret;
//! * [`payload`]: every element of sections 4-9 and the stanza it travels
//!   in;
//! * [`roster`]: presence subscriptions and the friendship rule of 2.3;
//! * [`thing`], [`provisioning`], [`owner`]: the three state machines;
//! * [`stanza`]: XMPP stanzas as XML text (the `iot-xmpp` crate).
//!
//! # Example
//!
//! A thing registers and its owner claims it, with the stanzas carried by
//! hand (an XMPP server would set `from`):
//!
//! ```
//! use siot_proto::owner::{Owner, OwnerEvent};
//! use siot_proto::payload::Name;
//! use siot_proto::provisioning::ProvisioningService;
//! use siot_proto::stanza::{Jid, Stanza};
//! use siot_proto::thing::{Thing, ThingConfig};
//! # use rand_core::{RngCore, CryptoRng, impls};
//! # struct Rng(u64);
//! # impl RngCore for Rng {
//! #     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
//! #     fn next_u64(&mut self) -> u64 { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1); self.0 >> 11 }
//! #     fn fill_bytes(&mut self, d: &mut [u8]) { impls::fill_bytes_via_next(self, d) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> { self.fill_bytes(d); Ok(()) }
//! # }
//! # impl CryptoRng for Rng {}
//!
//! let ps_jid: Jid = "provisioning.example.org".parse()?;
//! let mut bulb = Thing::new(ThingConfig {
//!     provisioning: ps_jid.clone(),
//!     names: vec![Name { lang: None, text: "Bulb".into() }],
//!     limits: Default::default(),
//! });
//! let mut ps = ProvisioningService::new(Default::default());
//! let mut owner = Owner::new(ps_jid.clone(), Default::default());
//!
//! let deliver = |xml: &str, from: &str| -> Result<Stanza, Box<dyn std::error::Error>> {
//!     let mut s = Stanza::parse(xml, &Default::default())?;
//!     s.from = Some(from.parse()?);
//!     Ok(s)
//! };
//! let key = bulb.setup(&mut Rng(7)).clone();
//! while let Some(x) = bulb.poll_transmit() { ps.handle(&deliver(&x, "bulb@example.org/1")?); }
//! owner.claim("Bulb", &key);
//! while let Some(x) = owner.poll_transmit() { ps.handle(&deliver(&x, "owner@example.com/1")?); }
//! while let Some(x) = ps.poll_transmit() {
//!     let s = deliver(&x, "provisioning.example.org")?;
//!     if s.to.as_ref().is_some_and(|t| t.as_str().starts_with("owner")) { owner.handle(&s); } else { bulb.handle(&s); }
//! }
//! assert_eq!(owner.poll_event(), Some(OwnerEvent::Claimed("bulb@example.org".parse()?)));
//! assert_eq!(bulb.owner().map(|o| o.as_str()), Some("owner@example.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Choices the specification leaves open, and how the parser treats the
//! typos of the printed examples, are recorded in the crate's `PROFILE.md`,
//! shown here as [`profile`].
#![forbid(unsafe_code)]

#[doc = include_str!("../PROFILE.md")]
pub mod profile {}

pub mod key;
pub mod owner;
pub mod payload;
pub mod provisioning;
pub mod roster;
pub mod thing;

/// XMPP stanzas as XML text (the workspace's `iot-xmpp` crate).
pub use iot_xmpp as stanza;
