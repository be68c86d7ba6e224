//! Rebuilding the search index from the stored resources, when opening the
//! store finds rows made by another extraction than this build's.
//!
//! Index rows are computed in Rust (`fhir::index`) when a version is
//! written, so a migration cannot fill what a new column or a changed
//! search-parameter table asks of the rows already there (migration 0003
//! added the `:text` and `:exact` columns and left them empty). Instead,
//! `search_index_state` (migration 0009) keeps the fingerprint of the
//! extraction the rows hold ([`fingerprint`]); when it is not this build's,
//! the store rewrites the index rows of every resource from its stored
//! content before it is handed out (`store::open`, also behind `zorgpoort
//! migrate`).
//!
//! The rebuild goes through the resources in key order, [`BATCH`] at a
//! time, each batch one transaction: it locks the state row, locks the
//! tenant rows of the batch's resources (as every write does first, so no
//! write of those tenants runs beside it) and takes a change number of
//! each, replaces the batch's index rows, and notes the last key done in
//! the state row. A rebuild killed halfway resumes after that key; memory
//! holds one batch. Taking a change number retires every search result a
//! gateway keeps in memory for the tenant (`cache::searches`: a kept result
//! answers only requests that saw no newer change).
//!
//! Several gateways opening one database at once (PostgreSQL) take turns
//! batch by batch on the state row's lock: a batch is never done twice,
//! each waits until the index is complete and only then serves, so no
//! upgraded gateway answers from a half-built index. Gateways of the
//! earlier version that still run keep serving meanwhile, as they did
//! before the upgrade. An index made by a higher [`INDEX_VERSION`] is left
//! as it is, so that two versions on one database do not rebuild in turns.
//!
//! [`fingerprint`]: crate::fhir::index::fingerprint::fingerprint
//! [`INDEX_VERSION`]: crate::fhir::index::fingerprint::INDEX_VERSION

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use super::batch::{INDEX_TABLES, PendingRows};
use super::driver::{Backend, Transaction};
use super::logic::SqlStore;
use super::row::{Row, SqlValue};
use super::sql::{Sql, push_list};
use super::writer::{push_index_rows, take_changes};
use super::{Error, ErrorKind, Result};
use crate::fhir::index::fingerprint::{IndexFingerprint, fingerprint};
use crate::fhir::search_param::SEARCH_PARAMS;
use crate::fhir::{ResourceType, TenantCode};

/// Resources rewritten per transaction.
pub(crate) const BATCH: i64 = 500;

/// How opening the store reports a rebuild of the search index.
pub trait IndexProgress: Send + Sync {
    /// A rebuild starts or resumes: `total` resources, of which `done`
    /// were rewritten before (by a rebuild that stopped, or by another
    /// gateway).
    fn start(&self, total: u64, done: u64);
    /// `resources` more were rewritten.
    fn advance(&self, resources: u64);
    /// The index is complete.
    fn finish(&self);
}

/// Reports a rebuild in log lines: when it starts, at every tenth, and
/// when it ends.
#[derive(Debug, Default)]
pub struct LoggedProgress {
    state: Mutex<Option<Logged>>,
}

#[derive(Debug)]
struct Logged {
    started: Instant,
    total: u64,
    done: u64,
    tenths: u64,
}

impl IndexProgress for LoggedProgress {
    fn start(&self, total: u64, done: u64) {
        tracing::info!(total, done, "rebuilding the search index from the stored resources");
        let tenths = done.saturating_mul(10).checked_div(total).unwrap_or(0);
        *self.state.lock().expect("progress state") = Some(Logged { started: Instant::now(), total, done, tenths });
    }

    fn advance(&self, resources: u64) {
        let mut state = self.state.lock().expect("progress state");
        let Some(logged) = state.as_mut() else { return };
        logged.done += resources;
        let tenths = logged.done.saturating_mul(10).checked_div(logged.total).unwrap_or(0);
        if tenths > logged.tenths && logged.done < logged.total {
            logged.tenths = tenths;
            tracing::info!(done = logged.done, total = logged.total, "rebuilding the search index");
        }
    }

    fn finish(&self) {
        let state = self.state.lock().expect("progress state").take();
        let seconds = state.as_ref().map_or(0.0, |s| s.started.elapsed().as_secs_f64());
        tracing::info!(resources = state.map_or(0, |s| s.total), seconds, "search index rebuilt");
    }
}

/// What `search_index_state` says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexState {
    version: i64,
    fingerprint: String,
    /// The fingerprint and version a rebuild in progress writes.
    building: Option<(String, i64)>,
    done_to: i64,
}

