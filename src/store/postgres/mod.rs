//! The PostgreSQL driver: for several stateless gateway instances on one
//! database.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row as _, TypeInfo, ValueRef};

use super::driver::{Backend, Transaction};
use super::logic::SqlStore;
use super::row::{Row, SqlValue};
use super::sql::{Dialect, Sql};
use super::{Error, ErrorKind, IndexProgress, Result, Store, redact_url};

/// Connects to `postgres://...`, migrates the database (or the schema
/// named by `options=-c search_path=...`) and brings its search index up
/// to date (`reindex.rs`).
pub async fn open(url: &str, progress: &dyn IndexProgress) -> Result<Arc<dyn Store>> {
    // Every statement is planned with its values (`force_custom_plan`): a
    // plan cached while a table was small (a new database, statistics not
    // yet gathered) would otherwise stay a sequential scan as the table
    // grows, and the write path's lookups by id would slow down with every
    // row. Planning these short statements costs tens of microseconds.
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| {
            Error::new(ErrorKind::Invalid, format!("bad PostgreSQL URL '{}'", redact_url(url))).with_source(e)
        })?
        .options([("plan_cache_mode", "force_custom_plan")]);
    // No ping before every query: a broken connection fails its one query
    // and is dropped, which costs less than a round trip on every request.
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .min_connections(4)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|e| {
            Error::new(ErrorKind::Unavailable, format!("cannot connect to PostgreSQL at {}", redact_url(url)))
                .with_source(e)
        })?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|e| Error::new(ErrorKind::Unavailable, "migrating the PostgreSQL database failed").with_source(e))?;
    let store = SqlStore::new(PgBackend { pool });
    store.bring_index_up_to_date(progress).await?;
    Ok(Arc::new(store))
}

#[derive(Debug)]
pub(crate) struct PgBackend {
    pool: PgPool,
}

fn query(sql: Sql) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.text));
    for value in sql.binds {
        query = match value {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Int(v) => query.bind(v),
            SqlValue::Text(v) => query.bind(v),
            SqlValue::Bool(v) => query.bind(v),
            SqlValue::Ints(v) => query.bind(v),
            SqlValue::Texts(v) => query.bind(v),
            SqlValue::Bools(v) => query.bind(v),
        };
    }
    query
}

fn convert(row: PgRow) -> Result<Row> {
    let mut values = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            SqlValue::Null
        } else {
            match raw.type_info().name() {
                "INT8" => SqlValue::Int(row.try_get(i)?),
                "INT4" => SqlValue::Int(i64::from(row.try_get::<i32, _>(i)?)),
                "BOOL" => SqlValue::Bool(row.try_get(i)?),
                _ => SqlValue::Text(row.try_get(i)?),
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

#[async_trait]
impl Backend for PgBackend {
    const DIALECT: Dialect = Dialect::Postgres;

    async fn fetch_all(&self, sql: Sql) -> Result<Vec<Row>> {
        query(sql).fetch_all(&self.pool).await?.into_iter().map(convert).collect()
    }

    async fn begin_write(&self) -> Result<Box<dyn Transaction>> {
        Ok(Box::new(PgTransaction(self.pool.begin().await?)))
    }
}

struct PgTransaction(sqlx::Transaction<'static, sqlx::Postgres>);

#[async_trait]
impl Transaction for PgTransaction {
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
