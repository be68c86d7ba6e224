//! Replaying rejected records: each is mapped again, with the mapping as it
//! is now and the delivery it came in, and written as that delivery would
//! have written it (the order rule with the delivery's own time, so that a
//! replay never overwrites something newer).

use std::sync::Arc;

use serde_json::Value;

use super::birth_dates::birth_dates;
use super::delivery::{stamp, to_write};
use super::summary::Summary;
use crate::fhir::TenantCode;
use crate::mapping::engine::{RecordOutcome, Rejection};
use crate::mapping::spec::Mapping;
use crate::source::provenance::DeliveryStamp;
use crate::store::{self, SourceResult, Store, StoredReject};

/// Replays `rejects` (open ones of `tenant`) with the vendors' `mappings`.
/// A reject whose vendor has no mapping here stays open.
pub async fn replay(
    store: &Arc<dyn Store>,
    mappings: &[Mapping],
    tenant: &TenantCode,
    rejects: Vec<StoredReject>,
) -> store::Result<Summary> {
    let mut summary = Summary::default();
    for reject in rejects {
        summary.records += 1;
        let Some(mapping) = mappings.iter().find(|m| m.vendor == reject.reject.vendor) else {
            summary.rejected += 1;
            continue;
        };
        match replay_one(store, mapping, tenant, &reject).await? {
            Replayed::Written(result, versions, warnings) => {
                summary.count(&result);
                summary.versions += u64::from(versions);
                let id = reject.reject.source_id.as_deref().unwrap_or_default();
                for warning in warnings {
                    summary.warn(&reject.reject.kind, id, warning);
                }
                let how = format!("replayed: {}", describe(&result));
                store.close_reject(tenant, reject.number, &how, chrono::Utc::now().timestamp_millis()).await?;
            }
            Replayed::Container => {
                summary.containers += 1;
                let at = chrono::Utc::now().timestamp_millis();
                store.close_reject(tenant, reject.number, "replayed: nothing of its own to write", at).await?;
            }
            Replayed::StillRejected(rejection) => {
                summary.rejected += 1;
                store.reject_again(tenant, reject.number, &rejection.field, &rejection.reason).await?;
            }
        }
    }
    // A replayed client brings the records held for it.
    let attached = store.attach_waiting(tenant, chrono::Utc::now()).await?;
    summary.attached += attached.records;
    summary.versions += attached.versions;
    Ok(summary)
}

enum Replayed {
    Written(SourceResult, u32, Vec<String>),
    Container,
    StillRejected(Rejection),
}

async fn replay_one(
    store: &Arc<dyn Store>,
    mapping: &Mapping,
    tenant: &TenantCode,
    stored: &StoredReject,
) -> store::Result<Replayed> {
    let r = &stored.reject;
    let still = |field: &str, reason: String| {
        Replayed::StillRejected(Rejection {
            kind: r.kind.clone(),
            source_id: r.source_id.clone(),
            field: field.to_owned(),
            reason,
            record: Value::Null,
            parent: None,
        })
    };
    let Some(kind) = mapping.record_kind(&r.kind) else {
        return Ok(still("(record)", format!("the {} mapping has no record kind '{}' any more", r.vendor, r.kind)));
    };
    let parse = |text: &str| serde_json::from_str::<Value>(text);
    let (Ok(envelope), Ok(record)) = (parse(&r.envelope), parse(&r.record)) else {
        return Ok(still("(record)", "the kept record is not JSON".into()));
    };
    let parent = r.parent.as_deref().map(parse).transpose().ok().flatten();
    let delivery = match mapping.envelope(&envelope) {
        Ok(envelope) => envelope,
        Err(refusal) => return Ok(still("(delivery)", refusal.to_string())),
    };
    let stamp = match stamp(mapping, &r.delivery, &delivery.created) {
        Ok(stamp) => DeliveryStamp { replay: true, ..stamp },
        Err(refusal) => return Ok(still("(delivery)", refusal.to_string())),
    };
    let mapped = match mapping.map_record(kind, &record, parent.as_ref(), &envelope) {
        RecordOutcome::Rejected(rejection) => return Ok(Replayed::StillRejected(rejection)),
        RecordOutcome::Mapped(mapped) => mapped,
    };
    let mut warnings = mapped.warnings.clone();
    let born = birth_dates(store.as_ref(), tenant, &mapping.vendor, &[&mapped]).await?;
    let write = match to_write(mapped, &stamp, &born) {
        Ok(Some(write)) => write,
        Ok(None) => return Ok(Replayed::Container),
        Err(rejection) => return Ok(Replayed::StillRejected(*rejection)),
    };
    let mut written = store.write_source_records(tenant, &stamp, vec![write], chrono::Utc::now()).await?;
    let Some(one) = written.pop() else { return Ok(still("(record)", "the store wrote nothing".into())) };
    warnings.extend(one.warnings);
    Ok(match one.result {
        SourceResult::Failed { field, reason } => still(&field, reason),
        result => Replayed::Written(result, one.versions, warnings),
    })
}

fn describe(result: &SourceResult) -> &'static str {
    match result {
        SourceResult::Created => "created",
        SourceResult::Updated => "updated",
        SourceResult::Unchanged => "unchanged (already stored)",
        SourceResult::Deleted => "deleted",
        SourceResult::Skipped => "skipped (not for the portal)",
        SourceResult::Older => "older than what is stored since: ignored",
        SourceResult::Held => "held until its client is known",
        SourceResult::ClientDeleted => "its client is deleted",
        SourceResult::Failed { .. } => "failed",
    }
}
