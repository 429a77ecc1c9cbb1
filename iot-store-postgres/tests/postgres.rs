//! The store against a real PostgreSQL: every request answered as the
//! store contract says (`iot_sansio::store`), concurrent writers that never
//! lose an update, two Simple IoT provisioning services over one database
//! of which exactly one claim of a thing wins, and records that no longer
//! read answered "unavailable".

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use iot_sansio::store::{Deferred, StoreAnswer, StoreOp, Version, Versioned};
use iot_sansio::{Input, Machine};
use siot_proto::key::Key;
use siot_proto::payload::{Name, SiotPayload};
use siot_proto::provisioning::{ProvisioningEvent, ProvisioningService, Record};
use siot_proto::stanza::{DefinedCondition, Jid, Stanza};

fn put<T>(key: &str, expected: Version, record: T) -> StoreOp<String, T> {
    StoreOp::Put {
        key: key.to_owned(),
        expected,
        record,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_answered_as_the_contract_says() {
    let Some(store) = common::store("every_request").await else {
        return;
    };
    let space = common::space("every_request");
    let get = StoreOp::<String, u32>::Get("dev-1".to_owned());
    assert_eq!(store.answer(&space, &get).await, StoreAnswer::Missing);
    // Created once: a second writer that read "absent" loses.
    let first = put("dev-1", Version::ABSENT, 7u32);
    assert_eq!(
        store.answer(&space, &first).await,
        StoreAnswer::Stored(Version::FIRST)
    );
    assert_eq!(store.answer(&space, &first).await, StoreAnswer::Conflict);
    assert_eq!(
        store.answer(&space, &get).await,
        StoreAnswer::Found(Versioned {
            version: Version::FIRST,
            record: 7
        })
    );
    // Written at the version read, once; a stale or unknown version loses.
    let second = put("dev-1", Version::FIRST, 8u32);
    assert_eq!(
        store.answer(&space, &second).await,
        StoreAnswer::Stored(Version::new(2))
    );
    assert_eq!(store.answer(&space, &second).await, StoreAnswer::Conflict);
    let beyond = put("dev-1", Version::new(u64::MAX), 9u32);
    assert_eq!(store.answer(&space, &beyond).await, StoreAnswer::Conflict);
    let other = put("dev-2", Version::FIRST, 9u32);
    assert_eq!(
        store.answer(&space, &other).await,
        StoreAnswer::Conflict,
        "no record to update"
    );
    assert_eq!(
        store.answer(&space, &get).await,
        StoreAnswer::Found(Versioned {
            version: Version::new(2),
            record: 8
        })
    );
    // Spaces do not share keys.
    let elsewhere = common::space("every_request_elsewhere");
    assert_eq!(store.answer(&elsewhere, &get).await, StoreAnswer::Missing);
    // A record that does not read as the type asked for: unavailable, not
    // a panic nor "missing".
    let as_text = StoreOp::<String, String>::Get("dev-1".to_owned());
    assert_eq!(
        store.answer(&space, &as_text).await,
        StoreAnswer::Unavailable
    );
    // Migrating again changes nothing.
    store.migrate().await.unwrap();
    assert!(matches!(
        store.answer(&space, &get).await,
        StoreAnswer::Found(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_lists_in_key_order_up_to_its_limit() {
    let Some(store) = common::store("list").await else {
        return;
    };
    let space = common::space("list");
    assert_eq!(store.list::<u32>(&space, 10).await, Some(Vec::new()));
    for (key, record) in [("node-2", 2u32), ("node-1", 1), ("node-3", 3)] {
        let op = put(key, Version::ABSENT, record);
        assert_eq!(
            store.answer(&space, &op).await,
            StoreAnswer::Stored(Version::FIRST)
        );
    }
    let bump = put("node-1", Version::FIRST, 10u32);
    assert_eq!(
        store.answer(&space, &bump).await,
        StoreAnswer::Stored(Version::new(2))
    );
    let listed = store.list::<u32>(&space, 2).await.unwrap();
    assert_eq!(
        listed,
        vec![
            (
                "node-1".to_owned(),
                Versioned {
                    version: Version::new(2),
                    record: 10
                }
            ),
            (
                "node-2".to_owned(),
                Versioned {
                    version: Version::FIRST,
                    record: 2
                }
            ),
        ]
    );
    assert_eq!(store.list::<u32>(&space, 10).await.unwrap().len(), 3);
    // Another space's records are not listed; a record that does not read
    // as the type asked for makes the whole answer "unavailable".
    assert_eq!(
        store.list::<u32>(&common::space("list-other"), 10).await,
        Some(Vec::new())
    );
    assert_eq!(store.list::<String>(&space, 10).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_lose_an_update() {
    let Some(store) = common::store("concurrent_writers").await else {
        return;
    };
    let space = common::space("concurrent_writers");
    // Eight processes' worth of writers each add 25 to one counter, each
    // add a read and a write at the version read, again on a conflict.
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (store, space) = (store.clone(), space.clone());
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for _ in 0..25 {
                    loop {
                        let read = store
                            .answer(&space, &StoreOp::<String, u64>::Get("counter".into()))
                            .await;
                        let (expected, value) = match read {
                            StoreAnswer::Found(found) => (found.version, found.record),
                            StoreAnswer::Missing => (Version::ABSENT, 0),
                            other => panic!("{other:?}"),
                        };
                        match store
                            .answer(&space, &put("counter", expected, value + 1))
                            .await
                        {
                            StoreAnswer::Stored(_) => break,
                            StoreAnswer::Conflict => conflicts += 1,
                            other => panic!("{other:?}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for w in writers {
        conflicts += w.await.unwrap();
    }
    assert_eq!(
        store
            .answer(&space, &StoreOp::<String, u64>::Get("counter".into()))
            .await,
        StoreAnswer::Found(Versioned {
            version: Version::new(200),
            record: 200
        }),
        "every add counted once ({conflicts} conflicts along the way)"
    );
}

/// A provisioning service whose runtime answers from the database.
struct Service {
    ps: ProvisioningService<Duration, Deferred>,
    sent: Vec<Stanza>,
}

impl Service {
    /// Takes a stanza and answers the service's requests one at a time;
    /// between two answers, `between` runs (the other service's turn).
    async fn step(&mut self, store: &iot_store_postgres::PgStore, space: &str) -> bool {
        self.sent
            .extend(std::iter::from_fn(|| self.ps.poll_transmit()));
        let Some(event) = self.ps.poll_event() else {
            return false;
        };
        if let ProvisioningEvent::Store(request) = event {
            let answer = store.answer::<Record>(space, &request.op).await;
            self.ps.provide(Duration::ZERO, request.id, answer).unwrap();
        }
        self.sent
            .extend(std::iter::from_fn(|| self.ps.poll_transmit()));
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_services_over_one_database_one_claim_wins() {
    let Some(store) = common::store("one_claim_wins").await else {
        return;
    };
    let space = common::space("one_claim_wins");
    let service = || Service {
        ps: ProvisioningService::with_store(Default::default(), Deferred),
        sent: Vec::new(),
    };
    let (mut a, mut b) = (service(), service());
    let key = Key::parse("TWNK-KD5Y-MT3T-E1GS-DRDB-KVTW").unwrap();
    let to: Jid = "provisioning.example.org".parse().unwrap();
    let register = SiotPayload::Register {
        key: key.clone(),
        names: vec![Name {
            lang: None,
            text: "Bulb".into(),
        }],
    }
    .to_stanza(to.clone(), "r")
    .with_from("bulb@example.org/b".parse::<Jid>().unwrap());
    a.ps.handle_input(Duration::ZERO, Input::Data(&register));
    while a.step(&store, &space).await {}
    // Two owners claim at once, one through each service; their requests
    // to the database alternate.
    for (s, owner) in [
        (&mut a, "alice@example.com/a"),
        (&mut b, "bob@example.com/b"),
    ] {
        let claim = SiotPayload::Claim {
            name: "Bulb".into(),
            key: key.clone(),
        }
        .to_stanza(to.clone(), "c")
        .with_from(owner.parse::<Jid>().unwrap());
        s.ps.handle_input(Duration::ZERO, Input::Data(&claim));
    }
    loop {
        let moved_a = a.step(&store, &space).await;
        let moved_b = b.step(&store, &space).await;
        if !moved_a && !moved_b {
            break;
        }
    }
    let answer = |s: &Service| {
        s.sent
            .iter()
            .find(|x| x.id.as_deref() == Some("c"))
            .cloned()
            .unwrap()
    };
    let outcomes: Vec<bool> = [answer(&a), answer(&b)]
        .iter()
        .map(|s| match SiotPayload::from_stanza(s) {
            Ok(Some(SiotPayload::Claimed { .. })) => true,
            _ => {
                assert_eq!(
                    s.error().map(|e| e.condition),
                    Some(DefinedCondition::Conflict)
                );
                false
            }
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|won| **won).count(),
        1,
        "{outcomes:?}"
    );
    let thing = store
        .answer::<Record>(&space, &StoreOp::Get("thing:bulb@example.org".into()))
        .await;
    let StoreAnswer::Found(Versioned {
        record: Record::Thing(t),
        ..
    }) = thing
    else {
        panic!("{thing:?}")
    };
    let winner = if outcomes[0] {
        "alice@example.com"
    } else {
        "bob@example.com"
    };
    assert_eq!(t.owner.as_deref(), Some(winner));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_do_not_read_and_a_server_that_is_not_there_are_errors() {
    use iot_store_postgres::{PgStore, PgStoreError};
    assert!(matches!(
        PgStore::connect("postgres://iot@127.0.0.1:notaport/iot", 1),
        Err(PgStoreError::Config(_))
    ));
    // Nothing listens on port 9 of loopback: migrating cannot connect, and
    // a request is answered "unavailable".
    let nowhere = PgStore::connect("postgres://iot@127.0.0.1:9/iot", 1).unwrap();
    assert!(format!("{nowhere:?}").starts_with("PgStore"));
    assert!(matches!(
        nowhere.migrate().await,
        Err(PgStoreError::Connect(_))
    ));
    let get = StoreOp::<String, u32>::Get("dev-1".to_owned());
    assert_eq!(nowhere.answer("any", &get).await, StoreAnswer::Unavailable);
}
