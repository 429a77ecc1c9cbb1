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
//! * **Codecs** parse and build every element and stanza of the protocol.
//! * **Sans-IO state machines** for the thing ([`Thing`]), the owner
//!   ([`Owner`]) and the provisioning service ([`ProvisioningService`]),
//!   under the family's contract ([`Machine`]): they take received stanzas
//!   and give stanzas to send, so any XMPP client can drive them (the
//!   workspace's own, `iot_xmpp::stream::Client`, in the
//!   examples and the tests against Prosody and ejabberd). Every `iq`
//!   request they send is answered or times out.
//! * **Durable state as data**: the thing's [`thing_state::ThingState`] is
//!   announced as a `Saved` event when it changes and rebuilds the thing
//!   after a reboot ([`Thing::restore`]). The service keeps nothing of its
//!   own: it reads and writes versioned [`provisioning::Record`]s as
//!   requests of a store several services may share (a
//!   [`provisioning::Registry`] in memory, or the runtime's database
//!   through [`ProvisioningEvent::Store`] and
//!   [`ProvisioningService::provide`]), writes compare-and-set, and
//!   answers only once its writes are stored.
//!
//! # How to drive this crate
//!
//! Feed every received stanza to [`Machine::handle_input`]
//! (`Input::Data(&stanza)`, or the text through
//! [`StanzaMachine::handle_stanza`]) and [`Input::PeerClosed`] when the
//! XMPP connection ends; after each call send everything
//! [`Machine::poll_transmit`] gives and handle everything
//! [`Machine::poll_event`] gives; call [`Machine::handle_timeout`] when
//! [`Machine::poll_timeout`] is due. Each machine reports the end of its
//! session once, as an `Ended` event.
//!
//! # Modules
//!
//! * [`key`]: thing keys (section 4), generated from the caller's RNG and
//!   kept secret;
//! * [`payload`]: every element of sections 4-9 and the stanza it travels
//!   in;
//! * [`roster`]: presence subscriptions and the friendship rule of 2.3;
//! * [`thing`], [`provisioning`], [`owner`]: the three state machines;
//! * [`thing_state`]: what a thing keeps across a reboot;
//! * [`stanza`]: XMPP stanzas and their vocabulary (the `iot-xmpp` crate).
//!
//! # Example
//!
//! A thing registers and its owner claims it, through an in-memory XMPP
//! server that sets `from` as a real one does; the service's runtime
//! keeps its records in a [`provisioning::Registry`], which answers the
//! service's store requests at once:
//!
//! ```
//! use std::time::Duration;
//! use iot_sansio::testing::{Driver, rng};
//! use iot_xmpp::testing::Server;
//! use siot_proto::payload::Name;
//! use siot_proto::stanza::Jid;
//! use siot_proto::{Machine, Owner, OwnerConfig, OwnerEvent, ProvisioningService, Thing, ThingConfig};
//!
//! let ps_jid: Jid = "provisioning.example.org".parse()?;
//! let names = vec![Name { lang: None, text: "Bulb".into() }];
//! let mut bulb = Thing::new(ThingConfig::new(ps_jid.clone(), names), rng(7));
//! let mut ps = ProvisioningService::new(Default::default());
//! let mut owner = Owner::new(OwnerConfig::new(ps_jid.clone()));
//! let mut xmpp = Server::new([
//!     "bulb@example.org/1".parse()?,
//!     ps_jid,
//!     "owner@example.com/1".parse()?,
//! ]);
//! let mut driver = Driver::new(Duration::ZERO);
//!
//! let key = bulb.setup(driver.now()).clone();
//! owner.claim(driver.now(), "Bulb", &key);
//! driver.run(&mut [&mut bulb, &mut ps, &mut owner], |from, s| xmpp.route(from, s));
//! assert_eq!(owner.poll_event(), Some(OwnerEvent::Claimed("bulb@example.org".parse()?)));
//! assert_eq!(bulb.owner().map(|o| o.as_str()), Some("owner@example.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Choices the specification leaves open, and how the parser treats the
//! typos of the printed examples, are recorded in the crate's `PROFILE.md`,
//! shown here as [`profile`].
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

pub mod key;
mod limits;
pub mod owner;
pub mod payload;
pub mod provisioning;
pub mod roster;
mod stored;
pub mod thing;
mod thing_config;
pub mod thing_state;

/// XMPP stanzas as XML text (the workspace's `iot-xmpp` crate).
pub use iot_xmpp as stanza;

pub use iot_sansio::{End, Input, Instant, Machine, Never, Secret};
pub use iot_xmpp::IqFailure;
pub use iot_xmpp::StanzaMachine;
pub use owner::{Owner, OwnerConfig, OwnerEnd, OwnerEvent};
pub use provisioning::{
    ProvisioningConfig, ProvisioningEnd, ProvisioningEvent, ProvisioningService,
};
pub use thing::{Thing, ThingConfig, ThingEnd, ThingEvent};

pub use limits::{MAX_PENDING_PER_OWNER, stanza_limits};
