//! The mapping engine on mapping folders, with exact expectations: a
//! made-up vendor defined only in `tests/fixtures/mappings/zorgdorp` (no
//! Rust of its own) and the errors of malformed mapping files.

use std::path::Path;

use serde_json::{Value, json};
use zorgpoort::fhir::ResourceType;
use zorgpoort::mapping::engine::{Action, MappedRecord, RecordOutcome, Rejection};
use zorgpoort::mapping::spec::{Mapping, SpecError};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn zorgdorp() -> Mapping {
    Mapping::load(&fixtures().join("mappings/zorgdorp")).unwrap()
}

fn delivery() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("deliveries/zorgdorp-1.json")).unwrap()).unwrap()
}

fn mapped(outcome: &RecordOutcome) -> &MappedRecord {
    match outcome {
        RecordOutcome::Mapped(record) => record,
        RecordOutcome::Rejected(rejection) => panic!("rejected: {rejection:?}"),
    }
}

fn rejected(outcome: &RecordOutcome) -> &Rejection {
    match outcome {
        RecordOutcome::Rejected(rejection) => rejection,
        RecordOutcome::Mapped(record) => panic!("mapped: {record:?}"),
    }
}

fn written(record: &MappedRecord) -> Value {
    match &record.action {
        Action::Write(resources) if resources.len() == 1 => resources[0].resource.clone(),
        other => panic!("{}: {other:?}", record.source_id),
    }
}

#[test]
fn a_vendor_defined_only_by_its_mapping_folder() {
    let mapping = zorgdorp();
    let delivery = delivery();
    let envelope = mapping.envelope(&delivery).unwrap();
    assert_eq!((envelope.tenant.as_str(), envelope.created.as_str()), ("pameijer", "2026-11-20T10:15:00+01:00"));

    let outcomes: Vec<RecordOutcome> = mapping.map_delivery(&delivery).collect();
    assert_eq!(outcomes.len(), 8, "3 people and 5 readings");

    // People first (the order of the mapping file), then readings.
    let anna = mapped(&outcomes[0]);
    assert_eq!((anna.kind.as_str(), anna.source_id.as_str(), anna.client.as_deref()), ("person", "P-1", Some("P-1")));
    assert_eq!(anna.changed.as_deref(), Some("2026-11-20T09:00:00+01:00"));
    assert_eq!(
        written(anna),
        json!({"resourceType": "Patient", "name": [{"use": "official", "family": "van Dijk", "given": ["Anna"]}],
               "gender": "female", "birthDate": "1995-07-19"})
    );
    let bram = rejected(&outcomes[1]);
    assert_eq!((bram.kind.as_str(), bram.source_id.as_deref(), bram.field.as_str()), ("person", Some("P-2"), "born"));
    assert!(bram.reason.contains("19810229"), "{}", bram.reason);
    assert_eq!(bram.record["first"], "Bram", "the whole record is kept for a replay");
    let gone = mapped(&outcomes[2]);
    assert_eq!((gone.source_id.as_str(), &gone.action), ("P-3", &Action::Delete));

    let weight = mapped(&outcomes[3]);
    assert_eq!(weight.client.as_deref(), Some("P-1"));
    assert!(weight.warnings.is_empty());
    assert_eq!(
        written(weight),
        json!({"resourceType": "Observation", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": "vital-signs"}]}],
               "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
               "subject": {"reference": "urn:zorgpoort:source:person:P-1"},
               "effectiveDateTime": "2024-03-08",
               "valueQuantity": {"value": 56.0, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}})
    );
    let bad_week = rejected(&outcomes[4]);
    assert_eq!((bad_week.source_id.as_deref(), bad_week.field.as_str()), (Some("R-2"), "week"));
    assert!(bad_week.reason.contains("2024-W53-1"), "{}", bad_week.reason);
    assert_eq!(mapped(&outcomes[5]).action, Action::Skip, "not to be shared");
    let tombstone = mapped(&outcomes[6]);
    assert_eq!(
        (tombstone.source_id.as_str(), &tombstone.action, tombstone.client.as_deref()),
        ("R-4", &Action::Delete, None)
    );
    let unknown_kind = rejected(&outcomes[7]);
    assert_eq!((unknown_kind.source_id.as_deref(), unknown_kind.field.as_str()), (Some("R-5"), "kind"));
    assert!(unknown_kind.reason.contains("`temperature` is not one of the known codes (pulse, weight)"));
}

#[test]
fn a_code_outside_the_table_takes_its_otherwise_with_a_warning() {
    let mapping = zorgdorp();
    let mut delivery = delivery();
    delivery["people"][0]["sex"] = json!("x");
    let anna = mapping.map_delivery(&delivery).next().unwrap();
    let anna = mapped(&anna);
    assert_eq!(written(anna)["gender"], "unknown");
    assert_eq!(anna.warnings, vec!["`x` is not a known code of `sex`; taken as its otherwise".to_owned()]);
}

