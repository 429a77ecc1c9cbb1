//! What the Simple IoT examples share: one account on its own connection
//! (the workspace's sans-IO client over tokio, SCRAM over STARTTLS), with
//! its roster, moving a machine's stanzas out and what arrives in.
//!
//! On every connection the roster is requested before initial presence
//! (RFC 6121 2.2): an account that has not asked for it is no interested
//! resource, and the server need not deliver it the `subscribed` presence
//! a thing sends when it approves the provisioning service (RFC 6121
//! 3.1.6), which the service would then record as never subscribed.
//! `iq` requests the machine does not handle are answered
//! `service-unavailable` here (RFC 6120 8.4).

#![allow(dead_code, clippy::print_stdout)]

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::roster::{Roster, RosterChange, RosterQuery};
use iot_xmpp::stream::Tls;
use iot_xmpp::stream::{Client, ClientConfig, ClientEvent};
use iot_xmpp::{BareJid, DefinedCondition, ErrorType, IqType, Stanza, StanzaKind};
use iot_xmpp_net::asynch::AsyncTransport;
use rand_core::OsRng;
use siot_proto::payload::SIOT_NS;

pub(crate) type Res<T> = Result<T, Box<dyn Error>>;

/// One account on its own connection, with its roster.
pub(crate) struct Link {
    pub(crate) name: &'static str,
    pub(crate) conn: Client<Instant, OsRng>,
    transport: AsyncTransport,
    roster: Roster,
    pub(crate) jid: Option<iot_xmpp::FullJid>,
}

impl Link {
    pub(crate) async fn connect(server: &str, user: &'static str, resource: &str) -> Res<Self> {
        let connector = example_io::xmpp::test_connector(server)?;
        let mut config = ClientConfig::new(
            BareJid::new(&format!("{user}@localhost"))?,
            Secret::new("secret"),
            Some(resource.into()),
        );
        // The connection reads what the machines read: a full pending list.
        config.limits = siot_proto::stanza_limits();
        let mut link = Self {
            name: user,
            conn: Client::new(config, OsRng),
            transport: AsyncTransport::dial(&connector, "localhost", Tls::StartTls).await?,
            roster: Roster::new(),
            jid: None,
        };
        link.conn.start(Instant::now());
        while link.jid.is_none() {
            link.round(&mut |_| {}).await?;
        }
        Ok(link)
    }

    /// One round of I/O; stanzas for the machine go to `deliver`, roster
    /// changes are returned.
    pub(crate) async fn round(
        &mut self,
        deliver: &mut dyn FnMut(Stanza),
    ) -> Res<Vec<RosterChange>> {
        self.transport
            .round(&mut self.conn, Instant::now() + Duration::from_millis(20))
            .await?;
        let mut changes = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            match event {
                ClientEvent::StartTls => {
                    self.transport.start_tls().await?;
                    self.conn.tls_started(Instant::now());
                }
                ClientEvent::Online { jid, .. } => {
                    println!("{}: online as {jid}", self.name);
                    // An interested, available resource (RFC 6121 1.4).
                    self.conn.send(&RosterQuery::get("roster", None))?;
                    self.conn.send(&Stanza::new(StanzaKind::Presence))?;
                    self.jid = Some(jid);
                }
                ClientEvent::Stanza(s) => {
                    let own = self.jid.clone().ok_or("not online")?;
                    if s.id.as_deref() == Some("roster") && s.iq_type() == Some(IqType::Result) {
                        changes.extend(self.roster.take_result(&s)?);
                    } else if let (Some(IqType::Set), Ok((change, reply))) =
                        (s.iq_type(), self.roster.take_push(&s, &own))
                    {
                        self.conn.send(&reply)?;
                        changes.push(change);
                    } else {
                        let ours = s.payloads.iter().any(|p| p.ns == SIOT_NS);
                        if !ours && matches!(s.iq_type(), Some(IqType::Get | IqType::Set)) {
                            self.conn.send(&s.error_reply(
                                ErrorType::Cancel,
                                DefinedCondition::ServiceUnavailable,
                            ))?;
                        }
                        deliver(s);
                    }
                }
                ClientEvent::Ended(end) => return Err(format!("{}: {end}", self.name).into()),
                // These examples start every connection anew.
                ClientEvent::Resumed { .. } | ClientEvent::ResumeFailed { .. } => {}
            }
        }
        Ok(changes)
    }

    /// Moves a machine's stanzas out and what arrives in.
    pub(crate) async fn drive<M>(&mut self, machine: &mut M) -> Res<Vec<RosterChange>>
    where
        M: Machine<Instant = Instant, Input = Stanza, Transmit = Stanza>,
    {
        while let Some(s) = machine.poll_transmit() {
            self.conn.send(&s)?;
        }
        let changes = self
            .round(&mut |s| machine.handle_input(Instant::now(), Input::Data(&s)))
            .await?;
        while let Some(s) = machine.poll_transmit() {
            self.conn.send(&s)?;
        }
        Ok(changes)
    }
}

/// The value after `flag` on the command line, if given.
pub(crate) fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The service the thing and owner examples talk to: `--service JID`, or
/// [`SERVICE`].
pub(crate) fn service_arg() -> Res<iot_xmpp::Jid> {
    Ok(arg("--service").unwrap_or_else(|| SERVICE.into()).parse()?)
}

/// The provisioning service's full JID as the single-role examples use it:
/// a request to a bare JID would be answered by the server itself (RFC
/// 6120 10.5.3), so the service logs in with this resource.
pub(crate) const SERVICE: &str = "provisioning@localhost/ps";

/// The product name of the examples' bulb.
pub(crate) const NAME: &str = "Futuretec Light Bulb 10X";
