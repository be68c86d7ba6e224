//! Source records of vendor deliveries, written inside one transaction per
//! chunk: the order rule, the identities of each record's parts, the
//! references between records, the law on access grants, a Provenance per
//! written resource, and the cascade of a client tombstone.
//!
//! The decisions themselves are pure and live in [`crate::ingest`]; this
//! file brings them the stored state and writes what they decide.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::batch::{PendingRows, SOURCE_IDENTITY, SOURCE_RECORD};
use super::logic::{Backend, SqlStore};
use super::row::SqlValue;
use super::sql::{Dialect, Sql};
use super::writer::{VersionWriter, take_changes};
use super::{Error, ErrorKind, Result, WriteOp, WriteOutcome, prepare};
use crate::access::law;
use crate::fhir::datetime::format_instant;
use crate::fhir::{ChangeNumber, ResourceId, ResourceType, TenantCode};
use crate::ingest::order::{Condition, Decision, IncomingState, StoredState, decide};
use crate::ingest::provenance::{DeliveryStamp, SourceOf, provenance};
use crate::ingest::source_ref::{SourceRef, resolve_refs, source_refs};
use crate::mapping::engine::MappedResource;

/// A mapped source record for the store to write.
#[derive(Debug, Clone)]
pub struct SourceRecordWrite {
    pub kind: String,
    pub source_id: String,
    /// The source id of its client.
    pub client: Option<String>,
    /// When it changed at the source (ms; the delivery's time if it does not say).
    pub changed_at: i64,
    pub change: SourceChange,
}

/// What a delivery says of a source record.
#[derive(Debug, Clone)]
pub enum SourceChange {
    /// Its resources, by part, and a hash of them as mapped.
    Write { resources: Vec<MappedResource>, content_hash: String },
    /// A tombstone.
    Delete,
    /// Not for the portal: what it wrote before goes, nothing is kept.
    Skip,
}

/// What writing a source record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecordWritten {
    pub result: SourceResult,
    /// New versions written (deletions and Provenance included).
    pub versions: u32,
    pub warnings: Vec<String>,
}

/// The result for one source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceResult {
    Created,
    Updated,
    /// The same as stored: nothing written.
    Unchanged,
    Deleted,
    Skipped,
    /// Older than what is stored: ignored.
    Older,
    /// Its client is deleted: not written.
    ClientDeleted,
    /// A resource it maps to cannot be stored (e.g. not valid R4).
    Failed {
        field: String,
        reason: String,
    },
}

