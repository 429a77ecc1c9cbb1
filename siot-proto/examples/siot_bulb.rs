//! Simple IoT on tokio, through a real XMPP server: a provisioning service,
//! a light bulb and its owner, each an account logged in on its own
//! connection (the workspace's sans-IO client: SCRAM over STARTTLS). The
//! bulb registers with the service (section 4), shows its key, and the
//! owner claims it with that key (section 5).
//!
//! ```sh
//! bash .ci/prosody      # or .ci/ejabberd, then --server 127.0.0.1:15223
//! cargo run -p siot-proto --example siot_bulb
//! ```
//!
//! Accounts `provisioning`, `bulb` and `owner` on `localhost`, password
//! `secret`; the certificate to trust is `$XMPP_CERT_DIR/localhost.crt`
//! (default `/tmp/xmpp-cert`, made by `.ci/xmpp-cert`).

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::{Duration, Instant};

use iot_sansio::{Input, Machine, Secret};
use iot_xmpp::roster::{Roster, RosterChange, RosterQuery};
use iot_xmpp::stream::{ClientConfig, ClientConnection, ClientEvent};
use iot_xmpp::{BareJid, DefinedCondition, ErrorType, IqType, Jid, Stanza, StanzaKind};
use rand_core::OsRng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{Name, SIOT_NS};
use siot_proto::provisioning::ProvisioningService;
use siot_proto::roster::SubscriptionRequest;
use siot_proto::thing::{Thing, ThingConfig};
use xmpp_net::asynch::AsyncTransport;

type Res<T> = Result<T, Box<dyn Error>>;

/// One account on its own connection, with its roster.
struct Link {
    name: &'static str,
    conn: ClientConnection<Instant, OsRng>,
    transport: AsyncTransport,
    roster: Roster,
    jid: Option<iot_xmpp::FullJid>,
}

impl Link {
    async fn connect(server: &str, user: &'static str, resource: &str) -> Res<Self> {
        let tls = xmpp_net::test_servers_tls()?;
        let mut config = ClientConfig::new(
            BareJid::new(&format!("{user}@localhost"))?,
            Secret::new("secret"),
            Some(resource.into()),
        );
        // The connection reads what the machines read: a full pending list.
        config.limits = siot_proto::stanza_limits();
        let mut link = Self {
            name: user,
            conn: ClientConnection::new(config, OsRng),
            transport: AsyncTransport::connect(server, tls, "localhost").await?,
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
    async fn round(&mut self, deliver: &mut dyn FnMut(Stanza)) -> Res<Vec<RosterChange>> {
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
            }
        }
        Ok(changes)
    }

    /// Moves a machine's stanzas out and what arrives in.
    async fn drive<M>(&mut self, machine: &mut M) -> Res<Vec<RosterChange>>
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = xmpp_net::server_arg();
    let mut ps_link = Link::connect(&server, "provisioning", "ps").await?;
    let mut bulb_link = Link::connect(&server, "bulb", "f65dece8").await?;
    let mut owner_link = Link::connect(&server, "owner", "76a60ed0").await?;
    // Earlier runs may have left subscriptions: start from none.
    for (link, others) in [
        (&mut ps_link, ["bulb", "owner"]),
        (&mut bulb_link, ["provisioning", "owner"]),
        (&mut owner_link, ["provisioning", "bulb"]),
    ] {
        for other in others {
            let jid = BareJid::new(&format!("{other}@localhost"))?;
            link.conn
                .send(&SubscriptionRequest::Unsubscribed.to(&jid, "clean"))?;
            link.conn
                .send(&SubscriptionRequest::Unsubscribe.to(&jid, "clean"))?;
        }
    }
    let ps_jid: Jid = ps_link.jid.clone().ok_or("no JID")?.into();
    let name = "Futuretec Light Bulb 10X";
    let mut ps = ProvisioningService::<Instant>::new(Default::default());
    let mut bulb = Thing::new(
        ThingConfig::new(
            ps_jid.clone(),
            vec![Name {
                lang: None,
                text: name.into(),
            }],
        ),
        OsRng,
    );
    let mut owner = Owner::new(OwnerConfig::new(ps_jid));

    let key = bulb.setup(Instant::now()).clone();
    // The key is a secret: a real bulb shows it on a label or a QR code.
    println!(
        "bulb: registering with the provisioning service (key {}-...)",
        &key.expose()[..4]
    );
    let give_up = Instant::now() + Duration::from_secs(30);
    let mut claimed = false;
    loop {
        if Instant::now() > give_up {
            return Err("the story took more than 30 s".into());
        }
        ps_link.drive(&mut ps).await?;
        for change in bulb_link.drive(&mut bulb).await? {
            // The thing takes its roster from the connection's copy.
            bulb.apply_roster_change(&change);
        }
        owner_link.drive(&mut owner).await?;
        if bulb.is_registered() && !claimed {
            println!("bulb: registered; the owner claims it by name and key");
            owner.claim(Instant::now(), name, &key);
            claimed = true;
        }
        while let Some(event) = owner.poll_event() {
            if let OwnerEvent::Claimed(thing) = event {
                println!("owner: the bulb is mine ({thing})");
            }
        }
        if let Some(o) = bulb.owner() {
            println!("bulb: owned by {o}");
            break;
        }
    }
    for link in [&mut ps_link, &mut bulb_link, &mut owner_link] {
        link.conn.close(Instant::now());
        link.round(&mut |_| {}).await.ok();
    }
    Ok(())
}
