//! Each kind of constraint, and the refusal of what the validator does not
//! understand, on small profiles made up for the test.

use serde_json::{Value, json};

use super::*;

const CODES: &[(&str, &str)] = &[
    (
        "CodeSystem-colour.json",
        r#"{"resourceType": "CodeSystem", "url": "https://x/cs", "content": "complete",
        "concept": [{"code": "red"}, {"code": "blue"}]}"#,
    ),
    (
        "ValueSet-colour.json",
        r#"{"resourceType": "ValueSet", "url": "https://x/vs",
        "compose": {"include": [{"system": "https://x/cs"}]}}"#,
    ),
];

fn profile(elements: Value) -> String {
    json!({"resourceType": "StructureDefinition", "url": "https://x/p", "kind": "resource", "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": elements}})
    .to_string()
}

fn set(elements: Value) -> ProfileSet {
    ProfileSet::load(&[("p.json", &profile(elements))], CODES).unwrap()
}

fn refusal(elements: Value) -> String {
    ProfileSet::load(&[("p.json", &profile(elements))], CODES).unwrap_err()
}

fn issues(set: &ProfileSet, resource: Value) -> Vec<String> {
    set.validate(&resource).iter().map(ToString::to_string).collect()
}

#[test]
fn cardinality_per_parent_element() {
    let set = set(json!([
        {"id": "Patient.name", "path": "Patient.name", "min": 1, "max": "1"},
        {"id": "Patient.identifier.system", "path": "Patient.identifier.system", "min": 1},
        {"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "min": 1}
    ]));
    let ok = json!({"resourceType": "Patient", "name": [{"family": "A"}], "identifier": [{"system": "s", "value": "1"}],
        "deceasedBoolean": false});
    assert_eq!(issues(&set, ok), Vec::<String>::new());
    let bad = json!({"resourceType": "Patient", "name": [{"family": "A"}, {"family": "B"}],
        "identifier": [{"system": "s"}, {"value": "2"}]});
    assert_eq!(
        issues(&set, bad),
        [
            "Patient.name: at most 1 allowed, found 2",
            "Patient.identifier[1].system: minimum 1 required, found 0",
            "Patient.deceased[x]: minimum 1 required, found 0"
        ]
    );
    assert_eq!(
        issues(&set, json!({"resourceType": "Patient", "deceasedBoolean": true}))[0],
        "Patient.name: minimum 1 required, found 0"
    );
}

#[test]
fn fixed_values_and_patterns() {
    let set = set(json!([
        {"id": "Patient.gender", "path": "Patient.gender", "fixedCode": "female"},
        {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus", "patternCodeableConcept": {"coding": [{"system": "https://m"}]}}
    ]));
    let ok = json!({"resourceType": "Patient", "gender": "female",
        "maritalStatus": {"coding": [{"system": "https://o", "code": "x"}, {"system": "https://m", "code": "M"}], "text": "t"}});
    assert_eq!(issues(&set, ok), Vec::<String>::new());
    let bad = json!({"resourceType": "Patient", "gender": "male", "maritalStatus": {"coding": [{"system": "https://o", "code": "M"}]}});
    assert_eq!(
        issues(&set, bad),
        [
            "Patient.gender: must be exactly \"female\", found \"male\"",
            "Patient.maritalStatus: must match the pattern {\"coding\":[{\"system\":\"https://m\"}]}"
        ]
    );
}

#[test]
fn required_bindings_to_project_code_tables() {
    let binding = json!({"strength": "required", "valueSet": "https://x/vs"});
    let set = set(json!([
        {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus", "binding": binding},
        {"id": "Patient.communication.language.coding", "path": "Patient.communication.language.coding", "binding": binding},
        {"id": "Patient.language", "path": "Patient.language", "binding": binding}
    ]));
    let ok = json!({"resourceType": "Patient", "language": "red", "maritalStatus": {"coding": [{"system": "https://o", "code": "x"}, {"system": "https://x/cs", "code": "blue"}]},
        "communication": [{"language": {"coding": [{"system": "https://x/cs", "code": "red"}]}}]});
    assert_eq!(issues(&set, ok), Vec::<String>::new());
    let bad = json!({"resourceType": "Patient", "language": "green", "maritalStatus": {"text": "married"},
        "communication": [{"language": {"coding": [{"system": "https://x/cs", "code": "green"}]}}]});
    assert_eq!(
        issues(&set, bad),
        [
            "Patient.maritalStatus: no coding of it is not in the value set https://x/vs (required binding)",
            "Patient.communication[0].language.coding[0]: https://x/cs#green is not in the value set https://x/vs (required binding)",
            "Patient.language: \"green\" is not in the value set https://x/vs (required binding)"
        ]
    );
}

#[test]
fn r4_shapes_primitive_formats_and_the_bsn() {
    let set = set(json!([]));
    let bad = json!({"resourceType": "Patient", "birthDate": "1990-02-30", "gender": ["male"], "name": {"family": "A"},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911121"}],
        "contact": [{"period": {"start": "2024-01-01T10:00:00"}}], "multipleBirthInteger": 1.5});
    assert_eq!(
        issues(&set, bad),
        [
            "Patient.birthDate: is not a valid R4 date: \"1990-02-30\"",
            "Patient.gender: has at most one value in R4, found an array",
            "Patient.name: repeats in R4: it must be an array",
            "Patient.identifier[0].value: is not a valid BSN: it fails the 11-check (elfproef): the weighted sum 285 is not a multiple of 11",
            "Patient.contact[0].period.start: is not a valid R4 dateTime: \"2024-01-01T10:00:00\"",
            "Patient.multipleBirthInteger: is not an integer: 1.5 is not a 32-bit whole number"
        ]
    );
    let ok = json!({"resourceType": "Patient", "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"}],
        "contained": [{"resourceType": "Organization", "id": "o"}]});
    assert_eq!(issues(&set, ok), Vec::<String>::new());
    let contained = json!({"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o_1"}]});
    assert_eq!(issues(&set, contained), ["Patient.contained[0].id: is not a valid R4 id: \"o_1\""]);
}

