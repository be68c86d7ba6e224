//! Source records of vendor deliveries, written inside one transaction per
//! chunk: the order rule, the identities of each record's parts, the
//! references between records, the law on access grants, a Provenance per
//! written resource, and the cascade of a client tombstone.
//!
//! The decisions themselves are pure and live in [`crate::ingest`]; this
//! file brings them the stored state and writes what they decide:
//! [`known`] holds what a chunk knows of its records, [`removal`] takes
//! resources away, [`linked`] writes records whose client comes through
//! another record, or that amend another record, and [`attach`] those
//! that waited for a client that has arrived.

mod attach;
mod known;
mod linked;
mod removal;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::batch::{PendingRows, SOURCE_IDENTITY};
use super::driver::Backend;
use super::logic::SqlStore;
use super::row::SqlValue;
use super::sql::{Dialect, Sql};
use super::writer::{VersionWriter, take_changes};
use super::{ErrorKind, ProfiledError, ResourceStore, Result, StoredResource, WriteOp, WriteOutcome, prepare_profiled};
use crate::fhir::datetime::format_instant;
use crate::fhir::{ChangeNumber, ResourceId, ResourceType, TenantCode};
use crate::mapping::engine::MappedResource;
use crate::source::order::{Condition, Decision, IncomingState, StoredState, decide};
use crate::source::provenance::{DeliveryStamp, SourceOf, provenance};
use crate::source::reference::{SourceRef, resolve_refs, source_refs};

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
    pub linking: Linking,
}

/// How a record depends on other records beyond references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Linking {
    /// Other records take their client through this one (an account):
    /// when it changes, they follow it.
    pub links: bool,
    /// Its client is the client this record (kind, source id) names; held,
    /// unseen, while there is none.
    pub via: Option<(String, String)>,
    /// The record (kind, source id) whose resources it amends.
    pub amends: Option<(String, String)>,
    /// Other records amend this one.
    pub amended: bool,
}

impl Linking {
    /// Whether the record is kept mapped in `source_linked` (see [`linked`]).
    fn is_kept(&self) -> bool {
        self.via.is_some() || self.amends.is_some() || self.amended
    }
}

/// What a delivery says of a source record.
#[derive(Debug, Clone)]
pub enum SourceChange {
    /// Its resources, by part, a hash of them as mapped, and what ingest
    /// noticed while preparing them (reported when they are written).
    Write { resources: Vec<MappedResource>, content_hash: String, warnings: Vec<String> },
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
    /// Kept, unseen, until its client is known (its link appears).
    Held,
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

    /// Writes the held records whose client has arrived since (in any
    /// vendor's delivery), each as the delivery it came in.
    async fn attach_waiting(&self, tenant: &TenantCode, at: DateTime<Utc>) -> Result<Attached>;

    /// The current version of the resource a part of a source record of
    /// `vendor` became (part `""`: its main resource, such as a client's
    /// Patient); `None` when there is none or it is deleted. Read outside
    /// any write, for what ingest decides before it writes.
    async fn read_source(
        &self,
        tenant: &TenantCode,
        vendor: &str,
        source: &SourceRef,
    ) -> Result<Option<StoredResource>>;
}

