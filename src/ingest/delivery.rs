//! Ingesting one delivery file: check it whole, map it record by record,
//! write the records in chunks (each chunk one transaction, the order rule
//! inside it), keep what cannot be mapped.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use sha2::Digest as _;
use tokio::sync::mpsc;

use super::birth_dates::{BirthDates, birth_date_of, birth_dates};
use super::delivery_source::{DeliverySource, SourceItem};
use super::summary::Summary;
use crate::access::law;
use crate::fhir::datetime::parse_range;
use crate::fhir::{ResourceType, TenantCode};
use crate::mapping::engine::{Action, MappedRecord, RecordOutcome, Refusal, Rejection};
use crate::mapping::spec::Mapping;
use crate::source::provenance::DeliveryStamp;
use crate::source::reference::{SourceRef, parse_linked};
use crate::store::{Linking, NewReject, SourceChange, SourceRecordWrite, SourceResult, Store};

/// Source records written in one transaction.
const CHUNK: usize = 500;

/// Why a delivery was not ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Refused whole (framing, envelope, another organisation): nothing written.
    #[error("delivery refused: {0}")]
    Refused(Refusal),
    #[error("store: {0}")]
    Store(crate::store::Error),
}

impl From<Refusal> for IngestError {
    fn from(refusal: Refusal) -> Self {
        IngestError::Refused(refusal)
    }
}

impl From<crate::store::Error> for IngestError {
    fn from(error: crate::store::Error) -> Self {
        IngestError::Store(error)
    }
}

/// Told how far an ingest is.
pub trait Progress: Send + Sync {
    /// The delivery holds this many top-level items.
    fn start(&self, items: u64);
    /// This many more source records are done.
    fn advance(&self, records: u64);
    fn finish(&self);
}

/// No progress shown.
#[derive(Debug, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Ingests one delivery file for `tenant` with `mapping`, named after the
/// file.
pub async fn ingest_file(
    store: &Arc<dyn Store>,
    mapping: &Arc<Mapping>,
    tenant: &TenantCode,
    path: &Path,
    progress: &dyn Progress,
) -> Result<Summary, IngestError> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    ingest_delivery(store, mapping, tenant, path, &name, progress).await
}

/// Ingests the delivery in the file at `path` under the name `name` (what
/// Provenance and rejects call it).
pub async fn ingest_delivery(
    store: &Arc<dyn Store>,
    mapping: &Arc<Mapping>,
    tenant: &TenantCode,
    path: &Path,
    name: &str,
    progress: &dyn Progress,
) -> Result<Summary, IngestError> {
    let source = {
        let (mapping, path) = (Arc::clone(mapping), path.to_owned());
        tokio::task::spawn_blocking(move || DeliverySource::open(&mapping, &path))
            .await
            .map_err(|e| Refusal(format!("reading the delivery failed: {e}")))??
    };
    let envelope = source.envelope().clone();
    if envelope.tenant != tenant.as_str() {
        return Err(Refusal(format!(
            "this delivery is for organisation '{}', not '{}'",
            envelope.tenant,
            tenant.as_str()
        ))
        .into());
    }
    let stamp = stamp(mapping, name, &envelope.created)?;
    progress.start(source.items());

    let (items, mut incoming) = mpsc::channel::<SourceItem>(CHUNK * 2);
    let reader = {
        let mapping = Arc::clone(mapping);
        let source = Arc::new(source);
        let reading = Arc::clone(&source);
        let task = tokio::task::spawn_blocking(move || {
            reading.for_each_item(&mapping, |item| match items.blocking_send(item) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(_) => std::ops::ControlFlow::Break(()),
            })
        });
        (task, source)
    };
    let envelope_json = reader.1.envelope_json().to_string();

    let mut writer = ChunkWriter { store, tenant, stamp: &stamp, envelope_json, summary: Summary::default() };
    let mut chunk = Vec::with_capacity(CHUNK);
    while let Some(item) = incoming.recv().await {
        chunk.push(item);
        if chunk.len() >= CHUNK {
            writer.write(std::mem::take(&mut chunk)).await?;
            progress.advance(CHUNK as u64);
        }
    }
    let remaining = chunk.len() as u64;
    writer.write(chunk).await?;
    progress.advance(remaining);
    reader.0.await.map_err(|e| Refusal(format!("reading the delivery failed: {e}")))??;
    // Records held for a client that this delivery brought (or that came
    // since) are written now.
    let attached = store.attach_waiting(tenant, chrono::Utc::now()).await?;
    writer.summary.attached += attached.records;
    writer.summary.versions += attached.versions;
    progress.finish();
    Ok(writer.summary)
}

/// The delivery's stamp: vendor, mapping version, name and creation time.
pub fn stamp(mapping: &Mapping, name: &str, created: &str) -> Result<DeliveryStamp, Refusal> {
    let created_at = parse_range(created)
        .map_err(|e| Refusal(format!("the delivery's creation time '{created}' is not a date-time: {e}")))?
        .low;
    Ok(DeliveryStamp {
        vendor: mapping.vendor.clone(),
        mapping_version: mapping.version.clone(),
        name: name.to_owned(),
        created: created.to_owned(),
        created_at,
        replay: false,
    })
}

/// Writes chunks of mapped records and keeps the rejected ones.
struct ChunkWriter<'a> {
    store: &'a Arc<dyn Store>,
    tenant: &'a TenantCode,
    stamp: &'a DeliveryStamp,
    envelope_json: String,
    summary: Summary,
}