#[test]
fn unsupported_constructs_are_refused_with_file_and_element() {
    let cases = [
        (
            json!([{"id": "Patient.identifier:bsn", "path": "Patient.identifier", "sliceName": "bsn"}]),
            "p.json: element Patient.identifier:bsn: the id must be the path (slices are not supported)",
        ),
        (
            json!([{"id": "Patient.identifier", "path": "Patient.identifier", "slicing": {"rules": "open"}}]),
            "p.json: element Patient.identifier: 'slicing' is not supported by the validator",
        ),
        (
            json!([{"id": "Patient.name", "path": "Patient.name", "constraint": [{"key": "x"}]}]),
            "p.json: element Patient.name: 'constraint' is not supported by the validator",
        ),
        (
            json!([{"id": "Patient.name", "path": "Patient.name", "type": [{"code": "HumanName"}]}]),
            "p.json: element Patient.name: 'type' is not supported by the validator",
        ),
        (
            json!([{"id": "Patient.nme", "path": "Patient.nme", "min": 1}]),
            "p.json: element Patient.nme: Patient has no element 'nme' in R4",
        ),
        (
            json!([{"id": "Patient.gender", "path": "Patient.gender", "binding": {"strength": "extensible", "valueSet": "https://x/vs"}}]),
            "p.json: element Patient.gender: binding strength \"extensible\" is not supported (only required)",
        ),
        (
            json!([{"id": "Patient.gender", "path": "Patient.gender", "binding": {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}}]),
            "p.json: element Patient.gender: the ValueSet http://hl7.org/fhir/ValueSet/administrative-gender is not one of the project's (conformance/)",
        ),
        (
            json!([{"id": "Patient.name", "path": "Patient.name", "binding": {"strength": "required", "valueSet": "https://x/vs"}}]),
            "p.json: element Patient.name: a binding on a HumanName is not supported (code, Coding, CodeableConcept)",
        ),
        (
            json!([{"id": "Patient.deceased[x]", "path": "Patient.deceased[x]", "fixedBoolean": false}]),
            "p.json: element Patient.deceased[x]: fixed values, patterns and bindings on a choice are not supported",
        ),
        (
            json!([{"id": "Patient.name", "path": "Patient.name", "min": 2, "max": "1"}]),
            "p.json: element Patient.name: max is below min",
        ),
    ];
    for (elements, expected) in cases {
        assert_eq!(refusal(elements), expected);
    }
    let snapshot = json!({"resourceType": "StructureDefinition", "snapshot": {}}).to_string();
    assert_eq!(
        ProfileSet::load(&[("s.json", &snapshot)], CODES).unwrap_err(),
        "s.json: 'snapshot' is not supported (only a differential is read)"
    );
    let filtered = r#"{"resourceType": "ValueSet", "url": "https://x/f", "compose": {"include": [{"system": "https://x/cs", "filter": []}]}}"#;
    assert_eq!(
        ProfileSet::load(&[], &[CODES[0], ("ValueSet-f.json", filtered)]).unwrap_err(),
        "ValueSet-f.json: compose.include.filter is not supported (only system and concept)"
    );
}

#[test]
fn the_embedded_profiles_load() {
    let set = ProfileSet::builtin();
    for resource_type in ResourceType::ALL {
        assert_eq!(set.profile(resource_type).unwrap().url, profile_url(resource_type));
    }
}
