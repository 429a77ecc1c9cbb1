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
//! a thing is claimed (otherwise it serves for `--seconds N`, default 60);
//! `--resource R` logs in as `provisioning@localhost/R` (default `ps`), so
//! that several service processes serve under one account, each at its own
//! full JID (a request to the bare JID would be answered by the server,
//! RFC 6120 10.5.3). Account `provisioning@localhost`, password `secret`;
//! the certificate to trust is `$XMPP_CERT_DIR/localhost.crt` (default
//! `/tmp/xmpp-cert`, made by `.ci/xmpp-cert`).
//!
//! The service's records live in a registry in this process, or with
//! `--db URL` in PostgreSQL (`iot-store-postgres`, space `--space S`,
//! default `siot`), which several service processes share: each answers
//! its service's store requests from the same table, and compare-and-set
//! decides between them. `--die-at-claim` is a fault to test with: the
//! process kills itself (SIGKILL) right after the database stored the
//! first write of a claim (the thing's record with its owner), before the
//! service knows it and before the owner is answered.

#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

use common::{Link, Res};
use iot_sansio::Machine;
use iot_sansio::store::{Deferred, Store, StoreAnswer, StoreOp};
use iot_store_postgres::PgStore;
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Record, Registry};

/// Where the service's records are.
enum Records {
    /// In this process.
    Memory(Registry),
    /// In PostgreSQL, under a space.
    Postgres(PgStore, String),
}

impl Records {
    async fn answer(&mut self, op: &StoreOp<String, Record>) -> StoreAnswer<Record> {
        match self {
            Self::Memory(registry) => registry.answer_now(op).unwrap_or(StoreAnswer::Unavailable),
            Self::Postgres(store, space) => store.answer(space, op).await,
        }
    }
}

/// Whether a write gives an unowned thing its owner (the first write of
/// a claim), from what the service read of it (`owned`: each thing's key
/// and whether it had an owner, as last read).
fn claims(op: &StoreOp<String, Record>, owned: &std::collections::HashMap<String, bool>) -> bool {
    matches!(op, StoreOp::Put { key, record: Record::Thing(t), .. }
        if t.owner.is_some() && owned.get(key) == Some(&false))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = example_io::xmpp::server_arg();
    let until_claimed = std::env::args().any(|a| a == "--until-claimed");
    let die_at_claim = std::env::args().any(|a| a == "--die-at-claim");
    let seconds: u64 = common::arg("--seconds").map_or(Ok(60), |s| s.parse())?;
    let resource = common::arg("--resource").unwrap_or_else(|| "ps".into());
    // Every store request leaves the service as an event; this runtime
    // answers them from a registry in memory or from PostgreSQL.
    let mut records = match common::arg("--db") {
        Some(url) => {
            let store = PgStore::connect(&url, 4)?;
            store.migrate().await?;
            Records::Postgres(
                store,
                common::arg("--space").unwrap_or_else(|| "siot".into()),
            )
        }
        None => Records::Memory(Registry::new()),
    };
    let mut link = Link::connect(&server, "provisioning", &resource).await?;
    println!("service: serving as {}", link.jid.clone().ok_or("no JID")?);
    let mut ps = ProvisioningService::<Instant, Deferred>::with_store(Default::default(), Deferred);
    let mut stop = Instant::now() + Duration::from_secs(seconds);
    let mut owned = std::collections::HashMap::new();
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
                    let answer = records.answer(&request.op).await;
                    if let (StoreOp::Get(key), StoreAnswer::Found(found)) = (&request.op, &answer)
                        && let Record::Thing(t) = &found.record
                    {
                        owned.insert(key.clone(), t.owner.is_some());
                    }
                    if let (StoreOp::Put { key, .. }, StoreAnswer::Stored(v)) =
                        (&request.op, &answer)
                    {
                        println!("service: record {key} stored ({v})");
                        if die_at_claim && claims(&request.op, &owned) {
                            println!("service: killed after the claim's first write");
                            std::process::Command::new("kill")
                                .args(["-KILL", &std::process::id().to_string()])
                                .status()?;
                        }
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