impl ChunkWriter<'_> {
    async fn write(&mut self, items: Vec<SourceItem>) -> Result<(), IngestError> {
        let born = {
            let mapped: Vec<&MappedRecord> = items
                .iter()
                .filter_map(|item| match &item.outcome {
                    RecordOutcome::Mapped(record) => Some(record),
                    RecordOutcome::Rejected(_) => None,
                })
                .collect();
            birth_dates(self.store.as_ref(), self.tenant, &self.stamp.vendor, &mapped).await?
        };
        let mut rejects = Vec::new();
        let mut writes = Vec::with_capacity(items.len());
        let mut sources = Vec::with_capacity(items.len());
        for item in items {
            self.summary.records += 1;
            match item.outcome {
                RecordOutcome::Rejected(rejection) => rejects.push(self.reject(rejection)),
                RecordOutcome::Mapped(record) => {
                    for warning in &record.warnings {
                        self.summary.warn(&record.kind, &record.source_id, warning.clone());
                    }
                    match to_write(record, self.stamp, &born) {
                        Ok(Some(write)) => {
                            writes.push(write);
                            sources.push((item.record, item.parent));
                        }
                        Ok(None) => self.summary.containers += 1,
                        Err(mut rejection) => {
                            rejection.record = item.record;
                            rejection.parent = item.parent;
                            rejects.push(self.reject(*rejection));
                        }
                    }
                }
            }
        }
        let kinds: Vec<(String, String)> = writes.iter().map(|w| (w.kind.clone(), w.source_id.clone())).collect();
        let written = self.store.write_source_records(self.tenant, self.stamp, writes, chrono::Utc::now()).await?;
        for (((kind, source_id), result), (record, parent)) in kinds.into_iter().zip(written).zip(sources) {
            self.summary.count(&result.result);
            self.summary.versions += u64::from(result.versions);
            for warning in result.warnings {
                self.summary.warn(&kind, &source_id, warning);
            }
            if let SourceResult::Failed { field, reason } = result.result {
                self.summary.rejected -= 1;
                let rejection = Rejection { kind, source_id: Some(source_id), field, reason, record, parent };
                rejects.push(self.reject(rejection));
            }
        }
        self.summary.rejected += rejects.len() as u64;
        self.store.keep_rejects(self.tenant, rejects, chrono::Utc::now().timestamp_millis()).await?;
        Ok(())
    }

    fn reject(&mut self, rejection: Rejection) -> NewReject {
        let Rejection { kind, source_id, field, reason, record, parent } = rejection;
        NewReject {
            vendor: self.stamp.vendor.clone(),
            delivery: self.stamp.name.clone(),
            delivered_at: self.stamp.created_at,
            envelope: self.envelope_json.clone(),
            kind,
            source_id,
            field,
            reason,
            record: record.to_string(),
            parent: parent.map(|p| p.to_string()),
        }
    }
}

/// What the store is to write for a mapped record; `None` for a container.
/// A change time that is not a date-time rejects the record. The law above
/// any delivery is applied to the access grants it maps to: a
/// bewindvoerder's keeps money matters only, and one of parental authority
/// ends at the client's 18th birthday (when `born`, see
/// [`super::birth_dates`], has the client's birth date), each with a
/// warning.
pub fn to_write(
    record: MappedRecord,
    stamp: &DeliveryStamp,
    born: &BirthDates,
) -> Result<Option<SourceRecordWrite>, Box<Rejection>> {
    let MappedRecord { kind, source_id, client, changed, action, amends, links, linked_through, amended, .. } = record;
    let changed_at = match &changed {
        None => stamp.created_at,
        Some(text) => match parse_range(text) {
            Ok(range) => range.low,
            Err(e) => {
                return Err(Box::new(Rejection {
                    kind,
                    source_id: Some(source_id),
                    field: "(changed)".into(),
                    reason: format!("its change time '{text}' is not a date-time: {e}"),
                    record: Value::Null,
                    parent: None,
                }));
            }
        },
    };
    let amends = match amends.as_deref().map(|text| (text, SourceRef::parse(text))) {
        None => None,
        Some((_, Some(target))) => Some((target.kind, target.source_id)),
        Some((text, None)) => {
            return Err(Box::new(Rejection {
                kind,
                source_id: Some(source_id),
                field: "(amends)".into(),
                reason: format!("'{text}' names no record (`ref(kind)`)"),
                record: Value::Null,
                parent: None,
            }));
        }
    };
    // A tombstone need not name its client: it is still a linked record
    // (through an account not named), so that it is forgotten with it.
    let via = client.as_deref().and_then(parse_linked).or_else(|| linked_through.map(|k| (k, String::new())));
    let linking = Linking { links, via, amends, amended };
    let change = match action {
        Action::Container => return Ok(None),
        Action::Delete => SourceChange::Delete,
        Action::Skip => SourceChange::Skip,
        Action::Write(mut resources) => {
            // The law holds above any delivery: a bewindvoerder's grant,
            // parental authority that ends at 18.
            let mut warnings = Vec::new();
            for grant in resources.iter_mut().filter(|r| r.resource_type == ResourceType::Consent) {
                warnings.extend(law::limit_access_grant(&mut grant.resource));
                let birth_date = law::parental_grant_client(&grant.resource)
                    .and_then(SourceRef::parse)
                    .and_then(|client| birth_date_of(born, &client));
                if let Some(birth_date) = birth_date {
                    warnings.extend(law::end_parental_authority(&mut grant.resource, birth_date));
                }
            }
            let mut hasher = sha2::Sha256::new();
            for r in &resources {
                hasher.update(r.part.as_bytes());
                hasher.update([0]);
                hasher.update(r.resource.to_string().as_bytes());
                hasher.update([0]);
            }
            SourceChange::Write { resources, content_hash: hex::encode(hasher.finalize()), warnings }
        }
    };
    Ok(Some(SourceRecordWrite { kind, source_id, client, changed_at, change, linking }))
}
