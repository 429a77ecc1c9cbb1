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

mod common;

use std::time::{Duration, Instant};

use common::{Link, Res};
use iot_sansio::Machine;
use iot_xmpp::{BareJid, Jid};
use rand_core::OsRng;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::Name;
use siot_proto::provisioning::ProvisioningService;
use siot_proto::roster::SubscriptionRequest;
use siot_proto::thing::{Thing, ThingConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = example_io::xmpp::server_arg();
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
        for change in ps_link.drive(&mut ps).await? {
            ps.apply_roster_change(Instant::now(), &change);
        }
        // The service keeps its records in a registry in this process,
        // which answers its store requests at once.
        while ps.poll_event().is_some() {}
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
