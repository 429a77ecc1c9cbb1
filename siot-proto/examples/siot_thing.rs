//! A Simple IoT thing alone, on its own connection through a real XMPP
//! server, so that another implementation can play the provisioning
//! service and the owner (or `siot_service` and `siot_owner` do): a bulb
//! that sets up a key, registers with the service at
//! `provisioning@localhost/ps` (section 4) and waits until it is claimed
//! (section 5), answering subscription requests meanwhile (section 6).
//!
//! ```sh
//! cargo run -p siot-proto --example siot_thing -- --key-file /tmp/bulb.key
//! ```
//!
//! The key is a secret a real bulb shows on a label: here it goes to the
//! file `--key-file` names (only its first group is printed). Options:
//! `--server ADDR`, `--service JID`, `--seconds N` (default 60). Account
//! `bulb@localhost`, password `secret`.

#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use common::{Link, Res};
use rand_core::OsRng;
use siot_proto::payload::Name;
use siot_proto::thing::{Thing, ThingConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = example_io::xmpp::server_arg();
    let service = common::service_arg()?;
    let seconds: u64 = common::arg("--seconds").map_or(Ok(60), |s| s.parse())?;
    let mut link = Link::connect(&server, "bulb", "f65dece8").await?;
    let mut bulb = Thing::new(
        ThingConfig::new(
            service,
            vec![Name {
                lang: None,
                text: common::NAME.into(),
            }],
        ),
        OsRng,
    );
    let key = bulb.setup(Instant::now()).clone();
    println!("thing: registering (key {}-...)", &key.expose()[..4]);
    if let Some(path) = common::arg("--key-file") {
        std::fs::write(&path, key.expose()).map_err(|e| format!("{path}: {e}"))?;
    }
    let stop = Instant::now() + Duration::from_secs(seconds);
    let mut registered = false;
    while bulb.owner().is_none() {
        if Instant::now() > stop {
            return Err("nobody claimed the bulb in time".into());
        }
        for change in link.drive(&mut bulb).await? {
            bulb.apply_roster_change(&change);
        }
        if bulb.is_registered() && !registered {
            println!("thing: registered");
            registered = true;
        }
    }
    println!("thing: owned by {}", bulb.owner().ok_or("no owner")?);
    link.conn.close(Instant::now());
    link.round(&mut |_| {}).await.ok();
    Ok(())
}
