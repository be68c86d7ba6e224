//! The mapping engine and the vendor mappings, with exact expectations.
//!
//! - `caress`: the contract's Caress samples against their golden files,
//!   every mapped resource valid R4, the samples' key facts.
//! - `caress_kinds`: each Caress element on hand-made XML.
//! - `caress_access`: the contact person's access grant, right by right.
//! - `caress_quirks`: the Caress quirks (namespaces, entities, CDATA,
//!   two-digit years, empty = absent), bad records and refused documents.
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

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use zorgpoort::mapping::engine::{Action, MappedRecord, RecordOutcome, Rejection};
use zorgpoort::mapping::spec::Mapping;

mod caress;
mod caress_access;
mod caress_kinds;
mod caress_quirks;
mod engine;
mod mijneigenplan;
mod pluriform;
mod pluriform_access;
mod pluriform_kinds;
mod quirks;

pub fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// A mapped record as the golden files hold it.
pub fn describe(record: &MappedRecord) -> Value {
    let action = match &record.action {
        Action::Write(resources) => json!({"write": resources.iter().map(|r| json!({
            "part": r.part, "resourceType": r.resource_type.as_str(), "resource": r.resource})).collect::<Vec<_>>()}),
        Action::Delete => json!("delete"),
        Action::Container => json!("container"),
        Action::Skip => json!("skip"),
    };
    json!({"kind": record.kind, "id": record.source_id, "client": record.client, "changed": record.changed,
           "action": action, "warnings": record.warnings})
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

/// `mappings/caress`, loaded once.
pub fn caress() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING.get_or_init(|| Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/caress")).unwrap())
}

/// A Caress delivery (`c:` prefix) around `inside` (clients, staff).
pub fn caress_export(inside: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<c:Export xmlns:c=\"urn:caress:export:2\" \
         organisatie=\"sheerenloo\" aangemaakt=\"2026-11-20T10:00:00+01:00\">{inside}</c:Export>"
    )
}

/// Every record outcome of an XML delivery file, through the two-pass
/// reader.
pub fn map_caress_file(path: &Path) -> Result<Vec<RecordOutcome>, String> {
    let mapping = caress();
    let file = mapping.open_delivery(path).map_err(|e| e.0)?;
    let mut outcomes = Vec::new();
    file.for_each_record(mapping, |outcome| {
        outcomes.push(outcome);
        ControlFlow::Continue(())
    })
    .map_err(|e| e.0)?;
    Ok(outcomes)
}

/// [`map_caress_file`] over a document given as text.
pub fn map_caress_xml(xml: &str) -> Result<Vec<RecordOutcome>, String> {
    map_caress_bytes(xml.as_bytes())
}

pub fn map_caress_bytes(bytes: &[u8]) -> Result<Vec<RecordOutcome>, String> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    map_caress_file(file.path())
}

/// The outcomes of one client element (`c:` prefix) in a delivery.
pub fn map_caress_client(client: &str) -> Vec<RecordOutcome> {
    map_caress_xml(&caress_export(client)).unwrap()
}

/// The one outcome of `kind` with `id` among `outcomes`.
pub fn outcome<'a>(outcomes: &'a [RecordOutcome], kind: &str, id: &str) -> &'a RecordOutcome {
    outcomes
        .iter()
        .find(|o| match o {
            RecordOutcome::Mapped(m) => m.kind == kind && m.source_id == id,
            RecordOutcome::Rejected(r) => r.kind == kind && r.source_id.as_deref() == Some(id),
        })
        .unwrap_or_else(|| panic!("no {kind} {id} in {outcomes:#?}"))
}