/// Source records and what they became.
#[async_trait]
pub trait SourceStore: Send + Sync {
    /// Writes records of one delivery in one transaction, in order,
    /// deciding each against the stored state inside the transaction.
    async fn write_source_records(
        &self,
        tenant: &TenantCode,
        delivery: &DeliveryStamp,
        records: Vec<SourceRecordWrite>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SourceRecordWritten>>;
}

/// The suffix of the part under which a part's Provenance is kept.
const PROVENANCE: &str = "@provenance";

#[async_trait]
impl<B: Backend> SourceStore for SqlStore<B> {
    async fn write_source_records(
        &self,
        tenant: &TenantCode,
        delivery: &DeliveryStamp,
        records: Vec<SourceRecordWrite>,
        at: DateTime<Utc>,
    ) -> Result<Vec<SourceRecordWritten>> {
        let dialect = B::DIALECT;
        let mut tx = self.backend.begin_write().await?;
        let statement = |text: &str, binds: Vec<SqlValue>| Sql::statement(dialect, text, binds);
        // Locks the tenant row until commit: writes of one tenant, and the
        // order rule with them, happen one after the other. Change numbers
        // are taken as versions are written, and the counter set at the end.
        let last = take_changes(tx.as_mut(), dialect, tenant, 0).await?;
        let open_rejects = !tx
            .fetch_all(statement(
                "SELECT 1 FROM ingest_reject WHERE tenant = ? AND vendor = ? AND resolved_at IS NULL LIMIT 1",
                vec![tenant.as_str().into(), delivery.vendor.as_str().into()],
            ))
            .await?
            .is_empty();
        let mut writer = SourceWriter {
            versions: VersionWriter::new(tx.as_mut(), dialect, tenant, at),
            dialect,
            tenant,
            delivery,
            recorded: format_instant(at),
            at: at.timestamp_millis(),
            last_change: last,
            found: HashMap::new(),
            client_deleted: HashMap::new(),
            open_rejects,
            states: HashMap::new(),
            identities: HashMap::new(),
            new_identities: PendingRows::new(&SOURCE_IDENTITY),
            new_states: HashMap::new(),
        };
        let mut keys: Vec<RecordKey> = records.iter().map(|r| (r.kind.clone(), r.source_id.clone())).collect();
        keys.sort_unstable();
        keys.dedup();
        writer.prefetch(&keys).await?;
        let mut written = Vec::with_capacity(records.len());
        for record in records {
            written.push(writer.write(record).await?);
        }
        writer.flush_sources().await?;
        writer.versions.flush().await?;
        let last_change = writer.last_change;
        tx.execute(statement(
            "UPDATE tenant SET last_change = ? WHERE code = ?",
            vec![last_change.into(), tenant.as_str().into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(written)
    }
}

/// One part of a source record and the resource it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    part: String,
    resource_type: ResourceType,
    id: ResourceId,
}

/// Writes source records inside one transaction.
struct SourceWriter<'a> {
    versions: VersionWriter<'a>,
    dialect: Dialect,
    tenant: &'a TenantCode,
    delivery: &'a DeliveryStamp,
    recorded: String,
    at: i64,
    last_change: i64,
    /// References resolved in this transaction.
    found: HashMap<SourceRef, Option<(ResourceType, ResourceId)>>,
    /// Clients (by source id) looked up in this transaction: deleted or not.
    client_deleted: HashMap<String, bool>,
    /// Whether the vendor has rejects that a written record may resolve.
    open_rejects: bool,
    /// The stored state of the chunk's records, read at its start and kept
    /// up to date as they are written (`None`: never delivered).
    states: HashMap<RecordKey, Option<StoredState>>,
    /// The part identities of the chunk's records, the same way.
    identities: HashMap<RecordKey, Vec<Identity>>,
    /// New identity rows, inserted at the end of the chunk.
    new_identities: PendingRows,
    /// New states of records, upserted at the end of the chunk.
    new_states: HashMap<RecordKey, Vec<SqlValue>>,
}

/// A source record's kind and id.
type RecordKey = (String, String);

/// Keys per prefetch statement (two bound values each, well below the
/// limits of both databases).
const PREFETCH_KEYS: usize = 400;

impl SourceWriter<'_> {
    fn sql(&self, text: &str, binds: Vec<SqlValue>) -> Sql {
        Sql::statement(self.dialect, text, binds)
    }

    fn next_change(&mut self) -> ChangeNumber {
        self.last_change += 1;
        ChangeNumber(self.last_change)
    }

    fn key(&self, kind: &str, source_id: &str) -> Vec<SqlValue> {
        vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into(), kind.into(), source_id.into()]
    }

    async fn write(&mut self, mut record: SourceRecordWrite) -> Result<SourceRecordWritten> {
        let stored = self.stored_state(&record.kind, &record.source_id).await?;
        let identities = self.identities(&record.kind, &record.source_id).await?;
        let is_client = match &record.change {
            SourceChange::Write { resources, .. } => {
                resources.iter().any(|r| r.part.is_empty() && r.resource_type == ResourceType::Patient)
            }
            _ => identities.iter().any(|i| i.part.is_empty() && i.resource_type == ResourceType::Patient),
        };
        if !is_client
            && let Some(client) = &record.client
            && self.is_client_deleted(client).await?
        {
            // Went with its client: only a record to write is news.
            return Ok(match record.change {
                SourceChange::Write { .. } => {
                    written(SourceResult::ClientDeleted, 0, vec![format!("its client {client} is deleted")])
                }
                SourceChange::Delete | SourceChange::Skip => written(SourceResult::Unchanged, 0, Vec::new()),
            });
        }
        let (condition, content_hash) = match &record.change {
            SourceChange::Write { content_hash, .. } => (Condition::Written, Some(content_hash.as_str())),
            SourceChange::Delete => (Condition::Deleted, None),
            SourceChange::Skip => (Condition::Skipped, None),
        };
        let incoming = IncomingState {
            changed_at: record.changed_at,
            delivered_at: self.delivery.created_at,
            condition,
            content_hash,
        };
        match decide(stored.as_ref(), &incoming) {
            Decision::Apply => {}
            Decision::Same => {
                self.close_rejects(&record.kind, &record.source_id).await?;
                return Ok(written(SourceResult::Unchanged, 0, Vec::new()));
            }
            Decision::Older | Decision::EarlierDelivery => {
                return Ok(written(SourceResult::Older, 0, Vec::new()));
            }
        }
        let content_hash = content_hash.map(str::to_owned);
        // Taken out: the rest of the record is still needed below.
        let change = std::mem::replace(&mut record.change, SourceChange::Skip);
        let outcome = match change {
            SourceChange::Write { resources, .. } => self.write_parts(&record, resources, identities).await?,
            SourceChange::Delete => {
                let mut versions = self.delete_parts(&identities).await?;
                if is_client {
                    versions += self.cascade(&record, &identities).await?;
                }
                // The tombstone of a record never written is remembered all
                // the same, but deletes nothing.
                let result = if identities.is_empty() { SourceResult::Unchanged } else { SourceResult::Deleted };
                written(result, versions, Vec::new())
            }
            SourceChange::Skip => {
                let versions = self.delete_parts(&identities).await?;
                written(SourceResult::Skipped, versions, Vec::new())
            }
        };
        if matches!(outcome.result, SourceResult::Failed { .. }) {
            return Ok(outcome);
        }
        if is_client {
            self.client_deleted.insert(record.source_id.clone(), condition == Condition::Deleted);
        }
        self.keep_state(&record, condition, content_hash).await?;
        self.close_rejects(&record.kind, &record.source_id).await?;
        Ok(outcome)
    }

