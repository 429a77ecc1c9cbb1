//! The shared store of the platform machines of `iot-remote-access`, on
//! PostgreSQL.
//!
//! The platform machines (the OSAP DAS's sessionkey records, the Simple
//! IoT provisioning service's things, owners and claims) ask for stored
//! data as requests ([`iot_sansio::store`]): a [`StoreOp`] to read a
//! record or to write it conditional on the version read. [`PgStore`]
//! answers them from one table that any number of processes share: every
//! record sits under a *space* (the kind of record, so that several
//! machines share a table without sharing keys) and a key, with a version
//! one more at every write. Each operation is one statement and, once the
//! connection has prepared it, one round trip:
//!
//! - a read is a `SELECT` by primary key;
//! - a write expecting no record is an `INSERT ... ON CONFLICT DO NOTHING
//!   RETURNING version`: stored at version 1, or `Conflict`;
//! - a write expecting version *n* is an `UPDATE ... WHERE version = n
//!   RETURNING version`: stored at *n* + 1, or `Conflict`.
//!
//! A database the store cannot reach, a connection lost mid-request, or a
//! stored record that no longer reads as the type asked for, is
//! [`StoreAnswer::Unavailable`], which every machine answers its peer with
//! "retry later"; nothing here panics or refuses. Statements take their
//! values as parameters, never as formatted SQL.
//!
//! The schema ships in the crate ([`MIGRATIONS`]) and [`PgStore::migrate`]
//! applies what a database lacks, under an advisory lock so that
//! processes starting together apply each migration once.
//!
//! Connections come from a `deadpool-postgres` pool over `tokio-postgres`:
//! the pool hands a request a live connection, drops one the server
//! closed, and connects anew when the server is back, which is what a
//! store that must survive a database restart needs; `tokio-postgres`
//! pipelines and caches prepared statements per connection. (`sqlx` does
//! the same with compile-time checked queries, at the cost of a build that
//! needs the database or an offline cache; five statements do not need
//! that.)
//!
//! ```no_run
//! use iot_sansio::store::{StoreAnswer, StoreOp, Version};
//! use iot_store_postgres::PgStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = PgStore::connect("postgres://iot@127.0.0.1:15432/iot", 8)?;
//! store.migrate().await?;
//! let put = StoreOp::Put { key: "dev-1".to_owned(), expected: Version::ABSENT, record: 7u32 };
//! assert_eq!(store.answer("example", &put).await, StoreAnswer::Stored(Version::FIRST));
//! // A second writer that also read "absent" loses.
//! assert_eq!(store.answer("example", &put).await, StoreAnswer::Conflict);
//! # Ok(())
//! # }
//! ```
//!
//! A runtime drives a machine over this store by answering each of its
//! store requests and handing the answer back (`provide(now, id,
//! answer)`); see the crate's README.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The examples of the crate's README, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[cfg(feature = "osap")]
#[cfg_attr(docsrs, doc(cfg(feature = "osap")))]
pub mod osap;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use iot_sansio::store::{StoreAnswer, StoreOp, Version, Versioned};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_postgres::NoTls;

/// The schema, in order: each migration's name and SQL. A database has
/// applied those named in its `iot_store_migrations` table.
pub const MIGRATIONS: &[(&str, &str)] = &[(
    "0001_records",
    include_str!("../migrations/0001_records.sql"),
)];

/// How long [`PgStore::connect`]'s pool waits for a connection, and
/// for one to be made.
pub const POOL_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(5);

/// The advisory lock [`PgStore::migrate`] holds while it migrates.
const MIGRATION_LOCK: i64 = 0x696f_745f_7374_6f72; // "iot_stor"

const GET: &str = "SELECT version, record FROM iot_records WHERE space = $1 AND key = $2";
const LIST: &str = "SELECT key, version, record FROM iot_records WHERE space = $1 \
     ORDER BY key LIMIT $2";
const INSERT: &str = "INSERT INTO iot_records (space, key, version, record) VALUES ($1, $2, 1, $3) \
     ON CONFLICT (space, key) DO NOTHING RETURNING version";
const UPDATE: &str = "UPDATE iot_records SET version = version + 1, record = $3 \
     WHERE space = $1 AND key = $2 AND version = $4 RETURNING version";

