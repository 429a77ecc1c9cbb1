//! A provisioning service whose durable state lives in SQLite: every
//! record the service announces (`ProvisioningEvent::Saved`) is written,
//! and only once the row is committed is the write confirmed to the
//! service, which then sends what depended on it (write-ahead: an owner
//! is never told "claimed" of a claim the table does not hold). A service
//! started later is rebuilt from the table. The Simple IoT
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

use iot_sansio::testing::{Driver, rng};
use iot_xmpp::testing::Server;
use rusqlite::{Connection, params};
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

/// The service's store: one row per record, by key.
struct Store(Connection);

impl Store {
    fn open(path: &str) -> Res<Self> {
        let db = Connection::open(path)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, json TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS flash (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);",
        )?;
        Ok(Self(db))
    }

    fn save(&self, record: &Record) -> Res<()> {
        self.0.execute(
            "INSERT INTO records (key, json) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET json = excluded.json",
            params![record.key(), serde_json::to_string(record)?],
        )?;
        Ok(())
    }

    fn load(&self) -> Res<Vec<Record>> {
        let mut statement = self.0.prepare("SELECT json FROM records ORDER BY key")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|json| Ok(serde_json::from_str(&json?)?)).collect()
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
    ps: ProvisioningService<Duration>,
    owner: Owner<Duration>,
    xmpp: Server,
    driver: Driver<Duration>,
    store: Store,
}

impl World {
    /// Runs everyone until quiet, writing what the service and the bulb
    /// save as they save it, and confirming each of the service's writes
    /// once it is committed.
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
                    ProvisioningEvent::Saved { record, write } => {
                        self.store.save(&record)?;
                        self.ps.persisted(self.driver.now(), write);
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
        ps: ProvisioningService::restore(Default::default(), &Store::open(&path)?.load()?)?,
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
    println!("store: {} records", w.store.load()?.len());

    println!("-- the service stops; a new process starts from the store");
    let records = w.store.load()?;
    w.ps = ProvisioningService::restore(Default::default(), &records)?;
    assert_eq!(w.ps.records(), records, "the service is rebuilt as it was");
    println!(
        "service: restored {} records; the bulb's owner is {:?}",
        records.len(),
        w.ps.owner_of(&bulb_bare).map(ToString::to_string)
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
        w.ps.owner_of(&bulb_bare),
        Some(&jid(OWNER)?.to_bare()),
        "no factory reset was seen"
    );
    println!("nothing was lost");
    Ok(())
}
