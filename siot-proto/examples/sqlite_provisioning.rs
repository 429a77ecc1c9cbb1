//! A provisioning service whose durable state lives in SQLite: the
//! service asks for every record it reads and writes
//! (`ProvisioningEvent::Store`), and this runtime answers from a table
//! with a version per row. A write is conditional on the version the
//! service read (`UPDATE ... WHERE version = ?`), so several services over
//! one database never overwrite each other; the service sends what
//! depended on a write only once the row is committed (write-ahead: an
//! owner is never told "claimed" of a claim the table does not hold). A
//! service started later keeps nothing of its own: it reads the table.
//! The Simple IoT
//! story runs through an in-memory XMPP server; the service is stopped
//! and started again between the claim and the owner's decision, and the
//! bulb is power-cycled and restored from its own saved state. Nothing is
//! lost: the owner still owns the bulb, and the friend is still a friend.
//!
//! ```sh
//! cargo run -p siot-proto --example sqlite_provisioning [-- DB_FILE]
//! ```
//!
//! The database file defaults to a fresh one in the temporary directory.

#![allow(clippy::print_stdout, clippy::doc_markdown)]

use std::error::Error;
use std::time::Duration;

use iot_sansio::store::{Deferred, StoreAnswer, StoreOp, Version, Versioned};
use iot_sansio::testing::{Driver, rng};
use iot_xmpp::testing::Server;
use rusqlite::{Connection, OptionalExtension, params};
use siot_proto::owner::{Owner, OwnerConfig, OwnerEvent};
use siot_proto::payload::{FriendItem, Name};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Record};
use siot_proto::roster::SubscriptionRequest;
use siot_proto::stanza::{BareJid, Jid};
use siot_proto::thing::{Thing, ThingConfig, ThingEvent};
use siot_proto::thing_state::ThingState;
use siot_proto::{Input, Machine};

type Res<T> = Result<T, Box<dyn Error>>;

const BULB: &str = "bulb@example.org/f65dece8";
const PS: &str = "provisioning.example.org";
const OWNER: &str = "owner@example.com/76a60ed0";
const REQUESTOR: &str = "requestor@example.net/10b798d6";
const NAME: &str = "Futuretec Light Bulb 10X";

/// The service's store: one row per record, by key, with its version.
struct Store(Connection);

impl Store {
    fn open(path: &str) -> Res<Self> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, version INTEGER NOT NULL, json TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS flash (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);",
        )?;
        Ok(Self(db))
    }

    /// Answers one of the service's requests; a database error is
    /// "unavailable", which the service answers "retry later".
    fn answer(&self, op: &StoreOp<String, Record>) -> StoreAnswer<Record> {
        self.try_answer(op).unwrap_or(StoreAnswer::Unavailable)
    }

    fn try_answer(&self, op: &StoreOp<String, Record>) -> Res<StoreAnswer<Record>> {
        Ok(match op {
            StoreOp::Get(key) => {
                let row = self
                    .0
                    .query_row(
                        "SELECT version, json FROM records WHERE key = ?1",
                        params![key],
                        |r| Ok((r.get::<_, u64>(0)?, r.get::<_, String>(1)?)),
                    )
                    .optional()?;
                match row {
                    Some((version, json)) => StoreAnswer::Found(Versioned {
                        version: Version::new(version),
                        record: serde_json::from_str(&json)?,
                    }),
                    None => StoreAnswer::Missing,
                }
            }
            StoreOp::Put {
                key,
                expected,
                record,
            } => {
                let json = serde_json::to_string(record)?;
                // Compare-and-set: the row is written only at the version
                // the service read (none: only if there is no row).
                let changed = if *expected == Version::ABSENT {
                    self.0.execute(
                        "INSERT INTO records (key, version, json) VALUES (?1, 1, ?2)
                         ON CONFLICT(key) DO NOTHING",
                        params![key, json],
                    )?
                } else {
                    self.0.execute(
                        "UPDATE records SET version = version + 1, json = ?3
                         WHERE key = ?1 AND version = ?2",
                        params![key, expected.get(), json],
                    )?
                };
                if changed == 1 {
                    StoreAnswer::Stored(expected.next())
                } else {
                    StoreAnswer::Conflict
                }
            }
        })
    }

    fn count(&self) -> Res<u64> {
        Ok(self
            .0
            .query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?)
    }

    /// A thing's owner, as the table holds it.
    fn owner_of(&self, thing: &BareJid) -> Res<Option<String>> {
        match self.answer(&StoreOp::Get(format!("thing:{thing}"))) {
            StoreAnswer::Found(found) => match found.record {
                Record::Thing(t) => Ok(t.owner),
                _ => Err("not a thing's record".into()),
            },
            StoreAnswer::Missing => Ok(None),
            _ => Err("the table did not answer".into()),
        }
    }

    /// The bulb's own flash memory, kept here too for the example.
    fn save_flash(&self, state: &ThingState) -> Res<()> {
        self.0.execute(
            "INSERT INTO flash (id, json) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
            params![serde_json::to_string(state)?],
        )?;
        Ok(())
    }

    fn load_flash(&self) -> Res<ThingState> {
        let json: String = self
            .0
            .query_row("SELECT json FROM flash WHERE id = 1", [], |r| r.get(0))?;
        Ok(serde_json::from_str(&json)?)
    }
}

