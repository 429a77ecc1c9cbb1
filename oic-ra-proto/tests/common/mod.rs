//! An in-memory XMPP server for the end-to-end tests: it carries stanzas
//! between two endpoints and sets `from` as a real server does.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use oic_ra_proto::endpoint::{Endpoint, EndpointConfig, Event};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::stanza::Stanza;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub(crate) const CLIENT: &str =
    "alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
pub(crate) const SERVER: &str =
    "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

/// Sets `from` on a stanza, as the XMPP server does on delivery.
pub(crate) fn stamp(xml: &str, from: &FullJid) -> String {
    let mut s = Stanza::parse(xml, &Default::default()).unwrap();
    s.from = Some(from.clone().into());
    s.to_xml()
}

pub(crate) struct Pair {
    pub(crate) client: Endpoint<Instant>,
    pub(crate) server: Endpoint<Instant>,
    pub(crate) client_jid: FullJid,
    pub(crate) server_jid: FullJid,
    pub(crate) now: Instant,
    pub(crate) rng: ChaCha20Rng,
    /// Every stanza carried, client to server.
    pub(crate) to_server: Vec<String>,
    /// Every stanza carried, server to client.
    pub(crate) to_client: Vec<String>,
}

impl Pair {
    pub(crate) fn new(client: EndpointConfig, server: EndpointConfig) -> Self {
        Self {
            client: Endpoint::new(client),
            server: Endpoint::new(server),
            client_jid: FullJid::new(CLIENT).unwrap(),
            server_jid: FullJid::new(SERVER).unwrap(),
            now: Instant::now(),
            rng: ChaCha20Rng::seed_from_u64(7),
            to_server: Vec::new(),
            to_client: Vec::new(),
        }
    }

    pub(crate) fn default_pair() -> Self {
        Self::new(EndpointConfig::default(), EndpointConfig::default())
    }

    /// Takes the client's pending stanzas (not delivered).
    pub(crate) fn drain_client(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.client.poll_transmit()).collect()
    }

    /// Takes the server's pending stanzas (not delivered).
    pub(crate) fn drain_server(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.server.poll_transmit()).collect()
    }

    pub(crate) fn deliver_to_server(&mut self, xml: &str) {
        let s = stamp(xml, &self.client_jid);
        self.to_server.push(s.clone());
        self.server.handle_stanza(&s).unwrap();
    }

    pub(crate) fn deliver_to_client(&mut self, xml: &str) {
        let s = stamp(xml, &self.server_jid);
        self.to_client.push(s.clone());
        self.client.handle_stanza(&s).unwrap();
    }

    /// Carries stanzas both ways until both are quiet.
    pub(crate) fn run(&mut self) {
        loop {
            let c = self.drain_client();
            let s = self.drain_server();
            if c.is_empty() && s.is_empty() {
                return;
            }
            for x in c {
                self.deliver_to_server(&x);
            }
            for x in s {
                self.deliver_to_client(&x);
            }
        }
    }

    pub(crate) fn client_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    pub(crate) fn server_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }
}