/// Why the store could not be set up (connecting and migrating; the
/// answers to requests carry no error: a failure there is
/// [`StoreAnswer::Unavailable`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// The connection URL or its settings.
    #[error("the database URL: {0}")]
    Config(#[from] tokio_postgres::Error),
    /// The pool could not be built.
    #[error("the connection pool: {0}")]
    Pool(#[from] deadpool_postgres::BuildError),
    /// No connection could be had from the pool.
    #[error("no connection to the database: {0}")]
    Connect(#[from] deadpool_postgres::PoolError),
}

/// Records of the platform machines in PostgreSQL, shared by every
/// process that opens the same database. Cheap to clone (the pool is
/// shared).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl core::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgStore {
    /// A store over `pool`.
    #[must_use]
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// A store connecting to `url` (a `postgres://` URL or `key=value`
    /// settings, as `tokio-postgres` reads them) without TLS, with up to
    /// `max_connections` connections. Nothing is connected until a
    /// request needs it. A request waits at most [`POOL_TIMEOUT`] for a
    /// connection (to be free, made, or checked), and a connection at most
    /// as long to be made unless the URL sets `connect_timeout`: a
    /// database that does not answer is "unavailable" in seconds, not
    /// after the operating system gives up on TCP.
    ///
    /// # Errors
    ///
    /// [`PgStoreError::Config`] for settings that do not read,
    /// [`PgStoreError::Pool`] when the pool cannot be built.
    pub fn connect(url: &str, max_connections: usize) -> Result<Self, PgStoreError> {
        let mut config: tokio_postgres::Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed is dropped, not handed out.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()?;
        Ok(Self::new(pool))
    }

    /// Applies the migrations the database lacks, in order, each in the
    /// transaction that records it; several processes migrating at once
    /// take turns.
    ///
    /// # Errors
    ///
    /// [`PgStoreError::Connect`] without a connection,
    /// [`PgStoreError::Config`] for a statement the database refused.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS iot_store_migrations (\
                 name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        for (name, sql) in MIGRATIONS {
            let applied = tx
                .query_opt(
                    "SELECT 1 FROM iot_store_migrations WHERE name = $1",
                    &[name],
                )
                .await?
                .is_some();
            if !applied {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "INSERT INTO iot_store_migrations (name) VALUES ($1)",
                    &[name],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Answers a machine's request about the record `op` names in
    /// `space`: what the machine's `provide` takes.
    pub async fn answer<T: Serialize + DeserializeOwned>(
        &self,
        space: &str,
        op: &StoreOp<String, T>,
    ) -> StoreAnswer<T> {
        self.try_answer(space, op)
            .await
            .unwrap_or(StoreAnswer::Unavailable)
    }

    /// Every record in `space`, by key, up to `limit` of them (the first
    /// keys in byte order), in one round trip; `None` when the store is
    /// unavailable or a record does not read as `T`. For the few records a
    /// runtime reads whole, such as the nodes of a deployment; a machine's
    /// own requests name their keys.
    pub async fn list<T: DeserializeOwned>(
        &self,
        space: &str,
        limit: u32,
    ) -> Option<Vec<(String, Versioned<T>)>> {
        self.try_list(space, limit).await.ok()
    }

    async fn try_list<T: DeserializeOwned>(
        &self,
        space: &str,
        limit: u32,
    ) -> Result<Vec<(String, Versioned<T>)>, Unavailable> {
        let client = self.pool.get().await?;
        let statement = client.prepare_cached(LIST).await?;
        let rows = client
            .query(&statement, &[&space, &i64::from(limit)])
            .await?;
        rows.iter()
            .map(|row| {
                let key: String = row.try_get(0)?;
                let version: i64 = row.try_get(1)?;
                let record: serde_json::Value = row.try_get(2)?;
                Ok((
                    key,
                    Versioned {
                        version: Version::new(u64::try_from(version)?),
                        record: serde_json::from_value(record)?,
                    },
                ))
            })
            .collect()
    }

    async fn try_answer<T: Serialize + DeserializeOwned>(
        &self,
        space: &str,
        op: &StoreOp<String, T>,
    ) -> Result<StoreAnswer<T>, Unavailable> {
        let client = self.pool.get().await?;
        Ok(match op {
            StoreOp::Get(key) => {
                let statement = client.prepare_cached(GET).await?;
                match client.query_opt(&statement, &[&space, key]).await? {
                    None => StoreAnswer::Missing,
                    Some(row) => {
                        let version: i64 = row.try_get(0)?;
                        let record: serde_json::Value = row.try_get(1)?;
                        StoreAnswer::Found(Versioned {
                            version: Version::new(u64::try_from(version)?),
                            record: serde_json::from_value(record)?,
                        })
                    }
                }
            }
            StoreOp::Put {
                key,
                expected,
                record,
            } => {
                let record = serde_json::to_value(record)?;
                let row = if *expected == Version::ABSENT {
                    let statement = client.prepare_cached(INSERT).await?;
                    client
                        .query_opt(&statement, &[&space, key, &record])
                        .await?
                } else {
                    // A version beyond the column's range is on no row.
                    let Ok(expected) = i64::try_from(expected.get()) else {
                        return Ok(StoreAnswer::Conflict);
                    };
                    let statement = client.prepare_cached(UPDATE).await?;
                    client
                        .query_opt(&statement, &[&space, key, &record, &expected])
                        .await?
                };
                match row {
                    None => StoreAnswer::Conflict,
                    Some(row) => {
                        let version: i64 = row.try_get(0)?;
                        StoreAnswer::Stored(Version::new(u64::try_from(version)?))
                    }
                }
            }
        })
    }
}

/// Whatever keeps the store from answering: the answer is
/// [`StoreAnswer::Unavailable`].
struct Unavailable;

impl From<deadpool_postgres::PoolError> for Unavailable {
    fn from(_: deadpool_postgres::PoolError) -> Self {
        Self
    }
}

impl From<tokio_postgres::Error> for Unavailable {
    fn from(_: tokio_postgres::Error) -> Self {
        Self
    }
}

impl From<serde_json::Error> for Unavailable {
    fn from(_: serde_json::Error) -> Self {
        Self
    }
}

impl From<core::num::TryFromIntError> for Unavailable {
    fn from(_: core::num::TryFromIntError) -> Self {
        Self
    }
}
