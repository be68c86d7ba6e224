//! Preparing a resource for the store: everything about a write that can be
//! worked out without the database (structure check, classification,
//! search values, content hash), so that a bad resource is refused before
//! any transaction starts.

use serde_json::Value;

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

/// Why a resource cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// Not a valid R4 resource of the expected type (HTTP 400).
    #[error("{0}")]
    Malformed(String),
    /// Valid R4, but breaking a rule of this server (HTTP 422).
    #[error("{0}")]
    Unprocessable(String),
}

impl From<PrepareError> for super::Error {
    fn from(e: PrepareError) -> Self {
        super::Error::new(super::ErrorKind::Invalid, e.to_string())
    }
}

/// Checks and indexes a resource for writing under `id`.
pub fn prepare(
    resource_type: ResourceType,
    id: ResourceId,
    mut resource: Value,
) -> Result<PreparedResource, PrepareError> {
    let malformed = PrepareError::Malformed;
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type.as_str() => {}
        Some(t) => return Err(malformed(format!("resourceType is '{t}', expected '{resource_type}'"))),
        None => return Err(malformed("the resource has no resourceType".into())),
    }
    if let Some(map) = resource.as_object_mut() {
        map.insert("id".into(), Value::String(id.as_str().to_owned()));
    }
    model::check_structure(&resource).map_err(|e| malformed(format!("{resource_type} is not valid R4: {e}")))?;
    let classification =
        classify::classify(resource_type, &resource).map_err(|e| PrepareError::Unprocessable(e.to_string()))?;
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
        assert_eq!(e, PrepareError::Malformed("resourceType is 'Observation', expected 'Patient'".into()));
        let e = prepare(ResourceType::Patient, id(), json!({"resourceType": "Patient", "nme": []})).unwrap_err();
        assert!(matches!(&e, PrepareError::Malformed(m) if m.starts_with("Patient is not valid R4")), "{e}");
        let e = prepare(ResourceType::Binary, id(), json!({"resourceType": "Binary", "contentType": "text/plain"}))
            .unwrap_err();
        assert!(matches!(&e, PrepareError::Unprocessable(m) if m.contains("securityContext")), "{e}");
        let ok = prepare(ResourceType::Patient, id(), json!({"resourceType": "Patient", "id": "other"})).unwrap();
        assert_eq!(ok.resource["id"], "x");
    }
}
