//! Two Simple IoT provisioning service processes over one PostgreSQL
//! database, through a real Prosody server: the services are two
//! resources of the account `provisioning@localhost` (`ps1` and `ps2`),
//! each a `siot_service --db` process answering its store requests from
//! the same table. Ten things register, half with each service; two
//! owners race 100 claims on them, `alice` through `ps1` and `bob` through
//! `ps2`, five rounds of one claim per thing each. Checked: exactly one
//! owner per thing, told `claimed` every time, the other told `conflict`
//! every time, as the table and the things themselves say.
//!
//! Then the faults: `ps1` is started again with `--die-at-claim`, and an
//! owner's claim kills it with SIGKILL right after the table stored the
//! thing's owner, before the owner was answered: the thing is claimed,
//! not half (its record is whole; the owner asks again, a new `ps1`
//! answers `claimed` and completes the owner's index). Last, both
//! services are killed and started again: every thing keeps its owner.
//!
//! ```sh
//! bash .ci/prosody && bash .ci/postgres
//! cargo build -p siot-proto --example siot_service --example siot_race
//! ./target/debug/examples/siot_race [--server ADDR] [--db URL]
//! ```

#![allow(clippy::print_stdout)]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Link, Res};
use iot_sansio::store::{StoreAnswer, StoreOp};
use iot_store_postgres::PgStore;
use iot_xmpp::{DefinedCondition, IqType, Jid, Stanza};
use rand_core::OsRng;
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::Record;
use siot_proto::thing::{Thing, ThingConfig};

const THINGS: [&str; 10] = [
    "thing0", "thing1", "thing2", "thing3", "thing4", "thing5", "thing6", "thing7", "thing8",
    "thing9",
];
const ROUNDS: usize = 5;

/// A `siot_service` process, its log in a file.
struct Service {
    resource: &'static str,
    child: Child,
    log: PathBuf,
}