/// The state row.
const READ_STATE: &str =
    "SELECT version, fingerprint, building, building_version, done_to FROM search_index_state WHERE id = 1";

/// The state row, locked until the transaction ends: an UPDATE that
/// changes nothing locks the row on PostgreSQL (SQLite's write
/// transaction holds the whole database already).
const LOCK_STATE: &str = "UPDATE search_index_state SET id = id WHERE id = 1 \
     RETURNING version, fingerprint, building, building_version, done_to";

impl IndexState {
    fn of(row: &Row) -> Result<Self> {
        let building = match (row.opt_text(2)?, row.int(3)) {
            (Some(hash), Ok(version)) => Some((hash.to_owned(), version)),
            _ => None,
        };
        Ok(IndexState { version: row.int(0)?, fingerprint: row.text(1)?.to_owned(), building, done_to: row.int(4)? })
    }
}

/// What a gateway with extraction `mine` does with an index in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The rows are this extraction's: nothing to do.
    Current,
    /// A higher version made the rows, or is rebuilding them: left alone.
    Newer,
    /// Rewrite the resources with keys after this one.
    Rebuild { after: i64 },
}

fn plan(state: &IndexState, mine: &IndexFingerprint) -> Plan {
    let building_version = state.building.as_ref().map_or(0, |(_, version)| *version);
    if state.version > mine.version || building_version > mine.version {
        return Plan::Newer;
    }
    match &state.building {
        Some((hash, _)) if *hash == mine.hash => Plan::Rebuild { after: state.done_to },
        Some(_) => Plan::Rebuild { after: 0 },
        None if state.fingerprint == mine.hash => Plan::Current,
        None => Plan::Rebuild { after: 0 },
    }
}

impl<B: Backend> SqlStore<B> {
    /// Brings the search index in line with this build's extraction: a
    /// rebuild when its rows were made by another one (see the module).
    pub(crate) async fn bring_index_up_to_date(&self, progress: &dyn IndexProgress) -> Result<()> {
        let mine = fingerprint();
        let rows = self.backend.fetch_all(self.sql(READ_STATE, vec![])).await?;
        let state = IndexState::of(rows.first().ok_or_else(missing_state)?)?;
        let after = match plan(&state, mine) {
            Plan::Current => return Ok(()),
            Plan::Newer => {
                tracing::warn!(
                    index_version = state.version.max(state.building.map_or(0, |(_, v)| v)),
                    this_version = mine.version,
                    "the search index was made by a newer version of the gateway; it is left as it is"
                );
                return Ok(());
            }
            Plan::Rebuild { after } => after,
        };
        let total = self.count("SELECT COUNT(*) FROM resource", vec![]).await?;
        let reporting = total > 0;
        if reporting {
            progress.start(total, self.count("SELECT COUNT(*) FROM resource WHERE pk <= ?", vec![after.into()]).await?);
        }
        while let Some(resources) = self.rebuild_batch(mine).await? {
            if reporting {
                progress.advance(resources);
            }
        }
        if reporting {
            progress.finish();
        }
        Ok(())
    }

