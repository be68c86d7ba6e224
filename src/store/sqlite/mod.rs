//! The SQLite driver: the embedded default. WAL mode with a busy timeout,
//! so that CLI commands work beside a running server on the same file.

pub(crate) mod wal_index;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _, TypeInfo, ValueRef};

use super::driver::{Backend, Transaction};
use super::logic::SqlStore;
use super::row::{Row, SqlValue};
use super::sql::{Dialect, Sql};
use super::{Error, ErrorKind, IndexProgress, Result, Store};

/// Opens (creating if needed) the database at `sqlite:PATH`, migrates it
/// and brings its search index up to date (`reindex.rs`).
pub async fn open(url: &str, progress: &dyn IndexProgress) -> Result<Arc<dyn Store>> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::new(ErrorKind::Invalid, format!("bad SQLite URL '{url}'")).with_source(e))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let wal_index = wal_index::WalIndex::of(options.get_filename());
    if let Some(parent) = options.get_filename().parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::new(ErrorKind::Unavailable, format!("cannot create the data directory {}", parent.display()))
                .with_source(e)
        })?;
    }
    // Writes go through one connection of their own: SQLite lets one
    // writer in at a time anyway, and its page cache can then be large
    // (the indexes a delivery writes through stay in memory) without every
    // connection growing one.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(options.clone().pragma("cache_size", WRITER_CACHE))
        .await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&writer)
        .await
        .map_err(|e| Error::new(ErrorKind::Unavailable, "migrating the SQLite database failed").with_source(e))?;
    // Readers run side by side (WAL); each connection has a thread of its
    // own, so more than a few only adds switching on a small machine. Their
    // page caches stay small: the operating system keeps the file in
    // memory, and the gateway's own caches keep what is read most. No
    // ping before every query: an embedded connection does not drop.
    let readers = SqlitePoolOptions::new()
        .max_connections(8)
        .min_connections(2)
        .test_before_acquire(false)
        .connect_with(options.pragma("cache_size", READER_CACHE))
        .await?;
    let store = SqlStore::new(SqliteBackend { readers, writer, wal_index });
    store.bring_index_up_to_date(progress).await?;
    Ok(Arc::new(store))
}

/// The page cache of the writing connection: 64 MiB (negative: KiB).
const WRITER_CACHE: &str = "-65536";
/// The page cache of each reading connection: 4 MiB.
const READER_CACHE: &str = "-4096";

#[derive(Debug)]
pub(crate) struct SqliteBackend {
    readers: SqlitePool,
    writer: SqlitePool,
    wal_index: wal_index::WalIndex,
}

fn query(sql: Sql) -> sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.text));
    for value in sql.binds {
        query = match value {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Int(v) => query.bind(v),
            SqlValue::Text(v) => query.bind(v),
            SqlValue::Bool(v) => query.bind(v),
            // For `json_each`; the store binds no arrays on SQLite today.
            SqlValue::Ints(v) => query.bind(serde_json::to_string(&v).unwrap_or_default()),
            SqlValue::Texts(v) => query.bind(serde_json::to_string(&v).unwrap_or_default()),
            SqlValue::Bools(v) => query.bind(serde_json::to_string(&v).unwrap_or_default()),
        };
    }
    query
}

fn convert(row: SqliteRow) -> Result<Row> {
    let mut values = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            SqlValue::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" | "BOOLEAN" => SqlValue::Int(row.try_get(i)?),
                _ => SqlValue::Text(row.try_get(i)?),
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

#[async_trait]
impl Backend for SqliteBackend {
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn fetch_all(&self, sql: Sql) -> Result<Vec<Row>> {
        query(sql).fetch_all(&self.readers).await?.into_iter().map(convert).collect()
    }

    async fn begin_write(&self) -> Result<Box<dyn Transaction>> {
        Ok(Box::new(SqliteTransaction(self.writer.begin_with("BEGIN IMMEDIATE").await?)))
    }

    fn commit_marker(&self) -> Option<super::CommitMarker> {
        self.wal_index.marker()
    }
}

struct SqliteTransaction(sqlx::Transaction<'static, sqlx::Sqlite>);

#[async_trait]
impl Transaction for SqliteTransaction {
    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>> {
        query(sql).fetch_all(&mut *self.0).await?.into_iter().map(convert).collect()
    }

    async fn execute(&mut self, sql: Sql) -> Result<u64> {
        Ok(query(sql).execute(&mut *self.0).await?.rows_affected())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}
