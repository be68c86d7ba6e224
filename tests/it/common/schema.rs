//! Validation against the official FHIR R4 JSON schema (see
//! `tests/fixtures/README.md`).

use std::sync::OnceLock;

use serde_json::Value;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let mut schema: Value =
            serde_json::from_str(&super::gzipped_fixture("fhir.schema.json.gz")).expect("schema JSON");
        add_r4_patch_version(&mut schema);
        jsonschema::draft6::new(&schema).expect("the R4 schema compiles")
    })
}

/// The schema's `fhirVersion` enums stop at 4.0.0; R4 is 4.0.1.
fn add_r4_patch_version(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(values)) = map.get_mut("enum")
                && values.iter().any(|v| v == "4.0.0")
                && !values.iter().any(|v| v == "4.0.1")
            {
                values.push(Value::String("4.0.1".into()));
            }
            map.values_mut().for_each(add_r4_patch_version);
        }
        Value::Array(items) => items.iter_mut().for_each(add_r4_patch_version),
        _ => {}
    }
}

/// Panics with every schema error when `resource` is not valid R4 JSON.
pub fn assert_valid(resource: &Value) {
    let errors: Vec<String> =
        validator().iter_errors(resource).map(|e| format!("{} at {}", e, e.instance_path())).take(20).collect();
    assert!(errors.is_empty(), "not valid against the R4 JSON schema:\n{}\n{resource:#}", errors.join("\n"));
}

/// Whether `resource` is valid (for tests that expect a failure).
pub fn is_valid(resource: &Value) -> bool {
    validator().is_valid(resource)
}