pub use attach::Attached;

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
        let versions = VersionWriter::new(tx.as_mut(), dialect, tenant, at);
        let mut writer = SourceWriter::new(versions, dialect, tenant, delivery, at, last, open_rejects);
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

    async fn attach_waiting(&self, tenant: &TenantCode, at: DateTime<Utc>) -> Result<Attached> {
        self.attach_held(tenant, at).await
    }

    async fn read_source(
        &self,
        tenant: &TenantCode,
        vendor: &str,
        source: &SourceRef,
    ) -> Result<Option<StoredResource>> {
        let sql = Sql::statement(
            B::DIALECT,
            "SELECT resource_type, resource_id FROM source_identity \
             WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND part = ?",
            vec![
                tenant.as_str().into(),
                vendor.into(),
                source.kind.as_str().into(),
                source.source_id.as_str().into(),
                source.part.as_str().into(),
            ],
        );
        let rows = self.backend.fetch_all(sql).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let (Ok(resource_type), Ok(id)) = (row.text(0)?.parse::<ResourceType>(), ResourceId::parse(row.text(1)?))
        else {
            return Ok(None);
        };
        match self.read(tenant, resource_type, &id).await {
            Ok(stored) if !stored.is_deleted() => Ok(Some(stored)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
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
    /// Links and clients looked up in this transaction.
    links: linked::LinkCache,
}

/// A source record's kind and id.
type RecordKey = (String, String);

/// Keys per prefetch statement (two bound values each, well below the
/// limits of both databases).
const PREFETCH_KEYS: usize = 400;

impl<'a> SourceWriter<'a> {
    fn new(
        versions: VersionWriter<'a>,
        dialect: Dialect,
        tenant: &'a TenantCode,
        delivery: &'a DeliveryStamp,
        at: DateTime<Utc>,
        last_change: i64,
        open_rejects: bool,
    ) -> Self {
        SourceWriter {
            versions,
            dialect,
            tenant,
            delivery,
            recorded: format_instant(at),
            at: at.timestamp_millis(),
            last_change,
            found: HashMap::new(),
            client_deleted: HashMap::new(),
            open_rejects,
            states: HashMap::new(),
            identities: HashMap::new(),
            new_identities: PendingRows::new(&SOURCE_IDENTITY),
            new_states: HashMap::new(),
            links: linked::LinkCache::default(),
        }
    }
}

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
            && record.linking.via.is_none()
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
        let mut outcome = match change {
            change if record.linking.is_kept() => {
                self.write_linked(&record, change, stored.is_some(), identities).await?
            }
            SourceChange::Write { resources, warnings, .. } => {
                self.write_parts(&record, resources, identities, warnings).await?
            }
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
        if record.linking.links {
            outcome = self.relink(&record, condition, stored.is_none(), outcome).await?;
        }
        self.close_rejects(&record.kind, &record.source_id).await?;
        Ok(outcome)
    }

    async fn write_parts(
        &mut self,
        record: &SourceRecordWrite,
        resources: Vec<MappedResource>,
        identities: Vec<Identity>,
        mut warnings: Vec<String>,
    ) -> Result<SourceRecordWritten> {
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
                // A reference to one of several kinds: the first that has it.
                let mut target = None;
                for candidate in source.alternatives() {
                    target = match own(&candidate) {
                        Some(target) => Some(target),
                        None => self.find(&candidate).await?,
                    };
                    if target.is_some() {
                        break;
                    }
                }
                references.insert(source, target.map(|(t, id)| format!("{t}/{id}")));
            }
        }
        let mut prepared = Vec::with_capacity(parts.len());
        for (mapped, id, known) in parts {
            let MappedResource { part, resource_type, mut resource } = mapped;
            for missing in resolve_refs(&mut resource, &|s: &SourceRef| references.get(s).cloned().flatten()) {
                warnings.push(format!("the reference to {missing} resolves to nothing: left out"));
            }
            match prepare_profiled(resource_type, id, resource) {
                Ok(resource) => prepared.push((part, resource, known)),
                Err(e) => {
                    // A profile's issue names its element; R4 errors the resource.
                    let field = match &e {
                        ProfiledError::Nonconformant { issues, .. } => issues[0].path.clone(),
                        ProfiledError::Prepare(_) => resource_type.to_string(),
                    };
                    let field = if part.is_empty() { field } else { format!("{field} ({part})") };
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
        let resource = prepare_profiled(ResourceType::Provenance, id.clone(), resource)?;
        let change = self.next_change();
        if known.is_some() {
            let outcome = self.versions.apply(WriteOp::Update { resource, if_match: None }, change).await?;
            return Ok(u32::from(matches!(outcome, WriteOutcome::Updated(_))));
        }
        self.keep_identity(record, &part, ResourceType::Provenance, &id).await?;
        self.versions.create_fresh(resource, change).await?;
        Ok(1)
    }
}

fn written(result: SourceResult, versions: u32, warnings: Vec<String>) -> SourceRecordWritten {
    SourceRecordWritten { result, versions, warnings }
}
