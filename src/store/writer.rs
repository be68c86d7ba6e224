//! Writing versions inside one transaction: the current row, the version
//! and index rows (batched until the end of the transaction), and the
//! client and category of each version.
//!
//! A version's JSON is stored once: the current version's in `resource`,
//! every earlier one's in `resource_version`. The version row of the
//! current version has no content; when a newer version replaces it, its
//! content moves there ([`VersionWriter::keep_superseded`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::batch::{self, INDEX_TABLES, PendingRows};
use super::driver::{Transaction, not_found, stored};
use super::row::SqlValue;
use super::sql::{CURRENT_COLUMNS, Dialect, Sql};
use super::{Error, ErrorKind, PreparedResource, Result, StoredResource, WriteOp, WriteOutcome};
use crate::fhir::classify::Classification;
use crate::fhir::datetime::format_instant;
use crate::fhir::reference::LocalReference;
use crate::fhir::{ChangeNumber, DataCategory, ResourceId, ResourceType, TenantCode, VersionId, meta};

/// Takes `count` change numbers of the tenant (creating its row on first
/// use) and returns the last one taken (the tenant's last change before,
/// when `count` is 0). This locks the tenant row until the transaction
/// ends: writes of one tenant commit one after the other, in the order of
/// their change numbers.
pub(super) async fn take_changes(
    tx: &mut dyn Transaction,
    dialect: Dialect,
    tenant: &TenantCode,
    count: i64,
) -> Result<i64> {
    let statement = |text: &str, binds: Vec<SqlValue>| Sql::statement(dialect, text, binds);
    tx.execute(statement(
        "INSERT INTO tenant (code, last_change) VALUES (?, 0) ON CONFLICT (code) DO NOTHING",
        vec![tenant.as_str().into()],
    ))
    .await?;
    let rows = tx
        .fetch_all(statement(
            "UPDATE tenant SET last_change = last_change + ? WHERE code = ? RETURNING last_change",
            vec![count.into(), tenant.as_str().into()],
        ))
        .await?;
    rows.first().ok_or_else(|| Error::new(ErrorKind::Internal, "tenant row missing"))?.int(0)
}

/// The current state of a resource as a write sees it.
pub(super) struct Current {
    pk: i64,
    version: i64,
    deleted: bool,
    content_hash: Option<String>,
}

/// Writes versions inside one transaction.
pub(super) struct VersionWriter<'a> {
    tx: &'a mut dyn Transaction,
    dialect: Dialect,
    tenant: &'a TenantCode,
    at: DateTime<Utc>,
    pending: PendingWrites,
    /// Resources created under fresh ids whose rows are not inserted yet
    /// ([`Self::create_fresh`]), and where each is in that list.
    new_resources: Vec<NewResource>,
    new_by_key: HashMap<(ResourceType, ResourceId), usize>,
}

/// The first version of a resource, to be inserted with others.
struct NewResource {
    resource_type: ResourceType,
    id: ResourceId,
    change: ChangeNumber,
    last_updated: i64,
    client: Option<String>,
    category: DataCategory,
    content_hash: String,
    content: String,
    index: crate::fhir::index::SearchIndex,
}

impl<'a> VersionWriter<'a> {
    pub(super) fn new(
        tx: &'a mut dyn Transaction,
        dialect: Dialect,
        tenant: &'a TenantCode,
        at: DateTime<Utc>,
    ) -> Self {
        VersionWriter {
            tx,
            dialect,
            tenant,
            at,
            pending: PendingWrites::new(),
            new_resources: Vec::new(),
            new_by_key: HashMap::new(),
        }
    }

    /// The transaction, for statements of the caller's own.
    pub(super) fn tx(&mut self) -> &mut dyn Transaction {
        self.tx
    }
}

/// The version and index rows of the transaction, written by
/// [`VersionWriter::flush`] before it commits (nothing in the transaction
/// reads them back before then).
struct PendingWrites {
    versions: PendingRows,
    index: [PendingRows; 4],
}

impl PendingWrites {
    fn new() -> Self {
        PendingWrites {
            versions: PendingRows::new(&batch::RESOURCE_VERSION),
            index: INDEX_TABLES.map(PendingRows::new),
        }
    }
}