impl Service {
    fn start(resource: &'static str, server: &str, db: &str, space: &str, die: bool) -> Res<Self> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().ok_or("no directory")?;
        let log =
            std::env::temp_dir().join(format!("siot-race-{resource}-{}.log", std::process::id()));
        let out = std::fs::File::create(&log)?;
        let mut command = Command::new(dir.join("siot_service"));
        command
            .args([
                "--server",
                server,
                "--resource",
                resource,
                "--db",
                db,
                "--space",
                space,
            ])
            .args(["--seconds", "300"])
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null());
        if die {
            command.arg("--die-at-claim");
        }
        let child = command.spawn()?;
        let service = Self {
            resource,
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !service.said("service: serving")? {
            if Instant::now() > deadline {
                return Err(format!("{resource} did not start:\n{}", service.output()?).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(service)
    }

    fn output(&self) -> Res<String> {
        Ok(std::fs::read_to_string(&self.log)?)
    }

    fn said(&self, line: &str) -> Res<bool> {
        Ok(self.output()?.contains(line))
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(mut self) -> Res<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    fn jid(&self) -> Res<Jid> {
        Ok(format!("provisioning@localhost/{}", self.resource).parse()?)
    }
}

/// An owner: a raw connection sending claims and keeping the answers.
struct Owner {
    link: Link,
    answers: BTreeMap<String, Stanza>,
}

impl Owner {
    async fn connect(server: &str, user: &'static str) -> Res<Self> {
        Ok(Self {
            link: Link::connect(server, user, "o").await?,
            answers: BTreeMap::new(),
        })
    }

    fn claim(&mut self, service: &Jid, name: &str, key: &Key, id: &str) -> Res<()> {
        let claim = SiotPayload::Claim {
            name: name.into(),
            key: key.clone(),
        };
        self.link.conn.send(&claim.to_stanza(service.clone(), id))?;
        Ok(())
    }

    async fn round(&mut self) -> Res<()> {
        let answers = &mut self.answers;
        self.link
            .round(&mut |s| {
                if matches!(s.iq_type(), Some(IqType::Result | IqType::Error))
                    && let Some(id) = s.id.clone()
                {
                    answers.insert(id, s);
                }
            })
            .await?;
        Ok(())
    }

    /// Whether the answer to `id` is `claimed`, `Some(false)` for
    /// `conflict`; an error for anything else.
    fn outcome(&self, id: &str) -> Res<Option<bool>> {
        let Some(answer) = self.answers.get(id) else {
            return Ok(None);
        };
        if let Ok(Some(SiotPayload::Claimed { .. })) = SiotPayload::from_stanza(answer) {
            return Ok(Some(true));
        }
        match answer.error().map(|e| e.condition) {
            Some(DefinedCondition::Conflict) => Ok(Some(false)),
            _ => Err(format!("claim {id} answered {}", answer.to_xml()).into()),
        }
    }
}

/// The owner of `thing` in the table.
async fn owner_in_table(store: &PgStore, space: &str, thing: &str) -> Res<Option<String>> {
    match store
        .answer::<Record>(space, &StoreOp::Get(format!("thing:{thing}@localhost")))
        .await
    {
        StoreAnswer::Found(found) => match found.record {
            Record::Thing(t) => Ok(t.owner),
            other => Err(format!("not a thing: {other:?}").into()),
        },
        StoreAnswer::Missing => Ok(None),
        other => Err(format!("the table answered {other:?}").into()),
    }
}

/// Drives the owners until every id in `ids` has its answer (each id is
/// one owner's).
async fn until_answered(owners: &mut [&mut Owner], ids: &[String], what: &str) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ids
        .iter()
        .all(|id| owners.iter().any(|o| o.answers.contains_key(id)))
    {
        if Instant::now() > deadline {
            return Err(format!("{what}: answers missing after 60 s").into());
        }
        for owner in owners.iter_mut() {
            owner.round().await?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let server = example_io::xmpp::server_arg();
    let db = common::arg("--db").unwrap_or_else(|| "postgres://iot@127.0.0.1:15432/iot".into());
    let space = format!("siot-race-{}", std::process::id());
    let store = PgStore::connect(&db, 2)?;
    store.migrate().await?;
    let mut ps1 = Service::start("ps1", &server, &db, &space, false)?;
    let ps2 = Service::start("ps2", &server, &db, &space, false)?;
    let services = [ps1.jid()?, ps2.jid()?];
    println!("race: two services over one table (space {space})");

    // Ten things register, half with each service.
    let mut things = Vec::new();
    for (i, user) in THINGS.iter().enumerate() {
        let names = vec![Name {
            lang: None,
            text: format!("Bulb {i}"),
        }];
        let mut config = ThingConfig::new(services[i % 2].clone(), names);
        // The other process of the service may be the one that tells it.
        config.any_resource = true;
        let mut thing = Thing::<Instant, OsRng>::new(config, OsRng);
        let key = thing.setup(Instant::now()).clone();
        let link = Link::connect(&server, user, "t").await?;
        things.push((link, thing, key));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !things.iter().all(|(_, t, _)| t.is_registered()) {
        if Instant::now() > deadline {
            return Err("the things did not all register".into());
        }
        for (link, thing, _) in &mut things {
            for change in link.drive(thing).await? {
                thing.apply_roster_change(&change);
            }
        }
    }
    println!("race: {} things registered", things.len());

    // The race: 100 claims, alice through ps1, bob through ps2.
    let mut alice = Owner::connect(&server, "alice").await?;
    let mut bob = Owner::connect(&server, "bob").await?;
    let mut ids = Vec::new();
    let started = Instant::now();
    for round in 0..ROUNDS {
        for (i, (_, _, key)) in things.iter().enumerate() {
            let name = format!("Bulb {i}");
            let (a, b) = (format!("a{i}-{round}"), format!("b{i}-{round}"));
            alice.claim(&services[0], &name, key, &a)?;
            bob.claim(&services[1], &name, key, &b)?;
            ids.extend([a, b]);
        }
    }
    until_answered(&mut [&mut alice, &mut bob], &ids, "the race").await?;
    let elapsed = started.elapsed();
    println!(
        "race: {} claims answered in {:.2} s ({:.0} claims/s)",
        ids.len(),
        elapsed.as_secs_f64(),
        ids.len() as f64 / elapsed.as_secs_f64()
    );
    let mut winners = Vec::new();
    for (i, user) in THINGS.iter().enumerate() {
        let mut won = [0usize; 2];
        for round in 0..ROUNDS {
            for (o, (owner, prefix)) in [(&alice, "a"), (&bob, "b")].into_iter().enumerate() {
                if owner.outcome(&format!("{prefix}{i}-{round}"))? == Some(true) {
                    won[o] += 1;
                }
            }
        }
        let winner = match won {
            [ROUNDS, 0] => "alice@localhost",
            [0, ROUNDS] => "bob@localhost",
            _ => return Err(format!("{user}: claims won {won:?} (alice, bob)").into()),
        };
        let table = owner_in_table(&store, &space, user).await?;
        if table.as_deref() != Some(winner) {
            return Err(format!("{user}: won by {winner}, the table says {table:?}").into());
        }
        winners.push(winner);
    }
    println!(
        "race: every thing has one owner (alice {}, bob {}); each losing claim was told `conflict`",
        winners.iter().filter(|w| w.starts_with("alice")).count(),
        winners.iter().filter(|w| w.starts_with("bob")).count()
    );
    // The things were told their owner.
    let deadline = Instant::now() + Duration::from_secs(30);
    while things
        .iter()
        .zip(&winners)
        .any(|((_, t, _), w)| t.owner().map(ToString::to_string).as_deref() != Some(*w))
    {
        if Instant::now() > deadline {
            return Err("a thing was not told its owner".into());
        }
        for (link, thing, _) in &mut things {
            for change in link.drive(thing).await? {
                thing.apply_roster_change(&change);
            }
        }
    }
    println!("race: every thing knows its owner");

    // A service killed between a claim and its answer.
    let mut bulb = Link::connect(&server, "bulb", "b").await?;
    ps1.kill()?;
    ps1 = Service::start("ps1", &server, &db, &space, true)?;
    let names = vec![Name {
        lang: None,
        text: "Bulb 10".into(),
    }];
    let mut bulb_thing =
        Thing::<Instant, OsRng>::new(ThingConfig::new(services[0].clone(), names), OsRng);
    let bulb_key = bulb_thing.setup(Instant::now()).clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !bulb_thing.is_registered() {
        if Instant::now() > deadline {
            return Err("the bulb did not register".into());
        }
        bulb.drive(&mut bulb_thing).await?;
    }
    alice.claim(&services[0], "Bulb 10", &bulb_key, "k1")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ps1.said("service: killed after the claim's first write")? {
        if Instant::now() > deadline {
            return Err(format!("ps1 did not die at the claim:\n{}", ps1.output()?).into());
        }
        alice.round().await?;
    }
    ps1.child.wait()?;
    // The owner is not told `claimed` (the server may bounce the request
    // with an error, or say nothing).
    if alice
        .answers
        .get("k1")
        .is_some_and(|a| a.iq_type() == Some(IqType::Result))
    {
        return Err("the owner was told `claimed` by a service that died first".into());
    }
    let table = owner_in_table(&store, &space, "bulb").await?;
    if table.as_deref() != Some("alice@localhost") {
        return Err(format!("after the kill the table says {table:?}").into());
    }
    println!(
        "race: ps1 killed between the claim and its answer; the table holds the claim whole, the owner was told nothing"
    );
    let ps1 = Service::start("ps1", &server, &db, &space, false)?;
    alice.claim(&services[0], "Bulb 10", &bulb_key, "k2")?;
    bob.claim(&services[1], "Bulb 10", &bulb_key, "k3")?;
    until_answered(
        &mut [&mut alice, &mut bob],
        &["k2".into(), "k3".into()],
        "after the kill",
    )
    .await?;
    if alice.outcome("k2")? != Some(true) || bob.outcome("k3")? != Some(false) {
        return Err("after the kill: alice not `claimed` or bob not `conflict`".into());
    }
    let index = store
        .answer::<Record>(&space, &StoreOp::Get("owner:alice@localhost".into()))
        .await;
    let listed = matches!(&index, StoreAnswer::Found(f) if matches!(&f.record, Record::Owner(o) if o.things.iter().any(|t| t == "bulb@localhost")));
    if !listed {
        return Err(format!("alice's index lacks the bulb: {index:?}").into());
    }
    println!(
        "race: a new ps1 answers alice `claimed` again and completes her index; bob is told `conflict`"
    );

    // Both services killed and started again: every thing keeps its owner.
    ps1.kill()?;
    ps2.kill()?;
    let ps1 = Service::start("ps1", &server, &db, &space, false)?;
    let ps2 = Service::start("ps2", &server, &db, &space, false)?;
    let mut again = Vec::new();
    for (i, (_, _, key)) in things.iter().enumerate() {
        let name = format!("Bulb {i}");
        let (a, b) = (format!("ra{i}"), format!("rb{i}"));
        alice.claim(&services[0], &name, key, &a)?;
        bob.claim(&services[1], &name, key, &b)?;
        again.extend([a, b]);
    }
    until_answered(&mut [&mut alice, &mut bob], &again, "after the restart").await?;
    for (i, winner) in winners.iter().enumerate() {
        let alice_won = alice.outcome(&format!("ra{i}"))? == Some(true);
        let bob_won = bob.outcome(&format!("rb{i}"))? == Some(true);
        let expected = winner.starts_with("alice");
        if alice_won != expected || bob_won == expected {
            return Err(format!("{}: the owner changed across the restart", THINGS[i]).into());
        }
    }
    println!("race: both services restarted; every thing kept its owner");
    ps1.kill()?;
    ps2.kill()?;
    println!("race: passed");
    Ok(())
}
