//! A Simple IoT provisioning service alone, on its own connection through
//! a real XMPP server, so that another implementation can play the thing
//! and the owner (or `siot_thing` and `siot_owner` do). It logs in as
//! `provisioning@localhost/ps`, asks for its roster (it must: see the
//! shared module), and serves registrations, claims, is-friend queries,
//! pending lists and updates (sections 4 to 9), printing what happens.
//!
//! ```sh
//! bash .ci/prosody      # or .ci/ejabberd, then --server 127.0.0.1:15223
//! cargo run -p siot-proto --example siot_service -- --until-claimed &
//! cargo run -p siot-proto --example siot_thing -- --key-file /tmp/bulb.key &
//! cargo run -p siot-proto --example siot_owner -- --key "$(cat /tmp/bulb.key)"
//! ```
//!
//! Options: `--server ADDR`; `--until-claimed` leaves three seconds after
//! a thing is claimed (otherwise it serves for `--seconds N`, default 60). Account
//! `provisioning@localhost`, password `secret`; the certificate to trust is
//! `$XMPP_CERT_DIR/localhost.crt` (default `/tmp/xmpp-cert`, made by
//! `.ci/xmpp-cert`).

#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use common::{Link, Res};
use iot_sansio::Machine;
use iot_sansio::store::{Deferred, Store, StoreAnswer, StoreOp};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Registry};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = xmpp_net::server_arg();
    let until_claimed = std::env::args().any(|a| a == "--until-claimed");
    let seconds: u64 = common::arg("--seconds").map_or(Ok(60), |s| s.parse())?;
    let mut link = Link::connect(&server, "provisioning", "ps").await?;
    println!("service: serving as {}", link.jid.clone().ok_or("no JID")?);
    // Every store request leaves the service as an event; this runtime
    // answers them from a registry in memory, where a deployment would ask
    // its database (see `sqlite_provisioning`).
    let mut ps = ProvisioningService::<Instant, Deferred>::with_store(Default::default(), Deferred);
    let mut store = Registry::new();
    let mut stop = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < stop {
        for change in link.drive(&mut ps).await? {
            // The roster says which things the service is subscribed to.
            ps.apply_roster_change(Instant::now(), &change);
        }
        while let Some(event) = ps.poll_event() {
            match event {
                ProvisioningEvent::Registered(thing) => println!("service: {thing} registered"),
                ProvisioningEvent::Subscribed(thing) => {
                    println!("service: {thing} approved the service's subscription");
                }
                ProvisioningEvent::Claimed { thing, owner } => {
                    println!("service: {owner} claimed {thing}");
                    if until_claimed {
                        // A little longer, for the owner's next questions.
                        stop = stop.min(Instant::now() + Duration::from_secs(3));
                    }
                }
                ProvisioningEvent::ClaimRefused { by, condition } => {
                    println!("service: a claim by {by} refused ({condition})");
                }
                ProvisioningEvent::Store(request) => {
                    // What the service answers goes out once its writes
                    // are stored.
                    let answer = store.answer_now(&request.op).ok_or("no answer")?;
                    if let (StoreOp::Put { key, .. }, StoreAnswer::Stored(v)) =
                        (&request.op, &answer)
                    {
                        println!("service: record {key} stored ({v})");
                    }
                    ps.provide(Instant::now(), request.id, answer)?;
                }
                other => println!("service: {other:?}"),
            }
        }
    }
    // Whatever is still queued (the claim's answers) goes out first.
    link.drive(&mut ps).await?;
    link.conn.close(Instant::now());
    link.round(&mut |_| {}).await.ok();
    println!("service: leaving");
    Ok(())
}
