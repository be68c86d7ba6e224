//! The store written once over a [`Backend`]: reads, history, search and
//! the versioned write. The drivers (`sqlite`, `postgres`) only connect,
//! migrate, and move [`Sql`] and [`Row`] values in and out of sqlx.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::Digest as _;

use super::driver::{Backend, not_found, stored};
use super::related;
use super::row::{Row, SqlValue};
use super::sql::{self, CURRENT_COLUMNS, Sql, VERSION_COLUMNS};
use super::writer::{VersionWriter, take_changes};
use super::{
    ChangedSince, DatabaseState, Error, ErrorKind, HistoryPage, ResourceStore, Result, SearchPage, StoredResource,
    TokenRecord, TokenStore, WriteOp, WriteOutcome,
};
use crate::access::{Visibility, VisibleRecords};
use crate::fhir::{ChangeNumber, ResourceId, ResourceType, TenantCode, VersionId};
use crate::search::SearchRequest;

/// The store over a driver.
pub(crate) struct SqlStore<B> {
    pub(super) backend: B,
    /// Snapshots this process wrote lately, by what they hold: the same
    /// search at the same state reuses one instead of writing it again.
    recent_snapshots: quick_cache::sync::Cache<SnapshotContent, RecentSnapshot>,
}

impl<B: std::fmt::Debug> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// What a snapshot holds: tenant, type and a SHA-256 of its ordered keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SnapshotContent {
    tenant: TenantCode,
    resource_type: ResourceType,
    keys_sha256: [u8; 32],
    owner: String,
}

#[derive(Debug, Clone)]
struct RecentSnapshot {
    id: String,
    expires_at: i64,
}

/// Snapshots remembered for reuse, per process.
const RECENT_SNAPSHOTS: usize = 10_000;

impl<B: Backend> SqlStore<B> {
    pub(crate) fn new(backend: B) -> Self {
        SqlStore { backend, recent_snapshots: quick_cache::sync::Cache::new(RECENT_SNAPSHOTS) }
    }

    pub(super) fn sql(&self, text: &str, binds: Vec<SqlValue>) -> Sql {
        Sql::statement(B::DIALECT, text, binds)
    }

    async fn fetch_optional(&self, sql: Sql) -> Result<Option<Row>> {
        Ok(self.backend.fetch_all(sql).await?.into_iter().next())
    }
}

#[async_trait]
impl<B: Backend> ResourceStore for SqlStore<B> {
    async fn read(&self, tenant: &TenantCode, resource_type: ResourceType, id: &ResourceId) -> Result<StoredResource> {
        let text =
            format!("SELECT {CURRENT_COLUMNS} FROM resource r WHERE r.tenant = ? AND r.resource_type = ? AND r.id = ?");
        let sql = self.sql(&text, vec![tenant.as_str().into(), resource_type.as_str().into(), id.as_str().into()]);
        let row = self.fetch_optional(sql).await?.ok_or_else(|| not_found(resource_type, id))?;
        stored(row)
    }

