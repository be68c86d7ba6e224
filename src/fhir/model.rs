//! The thin wrapper around `fhirbolt`, the R4 model: the only file that
//! names it, so that it can be replaced (its last release is from 2023).

use serde_json::Value;

/// Checks that JSON is a structurally valid R4 resource: first the JSON
/// rules of FHIR that fhirbolt does not check (or chokes on), then
/// fhirbolt's strict parse: known elements, right JSON types, required
/// elements, one choice type. fhirbolt checks neither primitive formats nor
/// array-versus-single cardinality: the profile validator does (`fhir::validate`).
pub fn check_structure(resource: &Value) -> Result<(), String> {
    check_json_rules(resource, &mut resource_name(resource))?;
    let text = resource.to_string();
    // fhirbolt 0.4 panics on some malformed input; a panic must never take
    // a request down, so it is turned into an error here.
    let parsed = std::panic::catch_unwind(|| fhirbolt::json::from_str::<R4Resource>(&text, None));
    match parsed {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the resource cannot be read as R4 JSON".into()),
    }
}

type R4Resource = fhirbolt::model::r4::Resource;

/// The XML form (`application/fhir+xml`) of a resource or Bundle given as JSON.
pub fn json_to_xml(json: &str) -> Result<String, String> {
    let converted = std::panic::catch_unwind(|| {
        let resource: R4Resource = fhirbolt::json::from_str(json, None).map_err(|e| e.to_string())?;
        fhirbolt::xml::to_string(&resource, None).map_err(|e| e.to_string())
    });
    converted.unwrap_or_else(|_| Err("the resource cannot be written as XML".into()))
}

/// The JSON form of a resource or Bundle given as FHIR XML. The XML reader
/// resolves no external entities and expands no entity definitions.
pub fn xml_to_json(xml: &str) -> Result<Value, String> {
    let converted = std::panic::catch_unwind(|| {
        let resource: R4Resource = fhirbolt::xml::from_str(xml, None).map_err(|e| e.to_string())?;
        fhirbolt::json::to_json_value(resource, None).map_err(|e| e.to_string())
    });
    converted.unwrap_or_else(|_| Err("the XML cannot be read as an R4 resource".into()))
}

fn resource_name(resource: &Value) -> String {
    resource.get("resourceType").and_then(Value::as_str).unwrap_or("Resource").to_owned()
}

/// FHIR JSON (R4 §2.6.2): no `null`, no empty arrays or objects, no empty
/// strings; the error names the path.
fn check_json_rules(value: &Value, path: &mut String) -> Result<(), String> {
    match value {
        Value::Null => Err(format!("{path}: null is not allowed in FHIR JSON")),
        Value::String(s) if s.trim().is_empty() => Err(format!("{path}: empty strings are not allowed in FHIR JSON")),
        Value::Array(items) if items.is_empty() => Err(format!("{path}: empty arrays are not allowed in FHIR JSON")),
        Value::Object(map) if map.is_empty() => Err(format!("{path}: empty objects are not allowed in FHIR JSON")),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                // `null` keeps positions in arrays of primitive extensions (`_given`).
                if item.is_null() && path.rsplit('.').next().is_some_and(|p| p.starts_with('_')) {
                    continue;
                }
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_json_rules(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                check_json_rules(child, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(resource: Value) -> Result<(), String> {
        check_structure(&resource)
    }

    #[test]
    fn structure_errors_are_reported() {
        assert!(check(json!({"resourceType": "Patient", "gender": "female"})).is_ok());
        assert!(check(json!({"resourceType": "Patient", "foo": 1})).is_err());
        assert!(check(json!({"resourceType": "Observation", "code": {"text": "x"}})).is_err());
        assert!(check(json!({"resourceType": "Patient", "active": "yes"})).is_err());
        assert!(check(json!({"resourceType": "Medication2"})).is_err());
    }

    #[test]
    fn xml_round_trips_with_the_same_content() {
        let patient = json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "2"},
            "name": [{"family": "Berg", "given": ["Anna"], "_family": {"extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "van den"}]}}],
            "birthDate": "1950-01-02", "active": true});
        let xml = json_to_xml(&patient.to_string()).unwrap();
        assert!(xml.contains("<Patient xmlns=\"http://hl7.org/fhir\">"), "{xml}");
        assert!(xml.contains("<family value=\"Berg\">"), "{xml}");
        assert_eq!(xml_to_json(&xml).unwrap(), patient);
        let weight = json!({"resourceType": "Observation", "status": "final", "code": {"text": "w"},
            "valueQuantity": {"value": 56.0, "unit": "kg"}});
        let back = xml_to_json(&json_to_xml(&weight.to_string()).unwrap()).unwrap();
        assert_eq!(back["valueQuantity"]["value"].to_string(), "56.0");
    }

    #[test]
    fn hostile_xml_is_refused() {
        let external = r#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>"#;
        assert!(xml_to_json(external).map(|v| !v.to_string().contains("root:")).unwrap_or(true));
        let bomb = format!(
            r#"<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "{}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Patient xmlns="http://hl7.org/fhir"><id value="&b;"/></Patient>"#,
            "x".repeat(10)
        );
        assert!(xml_to_json(&bomb).is_err());
        assert!(xml_to_json("<Patient").is_err());
    }

    #[test]
    fn fhir_json_rules_name_the_path() {
        let cases = [
            (
                json!({"resourceType": "Patient", "name": [{"family": "X", "given": []}]}),
                "Patient.name[0].given: empty arrays",
            ),
            (json!({"resourceType": "Patient", "gender": null}), "Patient.gender: null"),
            (json!({"resourceType": "Patient", "name": [{}]}), "Patient.name[0]: empty objects"),
            (json!({"resourceType": "Patient", "gender": " "}), "Patient.gender: empty strings"),
        ];
        for (resource, expected) in cases {
            let error = check(resource).unwrap_err();
            assert!(error.starts_with(expected), "{error}");
        }
        let extensions = json!({"resourceType": "Patient", "name": [{"given": ["A", "B"],
            "_given": [null, {"extension": [{"url": "http://x", "valueString": "y"}]}]}]});
        assert_eq!(check(extensions), Ok(()));
    }
}
