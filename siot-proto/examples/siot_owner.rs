//! A Simple IoT owner alone, on its own connection through a real XMPP
//! server, so that another implementation can play the provisioning
//! service and the thing (or `siot_service` and `siot_thing` do): it
//! claims a thing by its name and the key it shows (section 5), then lists
//! the friend requests waiting for it (section 7).
//!
//! ```sh
//! cargo run -p siot-proto --example siot_owner -- --key TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW
//! ```
//!
//! Options: `--key KEY` (required), `--name NAME` (default the examples'
//! bulb), `--server ADDR`, `--service JID`. Account `owner@localhost`,
//! password `secret`.

#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use common::{Link, Res};
use iot_sansio::Machine;
use siot_proto::key::Key;
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = example_io::xmpp::server_arg();
    let service = common::service_arg()?;
    let key = Key::parse(&common::arg("--key").ok_or("--key KEY is required")?)?;
    let name = common::arg("--name").unwrap_or_else(|| common::NAME.into());
    let mut link = Link::connect(&server, "owner", "76a60ed0").await?;
    let mut owner = Owner::new(OwnerConfig::new(service));
    owner.claim(Instant::now(), &name, &key);
    let stop = Instant::now() + Duration::from_secs(30);
    loop {
        if Instant::now() > stop {
            return Err("no answer from the provisioning service in time".into());
        }
        link.drive(&mut owner).await?;
        match owner.poll_event() {
            Some(OwnerEvent::Claimed(thing)) => {
                println!("owner: claimed {thing}");
                owner.query_pending(Instant::now());
            }
            Some(OwnerEvent::ClaimFailed(why)) => {
                return Err(format!("the claim failed: {why:?}").into());
            }
            Some(OwnerEvent::Pending(jids)) => {
                println!("owner: {} friend request(s) waiting", jids.len());
                break;
            }
            Some(OwnerEvent::Failed(why)) => {
                return Err(format!("a request failed: {why:?}").into());
            }
            Some(other) => println!("owner: {other:?}"),
            None => {}
        }
    }
    link.drive(&mut owner).await?;
    link.conn.close(Instant::now());
    link.round(&mut |_| {}).await.ok();
    Ok(())
}
