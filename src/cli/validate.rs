//! `zorgpoort validate FILE...`: the project's profiles applied to resource
//! files (a resource, or a Bundle of them), for integration specialists who
//! check what they would send. Needs no configuration and no store.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

use crate::fhir::validate::ProfileSet;

#[derive(Debug, clap::Args)]
pub(super) struct ValidateArgs {
    /// FHIR R4 JSON files: a resource or a Bundle (each entry is checked).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// Prints each file's issues with their paths (or that it conforms); exit
/// code 1 when any resource fails or a file cannot be read.
pub(super) fn run(args: &ValidateArgs) -> ExitCode {
    let mut failed = false;
    for file in &args.files {
        let shown = file.display();
        let document = std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|e| format!("not JSON: {e}")));
        match document {
            Err(e) => {
                println!("{shown}: cannot be read: {e}");
                failed = true;
            }
            Ok(document) => {
                let lines = report(&document);
                failed |= !lines.is_empty();
                if lines.is_empty() {
                    println!("{shown}: conforms");
                }
                for line in lines {
                    println!("{shown}: {line}");
                }
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The issues of a resource, or of a Bundle's own elements and of each
/// resource of it (prefixed with `entry[i]`), one line each.
fn report(document: &Value) -> Vec<String> {
    let set = ProfileSet::builtin();
    if document.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return set.check(document).iter().map(ToString::to_string).collect();
    }
    let mut lines: Vec<String> = set.check_bundle(document).iter().map(ToString::to_string).collect();
    for (i, entry) in document["entry"].as_array().into_iter().flatten().enumerate() {
        match entry.get("resource") {
            Some(resource) => lines.extend(set.check(resource).iter().map(|issue| format!("entry[{i}] {issue}"))),
            None => lines.push(format!("entry[{i}]: has no resource")),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_resources_and_bundle_entries() {
        let bad = json!({"resourceType": "Practitioner", "birthDate": "1970-13-01", "name": [{"family": "A"}]});
        assert_eq!(report(&bad), ["Practitioner.birthDate: is not a valid R4 date: \"1970-13-01\""]);
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Practitioner", "name": [{"family": "A"}]}},
            {"resource": {"resourceType": "Practitioner", "nme": []}},
            {"resource": {"resourceType": "Medication"}},
            {"fullUrl": "urn:x"}
        ]});
        let lines = report(&bundle);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].starts_with("entry[1] Practitioner: is not valid R4: "), "{lines:?}");
        assert_eq!(lines[1], "entry[2] Medication: 'Medication' is not a resource type served here");
        assert_eq!(lines[2], "entry[3]: has no resource");
    }

    /// Regression: a Patient with `"gender": "robot"` was said to conform.
    #[test]
    fn reports_codes_outside_the_r4_value_sets() {
        let robot = json!({"resourceType": "Patient", "gender": "robot"});
        assert_eq!(
            report(&robot),
            ["Patient.gender: \"robot\" is not in the value set \
              http://hl7.org/fhir/ValueSet/administrative-gender (required binding)"]
        );
        let bundle = json!({"resourceType": "Bundle", "type": "pile", "entry": [
            {"resource": {"resourceType": "Practitioner", "name": [{"family": "A"}], "gender": "robot"},
             "request": {"method": "PUSH", "url": "x"}}
        ]});
        assert_eq!(
            report(&bundle),
            [
                "Bundle.type: \"pile\" is not in the value set http://hl7.org/fhir/ValueSet/bundle-type (required binding)",
                "Bundle.entry[0].request.method: \"PUSH\" is not in the value set \
                 http://hl7.org/fhir/ValueSet/http-verb (required binding)",
                "entry[0] Practitioner.gender: \"robot\" is not in the value set \
                 http://hl7.org/fhir/ValueSet/administrative-gender (required binding)"
            ]
        );
    }
}
