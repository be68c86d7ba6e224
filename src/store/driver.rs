//! What a database driver provides to the store written once over it
//! ([`super::logic::SqlStore`]): queries outside and inside a write
//! transaction, as driver-neutral [`Sql`] and [`Row`] values, and the
//! conversion of a stored row into a version.

use async_trait::async_trait;

use super::row::Row;
use super::sql::{Dialect, Sql};
use super::{CommitMarker, Error, ErrorKind, Result, StoredResource};
use crate::fhir::{ChangeNumber, DataCategory, ResourceId, ResourceType, VersionId};

/// What a driver provides.
#[async_trait]
pub(crate) trait Backend: Send + Sync + std::fmt::Debug + 'static {
    const DIALECT: Dialect;

    /// Runs a query outside a transaction.
    async fn fetch_all(&self, sql: Sql) -> Result<Vec<Row>>;

    /// Starts a transaction that will write: on SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`), so that it never has to upgrade.
    async fn begin_write(&self) -> Result<Box<dyn Transaction>>;

    /// See [`super::TokenStore::commit_marker`].
    fn commit_marker(&self) -> Option<CommitMarker> {
        None
    }
}

/// An open transaction of a driver.
#[async_trait]
pub(crate) trait Transaction: Send {
    async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>>;
    async fn execute(&mut self, sql: Sql) -> Result<u64>;
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Converts a row of `CURRENT_COLUMNS`/`VERSION_COLUMNS` into a version.
pub(crate) fn stored(mut row: Row) -> Result<StoredResource> {
    let internal = |m: String| Error::new(ErrorKind::Internal, m);
    let resource_type: ResourceType = row.text(0)?.parse().map_err(|e| internal(format!("{e}")))?;
    let id = ResourceId::parse(row.text(1)?).map_err(|e| internal(e.to_string()))?;
    let client = row.opt_text(5)?.map(ResourceId::parse).transpose().map_err(|e| internal(e.to_string()))?;
    let category = DataCategory::from_code(row.text(6)?).ok_or_else(|| internal("unknown category".into()))?;
    Ok(StoredResource {
        resource_type,
        id,
        version: VersionId(row.int(2)?),
        last_updated: row.int(3)?,
        change: ChangeNumber(row.int(4)?),
        client,
        category,
        content: row.take_opt_text(7)?,
    })
}

pub(crate) fn not_found(resource_type: ResourceType, id: &ResourceId) -> Error {
    Error::new(ErrorKind::NotFound, format!("{resource_type}/{id} is not known"))
}
