//! The mapping engine and the vendor mappings, with exact expectations.
//!
//! - `engine`: the engine on a made-up vendor (`tests/fixtures/mappings/
//!   zorgdorp`) and the errors of malformed mapping files.
//! - `pluriform`: the contract's Pluriform samples against their golden
//!   files, every mapped resource valid R4, the samples' key facts.
//! - `pluriform_kinds`: each Pluriform record kind on hand-made records.
//! - `pluriform_access`: the representative's access grant, level by level.
//! - `quirks`: the contract's quirks and bad records, with the exact value
//!   or rejection (field and reason).
//! - `mijneigenplan`: the MEP sample against its golden file, each event
//!   kind, and the NDJSON reader's framing.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use zorgpoort::mapping::engine::{Action, MappedRecord, RecordOutcome, Rejection};
use zorgpoort::mapping::spec::Mapping;

mod engine;
mod mijneigenplan;
mod pluriform;
mod pluriform_access;
mod pluriform_kinds;
mod quirks;

pub fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

pub fn mapped(outcome: &RecordOutcome) -> &MappedRecord {
    match outcome {
        RecordOutcome::Mapped(record) => record,
        RecordOutcome::Rejected(rejection) => panic!("rejected: {rejection:?}"),
    }
}

pub fn rejected(outcome: &RecordOutcome) -> &Rejection {
    match outcome {
        RecordOutcome::Rejected(rejection) => rejection,
        RecordOutcome::Mapped(record) => panic!("mapped: {record:?}"),
    }
}

/// The main resource (part `""`) a record writes.
pub fn written(record: &MappedRecord) -> Value {
    part(record, "")
}

/// The resource of one part a record writes.
pub fn part(record: &MappedRecord, name: &str) -> Value {
    match &record.action {
        Action::Write(resources) => match resources.iter().find(|r| r.part == name) {
            Some(resource) => resource.resource.clone(),
            None => panic!("{}: no part `{name}` in {resources:#?}", record.source_id),
        },
        other => panic!("{}: {other:?}", record.source_id),
    }
}

/// The parts a record writes, in order.
pub fn parts(record: &MappedRecord) -> Vec<&str> {
    match &record.action {
        Action::Write(resources) => resources.iter().map(|r| r.part.as_str()).collect(),
        other => panic!("{}: {other:?}", record.source_id),
    }
}

/// `mappings/pluriform`, loaded once.
pub fn pluriform() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING.get_or_init(|| Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/pluriform")).unwrap())
}

/// A Pluriform envelope around `clienten` (and no staff).
pub fn pluriform_delivery(clienten: Value) -> Value {
    json!({"formaat": "pluriform-export", "versie": 1,
           "organisatie": {"code": "pameijer", "naam": "Pameijer", "agb": "73730123"},
           "aangemaakt": "2026-11-20T10:15:00+01:00", "medewerkers": [], "clienten": clienten})
}

/// Maps one record of `kind`, nested in client 100234 (a container).
pub fn map_pluriform(kind: &str, record: Value) -> RecordOutcome {
    map_pluriform_in(kind, record, &json!({"clientnummer": "100234"}))
}

/// Maps one record of `kind` nested in `parent` (for a client: `parent`
/// is ignored, the record is its own).
pub fn map_pluriform_in(kind: &str, record: Value, parent: &Value) -> RecordOutcome {
    let mapping = pluriform();
    let kind = mapping.records.iter().find(|k| k.kind == kind).unwrap_or_else(|| panic!("no kind {kind}"));
    let delivery = pluriform_delivery(json!([]));
    let parent = (kind.at.len() > 1).then_some(parent);
    mapping.map_record(kind, &record, parent, &delivery)
}