    async fn vread(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
        version: VersionId,
    ) -> Result<StoredResource> {
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM resource r JOIN resource_version v ON v.resource_pk = r.pk \
             WHERE r.tenant = ? AND r.resource_type = ? AND r.id = ? AND v.version = ?"
        );
        let binds = vec![tenant.as_str().into(), resource_type.as_str().into(), id.as_str().into(), version.0.into()];
        let row = self.fetch_optional(self.sql(&text, binds)).await?;
        let row = row
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{resource_type}/{id} has no version {version}")))?;
        stored(row)
    }

    async fn history(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
        count: u32,
        offset: u64,
    ) -> Result<HistoryPage> {
        let current = self.read(tenant, resource_type, id).await?;
        let text = format!(
            "SELECT {VERSION_COLUMNS} FROM resource r JOIN resource_version v ON v.resource_pk = r.pk \
             WHERE r.tenant = ? AND r.resource_type = ? AND r.id = ? ORDER BY v.version DESC LIMIT ? OFFSET ?"
        );
        let binds = vec![
            tenant.as_str().into(),
            resource_type.as_str().into(),
            id.as_str().into(),
            i64::from(count).into(),
            (offset as i64).into(),
        ];
        let versions =
            self.backend.fetch_all(self.sql(&text, binds)).await?.into_iter().map(stored).collect::<Result<_>>()?;
        Ok(HistoryPage { total: current.version.0 as u64, versions })
    }

    async fn search(&self, tenant: &TenantCode, search: &SearchRequest, visibility: &Visibility) -> Result<SearchPage> {
        let filter = sql::search_filter(B::DIALECT, tenant, search, visibility);
        if search.count == 0 || search.summary_count {
            let total = match self.fetch_optional(sql::search_count(&filter)).await? {
                Some(row) => row.int(0)? as u64,
                None => 0,
            };
            return Ok(SearchPage { total, resources: Vec::new(), snapshot: None });
        }
        // The whole ordered result as keys: its length is the total, and
        // when it spans more than this page it becomes the snapshot.
        let keys = self
            .backend
            .fetch_all(sql::search_keys(&filter, search))
            .await?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<Vec<i64>>>()?;
        let total = keys.len() as u64;
        let page = page_of(&keys, search.offset, search.count);
        let resources = self.current_in_order(tenant, search.resource_type, page, visibility).await?;
        let snapshot = if search.offset == 0 && total > u64::from(search.count) {
            Some(self.keep_snapshot(tenant, search.resource_type, &keys, &snapshot_owner(visibility)).await?)
        } else {
            None
        };
        Ok(SearchPage { total, resources, snapshot })
    }

    async fn snapshot_page(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        snapshot: &str,
        offset: u64,
        count: u32,
        visibility: &Visibility,
    ) -> Result<SearchPage> {
        let meta = self.sql(
            "SELECT total, entries FROM search_snapshot \
             WHERE id = ? AND tenant = ? AND resource_type = ? AND expires_at > ? AND owner = ?",
            vec![
                snapshot.into(),
                tenant.as_str().into(),
                resource_type.as_str().into(),
                chrono::Utc::now().timestamp_millis().into(),
                snapshot_owner(visibility).into(),
            ],
        );
        let row = self
            .fetch_optional(meta)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "this search has expired or is not known; run it again"))?;
        let total = row.int(0)? as u64;
        let keys = parse_keys(row.text(1)?)?;
        let resources = self.current_in_order(tenant, resource_type, page_of(&keys, offset, count), visibility).await?;
        Ok(SearchPage { total, resources, snapshot: Some(snapshot.to_owned()) })
    }

    async fn reference_targets(
        &self,
        tenant: &TenantCode,
        source_type: ResourceType,
        ids: &[ResourceId],
        param: &str,
    ) -> Result<Vec<(ResourceType, ResourceId)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows =
            self.backend.fetch_all(related::reference_targets(B::DIALECT, tenant, source_type, ids, param)).await?;
        let mut targets = Vec::with_capacity(rows.len());
        for row in rows {
            let (Ok(target_type), Ok(id)) = (row.text(0)?.parse(), ResourceId::parse(row.text(1)?)) else { continue };
            targets.push((target_type, id));
        }
        Ok(targets)
    }

    async fn read_many(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        ids: &[ResourceId],
        visibility: &Visibility,
    ) -> Result<Vec<StoredResource>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = related::read_many(B::DIALECT, tenant, resource_type, ids, visibility);
        self.backend.fetch_all(sql).await?.into_iter().map(stored).collect()
    }

    async fn referencing(
        &self,
        tenant: &TenantCode,
        source_type: ResourceType,
        param: &str,
        targets: &[(ResourceType, ResourceId)],
        visibility: &Visibility,
        limit: u32,
    ) -> Result<Vec<StoredResource>> {
        if targets.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let sql = related::referencing(B::DIALECT, tenant, source_type, param, targets, visibility, limit);
        self.backend.fetch_all(sql).await?.into_iter().map(stored).collect()
    }

    async fn write(&self, tenant: &TenantCode, ops: Vec<WriteOp>, at: DateTime<Utc>) -> Result<Vec<WriteOutcome>> {
        let mut tx = self.backend.begin_write().await?;
        let dialect = B::DIALECT;
        let taken = ops.len() as i64;
        let last = take_changes(tx.as_mut(), dialect, tenant, taken).await?;
        let first_change = last - taken + 1;
        let mut write = VersionWriter::new(tx.as_mut(), dialect, tenant, at);
        let mut outcomes = Vec::with_capacity(ops.len());
        for (i, op) in ops.into_iter().enumerate() {
            outcomes.push(write.apply(op, ChangeNumber(first_change + i as i64)).await?);
        }
        write.flush().await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn last_change(&self, tenant: &TenantCode) -> Result<ChangeNumber> {
        let row = self
            .fetch_optional(self.sql("SELECT last_change FROM tenant WHERE code = ?", vec![tenant.as_str().into()]))
            .await?;
        Ok(ChangeNumber(row.map(|r| r.int(0)).transpose()?.unwrap_or(0)))
    }

    async fn read_as_of(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
    ) -> Result<(StoredResource, ChangeNumber)> {
        let text = format!(
            "SELECT {CURRENT_COLUMNS}, t.last_change FROM resource r JOIN tenant t ON t.code = r.tenant \
             WHERE r.tenant = ? AND r.resource_type = ? AND r.id = ?"
        );
        let sql = self.sql(&text, vec![tenant.as_str().into(), resource_type.as_str().into(), id.as_str().into()]);
        let row = self.fetch_optional(sql).await?.ok_or_else(|| not_found(resource_type, id))?;
        let as_of = ChangeNumber(row.int(8)?);
        Ok((stored(row)?, as_of))
    }

    async fn changed_since(&self, tenant: &TenantCode, after: ChangeNumber, limit: u32) -> Result<ChangedSince> {
        // The last change first: every change up to it has committed (change
        // numbers are taken under the tenant row's lock), so the list read
        // next holds all of them.
        let up_to = self.last_change(tenant).await?;
        if up_to <= after {
            return Ok(ChangedSince { resources: Some(Vec::new()), up_to: after });
        }
        // A resource changed again after `up_to` is listed too (no upper
        // bound): its change number is its latest.
        let sql = self.sql(
            "SELECT resource_type, id FROM resource WHERE tenant = ? AND change_no > ? LIMIT ?",
            vec![tenant.as_str().into(), after.0.into(), (i64::from(limit) + 1).into()],
        );
        let rows = self.backend.fetch_all(sql).await?;
        if rows.len() > limit as usize {
            return Ok(ChangedSince { resources: None, up_to });
        }
        let internal = |m: String| Error::new(ErrorKind::Internal, m);
        let resources = rows
            .iter()
            .map(|row| {
                let resource_type = row.text(0)?.parse::<ResourceType>().map_err(|e| internal(e.to_string()))?;
                let id = ResourceId::parse(row.text(1)?).map_err(|e| internal(e.to_string()))?;
                Ok((resource_type, id))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangedSince { resources: Some(resources), up_to })
    }
}

impl<B: Backend> SqlStore<B> {
    /// The current versions of the resources with these keys, in the order
    /// of the keys; deleted and no longer visible ones are left out.
    async fn current_in_order(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        keys: &[i64],
        visibility: &Visibility,
    ) -> Result<Vec<StoredResource>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = sql::current_by_keys(B::DIALECT, tenant, resource_type, keys, visibility);
        let mut found = std::collections::HashMap::with_capacity(keys.len());
        for row in self.backend.fetch_all(sql).await? {
            let key = row.int(8)?;
            found.insert(key, stored(row)?);
        }
        Ok(keys.iter().filter_map(|key| found.remove(key)).collect())
    }

    /// Keeps the ordered keys of a search for its later pages; returns the
    /// snapshot's id. A snapshot with the same keys written lately by this
    /// process is reused while it has at least half its lifetime left (the
    /// keys are all a snapshot holds; access is checked on every page).
    /// Expired snapshots are cleared now and then.
    async fn keep_snapshot(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        keys: &[i64],
        owner: &str,
    ) -> Result<String> {
        let now = chrono::Utc::now().timestamp_millis();
        let entries = keys.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let content = SnapshotContent {
            tenant: tenant.clone(),
            resource_type,
            keys_sha256: sha2::Sha256::digest(entries.as_bytes()).into(),
            owner: owner.to_owned(),
        };
        if let Some(recent) = self.recent_snapshots.get(&content)
            && recent.expires_at - now > super::SNAPSHOT_LIFETIME_MILLIS / 2
        {
            return Ok(recent.id);
        }
        let snapshot = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now + super::SNAPSHOT_LIFETIME_MILLIS;
        let mut tx = self.backend.begin_write().await?;
        if snapshot.starts_with('0') {
            tx.execute(self.sql("DELETE FROM search_snapshot WHERE expires_at < ?", vec![now.into()])).await?;
        }
        tx.execute(self.sql(
            "INSERT INTO search_snapshot (id, tenant, resource_type, total, expires_at, entries, owner) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                snapshot.as_str().into(),
                tenant.as_str().into(),
                resource_type.as_str().into(),
                (keys.len() as i64).into(),
                expires_at.into(),
                entries.into(),
                owner.into(),
            ],
        ))
        .await?;
        tx.commit().await?;
        self.recent_snapshots.insert(content, RecentSnapshot { id: snapshot.clone(), expires_at });
        Ok(snapshot)
    }
}