    /// Reads the stored state and part identities of these records, a few
    /// hundred per statement.
    async fn prefetch(&mut self, keys: &[RecordKey]) -> Result<()> {
        for batch in keys.chunks(PREFETCH_KEYS) {
            for key in batch {
                self.states.insert(key.clone(), None);
                self.identities.insert(key.clone(), Vec::new());
            }
            let wanted: std::collections::HashSet<&RecordKey> = batch.iter().collect();
            let (kinds, ids) = in_lists(batch);
            let text = format!(
                "SELECT kind, source_id, changed_at, delivered_at, state, content_hash FROM source_record \
                 WHERE tenant = ? AND vendor = ? AND kind IN ({}) AND source_id IN ({})",
                placeholders(kinds.len()),
                placeholders(ids.len())
            );
            let sql = self.sql(&text, self.in_binds(&kinds, &ids));
            let rows = self.versions.tx().fetch_all(sql).await?;
            for row in &rows {
                let key = (row.text(0)?.to_owned(), row.text(1)?.to_owned());
                if wanted.contains(&key) {
                    let state = row.text(4)?;
                    let condition = Condition::from_code(state).ok_or_else(|| {
                        Error::new(ErrorKind::Internal, format!("unknown source record state '{state}'"))
                    })?;
                    let stored = StoredState {
                        changed_at: row.int(2)?,
                        delivered_at: row.int(3)?,
                        condition,
                        content_hash: row.opt_text(5)?.map(str::to_owned),
                    };
                    self.states.insert(key, Some(stored));
                }
            }
            let text = format!(
                "SELECT kind, source_id, part, resource_type, resource_id FROM source_identity \
                 WHERE tenant = ? AND vendor = ? AND kind IN ({}) AND source_id IN ({}) ORDER BY part",
                placeholders(kinds.len()),
                placeholders(ids.len())
            );
            let sql = self.sql(&text, self.in_binds(&kinds, &ids));
            let rows = self.versions.tx().fetch_all(sql).await?;
            for row in &rows {
                let key = (row.text(0)?.to_owned(), row.text(1)?.to_owned());
                if wanted.contains(&key) {
                    let invalid = |what: &str| Error::new(ErrorKind::Internal, format!("source identity with {what}"));
                    let identity = Identity {
                        part: row.text(2)?.to_owned(),
                        resource_type: row.text(3)?.parse().map_err(|_| invalid("an unknown type"))?,
                        id: ResourceId::parse(row.text(4)?).map_err(|_| invalid("an invalid id"))?,
                    };
                    self.identities.entry(key).or_default().push(identity);
                }
            }
        }
        Ok(())
    }

