//! The database the tests use: `IOT_POSTGRES_URL`, by default the server
//! `.ci/postgres` starts. Outside CI a missing server is said and the test
//! passes; under `CI=true` it fails the test.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::print_stderr,
    clippy::expect_used,
    clippy::panic
)]

use iot_store_postgres::PgStore;

pub fn url() -> String {
    std::env::var("IOT_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://iot@127.0.0.1:15432/iot".to_owned())
}

/// The store, migrated; `None` (said on standard error) when there is no
/// server and the run is not CI.
pub async fn store(test: &str) -> Option<PgStore> {
    let store = PgStore::connect(&url(), 8).expect("the URL reads");
    match store.migrate().await {
        Ok(()) => Some(store),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: no PostgreSQL at {} under CI: {e}", url())
        }
        Err(e) => {
            eprintln!(
                "{test}: skipped, no PostgreSQL at {} ({e}); start one with `bash .ci/postgres`",
                url()
            );
            None
        }
    }
}

/// A space of its own for one run of one test, so that runs against a
/// database kept from before find none of their records.
pub fn space(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{test}-{}-{nanos}", std::process::id())
}
