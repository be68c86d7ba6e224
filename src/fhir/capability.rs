//! The CapabilityStatement, generated from what the server supports: the
//! served types, their interactions and the search-parameter table.

use serde_json::{Value, json};

use super::search_param::{self, SearchParamKind};
use super::types::ResourceType;
use super::validate::profile_url;

/// Interactions served on every resource type.
pub const TYPE_INTERACTIONS: [&str; 7] =
    ["read", "vread", "history-instance", "search-type", "create", "update", "delete"];

/// The CapabilityStatement of one tenant's FHIR base.
pub fn capability_statement(fhir_base: &str, software_version: &str, date: &str) -> Value {
    let resources: Vec<Value> = ResourceType::ALL.iter().map(|&t| resource_capability(t)).collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Zorgpoort",
        "kind": "instance",
        "software": { "name": "Zorgpoort", "version": software_version },
        "implementation": { "description": "Zorgpoort FHIR gateway", "url": fhir_base },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": true,
                "description": "Every data endpoint needs a bearer token (Authorization: Bearer ...). \
                                Care-side systems use SMART system scopes such as system/*.rs."
            },
            "resource": resources,
            "interaction": [
                { "code": "transaction" },
                { "code": "batch" }
            ],
            "searchParam": [
                common_param("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id"),
                common_param("_lastUpdated", "date", "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated"),
            ]
        }]
    })
}

fn resource_capability(resource_type: ResourceType) -> Value {
    let interactions: Vec<Value> = TYPE_INTERACTIONS.iter().map(|code| json!({ "code": code })).collect();
    let mut params: Vec<Value> = vec![
        common_param("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id"),
        common_param("_lastUpdated", "date", "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated"),
    ];
    params.extend(
        search_param::of_type(resource_type)
            .map(|p| json!({ "name": p.name, "definition": p.definition_url(), "type": p.kind.as_str() })),
    );
    let include: Vec<String> = search_param::SEARCH_PARAMS
        .iter()
        .filter(|p| p.resource_type == resource_type && p.kind == SearchParamKind::Reference)
        .map(|p| format!("{}:{}", p.resource_type, p.name))
        .collect();
    // Every reference parameter that can point at this type.
    let revinclude: Vec<String> = search_param::SEARCH_PARAMS
        .iter()
        .filter(|p| p.kind == SearchParamKind::Reference && p.target.is_none_or(|t| t == resource_type))
        .map(|p| format!("{}:{}", p.resource_type, p.name))
        .collect();
    json!({
        "type": resource_type.as_str(),
        // What the gateway writes from deliveries conforms to it (checked
        // before it is written) and says so in `meta.profile`.
        "supportedProfile": [profile_url(resource_type)],
        "interaction": interactions,
        "searchInclude": include,
        "searchRevInclude": revinclude,
        "versioning": "versioned",
        "readHistory": true,
        "updateCreate": false,
        "conditionalCreate": false,
        "conditionalUpdate": false,
        "conditionalDelete": "not-supported",
        "searchParam": params,
        "operation": [{
            "name": "validate",
            "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
            "documentation": "POST [type]/$validate with a resource or a Parameters holding it: an OperationOutcome \
                              of every issue the project's profile finds (system tokens)"
        }],
    })
}

fn common_param(name: &str, kind: &str, definition: &str) -> Value {
    json!({ "name": name, "definition": definition, "type": kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_type_and_its_parameters() {
        let cs = capability_statement("http://x/t/fhir", "0.1.0", "2024-01-01");
        let resources = cs["rest"][0]["resource"].as_array().unwrap();
        assert_eq!(resources.len(), ResourceType::ALL.len());
        let observation = resources.iter().find(|r| r["type"] == "Observation").unwrap();
        let names: Vec<&str> =
            observation["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        for expected in
            ["_id", "_lastUpdated", "identifier", "patient", "subject", "code", "category", "status", "date"]
        {
            assert!(names.contains(&expected), "{expected} missing from {names:?}");
        }
        let includes = observation["searchInclude"].as_array().unwrap();
        assert!(includes.contains(&json!("Observation:patient")) && includes.contains(&json!("Observation:performer")));
        assert!(!includes.contains(&json!("Observation:code")));
        let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
        let revincludes = patient["searchRevInclude"].as_array().unwrap();
        assert!(
            revincludes.contains(&json!("Observation:patient")) && revincludes.contains(&json!("Provenance:target"))
        );
        assert_eq!(
            observation["supportedProfile"],
            json!(["https://zorgpoort.nl/fhir/StructureDefinition/ZorgpoortObservation"])
        );
        assert_eq!(observation["operation"][0]["name"], "validate");
        let practitioner = resources.iter().find(|r| r["type"] == "Practitioner").unwrap();
        let revincludes = practitioner["searchRevInclude"].as_array().unwrap();
        assert!(!revincludes.contains(&json!("Observation:patient")), "patient only refers to a Patient");
    }
}