    /// Rewrites the index rows of the next batch of resources, in one
    /// transaction, and returns how many; `None` when there are none left
    /// (the index is then marked as this extraction's) or another gateway
    /// finished first.
    async fn rebuild_batch(&self, mine: &IndexFingerprint) -> Result<Option<u64>> {
        let mut tx = self.backend.begin_write().await?;
        // Gateways take turns: the state row is locked until the batch commits.
        let rows = tx.fetch_all(self.sql(LOCK_STATE, vec![])).await?;
        let state = IndexState::of(rows.first().ok_or_else(missing_state)?)?;
        let after = match plan(&state, mine) {
            Plan::Current | Plan::Newer => {
                tx.commit().await?;
                return Ok(None);
            }
            Plan::Rebuild { after } => after,
        };
        let batch = tx
            .fetch_all(self.sql(
                "SELECT pk, tenant FROM resource WHERE pk > ? ORDER BY pk LIMIT ?",
                vec![after.into(), BATCH.into()],
            ))
            .await?;
        if batch.is_empty() {
            tx.execute(self.sql(
                "UPDATE search_index_state SET version = ?, fingerprint = ?, building = NULL, building_version = NULL, \
                 done_to = 0 WHERE id = 1",
                vec![mine.version.into(), mine.hash.as_str().into()],
            ))
            .await?;
            tx.commit().await?;
            return Ok(None);
        }
        let mut keys = Vec::with_capacity(batch.len());
        let mut tenants = BTreeSet::new();
        for row in &batch {
            keys.push(row.int(0)?);
            tenants.insert(row.text(1)?.to_owned());
        }
        // In a fixed order, as one write takes one tenant: no deadlock.
        for tenant in &tenants {
            let tenant = TenantCode::parse(tenant).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
            take_changes(tx.as_mut(), B::DIALECT, &tenant, 1).await?;
        }
        self.rewrite_index(tx.as_mut(), &keys).await?;
        let last = keys.last().copied().unwrap_or(after);
        tx.execute(self.sql(
            "UPDATE search_index_state SET building = ?, building_version = ?, done_to = ? WHERE id = 1",
            vec![mine.hash.as_str().into(), mine.version.into(), last.into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(Some(keys.len() as u64))
    }

    /// Replaces the index rows of these resources with the ones this
    /// build extracts from their stored content (none for a deletion).
    async fn rewrite_index(&self, tx: &mut dyn Transaction, keys: &[i64]) -> Result<()> {
        // Content only of the types that have search parameters: a Binary
        // can be large and has none.
        let indexed: BTreeSet<&str> = SEARCH_PARAMS.iter().map(|p| p.resource_type.as_str()).collect();
        let mut sql = Sql::new(B::DIALECT);
        sql.push("SELECT pk, tenant, resource_type, CASE WHEN deleted = FALSE AND resource_type IN (");
        push_list(&mut sql, indexed.iter().copied());
        sql.push(") THEN content END FROM resource WHERE pk IN (");
        push_list(&mut sql, keys.iter().copied());
        sql.push(")");
        let resources = tx.fetch_all(sql).await?;
        for table in INDEX_TABLES {
            let mut delete = Sql::new(B::DIALECT);
            delete.push("DELETE FROM ").push(table.name()).push(" WHERE resource_pk IN (");
            push_list(&mut delete, keys.iter().copied());
            delete.push(")");
            tx.execute(delete).await?;
        }
        let mut pending = INDEX_TABLES.map(PendingRows::new);
        for row in resources {
            let Some(content) = row.opt_text(3)? else { continue };
            let (pk, tenant, type_name) = (row.int(0)?, row.text(1)?, row.text(2)?);
            let (Ok(resource_type), Ok(resource)) =
                (type_name.parse::<ResourceType>(), serde_json::from_str::<serde_json::Value>(content))
            else {
                // Not something this gateway wrote: it stays out of searches
                // (and a loud line says so) rather than keeping the gateway
                // from starting.
                tracing::error!(pk, resource_type = type_name, "a stored resource cannot be read: it is not indexed");
                continue;
            };
            let index = crate::fhir::index::extract(resource_type, &resource);
            push_index_rows(&mut pending, pk, tenant, resource_type, &index);
        }
        for table in &mut pending {
            table.flush(tx, B::DIALECT).await?;
        }
        Ok(())
    }

    async fn count(&self, text: &str, binds: Vec<SqlValue>) -> Result<u64> {
        let rows = self.backend.fetch_all(self.sql(text, binds)).await?;
        Ok(rows.first().map(|row| row.int(0)).transpose()?.unwrap_or(0).max(0) as u64)
    }
}

fn missing_state() -> Error {
    Error::new(ErrorKind::Internal, "search_index_state has no row (migration 0009)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(version: i64, fingerprint: &str, building: Option<(&str, i64)>, done_to: i64) -> IndexState {
        IndexState {
            version,
            fingerprint: fingerprint.into(),
            building: building.map(|(hash, version)| (hash.into(), version)),
            done_to,
        }
    }

    #[test]
    fn what_a_gateway_does_with_an_index() {
        let mine = IndexFingerprint { version: 2, hash: "b".into() };
        let check = |state: IndexState, expected: Plan| assert_eq!(plan(&state, &mine), expected, "{state:?}");
        // Made before the state was kept (migration 0009), or by an older extraction.
        check(state(0, "", None, 0), Plan::Rebuild { after: 0 });
        check(state(1, "a", None, 0), Plan::Rebuild { after: 0 });
        // This extraction's.
        check(state(2, "b", None, 0), Plan::Current);
        // Same version, other rows (a change without a raised version).
        check(state(2, "c", None, 0), Plan::Rebuild { after: 0 });
        // A rebuild of ours that stopped resumes; another one's starts over.
        check(state(1, "a", Some(("b", 2)), 700), Plan::Rebuild { after: 700 });
        check(state(1, "a", Some(("c", 2)), 700), Plan::Rebuild { after: 0 });
        check(state(2, "b", Some(("c", 1)), 700), Plan::Rebuild { after: 0 });
        // A newer gateway's index, finished or in progress, is left alone.
        check(state(3, "d", None, 0), Plan::Newer);
        check(state(1, "a", Some(("d", 3)), 700), Plan::Newer);
    }
}