/// The keys at positions `offset..offset + count`.
fn page_of(keys: &[i64], offset: u64, count: u32) -> &[i64] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(keys.len());
    let end = start.saturating_add(count as usize).min(keys.len());
    &keys[start..end]
}

fn parse_keys(entries: &str) -> Result<Vec<i64>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    entries
        .split(',')
        .map(|key| key.parse().map_err(|_| Error::new(ErrorKind::Internal, "a search snapshot is damaged")))
        .collect()
}

#[async_trait]
impl<B: Backend> TokenStore for SqlStore<B> {
    async fn insert_token(&self, token: &TokenRecord) -> Result<()> {
        let mut tx = self.backend.begin_write().await?;
        let sql = self.sql(
            "INSERT INTO access_token (token_hash, tenant, subject, client_id, scope, issued_at, expires_at, revoked, patient) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                token.token_hash.clone().into(),
                token.tenant.as_str().into(),
                token.subject.clone().into(),
                token.client_id.clone().into(),
                token.scope.clone().into(),
                token.issued_at.into(),
                token.expires_at.into(),
                token.revoked.into(),
                token.patient.clone().into(),
            ],
        );
        tx.execute(sql).await?;
        tx.commit().await
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let sql = self.sql(
            "SELECT token_hash, tenant, subject, client_id, scope, issued_at, expires_at, revoked, patient \
             FROM access_token WHERE token_hash = ?",
            vec![token_hash.into()],
        );
        let Some(row) = self.fetch_optional(sql).await? else { return Ok(None) };
        let tenant = TenantCode::parse(row.text(1)?).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        Ok(Some(TokenRecord {
            token_hash: row.text(0)?.to_owned(),
            tenant,
            subject: row.text(2)?.to_owned(),
            client_id: row.opt_text(3)?.map(str::to_owned),
            scope: row.text(4)?.to_owned(),
            issued_at: row.int(5)?,
            expires_at: row.int(6)?,
            revoked: row.bool(7)?,
            patient: row.opt_text(8)?.map(str::to_owned),
        }))
    }

    async fn revoke_token(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.backend.begin_write().await?;
        tx.execute(self.sql("UPDATE access_token SET revoked = TRUE WHERE token_hash = ?", vec![token_hash.into()]))
            .await?;
        // The token's tenant only: other tenants keep their caches.
        tx.execute(self.sql(
            "INSERT INTO tenant (code, last_change, access_epoch) \
             SELECT tenant, 0, 1 FROM access_token WHERE token_hash = ? \
             ON CONFLICT (code) DO UPDATE SET access_epoch = tenant.access_epoch + 1",
            vec![token_hash.into()],
        ))
        .await?;
        tx.commit().await
    }

    async fn database_state(&self, tenant: &TenantCode) -> Result<DatabaseState> {
        let sql = self.sql("SELECT access_epoch, last_change FROM tenant WHERE code = ?", vec![tenant.as_str().into()]);
        Ok(match self.fetch_optional(sql).await? {
            Some(row) => DatabaseState { access_epoch: row.int(0)?, last_change: ChangeNumber(row.int(1)?) },
            // Nothing written or revoked in this tenant yet.
            None => DatabaseState { access_epoch: 0, last_change: ChangeNumber(0) },
        })
    }

    fn commit_marker(&self) -> Option<super::CommitMarker> {
        self.backend.commit_marker()
    }
}

/// Whom a search snapshot belongs to: the visibility it was made with, as
/// a digest. A page asked for with another visibility (another person, or
/// the same person after a grant changed) finds no snapshot.
fn snapshot_owner(visibility: &Visibility) -> String {
    match visibility.records() {
        VisibleRecords::Everything => String::new(),
        other => hex::encode(sha2::Sha256::digest(format!("{other:?}").as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_keys() {
        let keys = [5, 3, 9, 1, 7];
        assert_eq!(page_of(&keys, 0, 2), [5, 3]);
        assert_eq!(page_of(&keys, 4, 2), [7]);
        assert_eq!(page_of(&keys, 5, 2), [] as [i64; 0]);
        assert_eq!(page_of(&keys, u64::MAX, u32::MAX), [] as [i64; 0]);
    }

    #[test]
    fn snapshot_entries_round_trip() {
        let keys = [12, 7, 40_000_000_000];
        let entries = keys.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        assert_eq!(parse_keys(&entries).unwrap(), keys);
        assert_eq!(parse_keys("").unwrap(), [] as [i64; 0]);
        assert!(parse_keys("1,x").is_err());
    }
}
