//! The thin wrapper around `fhirbolt`, the R4 model: the only file that
//! names it, so that it can be replaced (its last release is from 2023).

/// Checks that JSON is a structurally valid R4 resource: known elements,
/// right JSON types, required elements, one choice type, no `null`.
/// fhirbolt does not check primitive formats nor array-versus-single
/// cardinality: the profile validator does (a later issue).
pub fn check_structure(resource_json: &str) -> Result<(), String> {
    fhirbolt::json::from_str::<fhirbolt::model::r4::Resource>(resource_json, None)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_errors_are_reported() {
        assert!(check_structure(r#"{"resourceType":"Patient","gender":"female"}"#).is_ok());
        assert!(check_structure(r#"{"resourceType":"Patient","foo":1}"#).is_err());
        assert!(check_structure(r#"{"resourceType":"Observation","code":{"text":"x"}}"#).is_err());
        assert!(check_structure(r#"{"resourceType":"Patient","gender":null}"#).is_err());
        assert!(check_structure(r#"{"resourceType":"Patient","active":"yes"}"#).is_err());
        assert!(check_structure(r#"{"resourceType":"Medication2"}"#).is_err());
    }
}
