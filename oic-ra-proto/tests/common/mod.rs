//! An RAE client and an RAE server endpoint joined by the in-memory XMPP
//! server of `iot_xmpp::testing`, which sets `from` as a real server does;
//! the family's driver carries the stanzas. Tests that inject faults take
//! and deliver stanzas by hand, as text.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use iot_sansio::testing::{Checked, Driver, rng};
use iot_xmpp::testing::Server;
use oic_ra_proto::endpoint::{Endpoint, EndpointConfig, EndpointEvent};
use oic_ra_proto::identity::FullJid;
use oic_ra_proto::stanza::Stanza;
use oic_ra_proto::{Machine, StanzaMachine};
use rand_chacha::ChaCha20Rng;

pub(crate) const CLIENT: &str =
    "alice@example.org/OIC/1.0/Client/6f0aac23-44c6-4b1c-9ad5-1a3b6f0d2e11";
pub(crate) const SERVER: &str =
    "alice@example.org/OIC/1.0/oic.d.light/0685b960-736f-46f7-bead-0bd3b6d8d1d6";

pub(crate) type Rae = Checked<Endpoint<Instant, ChaCha20Rng>>;

/// Sets `from` on a stanza, as the XMPP server does on delivery.
pub(crate) fn stamp(xml: &str, from: &FullJid) -> String {
    let mut s = Stanza::parse(xml, &Default::default()).unwrap();
    s.from = Some(from.clone().into());
    s.to_xml()
}

pub(crate) struct Pair {
    pub(crate) client: Rae,
    pub(crate) server: Rae,
    pub(crate) client_jid: FullJid,
    pub(crate) server_jid: FullJid,
    pub(crate) now: Instant,
    /// The XMPP server between them; its log holds every stanza carried by
    /// [`Pair::run`].
    pub(crate) xmpp: Server,
    /// Every stanza carried, client to server.
    pub(crate) to_server: Vec<String>,
    /// Every stanza carried, server to client.
    pub(crate) to_client: Vec<String>,
}

impl Pair {
    pub(crate) fn new(client: EndpointConfig, server: EndpointConfig) -> Self {
        let client_jid = FullJid::new(CLIENT).unwrap();
        let server_jid = FullJid::new(SERVER).unwrap();
        Self {
            client: Checked::new(Endpoint::new(client, rng(7))),
            server: Checked::new(Endpoint::new(server, rng(8))),
            xmpp: Server::new([client_jid.clone().into(), server_jid.clone().into()]),
            client_jid,
            server_jid,
            now: Instant::now(),
            to_server: Vec::new(),
            to_client: Vec::new(),
        }
    }

    pub(crate) fn default_pair() -> Self {
        Self::new(EndpointConfig::default(), EndpointConfig::default())
    }

    /// Takes the client's pending stanzas (not delivered).
    pub(crate) fn drain_client(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.client.poll_transmit().map(|s| s.to_xml())).collect()
    }

    /// Takes the server's pending stanzas (not delivered).
    pub(crate) fn drain_server(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.server.poll_transmit().map(|s| s.to_xml())).collect()
    }

    pub(crate) fn deliver_to_server(&mut self, xml: &str) {
        let s = stamp(xml, &self.client_jid);
        self.to_server.push(s.clone());
        self.server.handle_stanza(self.now, &s).unwrap();
    }

    pub(crate) fn deliver_to_client(&mut self, xml: &str) {
        let s = stamp(xml, &self.server_jid);
        self.to_client.push(s.clone());
        self.client.handle_stanza(self.now, &s).unwrap();
    }

    /// Carries stanzas both ways until both are quiet.
    pub(crate) fn run(&mut self) {
        let (to_server, to_client) = (&mut self.to_server, &mut self.to_client);
        let xmpp = &mut self.xmpp;
        Driver::new(self.now).run(&mut [&mut self.client, &mut self.server], |from, s| {
            let routed = xmpp.route(from, s)?;
            match from {
                0 => to_server.push(routed.1.to_xml()),
                _ => to_client.push(routed.1.to_xml()),
            }
            Some(routed)
        });
    }

    /// The server's presence goes unavailable, as the XMPP server tells the
    /// client (section 7.3, Table 4).
    pub(crate) fn server_goes_offline(&mut self) {
        let gone = format!("<presence from='{}' type='unavailable'/>", self.server_jid);
        self.client.handle_stanza(self.now, &gone).unwrap();
    }

    pub(crate) fn client_events(&mut self) -> Vec<EndpointEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    pub(crate) fn server_events(&mut self) -> Vec<EndpointEvent> {
        std::iter::from_fn(|| self.server.poll_event()).collect()
    }
}