fn jid(s: &str) -> Res<Jid> {
    Ok(s.parse()?)
}

/// The parties, the XMPP server between them, and the stores.
struct World {
    bulb: Thing<Duration, rand_chacha::ChaCha20Rng>,
    ps: ProvisioningService<Duration, Deferred>,
    owner: Owner<Duration>,
    xmpp: Server,
    driver: Driver<Duration>,
    store: Store,
}

impl World {
    /// Runs everyone until quiet, answering the service's requests from
    /// the table (a write's `Stored` once its row is committed) and
    /// writing what the bulb saves.
    fn run(&mut self) -> Res<()> {
        loop {
            let xmpp = &mut self.xmpp;
            self.driver.run(
                &mut [&mut self.bulb, &mut self.ps, &mut self.owner],
                |from, s| xmpp.route(from, s),
            );
            let mut stored = false;
            while let Some(event) = self.ps.poll_event() {
                match event {
                    ProvisioningEvent::Store(request) => {
                        let answer = self.store.answer(&request.op);
                        self.ps.provide(self.driver.now(), request.id, answer)?;
                        stored = true;
                    }
                    other => println!("service: {other:?}"),
                }
            }
            if !stored {
                break;
            }
        }
        while let Some(event) = self.bulb.poll_event() {
            match event {
                ThingEvent::Saved(state) => self.store.save_flash(&state)?,
                other => println!("bulb: {other:?}"),
            }
        }
        Ok(())
    }

    /// The requestor, a client with no machine here, sends a stanza.
    fn requestor_sends(&mut self, stanza: &siot_proto::stanza::Stanza) -> Res<()> {
        let now = self.driver.now();
        match self.xmpp.inject(&jid(REQUESTOR)?, stanza.clone()) {
            Some((0, s)) => self.bulb.handle_input(now, Input::Data(&s)),
            Some((1, s)) => self.ps.handle_input(now, Input::Data(&s)),
            Some((2, s)) => self.owner.handle_input(now, Input::Data(&s)),
            _ => {}
        }
        self.run()
    }
}

fn bulb_config() -> Res<ThingConfig> {
    Ok(ThingConfig::new(
        jid(PS)?,
        vec![Name {
            lang: None,
            text: NAME.into(),
        }],
    ))
}

fn main() -> Res<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        let file =
            std::env::temp_dir().join(format!("siot-provisioning-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&file);
        file.to_string_lossy().into_owned()
    });
    println!("store: {path}");
    let mut w = World {
        bulb: Thing::new(bulb_config()?, rng(1)),
        ps: ProvisioningService::with_store(Default::default(), Deferred),
        owner: Owner::new(OwnerConfig::new(jid(PS)?)),
        xmpp: Server::new([jid(BULB)?, jid(PS)?, jid(OWNER)?, jid(REQUESTOR)?]),
        driver: Driver::new(Duration::ZERO),
        store: Store::open(&path)?,
    };

    let key = w.bulb.setup(w.driver.now()).clone();
    w.run()?;
    w.owner.claim(w.driver.now(), NAME, &key);
    w.run()?;
    while let Some(e) = w.owner.poll_event() {
        println!("owner: {e:?}");
    }
    let bulb_bare: BareJid = jid(BULB)?.to_bare();
    w.requestor_sends(&SubscriptionRequest::Subscribe.to(&bulb_bare, "subscribe-1"))?;
    println!("store: {} records", w.store.count()?);

    println!("-- the service stops; a new process starts over the same table");
    w.ps = ProvisioningService::with_store(Default::default(), Deferred);
    w.store = Store::open(&path)?;
    println!(
        "service: started; the table says the bulb's owner is {:?}",
        w.store.owner_of(&bulb_bare)?
    );

    w.owner.query_pending(w.driver.now());
    w.run()?;
    let requestor: BareJid = jid(REQUESTOR)?.to_bare();
    let mut pending = Vec::new();
    while let Some(e) = w.owner.poll_event() {
        if let OwnerEvent::Pending(list) = &e {
            pending.clone_from(list);
        }
        println!("owner: {e:?}");
    }
    assert_eq!(
        pending,
        std::slice::from_ref(&requestor),
        "the request survived the restart"
    );
    w.owner.update(
        w.driver.now(),
        vec![FriendItem {
            jid: requestor.clone(),
            friend: true,
        }],
    );
    w.run()?;
    assert!(w.bulb.is_friend(&requestor));
    println!("bulb: {requestor} is a friend");

    println!("-- the bulb is power-cycled and restored from its flash memory");
    let flash = w.store.load_flash()?;
    w.bulb = Thing::restore(bulb_config()?, rng(2), &flash)?;
    assert_eq!(w.bulb.key(), Some(&key));
    assert_eq!(
        w.bulb.owner().map(ToString::to_string).as_deref(),
        Some("owner@example.com")
    );
    assert!(w.bulb.is_friend(&requestor));
    println!(
        "bulb: back with its key, owned by {}, and its friend still a friend",
        flash.owner.unwrap_or_default()
    );
    assert_eq!(
        w.store.owner_of(&bulb_bare)?,
        Some(jid(OWNER)?.to_bare().to_string()),
        "no factory reset was seen"
    );
    println!("nothing was lost");
    Ok(())
}
