//! The database stopped in the middle of a run and started again: while
//! it is down every request is answered "unavailable" (promptly, without a
//! panic), and once it is back the same store answers again, with what was
//! stored before the outage. The server is `.ci/postgres`'s, stopped and
//! started with that script; this test runs alone in its binary, so no
//! other test of the crate loses its server.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use iot_sansio::store::{StoreAnswer, StoreOp, Version, Versioned};

fn postgres(what: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/postgres");
    let status = Command::new("bash").arg(script).arg(what).status().unwrap();
    assert!(status.success(), "bash .ci/postgres {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_unavailable_then_over() {
    let Some(store) = common::store("outage").await else {
        return;
    };
    if std::env::var("IOT_POSTGRES_URL").is_ok() {
        // Not the server the script controls.
        return;
    }
    let space = common::space("outage");
    let get = StoreOp::<String, u32>::Get("dev-1".to_owned());
    let put = StoreOp::Put {
        key: "dev-1".to_owned(),
        expected: Version::ABSENT,
        record: 1u32,
    };
    assert_eq!(
        store.answer(&space, &put).await,
        StoreAnswer::Stored(Version::FIRST)
    );

    postgres("stop");
    let asked = Instant::now();
    assert_eq!(store.answer(&space, &get).await, StoreAnswer::Unavailable);
    let write = StoreOp::Put {
        key: "dev-1".to_owned(),
        expected: Version::FIRST,
        record: 2u32,
    };
    assert_eq!(store.answer(&space, &write).await, StoreAnswer::Unavailable);
    assert_eq!(store.list::<u32>(&space, 10).await, None);
    #[cfg(feature = "osap")]
    directory_is_unavailable(&store, &space).await;
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "answered promptly"
    );

    postgres("start");
    // The pool drops the connections the server closed and connects anew.
    assert_eq!(
        store.answer(&space, &get).await,
        StoreAnswer::Found(Versioned {
            version: Version::FIRST,
            record: 1
        })
    );
    assert_eq!(
        store.answer(&space, &write).await,
        StoreAnswer::Stored(Version::new(2))
    );
}

/// An LBS's directory over the stopped database: every request that needs
/// it is "unavailable" (the device is told to retry later), none a refusal.
#[cfg(feature = "osap")]
async fn directory_is_unavailable(store: &iot_store_postgres::PgStore, space: &str) {
    use iot_store_postgres::osap::{OsapSpaces, PgDirectory};
    use osap_proto::auth::{DirectoryAnswer, DirectoryOp};

    let directory = PgDirectory::<Duration>::new(store.clone(), OsapSpaces::new(space));
    for op in [
        DirectoryOp::Device {
            serial: "SN-1".into(),
        },
        DirectoryOp::Enrolled {
            devid: "dev-SN-1".into(),
        },
        DirectoryOp::DasAddress {
            devid: "dev-SN-1".into(),
        },
        DirectoryOp::Key(StoreOp::Get("dev-SN-1".into())),
    ] {
        let answer = directory.answer(Duration::ZERO, &op).await;
        assert!(
            matches!(
                answer,
                DirectoryAnswer::Unavailable | DirectoryAnswer::Key(StoreAnswer::Unavailable)
            ),
            "{op:?}: {answer:?}"
        );
    }
}
