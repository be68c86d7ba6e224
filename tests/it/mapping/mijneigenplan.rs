//! MijnEigenPlan events through `mappings/mijneigenplan` and the NDJSON
//! reader: the contract's sample against its golden file (every resource
//! valid R4, the unknown event kind rejected alone and kept), each event
//! kind with its exact value or rejection, and a delivery refused whole
//! for its framing or envelope.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};
use zorgpoort::fhir::model::check_structure;
use zorgpoort::mapping::engine::{Action, MappedRecord, RecordOutcome, Refusal};
use zorgpoort::mapping::spec::Mapping;

use super::{fixtures, mapped, rejected, written};
use crate::common::schema::assert_valid;

fn mep() -> &'static Mapping {
    static MAPPING: OnceLock<Mapping> = OnceLock::new();
    MAPPING
        .get_or_init(|| Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/mijneigenplan")).unwrap())
}

const HEADER: &str = r#"{"formaat": "mep-events", "versie": 1, "organisatie": "pameijer"}"#;

/// The envelope as the reader makes it.
fn envelope() -> Value {
    json!({"formaat": "mep-events", "versie": 1, "organisatie": "pameijer", "$received": "2026-11-24T08:00:00+00:00"})
}

/// One event line, mapped.
fn map(line: Value) -> RecordOutcome {
    mep().map_line(&line, &envelope())
}

