//! XMPP as the protocol crates of this workspace speak it: stanzas (RFC
//! 6120 section 8: `<iq/>`, `<message/>` and `<presence/>` with their
//! routing attributes and child elements, read by (namespace, local name)
//! within explicit size limits), the stream and the client connection (RFC
//! 6120 sections 4 to 7), SASL SCRAM (RFC 5802, RFC 7677), and the roster
//! and presence (RFC 6121).
//!
//! The client binds SCRAM to the TLS connection when the runtime gives it
//! the connection's binding data (`SCRAM-SHA-1-PLUS`, which RFC 6120
//! 13.8.1 makes mandatory to implement, and `SCRAM-SHA-256-PLUS`), speaks
//! stream management (XEP-0198) so that a session survives a lost
//! connection, and reports `see-other-host` (4.9.3.19) with the host for
//! the runtime to follow.
//!
//! The crate is in layers, each a module:
//!
//! * [`vocab`]: the namespaces, stanza kinds and types, error types and
//!   defined conditions, as typed values;
//! * [`Element`] and [`Stanza`]: the values;
//! * [`tree`]: the element reader every payload of the family is read
//!   with, namespaces resolved as Namespaces in XML defines, iterative and
//!   linear in its input, and its pull form ([`tree::XmlReader`]);
//! * the reader ([`Stanza::parse`], within [`StanzaLimits`]; and
//!   [`Stanza::parse_ref`], which reads in place: a [`StanzaRef`] whose
//!   names, attribute values and text borrow from the text unless they
//!   needed unescaping) and the writer ([`Stanza::to_xml`],
//!   [`Stanza::write_xml`], [`escape_text`], [`escape_attr`]);
//! * [`StanzaReadError`]: why a text is not a stanza;
//! * [`text`]: reading XML text in place, for readers built on quick-xml;
//! * [`stream`]: the incremental stream reader, and the client connection
//!   as a sans-IO machine ([`stream::Client`]: bytes in, bytes
//!   out, STARTTLS left to the runtime, SCRAM login, binding, stanzas), and
//!   as steps a machine of yours runs with its own outbox
//!   ([`stream::ClientCore`]); [`StanzaOut`], where stanza logic writes;
//! * [`sasl`]: the SCRAM client, channel binding and the choice of
//!   mechanism;
//! * [`keepalive`]: the XEP-0199 keepalive every XMPP machine shares;
//! * [`roster`] and [`presence`]: the roster a client keeps and who is
//!   online.
//!
//! Built stanzas carry `xmlns="jabber:client"` so that they stand alone (a
//! stream-level writer may drop the redundant declaration); received
//! stanzas may carry `jabber:client`, `jabber:server` or no namespace
//! (inherited from the stream).
//!
//! Every parser is total: any text gives a [`Stanza`] or a [`StanzaReadError`].
//!
//! The machines of the XMPP crates take a parsed [`Stanza`] as their input
//! and hand out stanzas to send, under the family's contract
//! ([`iot_sansio::Machine`]). With the `testing` feature, [`testing`] has
//! an in-memory XMPP server for tests: it routes by JID and stamps `from`.
#![forbid(unsafe_code)]
// No function over 80 lines (clippy.toml): each reads in one screen.
#![warn(clippy::too_many_lines)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

mod element;
mod error;
pub mod jids;
#[cfg(feature = "json")]
pub mod json;
pub mod keepalive;
mod limits;
mod machine;
pub mod presence;
mod reader;
pub mod request;
pub mod roster;
pub mod sasl;
mod stanza;
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod tree;
pub mod vocab;
mod writer;

pub use element::{Element, ElementRef};
pub use error::StanzaReadError;
pub use jid::{BareJid, FullJid, Jid};
pub use limits::StanzaLimits;
pub use machine::{StanzaMachine, StanzaOut};
pub use request::{IqFailure, Requests};
pub use stanza::{Stanza, StanzaError, StanzaRef};
pub use stream::{
    Client, ClientConfig, ClientEnd, ClientError, ClientEvent, ClientFault, ClientRefusal,
};
pub use text::push_reference;
pub use vocab::{
    CLIENT_NS, DefinedCondition, ErrorType, IqType, MessageType, PresenceType, SERVER_NS,
    STANZAS_NS, StanzaKind, Subscription,
};
pub use writer::{escape_attr, escape_text};