#[test]
fn envelopes_of_other_deliveries_are_refused_whole() {
    let mapping = zorgdorp();
    let cases = [
        ("type", json!("pluriform-export"), "its format (`type`) is \"pluriform-export\", expected \"zorgdorp-feed\""),
        ("schema", json!("3.0"), "its version (`schema`) is \"3.0\", expected \"2.1\""),
        ("schema", json!(2.1), "its version (`schema`) is 2.1, expected \"2.1\""),
        ("tenant", json!({}), "names no organisation (`tenant.id`)"),
        ("generated", json!("20-11-2026"), "creation time: generated:"),
    ];
    for (field, value, message) in cases {
        let mut delivery = delivery();
        delivery[field] = value;
        let refusal = mapping.envelope(&delivery).unwrap_err();
        assert!(refusal.0.contains(message), "{field}: {refusal}");
    }
}

fn parse(mapping: &str, templates: &[(&str, &str)]) -> Result<Mapping, SpecError> {
    let templates: Vec<(String, String)> = templates.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    Mapping::parse(mapping, "mapping.toml", &|name| {
        templates
            .iter()
            .find(|(n, _)| n == name)
            .map(|(n, t)| (format!("templates/{n}"), t.clone()))
            .ok_or_else(|| SpecError { file: format!("templates/{name}"), line: None, message: "no such file".into() })
    })
}

const HEADER: &str = r#"vendor = "v"
version = "1"
[delivery]
reader = "json"
format = { at = "f", is = "x" }
version = { at = "v", is = 1 }
tenant = "org"
created = "{{ at | offset_datetime }}"
"#;

