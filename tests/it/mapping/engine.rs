//! The mapping engine on mapping folders, with exact expectations: a
//! made-up vendor defined only in `tests/fixtures/mappings/zorgdorp` (no
//! Rust of its own) and the errors of malformed mapping files.

use serde_json::{Value, json};
use zorgpoort::fhir::ResourceType;
use zorgpoort::mapping::engine::{Action, RecordOutcome};
use zorgpoort::mapping::spec::{Mapping, SpecError};

use super::{fixtures, mapped, rejected, written};

fn zorgdorp() -> Mapping {
    Mapping::load(&fixtures().join("mappings/zorgdorp")).unwrap()
}

fn delivery() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("deliveries/zorgdorp-1.json")).unwrap()).unwrap()
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
        (
            record("client = \"{{ id | ref(client, plan) }}\"\n"),
            with_template.clone(),
            "record kind `client` has no part `plan`",
            Some(10),
        ),
        (
            record("deleted = \"{{ id | upper | present }}\"\n"),
            with_template.clone(),
            "`present` asks about a field",
            Some(10),
        ),
        (record("changed = \"{{ at | date('dd/MM') }}\"\n"), with_template.clone(), "dd/MM", Some(10)),
        (record("id = \"{{ id }}\"\n"), with_template.clone(), "duplicate key", Some(14)),
        (record("amends = \"{{ id | ref(nobody) }}\"\n"), with_template.clone(), "no record kind `nobody`", Some(10)),
        (
            record("client = \"{{ id | linked(nobody) }}\"\n"),
            with_template.clone(),
            "no record kind `nobody`",
            Some(10),
        ),
        (
            record("").replace("reader = \"json\"", "reader = \"ndjson\""),
            with_template.clone(),
            "an NDJSON delivery names the field of each line's kind",
            None,
        ),
        (
            record("").replace("reader = \"json\"", "reader = \"json\"\nkind_field = \"event\""),
            with_template.clone(),
            "only NDJSON deliveries have one",
            None,
        ),
        (
            record("").replace("reader = \"json\"", "reader = \"json\"\nline_id = \"{{ event_id }}\""),
            with_template.clone(),
            "delivery.line_id: only NDJSON deliveries have one",
            None,
        ),
        (
            record("").replace("at = \"clients\"", "at = [\"clients\", \"others\"]"),
            with_template.clone(),
            "several line kinds are for NDJSON deliveries",
            Some(10),
        ),
        (
            record("").replace("reader = \"json\"", "reader = \"ndjson\"\nkind_field = \"event\"")
                + "[[records]]\nkind = \"other\"\nat = [\"x\", \"clients\"]\nid = \"{{ id }}\"\nresources = []\n",
            with_template.clone(),
            "line kind `clients` belongs to another record kind too",
            Some(19),
        ),
    ];
    for (text, templates, message, line) in cases {
        let error = parse(&text, &templates).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains(message), "expected {message:?} in {shown}");
        assert_eq!(error.line, line, "{shown}");
    }
    let mapping = parse(&record(""), &[("p.json", template)]).unwrap();
    assert_eq!(mapping.records[0].resources[0].resource_type, ResourceType::Patient);
    // NDJSON: the line kinds of each record kind; `linked(kind)` marks the
    // kind others link through.
    let ndjson = record("client = \"{{ id | linked(client) }}\"\n")
        .replace("reader = \"json\"", "reader = \"ndjson\"\nkind_field = \"event\"")
        .replace("at = \"clients\"", "at = [\"client\", \"client_weg\"]");
    let mapping = parse(&ndjson, &[("p.json", template)]).unwrap();
    let kind = &mapping.records[0];
    assert_eq!((kind.at.is_empty(), kind.links), (true, true));
    assert_eq!(kind.line_kinds, ["client", "client_weg"]);
    assert_eq!(mapping.record_kind("client_weg").map(|k| k.kind.as_str()), Some("client"));
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

/// A record of another kind than its place's (`as_kind`): it takes that
/// kind's identity; a name that is no kind rejects it. A single value at
/// a `[]` step is a list of one.
#[test]
fn a_record_may_name_its_kind_and_a_single_item_is_a_list_of_one() {
    let mapping_text = format!(
        "{HEADER}\n[[records]]\nkind = \"client\"\nat = \"clients\"\nid = \"{{{{ id }}}}\"\nresources = [{{ template = \"p.json\" }}]\n\n\
         [[records]]\nkind = \"gone\"\nat = \"clients[].gone\"\nas_kind = \"{{{{ type }}}}\"\nid = \"{{{{ id }}}}\"\n\
         deleted = \"{{{{ type }}}}\"\nresources = []\n"
    );
    let mapping = parse(&mapping_text, &[("p.json", r#"{"resourceType": "Patient", "gender": "{{ g }}"}"#)]).unwrap();
    let delivery = json!({"clients": {"id": "1", "g": "male", "gone": [{"type": "client", "id": "7"}, {"type": "x", "id": "8"}, {"id": "9"}]}});
    let outcomes: Vec<RecordOutcome> = mapping.map_delivery(&delivery).collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:#?}");
    assert_eq!(written(mapped(&outcomes[0])), json!({"resourceType": "Patient", "gender": "male"}));
    let tombstone = mapped(&outcomes[1]);
    assert_eq!((tombstone.kind.as_str(), tombstone.source_id.as_str()), ("client", "7"));
    assert_eq!(tombstone.action, zorgpoort::mapping::engine::Action::Delete);
    let unknown = rejected(&outcomes[2]);
    assert_eq!((unknown.kind.as_str(), unknown.field.as_str()), ("gone", "type"));
    assert_eq!(unknown.reason, "`x` is not a record kind of the v mapping");
    assert_eq!(rejected(&outcomes[3]).reason, "names no record kind");
}