struct File {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(bytes: &[u8]) -> File {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.ndjson");
    std::fs::write(&path, bytes).unwrap();
    File { _dir: dir, path }
}

/// Both passes over a file.
fn read(path: &Path) -> Result<Vec<RecordOutcome>, Refusal> {
    let delivery = mep().open_delivery(path)?;
    let mut outcomes = Vec::new();
    delivery.for_each_record(mep(), |outcome| {
        outcomes.push(outcome);
        ControlFlow::Continue(())
    })?;
    Ok(outcomes)
}

fn describe(outcome: &RecordOutcome) -> Value {
    match outcome {
        RecordOutcome::Rejected(r) => json!({"rejected": {"kind": r.kind, "id": r.source_id, "field": r.field,
                                              "reason": r.reason, "record": r.record}}),
        RecordOutcome::Mapped(record) => {
            let action = match &record.action {
                Action::Write(resources) => json!({"write": resources.iter().map(|r| json!({
                    "part": r.part, "resourceType": r.resource_type.as_str(), "resource": r.resource}))
                    .collect::<Vec<_>>()}),
                Action::Delete => json!("delete"),
                Action::Container => json!("container"),
                Action::Skip => json!("skip"),
            };
            json!({"kind": record.kind, "id": record.source_id, "client": record.client, "changed": record.changed,
                   "amends": record.amends, "links": record.links, "action": action, "warnings": record.warnings})
        }
    }
}

#[test]
fn mep_sample_maps_as_its_golden_file() {
    let path = fixtures().join("vendor-samples/mep-pameijer.ndjson");
    let delivery = mep().open_delivery(&path).unwrap();
    assert_eq!(delivery.envelope().tenant, "pameijer");
    assert_eq!(delivery.items(), 21, "the lines after the header");
    // `created` is when the delivery was received: the file's modification time.
    let modified: chrono::DateTime<chrono::Utc> = std::fs::metadata(&path).unwrap().modified().unwrap().into();
    let created = zorgpoort::fhir::datetime::parse_range(&delivery.envelope().created).unwrap().low;
    assert_eq!(created / 1000, modified.timestamp());

    let outcomes = read(&path).unwrap();
    assert_eq!(outcomes.len(), 21);
    crate::common::golden::check("mapping/mep-pameijer.json", &Value::Array(outcomes.iter().map(describe).collect()));

    // The one unknown kind: rejected alone, kept whole, named.
    let (rejections, records): (Vec<&RecordOutcome>, Vec<&RecordOutcome>) =
        outcomes.iter().partition(|o| matches!(o, RecordOutcome::Rejected(_)));
    assert_eq!(rejections.len(), 1);
    let unknown = rejected(rejections[0]);
    assert_eq!(
        (unknown.kind.as_str(), unknown.field.as_str(), unknown.reason.as_str()),
        ("zoeklicht", "event", "unknown event kind `zoeklicht`")
    );
    assert_eq!(unknown.record["event_id"], "e-19");
    assert_eq!(unknown.source_id.as_deref(), Some("e-19"), "named by its event_id");
    let records: Vec<&MappedRecord> = records.into_iter().map(mapped).collect();
    for record in &records {
        if let (Action::Write(resources), None) = (&record.action, &record.amends) {
            for resource in resources {
                assert_valid(&resource.resource);
                check_structure(&resource.resource)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", record.kind, record.source_id));
            }
        }
    }
    let find = |kind: &str, id: &str| {
        *records.iter().find(|r| r.kind == kind && r.source_id == id).unwrap_or_else(|| panic!("{kind} {id}"))
    };
    // Accounts link to the ECD's client numbers; they write nothing.
    let account = find("account", "u-50000");
    assert_eq!((account.client.as_deref(), account.links), (Some("100003"), true));
    assert_eq!(account.action, Action::Write(Vec::new()));
    assert_eq!(find("account", "u-99999").client, None, "extern_id null: not linked");
    // Everything else takes its client through its account.
    let emotion = find("emotie", "e-2");
    assert_eq!(emotion.client.as_deref(), Some("urn:zorgpoort:linked:account:u-50000"));
    assert_eq!(emotion.changed.as_deref(), Some("2024-11-19T07:06:40Z"));
    let observation = written(emotion);
    assert_eq!(observation["subject"]["reference"], "urn:zorgpoort:linked:account:u-50000");
    assert_eq!(observation["category"][0]["coding"][0]["code"], "survey");
    assert_eq!(
        observation["valueCodeableConcept"]["coding"][0],
        json!({"system": "https://zorgpoort.nl/fhir/CodeSystem/emotion", "code": "neutraal", "display": "Neutraal"})
    );
    assert_eq!(observation["component"][0]["valueInteger"], 1);
    assert!(observation.get("note").is_none(), "notitie null: no note");
    assert_eq!(written(find("emotie", "e-12"))["note"], json!([{"text": "Leuke dag gehad"}]));
    // The duplicate lines map the same: the writer makes them one.
    assert_eq!(records.iter().filter(|r| r.source_id == "e-6").count(), 2);
    // The plan's steps in order, each an activity with an id of its own.
    let plan = written(find("stappenplan", "sp-0"));
    let steps: Vec<(&str, &str)> = plan["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["detail"]["description"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("stap-1", "Tandenborstel pakken"), ("stap-2", "Tandpasta erop"), ("stap-3", "Twee minuten poetsen")]
    );
    // A completed step amends its plan.
    let step = find("stap_afgerond", "e-8");
    assert_eq!(step.amends.as_deref(), Some("urn:zorgpoort:source:stappenplan:sp-0"));
    assert_eq!(written(step)["activity"][0]["id"], "stap-2");
    assert_eq!(written(step)["activity"][0]["detail"]["status"], "completed");
    // The activity: local times with their offset, the pictogram, the weekdays.
    let appointment = written(find("activiteit", "act-0"));
    assert_eq!(
        (appointment["start"].as_str(), appointment["end"].as_str()),
        (Some("2026-11-20T09:00:00+01:00"), Some("2026-11-20T15:00:00+01:00"))
    );
    assert_eq!(appointment["extension"][0]["valueString"], "werk");
    assert_eq!(appointment["extension"][1]["valueTiming"]["repeat"]["dayOfWeek"], json!(["mon", "tue", "thu"]));
    assert_eq!(appointment["participant"][0]["actor"]["reference"], "urn:zorgpoort:linked:account:u-50000");
}

fn event(kind: &str, fields: Value) -> Value {
    let mut line = json!({"event": kind, "event_id": "e-1", "mep_id": "u-1", "tijd": 1732000000000_i64});
    line.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    line
}

#[test]
fn tombstones_delete_the_plan_or_activity_they_name() {
    let gone = mapped(&map(event("activiteit_verwijderd", json!({"activiteit_id": "act-9"})))).clone();
    assert_eq!((gone.kind.as_str(), gone.source_id.as_str(), &gone.action), ("activiteit", "act-9", &Action::Delete));
    let gone = mapped(&map(event("stappenplan_verwijderd", json!({"plan_id": "sp-12"})))).clone();
    assert_eq!((gone.kind.as_str(), gone.source_id.as_str(), &gone.action), ("stappenplan", "sp-12", &Action::Delete));
    assert_eq!(gone.changed.as_deref(), Some("2024-11-19T07:06:40Z"), "later tijd wins, tombstones too");
}

#[test]
fn activities_in_summer_and_without_repetition() {
    let line = event(
        "activiteit",
        json!({"activiteit_id": "act-1", "titel": "Zwemmen", "start": "2026-07-01T10:00", "eind": "2026-07-01T11:30",
               "pictogram": null, "herhaling": null}),
    );
    let appointment = written(mapped(&map(line)));
    assert_eq!(appointment["start"], "2026-07-01T10:00:00+02:00");
    assert_eq!(appointment["description"], "Zwemmen");
    assert!(appointment.get("extension").is_none(), "{appointment}");
    assert_valid(&appointment);
}

#[test]
fn bad_events_are_rejected_alone_with_field_and_reason() {
    let cases = [
        (event("emotie", json!({"emotie": "jaloers", "score": 3})), "emotie", "emotie"),
        (event("emotie", json!({"emotie": "blij", "score": 6})), "emotie", "score"),
        (event("emotie", json!({"emotie": "blij"})), "emotie", "score"),
        (
            event("activiteit", json!({"activiteit_id": "a", "start": "2026-03-29T02:30", "eind": "2026-03-29T04:00"})),
            "activiteit",
            "start",
        ),
        (
            event(
                "activiteit",
                json!({"activiteit_id": "a", "start": "2026-11-20T09:00", "eind": "2026-11-20T10:00",
                                    "herhaling": "ma,xx"}),
            ),
            "activiteit",
            "herhaling",
        ),
        (event("stap_afgerond", json!({"plan_id": "sp-1", "stap": 0})), "stap_afgerond", "stap"),
        (event("stap_afgerond", json!({"stap": 1})), "stap_afgerond", "plan_id"),
        (
            json!({"event": "emotie", "event_id": "e-1", "mep_id": "u-1", "emotie": "blij", "score": 3}),
            "emotie",
            "tijd",
        ),
        (json!({"event": "emotie", "event_id": "e-1", "tijd": 1, "emotie": "blij", "score": 3}), "emotie", "mep_id"),
        (json!({"event_id": "e-1", "mep_id": "u-1"}), "(line)", "event"),
    ];
    for (line, kind, field) in cases {
        let outcome = map(line.clone());
        let rejection = rejected(&outcome);
        assert_eq!((rejection.kind.as_str(), rejection.field.as_str()), (kind, field), "{line}: {rejection:?}");
        assert!(!rejection.reason.is_empty());
        assert_eq!(rejection.record, line, "kept whole");
    }
}

#[test]
fn framing_and_envelope_errors_refuse_the_delivery_whole() {
    let line = r#"{"event": "emotie", "event_id": "e-1", "mep_id": "u-1", "tijd": 1, "emotie": "blij", "score": 3}"#;
    let cases: [(Vec<u8>, &str); 8] = [
        (Vec::new(), "no header line"),
        (b"\n  \n".to_vec(), "no header line"),
        (format!("{HEADER}\n{line}\n{{\"event\": \"emo").into_bytes(), "line 3 is not valid JSON (is it cut short?)"),
        (format!("{HEADER}\n[1, 2]\n").into_bytes(), "line 2 is not a JSON object"),
        (format!("{HEADER}\n{line} {line}\n").into_bytes(), "line 2 is not valid JSON"),
        ([HEADER.as_bytes(), b"\n{\"x\": \"\xff\"}\n"].concat(), "not UTF-8: the byte at offset 73"),
        (format!("{}\n{line}\n", HEADER.replace("mep-events", "mep-export")).into_bytes(), "its format"),
        (format!("{}\n", HEADER.replace("\"versie\": 1", "\"versie\": 2")).into_bytes(), "its version"),
    ];
    for (bytes, message) in cases {
        let file = file(&bytes);
        let refusal = read(&file.path).unwrap_err();
        assert!(refusal.0.contains(message), "{}: {refusal}", String::from_utf8_lossy(&bytes));
    }
    // Blank lines anywhere, keys in any order, a last line without a newline.
    let file = file(format!("\n{HEADER}\n\n{line}\r\n\n{}", line.replace("e-1", "e-2")).as_bytes());
    let ids: Vec<String> = read(&file.path).unwrap().iter().map(|o| mapped(o).source_id.clone()).collect();
    assert_eq!(ids, ["e-1", "e-2"]);
}

/// The benchmark's generated stream maps with no rejection but its
/// unknown kinds.
#[test]
fn the_generated_event_stream_maps() {
    let mut bytes = Vec::new();
    zorgpoort::demo::write_mep_delivery(&mut bytes, "pameijer", 300, 11).unwrap();
    let file = file(&bytes);
    let outcomes = read(&file.path).unwrap();
    assert_eq!(outcomes.len() as u64, mep().open_delivery(&file.path).unwrap().items());
    let mut kinds = std::collections::BTreeMap::new();
    for outcome in &outcomes {
        match outcome {
            RecordOutcome::Rejected(r) => assert_eq!(r.reason, "unknown event kind `zoeklicht`", "{r:?}"),
            RecordOutcome::Mapped(record) => {
                let action = if record.action == Action::Delete { "delete" } else { "write" };
                *kinds.entry((record.kind.as_str(), action)).or_insert(0) += 1;
            }
        }
    }
    let every: Vec<(&str, &str)> = kinds.keys().copied().collect();
    assert_eq!(
        every,
        [
            ("account", "write"),
            ("activiteit", "delete"),
            ("activiteit", "write"),
            ("emotie", "write"),
            ("stap_afgerond", "write"),
            ("stappenplan", "delete"),
            ("stappenplan", "write")
        ]
    );
    assert_eq!(kinds[&("account", "write")], 300);
}
