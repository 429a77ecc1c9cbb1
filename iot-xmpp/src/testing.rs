//! An in-memory XMPP server for tests, examples and fuzz targets (feature
//! `testing`): it routes the stanzas of machines driven by
//! [`iot_sansio::testing::Driver`] by their `to`, and stamps `from` as a
//! real server does (RFC 6120 8.1.2.1; the bare JID for subscription
//! presence, RFC 6121 3.1.2).
//!
//! ```
//! use core::time::Duration;
//! use iot_sansio::testing::{Driver, Node};
//! use iot_xmpp::testing::Server;
//! use iot_xmpp::{Jid, Stanza};
//! # use iot_sansio::{End, Input, Machine, Outbox, Outgoing};
//! # use iot_xmpp::{IqType, ErrorType, DefinedCondition};
//! # /// Answers every `iq` get with `feature-not-implemented`.
//! # struct Refuser(Outbox<Stanza, End<()>>);
//! # impl Machine for Refuser {
//! #     type Instant = Duration; type Input = Stanza; type Transmit = Stanza; type Event = End<()>;
//! #     fn handle_input(&mut self, _: Duration, input: Input<'_, Stanza>) {
//! #         if let Input::Data(s) = input { if s.iq_type() == Some(IqType::Get) {
//! #             self.0.send(s.error_reply(ErrorType::Cancel, DefinedCondition::FeatureNotImplemented));
//! #         } }
//! #     }
//! #     fn handle_timeout(&mut self, _: Duration) {}
//! #     fn poll_timeout(&self) -> Option<Duration> { None }
//! #     fn outgoing(&mut self) -> Outgoing<'_, Stanza, End<()>> { self.0.outgoing() }
//! # }
//! let alice: Jid = "alice@example.org/phone".parse()?;
//! let bob: Jid = "bob@example.org/tv".parse()?;
//! let mut a = Refuser(Outbox::new());
//! let mut b = Refuser(Outbox::new());
//! a.0.send(Stanza::iq(IqType::Get).with_to(bob.to_bare()).with_id("q1"));
//! let mut server = Server::new([alice.clone(), bob.clone()]);
//! Driver::new(Duration::ZERO).run(&mut [&mut a as &mut dyn Node<_, _, _>, &mut b], |from, s| server.route(from, s));
//! // The query reached bob from alice's full JID; the error came back.
//! assert_eq!(server.log()[0].from, Some(alice.clone()));
//! assert_eq!(server.log()[1].to, Some(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::sasl::server::ScramServer;
use crate::stanza::Stanza;
use crate::vocab::PresenceType;
use jid::Jid;

/// One stanza the server carried: its sender, its receiver (`None` when no
/// node has the address), and the stanza as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// The sender's address (`None` for a node without one).
    pub from: Option<Jid>,
    /// The index of the receiving node, if any.
    pub to: Option<usize>,
    /// The stanza, `from` stamped.
    pub stanza: Stanza,
}

/// An XMPP server in memory: node `i` of the driver is connected as the
/// `i`-th address.
#[derive(Debug, Clone, Default)]
pub struct Server {
    addresses: Vec<Jid>,
    log: Vec<Carried>,
}

impl Server {
    /// A server where node `i` is logged in as the `i`-th address (a full
    /// JID for a client, a bare domain for a component).
    pub fn new(addresses: impl IntoIterator<Item = Jid>) -> Self {
        Self {
            addresses: addresses.into_iter().collect(),
            log: Vec::new(),
        }
    }

    /// The address of node `i`.
    #[must_use]
    pub fn address(&self, i: usize) -> Option<&Jid> {
        self.addresses.get(i)
    }

    /// The node an addressee reaches: the node with exactly that address,
    /// else the first node with the same bare JID.
    #[must_use]
    pub fn node_of(&self, to: &Jid) -> Option<usize> {
        self.addresses.iter().position(|a| a == to).or_else(|| {
            let bare = to.to_bare();
            self.addresses.iter().position(|a| a.to_bare() == bare)
        })
    }

    /// The routing function for [`iot_sansio::testing::Driver::run`]:
    /// stamps `from` with the sender's address (its bare JID for
    /// subscription presence), logs the stanza, and returns the node it
    /// reaches, if any.
    pub fn route(&mut self, from: usize, stanza: Stanza) -> Option<(usize, Stanza)> {
        let sender = self.addresses.get(from).cloned();
        self.carry(sender, stanza)
    }

    /// As [`Server::route`], for a stanza from an entity that is not one
    /// of the nodes (another account on the server, a spoofer's client):
    /// the caller delivers it to the node returned.
    pub fn inject(&mut self, from: &Jid, stanza: Stanza) -> Option<(usize, Stanza)> {
        self.carry(Some(from.clone()), stanza)
    }

    fn carry(&mut self, sender: Option<Jid>, mut stanza: Stanza) -> Option<(usize, Stanza)> {
        let subscription = matches!(
            stanza.presence_type(),
            Some(
                PresenceType::Subscribe
                    | PresenceType::Subscribed
                    | PresenceType::Unsubscribe
                    | PresenceType::Unsubscribed
            )
        );
        stanza.from = sender.map(|s| if subscription { s.to_bare().into() } else { s });
        let to = stanza.to.as_ref().and_then(|t| self.node_of(t));
        self.log.push(Carried {
            from: stanza.from.clone(),
            to,
            stanza: stanza.clone(),
        });
        to.map(|to| (to, stanza))
    }

    /// Everything carried so far, in order.
    #[must_use]
    pub fn log(&self) -> &[Carried] {
        &self.log
    }

    /// The stanzas carried to `to` (delivered to a node or not), in order.
    pub fn sent_to<'a>(&'a self, to: &'a Jid) -> impl Iterator<Item = &'a Stanza> + 'a {
        self.log
            .iter()
            .map(|c| &c.stanza)
            .filter(move |s| s.to.as_ref().is_some_and(|t| t.to_bare() == to.to_bare()))
    }

    /// Forgets the log.
    pub fn clear_log(&mut self) {
        self.log.clear();
    }
}

/// The RFC 5802 section 5 login, scripted: a server's side of a login of
/// user `user` with password `pencil` by SCRAM-SHA-1 (the client nonce of
/// [`rfc5802_nonce`]), without TLS ([`Tls::Insecure`](crate::stream::Tls::Insecure)), that
/// binds `bound` (a full JID of `user@localhost`). A client connection
/// that asks for SCRAM-SHA-1 and is given this whole text at once (or in
/// any pieces) comes online as `bound`.
#[must_use]
pub fn rfc5802_login(bound: &str) -> String {
    [
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>",
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
        // base64 of the server-first-message of RFC 5802 section 5
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDUitRNnNlazhiZjkyLGk9NDA5Ng==</challenge>",
        // base64 of its server-final-message
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9</success>",
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s2' from='localhost' version='1.0'>",
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
        &format!("<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{bound}</jid></bind></iq>"),
    ]
    .concat()
}

/// The RNG that gives a client the nonce of RFC 5802 section 5
/// (`fyko+d2lbbFgONRv9qkxdawL`).
#[must_use]
pub fn rfc5802_nonce() -> iot_sansio::testing::Scripted {
    iot_sansio::testing::Scripted::new(&[
        0x7f, 0x29, 0x28, 0xf9, 0xdd, 0xa5, 0x6d, 0xb1, 0x60, 0x38, 0xd4, 0x6f, 0xf6, 0xa9, 0x31,
        0x75, 0xac, 0x0b,
    ])
}