#[test]
fn mapping_files_are_checked_when_loaded() {
    let template = r#"{"resourceType": "Patient", "gender": "{{ g | table(gender) }}"}"#;
    // The record starts on line 10; `extra` lines follow its id (line 13).
    let record = |extra: &str| {
        format!(
            "{HEADER}\n[[records]]\nkind = \"client\"\nat = \"clients\"\nid = \"{{{{ id }}}}\"\n{extra}resources = [{{ template = \"p.json\" }}]\n\n[tables.gender]\nM = \"male\"\n"
        )
    };
    let without_table = record("").replace("[tables.gender]\nM = \"male\"\n", "");
    let with_template = vec![("p.json", template)];
    // (mapping.toml, templates, a part of the message, the line it names)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str, Option<usize>);
    let cases: Vec<Case> = vec![
        (without_table, with_template.clone(), "templates/p.json: at $.gender: there is no code table `gender`", None),
        (format!("{HEADER}\nunknown = 1\n"), vec![], "mapping.toml:10: unknown field `unknown`", Some(10)),
        (
            record("skip = \"{{ portaal | nonsense }}\"\n"),
            with_template.clone(),
            "there is no filter `nonsense`",
            Some(10),
        ),
        (record(""), vec![("p.json", r#"{"resourceType": "Patient", "#)], "templates/p.json:1:", Some(1)),
        (record(""), vec![("p.json", r#"{"resourceType": "Alien"}"#)], "needs a `resourceType`", None),
        (record("client = \"{{ id | ref(nobody) }}\"\n"), with_template.clone(), "no record kind `nobody`", Some(10)),
        (record("changed = \"{{ at | date('dd/MM') }}\"\n"), with_template.clone(), "dd/MM", Some(10)),
        (record("id = \"{{ id }}\"\n"), with_template.clone(), "duplicate key", Some(14)),
    ];
    for (text, templates, message, line) in cases {
        let error = parse(&text, &templates).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains(message), "expected {message:?} in {shown}");
        assert_eq!(error.line, line, "{shown}");
    }
    let mapping = parse(&record(""), &[("p.json", template)]).unwrap();
    assert_eq!(mapping.records[0].resources[0].resource_type, ResourceType::Patient);
}

/// The contract's Pluriform samples through `mappings/pluriform`: zero
/// rejections, the whole mapped output equal to its golden file, and the
/// key facts checked by hand.
#[test]
fn pluriform_samples_map_as_their_golden_files() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mapping = Mapping::load(&repo.join("mappings/pluriform")).unwrap();
    let mut all = Vec::new();
    for sample in ["pluriform-pameijer.json", "pluriform-pameijer-delta.json"] {
        let text = std::fs::read_to_string(fixtures().join("vendor-samples").join(sample)).unwrap();
        let delivery: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(mapping.envelope(&delivery).unwrap().tenant, "pameijer");
        let outcomes: Vec<RecordOutcome> = mapping.map_delivery(&delivery).collect();
        let rejections: Vec<&Rejection> = outcomes
            .iter()
            .filter_map(|o| match o {
                RecordOutcome::Rejected(r) => Some(r),
                RecordOutcome::Mapped(_) => None,
            })
            .collect();
        assert!(rejections.is_empty(), "{sample}: {rejections:#?}");
        let described: Vec<Value> = outcomes.iter().map(|o| describe(mapped(o))).collect();
        crate::common::golden::check(&format!("mapping/{sample}"), &Value::Array(described));
        all.extend(outcomes);
    }

    let find = |kind: &str, id: &str| {
        all.iter().map(mapped).find(|r| r.kind == kind && r.source_id == id).unwrap_or_else(|| panic!("{kind} {id}"))
    };
    let resource = |kind: &str, id: &str| written(find(kind, id));
    // Summer and winter offsets, the weekday checked on the way.
    assert_eq!(resource("meting", "M-100003-0")["effectiveDateTime"], "2025-08-23T15:50:00+02:00");
    assert_eq!(resource("meting", "M-100009-0")["effectiveDateTime"], "2024-12-07T05:55:00+01:00");
    // Decimal comma, UCUM, LOINC.
    let weight = resource("meting", "M-100003-1");
    assert_eq!(
        weight["valueQuantity"],
        json!({"value": 59.6, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"})
    );
    assert_eq!(weight["code"]["coding"][0]["code"], "29463-7");
    // Blood pressure as a panel, the position as nl-core-BloodPressure has it.
    let pressure = resource("meting", "M-100003-0");
    assert_eq!(pressure["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(pressure["component"][0]["valueQuantity"]["value"], 157);
    assert_eq!(pressure["component"][1]["valueQuantity"]["value"], 67);
    assert_eq!(pressure["extension"][0]["valueCodeableConcept"]["coding"][0]["code"], "10904000");
    // Temperature: the site as a second coding; `-` records none.
    let armpit = resource("meting", "M-100003-7");
    assert_eq!(armpit["code"]["coding"][1]["code"], "415882003");
    assert_eq!(resource("meting", "M-100003-4")["code"]["coding"].as_array().unwrap().len(), 1);
    // An unknown kind is kept as given, with a warning.
    let unknown = find("meting", "M-100009-x");
    assert_eq!(written(unknown)["code"], json!({"text": "Buikomtrek"}));
    assert_eq!(written(unknown)["valueString"], "91,2");
    assert_eq!(unknown.warnings.len(), 1, "{:?}", unknown.warnings);
    // The client: BSN identifier only when there is one, name parts.
    let client = resource("client", "100009");
    assert_eq!(
        client["identifier"][0],
        json!({"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999975523"})
    );
    assert_eq!(resource("client", "100003")["identifier"].as_array().unwrap().len(), 1, "no BSN");
    assert_eq!(resource("client", "100003")["name"][0]["family"], "van den Kuipers");
    assert_eq!(resource("client", "100003")["gender"], "male");
    // Representatives: role, order, relation (known or kept as text).
    let mentor = resource("vertegenwoordiger", "R-100009-2");
    assert_eq!(mentor["relationship"][0]["coding"].as_array().unwrap().len(), 2, "{mentor}");
    let neighbour = resource("vertegenwoordiger", "R-100009-1");
    assert_eq!(neighbour["relationship"][1]["coding"][0]["code"], "NBOR");
    let mentor_as_relation = resource("vertegenwoordiger", "R-100003-1");
    assert_eq!(mentor_as_relation["relationship"][1], json!({"text": "mentor"}));
    // The delta: a container changes nothing of the client itself.
    let containers = all.iter().map(mapped).filter(|r| r.kind == "client" && r.action == Action::Container).count();
    assert!(containers >= 3, "the delta's clients are containers");
}

/// A mapped record as the golden files hold it.
fn describe(record: &MappedRecord) -> Value {
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

/// Templates of one part under conditions that overlap for a record: the
/// record is rejected, never written twice.
#[test]
fn overlapping_templates_of_one_part_reject_the_record() {
    let mapping_text = format!(
        "{HEADER}\n[[records]]\nkind = \"client\"\nat = \"clients\"\nid = \"{{{{ id }}}}\"\nresources = [\n  \
         {{ template = \"p.json\", when = \"{{{{ a }}}}\" }},\n  {{ template = \"p.json\", when = \"{{{{ b }}}}\" }},\n]\n"
    );
    let mapping = parse(&mapping_text, &[("p.json", r#"{"resourceType": "Patient", "gender": "{{ g }}"}"#)]).unwrap();
    let delivery = json!({"clients": [{"id": "1", "a": true, "g": "male"}, {"id": "2", "a": true, "b": true}]});
    let outcomes: Vec<RecordOutcome> = mapping.map_delivery(&delivery).collect();
    assert_eq!(written(mapped(&outcomes[0])), json!({"resourceType": "Patient", "gender": "male"}));
    let both = rejected(&outcomes[1]);
    assert_eq!(both.source_id.as_deref(), Some("2"));
    assert!(both.reason.contains("two templates of part `` apply"), "{}", both.reason);
}
