//! The identity view of a Patient: who the client is (id, name, gender,
//! birth date) and nothing else, for a person whose grant lists identity
//! but not the profile. Pure.

use serde_json::{Map, Value, json};

/// The elements the identity view keeps.
const KEPT: [&str; 6] = ["resourceType", "id", "meta", "name", "gender", "birthDate"];

/// The search parameters such a person may use on Patient: those over the
/// kept elements, and the result parameters that do not reach into others.
const SEARCHABLE: &[&str] = &[
    "_id",
    "name",
    "family",
    "given",
    "gender",
    "birthdate",
    "_count",
    "_offset",
    "_snapshot",
    "_elements",
    "_summary",
    "_total",
    "_format",
    "_pretty",
];

/// The Patient JSON reduced to the identity view, marked as redacted in
/// `meta.security` (v3 ObservationValue `REDACTED`).
pub fn identity_view(content: &str) -> Option<String> {
    let Value::Object(full) = serde_json::from_str::<Value>(content).ok()? else { return None };
    let mut reduced: Map<String, Value> =
        KEPT.iter().filter_map(|&k| Some((k.to_owned(), full.get(k)?.clone()))).collect();
    let meta = reduced.entry("meta").or_insert_with(|| json!({}));
    if let Value::Object(meta) = meta {
        let security = meta.entry("security").or_insert_with(|| json!([]));
        if let Value::Array(labels) = security {
            labels.push(json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "REDACTED",
                "display": "redacted"
            }));
        }
    }
    serde_json::to_string(&Value::Object(reduced)).ok()
}

/// Whether a search parameter on Patient reaches beyond the identity view
/// (so that a BSN, address or GP cannot be tested by searching).
pub fn hides_search_parameter(name: &str) -> bool {
    let base = name.split(':').next().unwrap_or(name);
    !SEARCHABLE.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_view_keeps_who_the_client_is_and_nothing_else() {
        let full = json!({
            "resourceType": "Patient", "id": "c1", "meta": {"versionId": "2"},
            "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"}],
            "name": [{"family": "Jansen"}], "gender": "female", "birthDate": "1950-01-01",
            "address": [{"city": "Utrecht"}], "telecom": [{"value": "06"}], "generalPractitioner": [{"display": "GP"}]
        });
        let view: Value = serde_json::from_str(&identity_view(&full.to_string()).unwrap()).unwrap();
        let keys: Vec<&String> = view.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["resourceType", "id", "meta", "name", "gender", "birthDate"]);
        assert_eq!(view["meta"]["versionId"], "2");
        assert_eq!(view["meta"]["security"][0]["code"], "REDACTED");
        assert!(!view.to_string().contains("999911120"));
    }

    #[test]
    fn only_identity_parameters_stay_searchable() {
        for name in ["_id", "name", "family:exact", "given", "gender", "birthdate", "_count"] {
            assert!(!hides_search_parameter(name), "{name}");
        }
        for name in [
            "identifier",
            "address",
            "address-city",
            "general-practitioner",
            "telecom",
            "_has:Observation:patient:code",
            "_sort",
            "_include",
            "_revinclude",
            "phone",
            "email",
            "_content",
            "_text",
        ] {
            assert!(hides_search_parameter(name), "{name}");
        }
    }
}
