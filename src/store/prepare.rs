//! Preparing a resource for the store: everything about a write that can be
//! worked out without the database (structure check, classification,
//! search values, content hash), so that a bad resource is refused before
//! any transaction starts.

use serde_json::Value;

use super::{Error, ErrorKind};
use crate::fhir::classify::{self, Classification};
use crate::fhir::index::{self, SearchIndex};
use crate::fhir::{ResourceId, ResourceType, meta, model};

/// A resource ready to be written as a new version.
#[derive(Debug, Clone)]
pub struct PreparedResource {
    pub resource_type: ResourceType,
    pub id: ResourceId,
    /// The resource without server meta; the store stamps version and time.
    pub resource: Value,
    pub classification: Classification,
    pub index: SearchIndex,
    pub content_hash: String,
}

/// Checks and indexes a resource for writing under `id`.
pub fn prepare(resource_type: ResourceType, id: ResourceId, mut resource: Value) -> Result<PreparedResource, Error> {
    let invalid = |message: String| Error::new(ErrorKind::Invalid, message);
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type.as_str() => {}
        Some(t) => return Err(invalid(format!("resourceType is '{t}', expected '{resource_type}'"))),
        None => return Err(invalid("the resource has no resourceType".into())),
    }
    if let Some(map) = resource.as_object_mut() {
        map.insert("id".into(), Value::String(id.as_str().to_owned()));
    }
    model::check_structure(&resource.to_string())
        .map_err(|e| invalid(format!("{resource_type} is not valid R4: {e}")))?;
    let classification = classify::classify(resource_type, &resource).map_err(|e| invalid(e.to_string()))?;
    let index = index::extract(resource_type, &resource);
    let content_hash = meta::content_hash(&resource);
    Ok(PreparedResource { resource_type, id, resource, classification, index, content_hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refuses_what_cannot_be_stored() {
        let id = || ResourceId::parse("x").unwrap();
        let e = prepare(ResourceType::Patient, id(), json!({"resourceType": "Observation"})).unwrap_err();
        assert_eq!(e.message(), "resourceType is 'Observation', expected 'Patient'");
        let e = prepare(ResourceType::Patient, id(), json!({"resourceType": "Patient", "nme": []})).unwrap_err();
        assert!(e.message().starts_with("Patient is not valid R4"), "{}", e.message());
        let e = prepare(ResourceType::Binary, id(), json!({"resourceType": "Binary", "contentType": "text/plain"}))
            .unwrap_err();
        assert!(e.message().contains("securityContext"), "{}", e.message());
        let ok = prepare(ResourceType::Patient, id(), json!({"resourceType": "Patient", "id": "other"})).unwrap();
        assert_eq!(ok.resource["id"], "x");
    }
}