impl VersionWriter<'_> {
    fn sql(&self, text: &str, binds: Vec<SqlValue>) -> Sql {
        Sql::statement(self.dialect, text, binds)
    }

    /// Creates a resource under an id the caller just generated (random,
    /// never used): no lookup first, and its row is inserted with the other
    /// new ones at the end ([`Self::flush`]), or before anything reads it
    /// back. A clash would fail on the unique key.
    pub(super) async fn create_fresh(&mut self, prepared: PreparedResource, change: ChangeNumber) -> Result<VersionId> {
        let PreparedResource { resource_type, id, mut resource, classification, index, content_hash } = prepared;
        let (client, category) = match classification {
            Classification::Own { client, category } => (client, category),
            Classification::SameAs(anchor) => self.resolve_anchor(resource_type, &anchor).await?,
        };
        let version = VersionId(1);
        let last_updated = self.at.timestamp_millis();
        meta::stamp(&mut resource, &id, version, &format_instant(self.at), category);
        let content = resource.to_string();
        self.new_by_key.insert((resource_type, id.clone()), self.new_resources.len());
        self.new_resources.push(NewResource {
            resource_type,
            id,
            change,
            last_updated,
            client: client.map(|c| c.as_str().to_owned()),
            category,
            content_hash,
            content,
            index,
        });
        Ok(version)
    }

    /// Inserts the rows of the resources created so far, with their
    /// version and index rows.
    async fn insert_new(&mut self) -> Result<()> {
        if self.new_resources.is_empty() {
            return Ok(());
        }
        let mut new = std::mem::take(&mut self.new_resources);
        self.new_by_key.clear();
        let mut rows = PendingRows::new(&batch::NEW_RESOURCE);
        for r in &mut new {
            rows.push(vec![
                self.tenant.as_str().into(),
                r.resource_type.as_str().into(),
                r.id.as_str().into(),
                1.into(),
                r.change.0.into(),
                r.last_updated.into(),
                false.into(),
                r.client.clone().into(),
                r.category.code().into(),
                std::mem::take(&mut r.content_hash).into(),
                std::mem::take(&mut r.content).into(),
            ]);
        }
        let mut keys: HashMap<(String, String), i64> = HashMap::with_capacity(new.len());
        for mut statement in rows.take_statements(self.dialect)? {
            statement.push(" RETURNING pk, resource_type, id");
            for row in self.tx.fetch_all(statement).await? {
                keys.insert((row.text(1)?.to_owned(), row.text(2)?.to_owned()), row.int(0)?);
            }
        }
        for r in new {
            let key = (r.resource_type.as_str().to_owned(), r.id.as_str().to_owned());
            let pk = *keys.get(&key).ok_or_else(|| Error::new(ErrorKind::Internal, "an insert returned no key"))?;
            self.insert_version(pk, VersionId(1), r.change, r.last_updated, r.client, r.category);
            self.insert_index(pk, r.resource_type, &r.index);
        }
        Ok(())
    }

    /// Inserts the new resources first when one of them is to be read.
    async fn before_reading(&mut self, resource_type: ResourceType, id: &ResourceId) -> Result<()> {
        if self.new_by_key.contains_key(&(resource_type, id.clone())) {
            self.insert_new().await?;
        }
        Ok(())
    }

    pub(super) async fn apply(&mut self, op: WriteOp, change: ChangeNumber) -> Result<WriteOutcome> {
        match op {
            WriteOp::Create(resource) => {
                if self.current(resource.resource_type, &resource.id).await?.is_some() {
                    return Err(Error::new(
                        ErrorKind::Duplicate,
                        format!("{}/{} already exists", resource.resource_type, resource.id),
                    ));
                }
                self.put(resource, None, change).await.map(WriteOutcome::Created)
            }
            WriteOp::Update { resource, if_match } => {
                let current = self
                    .current(resource.resource_type, &resource.id)
                    .await?
                    .ok_or_else(|| not_found(resource.resource_type, &resource.id))?;
                if let Some(expected) = if_match
                    && expected.0 != current.version
                {
                    return Err(Error::new(
                        ErrorKind::VersionConflict,
                        format!(
                            "{}/{} is at version {}, not {}",
                            resource.resource_type, resource.id, current.version, expected
                        ),
                    ));
                }
                if !current.deleted && current.content_hash.as_deref() == Some(resource.content_hash.as_str()) {
                    let (resource_type, id) = (resource.resource_type, resource.id.clone());
                    return self.reread(resource_type, &id).await.map(WriteOutcome::Unchanged);
                }
                self.put(resource, Some(current), change).await.map(WriteOutcome::Updated)
            }
            WriteOp::Delete { resource_type, id } => {
                let current = self.current(resource_type, &id).await?.ok_or_else(|| not_found(resource_type, &id))?;
                if current.deleted {
                    return Ok(WriteOutcome::AlreadyDeleted { resource_type, id });
                }
                self.delete(resource_type, &id, current, change).await.map(WriteOutcome::Deleted)
            }
        }
    }

    async fn current(&mut self, resource_type: ResourceType, id: &ResourceId) -> Result<Option<Current>> {
        self.before_reading(resource_type, id).await?;
        let sql = self.sql(
            "SELECT pk, version, deleted, content_hash FROM resource WHERE tenant = ? AND resource_type = ? AND id = ?",
            vec![self.tenant.as_str().into(), resource_type.as_str().into(), id.as_str().into()],
        );
        let rows = self.tx.fetch_all(sql).await?;
        rows.first()
            .map(|row| {
                Ok(Current {
                    pk: row.int(0)?,
                    version: row.int(1)?,
                    deleted: row.bool(2)?,
                    content_hash: row.opt_text(3)?.map(str::to_owned),
                })
            })
            .transpose()
    }

    async fn reread(&mut self, resource_type: ResourceType, id: &ResourceId) -> Result<StoredResource> {
        self.before_reading(resource_type, id).await?;
        let text =
            format!("SELECT {CURRENT_COLUMNS} FROM resource r WHERE r.tenant = ? AND r.resource_type = ? AND r.id = ?");
        let sql = self.sql(&text, vec![self.tenant.as_str().into(), resource_type.as_str().into(), id.as_str().into()]);
        let row = self.tx.fetch_all(sql).await?.into_iter().next().ok_or_else(|| not_found(resource_type, id))?;
        stored(row)
    }

    /// The client and category of a Binary or Provenance come from the
    /// resource it belongs to, as it is now (this transaction included).
    async fn resolve_anchor(
        &mut self,
        of: ResourceType,
        anchor: &LocalReference,
    ) -> Result<(Option<ResourceId>, DataCategory)> {
        let invalid = || Error::new(ErrorKind::Invalid, format!("{of} refers to {anchor}, which is not stored here"));
        let anchor_type = anchor.resource_type().ok_or_else(invalid)?;
        if let Ok(id) = ResourceId::parse(&anchor.id)
            && let Some(&at) = self.new_by_key.get(&(anchor_type, id))
        {
            let new = &self.new_resources[at];
            return Ok((new.client.as_deref().and_then(|c| ResourceId::parse(c).ok()), new.category));
        }
        let sql = self.sql(
            "SELECT client_id, category FROM resource WHERE tenant = ? AND resource_type = ? AND id = ? AND deleted = FALSE",
            vec![self.tenant.as_str().into(), anchor_type.as_str().into(), anchor.id.as_str().into()],
        );
        let rows = self.tx.fetch_all(sql).await?;
        let row = rows.first().ok_or_else(invalid)?;
        let client = row.opt_text(0)?.and_then(|c| ResourceId::parse(c).ok());
        let category = DataCategory::from_code(row.text(1)?).ok_or_else(invalid)?;
        Ok((client, category))
    }

    async fn put(
        &mut self,
        prepared: PreparedResource,
        current: Option<Current>,
        change: ChangeNumber,
    ) -> Result<StoredResource> {
        let PreparedResource { resource_type, id, mut resource, classification, index, content_hash } = prepared;
        let (client, category) = match classification {
            Classification::Own { client, category } => (client, category),
            Classification::SameAs(anchor) => self.resolve_anchor(resource_type, &anchor).await?,
        };
        let version = VersionId(current.as_ref().map_or(1, |c| c.version + 1));
        let last_updated = self.at.timestamp_millis();
        meta::stamp(&mut resource, &id, version, &format_instant(self.at), category);
        let content = resource.to_string();
        let client_text = client.as_ref().map(|c| c.as_str().to_owned());
        let pk = match &current {
            Some(current) => {
                self.keep_superseded(current).await?;
                let sql = self.sql(
                    "UPDATE resource SET version = ?, change_no = ?, last_updated = ?, deleted = FALSE, client_id = ?, \
                     category = ?, content_hash = ?, content = ? WHERE pk = ?",
                    vec![
                        version.0.into(),
                        change.0.into(),
                        last_updated.into(),
                        client_text.clone().into(),
                        category.code().into(),
                        content_hash.into(),
                        content.clone().into(),
                        current.pk.into(),
                    ],
                );
                self.tx.execute(sql).await?;
                self.clear_index(current.pk).await?;
                current.pk
            }
            None => {
                let sql = self.sql(
                    "INSERT INTO resource (tenant, resource_type, id, version, change_no, last_updated, deleted, client_id, \
                     category, content_hash, content) VALUES (?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?) RETURNING pk",
                    vec![
                        self.tenant.as_str().into(),
                        resource_type.as_str().into(),
                        id.as_str().into(),
                        version.0.into(),
                        change.0.into(),
                        last_updated.into(),
                        client_text.clone().into(),
                        category.code().into(),
                        content_hash.into(),
                        content.clone().into(),
                    ],
                );
                let rows = self.tx.fetch_all(sql).await?;
                rows.first().ok_or_else(|| Error::new(ErrorKind::Internal, "insert returned no key"))?.int(0)?
            }
        };
        self.insert_version(pk, version, change, last_updated, client_text, category);
        self.insert_index(pk, resource_type, &index);
        Ok(StoredResource {
            resource_type,
            id,
            version,
            last_updated,
            change,
            client,
            category,
            content: Some(content),
        })
    }

    async fn delete(
        &mut self,
        resource_type: ResourceType,
        id: &ResourceId,
        current: Current,
        change: ChangeNumber,
    ) -> Result<StoredResource> {
        let previous = self.reread(resource_type, id).await?;
        self.keep_superseded(&current).await?;
        let version = VersionId(current.version + 1);
        let last_updated = self.at.timestamp_millis();
        let sql = self.sql(
            "UPDATE resource SET version = ?, change_no = ?, last_updated = ?, deleted = TRUE, content_hash = NULL, \
             content = NULL WHERE pk = ?",
            vec![version.0.into(), change.0.into(), last_updated.into(), current.pk.into()],
        );
        self.tx.execute(sql).await?;
        self.clear_index(current.pk).await?;
        let client_text = previous.client.as_ref().map(|c| c.as_str().to_owned());
        self.insert_version(current.pk, version, change, last_updated, client_text, previous.category);
        Ok(StoredResource { version, last_updated, change, content: None, ..previous })
    }

    /// The version row of a new current version: without content, which
    /// is in `resource` for as long as the version is current.
    fn insert_version(
        &mut self,
        pk: i64,
        version: VersionId,
        change: ChangeNumber,
        last_updated: i64,
        client: Option<String>,
        category: DataCategory,
    ) {
        self.pending.versions.push(vec![
            pk.into(),
            version.0.into(),
            self.tenant.as_str().into(),
            change.0.into(),
            last_updated.into(),
            client.into(),
            category.code().into(),
        ]);
    }

    /// Moves the content of a version that is about to be replaced from
    /// `resource` into its version row, which history reads from then on.
    /// Its version row may still be pending (written earlier in this
    /// transaction): the pending rows go first.
    async fn keep_superseded(&mut self, current: &Current) -> Result<()> {
        if current.deleted {
            return Ok(());
        }
        if self.pending.versions.holds(current.pk) {
            self.pending.versions.flush(self.tx, self.dialect).await?;
        }
        let sql = self.sql(
            "UPDATE resource_version SET content = (SELECT content FROM resource WHERE pk = ?) \
             WHERE resource_pk = ? AND version = ?",
            vec![current.pk.into(), current.pk.into(), current.version.into()],
        );
        self.tx.execute(sql).await?;
        Ok(())
    }

    /// Writes the pending version and index rows.
    pub(super) async fn flush(&mut self) -> Result<()> {
        self.insert_new().await?;
        self.pending.versions.flush(self.tx, self.dialect).await?;
        for table in &mut self.pending.index {
            table.flush(self.tx, self.dialect).await?;
        }
        Ok(())
    }

    async fn clear_index(&mut self, pk: i64) -> Result<()> {
        for table in &mut self.pending.index {
            table.discard(pk);
        }
        for table in ["search_token", "search_reference", "search_date", "search_string"] {
            let text = format!("DELETE FROM {table} WHERE resource_pk = ?");
            self.tx.execute(self.sql(&text, vec![pk.into()])).await?;
        }
        Ok(())
    }

    fn insert_index(&mut self, pk: i64, resource_type: ResourceType, index: &crate::fhir::index::SearchIndex) {
        push_index_rows(&mut self.pending.index, pk, self.tenant.as_str(), resource_type, index);
    }
}

/// Adds the index rows of one resource to the pending rows of the index
/// tables (in [`INDEX_TABLES`] order): the rows a write makes, and the ones
/// a rebuild of the index makes (`reindex.rs`).
pub(super) fn push_index_rows(
    pending: &mut [PendingRows; 4],
    pk: i64,
    tenant: &str,
    resource_type: ResourceType,
    index: &crate::fhir::index::SearchIndex,
) {
    let common =
        |param: &str| -> Vec<SqlValue> { vec![pk.into(), tenant.into(), resource_type.as_str().into(), param.into()] };
    let [tokens, references, dates, strings] = pending;
    for t in &index.tokens {
        tokens.push(
            [common(t.param), vec![t.system.clone().into(), t.code.clone().into(), t.text.clone().into()]].concat(),
        );
    }
    for r in &index.references {
        references
            .push([common(r.param), vec![r.target.type_name.clone().into(), r.target.id.clone().into()]].concat());
    }
    for d in &index.dates {
        dates.push([common(d.param), vec![d.range.low.into(), d.range.high.into()]].concat());
    }
    for s in &index.strings {
        strings.push([common(s.param), vec![s.value.clone().into(), s.exact.clone().into()]].concat());
    }
}