    fn in_binds(&self, kinds: &[&str], ids: &[&str]) -> Vec<SqlValue> {
        let mut binds: Vec<SqlValue> = vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into()];
        binds.extend(kinds.iter().map(|k| SqlValue::from(*k)));
        binds.extend(ids.iter().map(|i| SqlValue::from(*i)));
        binds
    }

    /// The stored state of a record (read again when the chunk's copy was
    /// dropped, after a client's cascade).
    async fn stored_state(&mut self, kind: &str, source_id: &str) -> Result<Option<StoredState>> {
        let key = (kind.to_owned(), source_id.to_owned());
        if !self.states.contains_key(&key) {
            self.prefetch(std::slice::from_ref(&key)).await?;
        }
        Ok(self.states.get(&key).cloned().flatten())
    }

    async fn identities(&mut self, kind: &str, source_id: &str) -> Result<Vec<Identity>> {
        let key = (kind.to_owned(), source_id.to_owned());
        if !self.identities.contains_key(&key) {
            self.prefetch(std::slice::from_ref(&key)).await?;
        }
        Ok(self.identities.get(&key).cloned().unwrap_or_default())
    }

    /// Writes the new identities and states of the chunk's records.
    async fn flush_sources(&mut self) -> Result<()> {
        let dialect = self.dialect;
        self.new_identities.flush(self.versions.tx(), dialect).await?;
        let mut states = PendingRows::new(&SOURCE_RECORD);
        for (_, row) in self.new_states.drain() {
            states.push(row);
        }
        states.flush(self.versions.tx(), dialect).await
    }

    async fn is_client_deleted(&mut self, client: &str) -> Result<bool> {
        if let Some(deleted) = self.client_deleted.get(client) {
            return Ok(*deleted);
        }
        let sql = self.sql(
            "SELECT r.state FROM source_identity i JOIN source_record r ON r.tenant = i.tenant \
             AND r.vendor = i.vendor AND r.kind = i.kind AND r.source_id = i.source_id \
             WHERE i.tenant = ? AND i.vendor = ? AND i.source_id = ? AND i.part = '' AND i.resource_type = 'Patient'",
            vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into(), client.into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let deleted = match rows.first() {
            Some(row) => row.text(0)? == Condition::Deleted.code(),
            None => false,
        };
        self.client_deleted.insert(client.to_owned(), deleted);
        Ok(deleted)
    }

    /// The resource a source reference names, if it was ever written.
    async fn find(&mut self, source: &SourceRef) -> Result<Option<(ResourceType, ResourceId)>> {
        if let Some(found) = self.found.get(source) {
            return Ok(found.clone());
        }
        let mut binds = self.key(&source.kind, &source.source_id);
        binds.push(source.part.as_str().into());
        let sql = self.sql(
            "SELECT resource_type, resource_id FROM source_identity \
             WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND part = ?",
            binds,
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let found = match rows.first() {
            Some(row) => match (row.text(0)?.parse::<ResourceType>(), ResourceId::parse(row.text(1)?)) {
                (Ok(t), Ok(id)) => Some((t, id)),
                _ => None,
            },
            None => None,
        };
        self.found.insert(source.clone(), found.clone());
        Ok(found)
    }

    async fn write_parts(
        &mut self,
        record: &SourceRecordWrite,
        resources: Vec<MappedResource>,
        identities: Vec<Identity>,
    ) -> Result<SourceRecordWritten> {
        let mut warnings = Vec::new();
        // Every part gets its id first, so that parts can refer to each other.
        let mut parts = Vec::with_capacity(resources.len());
        for mapped in resources {
            let known = identities.iter().find(|i| i.part == mapped.part && i.resource_type == mapped.resource_type);
            let id = known.map_or_else(ResourceId::generate, |i| i.id.clone());
            parts.push((mapped, id, known.is_some()));
        }
        let own = |source: &SourceRef| -> Option<(ResourceType, ResourceId)> {
            (source.kind == record.kind && source.source_id == record.source_id)
                .then(|| {
                    parts.iter().find(|(m, _, _)| m.part == source.part).map(|(m, id, _)| (m.resource_type, id.clone()))
                })
                .flatten()
        };
        let mut references = HashMap::new();
        for (mapped, _, _) in &parts {
            for source in source_refs(&mapped.resource) {
                let target = match own(&source) {
                    Some(target) => Some(target),
                    None => self.find(&source).await?,
                };
                references.insert(source, target.map(|(t, id)| format!("{t}/{id}")));
            }
        }
        let mut prepared = Vec::with_capacity(parts.len());
        for (mapped, id, known) in parts {
            let MappedResource { part, resource_type, mut resource } = mapped;
            for missing in resolve_refs(&mut resource, &|s: &SourceRef| references.get(s).cloned().flatten()) {
                warnings.push(format!("the reference to {missing} resolves to nothing: left out"));
            }
            if resource_type == ResourceType::Consent {
                warnings.extend(law::limit_access_grant(&mut resource));
            }
            match prepare(resource_type, id, resource) {
                Ok(resource) => prepared.push((part, resource, known)),
                Err(e) => {
                    let field =
                        if part.is_empty() { resource_type.to_string() } else { format!("{resource_type} ({part})") };
                    return Ok(written(SourceResult::Failed { field, reason: e.to_string() }, 0, warnings));
                }
            }
        }
        let produced: Vec<(String, ResourceType)> =
            prepared.iter().map(|(part, resource, _)| (part.clone(), resource.resource_type)).collect();
        let mut versions = 0;
        let mut created_main = false;
        let mut changed = false;
        for (part, resource, known) in prepared {
            let (resource_type, id) = (resource.resource_type, resource.id.clone());
            if !known {
                self.keep_identity(record, &part, resource_type, &id).await?;
            }
            let change = self.next_change();
            let version = if known {
                match self.versions.apply(WriteOp::Update { resource, if_match: None }, change).await? {
                    WriteOutcome::Updated(s) => s.version,
                    _ => continue,
                }
            } else {
                created_main |= part.is_empty();
                self.versions.create_fresh(resource, change).await?
            };
            changed = true;
            versions += 1;
            versions += self.write_provenance(record, &part, (resource_type, &id, version), &identities).await?;
        }
        // Parts the record no longer has go, with their Provenance.
        let gone: Vec<Identity> = identities
            .iter()
            .filter(|i| {
                let part = i.part.strip_suffix(PROVENANCE).unwrap_or(&i.part);
                let still = |(p, t): &(String, ResourceType)| p == part && (i.part != part || *t == i.resource_type);
                !produced.iter().any(still)
            })
            .cloned()
            .collect();
        let deleted = self.delete_parts(&gone).await?;
        changed |= deleted > 0;
        versions += deleted;
        let result = if created_main {
            SourceResult::Created
        } else if changed {
            SourceResult::Updated
        } else {
            SourceResult::Unchanged
        };
        Ok(written(result, versions, warnings))
    }

    /// Writes the Provenance of a part's new version; 1 when written.
    async fn write_provenance(
        &mut self,
        record: &SourceRecordWrite,
        part: &str,
        target: (ResourceType, &ResourceId, crate::fhir::VersionId),
        identities: &[Identity],
    ) -> Result<u32> {
        let part = format!("{part}{PROVENANCE}");
        let known = identities.iter().find(|i| i.part == part).map(|i| i.id.clone());
        let id = known.clone().unwrap_or_else(ResourceId::generate);
        let source = SourceOf { tenant: self.tenant.as_str(), kind: &record.kind, source_id: &record.source_id };
        let resource = provenance(target, source, self.delivery, &self.recorded);
        let resource = prepare(ResourceType::Provenance, id.clone(), resource)?;
        let change = self.next_change();
        if known.is_some() {
            let outcome = self.versions.apply(WriteOp::Update { resource, if_match: None }, change).await?;
            return Ok(u32::from(matches!(outcome, WriteOutcome::Updated(_))));
        }
        self.keep_identity(record, &part, ResourceType::Provenance, &id).await?;
        self.versions.create_fresh(resource, change).await?;
        Ok(1)
    }

    async fn keep_identity(
        &mut self,
        record: &SourceRecordWrite,
        part: &str,
        resource_type: ResourceType,
        id: &ResourceId,
    ) -> Result<()> {
        let key = (record.kind.clone(), record.source_id.clone());
        let known = self.identities.entry(key.clone()).or_default();
        let identity = Identity { part: part.to_owned(), resource_type, id: id.clone() };
        let retyped = known.iter().position(|i| i.part == part);
        match retyped {
            // A part that is now of another type (its mapping changed): the
            // identity row is replaced at once.
            Some(at) => {
                known[at] = identity;
                let mut binds: Vec<SqlValue> = vec![resource_type.as_str().into(), id.as_str().into()];
                binds.extend(self.key(&record.kind, &record.source_id));
                binds.push(part.into());
                let sql = self.sql(
                    "UPDATE source_identity SET resource_type = ?, resource_id = ? \
                     WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND part = ?",
                    binds,
                );
                self.versions.tx().execute(sql).await?;
            }
            None => {
                known.push(identity);
                let mut row = self.key(&record.kind, &record.source_id);
                row.extend([part.into(), resource_type.as_str().into(), id.as_str().into()]);
                self.new_identities.push(row);
            }
        }
        let source =
            SourceRef { kind: record.kind.clone(), source_id: record.source_id.clone(), part: part.to_owned() };
        self.found.insert(source, Some((resource_type, id.clone())));
        Ok(())
    }

    /// Deletes the resources of these parts that are not deleted yet;
    /// the number of deletions written.
    async fn delete_parts(&mut self, parts: &[Identity]) -> Result<u32> {
        let mut deleted = 0;
        for identity in parts {
            deleted += self.delete(identity.resource_type, &identity.id).await?;
        }
        Ok(deleted)
    }

    async fn delete(&mut self, resource_type: ResourceType, id: &ResourceId) -> Result<u32> {
        let change = self.next_change();
        match self.versions.apply(WriteOp::Delete { resource_type, id: id.clone() }, change).await {
            Ok(WriteOutcome::Deleted(_)) => Ok(1),
            Ok(_) => Ok(0),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// A client tombstone: everything in the client's compartment goes
    /// (whichever vendor wrote it), and the vendor's records of the client
    /// are remembered as deleted, as of the tombstone at the latest.
    async fn cascade(&mut self, record: &SourceRecordWrite, identities: &[Identity]) -> Result<u32> {
        let Some(patient) = identities.iter().find(|i| i.part.is_empty()) else { return Ok(0) };
        // The states below change in the database: what the chunk holds of
        // them goes there first, and is read again when needed.
        self.flush_sources().await?;
        self.states.clear();
        let sql = self.sql(
            "SELECT resource_type, id FROM resource WHERE tenant = ? AND client_id = ? AND deleted = FALSE",
            vec![self.tenant.as_str().into(), patient.id.as_str().into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let mut under = Vec::with_capacity(rows.len());
        for row in &rows {
            if let (Ok(t), Ok(id)) = (row.text(0)?.parse::<ResourceType>(), ResourceId::parse(row.text(1)?)) {
                under.push((t, id));
            }
        }
        let mut deleted = 0;
        for (resource_type, id) in under {
            deleted += self.delete(resource_type, &id).await?;
        }
        let sql = self.sql(
            "UPDATE source_record SET state = 'deleted', content_hash = NULL, \
             changed_at = CASE WHEN changed_at < ? THEN ? ELSE changed_at END \
             WHERE tenant = ? AND vendor = ? AND client_source = ? AND state <> 'deleted' \
             AND NOT (kind = ? AND source_id = ?)",
            vec![
                record.changed_at.into(),
                record.changed_at.into(),
                self.tenant.as_str().into(),
                self.delivery.vendor.as_str().into(),
                record.source_id.as_str().into(),
                record.kind.as_str().into(),
                record.source_id.as_str().into(),
            ],
        );
        self.versions.tx().execute(sql).await?;
        Ok(deleted)
    }

    async fn keep_state(
        &mut self,
        record: &SourceRecordWrite,
        condition: Condition,
        content_hash: Option<String>,
    ) -> Result<()> {
        let key = (record.kind.clone(), record.source_id.clone());
        let stored = StoredState {
            changed_at: record.changed_at,
            delivered_at: self.delivery.created_at,
            condition,
            content_hash: content_hash.clone(),
        };
        self.states.insert(key.clone(), Some(stored));
        let mut row = self.key(&record.kind, &record.source_id);
        row.extend([
            record.client.clone().into(),
            record.changed_at.into(),
            self.delivery.created_at.into(),
            condition.code().into(),
            content_hash.into(),
        ]);
        self.new_states.insert(key, row);
        Ok(())
    }

    /// A record written (or found the same) resolves its open rejects.
    async fn close_rejects(&mut self, kind: &str, source_id: &str) -> Result<()> {
        if !self.open_rejects {
            return Ok(());
        }
        let how = if self.delivery.replay { "replayed" } else { "written" };
        let resolution = format!("{how} from delivery {} of {}", self.delivery.name, self.delivery.created);
        let mut binds: Vec<SqlValue> = vec![self.at.into(), resolution.into()];
        binds.extend(self.key(kind, source_id));
        let sql = self.sql(
            "UPDATE ingest_reject SET resolved_at = ?, resolution = ? \
             WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND resolved_at IS NULL",
            binds,
        );
        self.versions.tx().execute(sql).await?;
        Ok(())
    }
}

/// The distinct kinds and ids of some records, for `IN` lists.
fn in_lists(keys: &[RecordKey]) -> (Vec<&str>, Vec<&str>) {
    let mut kinds: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let mut ids: Vec<&str> = keys.iter().map(|(_, i)| i.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    ids.sort_unstable();
    ids.dedup();
    (kinds, ids)
}

/// `?, ?, ?` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn written(result: SourceResult, versions: u32, warnings: Vec<String>) -> SourceRecordWritten {
    SourceRecordWritten { result, versions, warnings }
}
