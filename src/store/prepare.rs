//! Preparing a resource for the store: everything about a write that can be
//! worked out without the database (structure check, classification,
//! search values, content hash), so that a bad resource is refused before
//! any transaction starts.

use serde_json::Value;

use crate::fhir::classify::{self, Classification};
use crate::fhir::index::{self, SearchIndex};
use crate::fhir::validate::{Issue, ProfileSet, profile_url};
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

/// Why a resource the gateway made itself (mapped from a delivery, or its
/// Provenance) cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfiledError {
    #[error("{0}")]
    Prepare(#[from] PrepareError),
    /// Valid R4, but not conforming to the project's profile of its type.
    #[error("does not conform to {profile}: {}", join(issues))]
    Nonconformant { profile: String, issues: Vec<Issue> },
}

fn join(issues: &[Issue]) -> String {
    issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl From<ProfiledError> for super::Error {
    fn from(e: ProfiledError) -> Self {
        super::Error::new(super::ErrorKind::Invalid, e.to_string())
    }
}

/// [`prepare`] for what the gateway makes itself: it must conform to the
/// project's profile of its type, which it then names in `meta.profile`.
pub fn prepare_profiled(
    resource_type: ResourceType,
    id: ResourceId,
    mut resource: Value,
) -> Result<PreparedResource, ProfiledError> {
    let issues = check(resource_type, &id, &mut resource)?;
    let profile = profile_url(resource_type);
    if !issues.is_empty() {
        return Err(ProfiledError::Nonconformant { profile, issues });
    }
    meta::claim_profile(&mut resource, &profile);
    Ok(finish(resource_type, id, resource)?)
}

/// Checks and indexes a resource for writing under `id`. A resource that
/// conforms to the project's profile of its type names it in
/// `meta.profile`; one that does not is still written (a writer's own
/// data), without that claim.
pub fn prepare(
    resource_type: ResourceType,
    id: ResourceId,
    mut resource: Value,
) -> Result<PreparedResource, PrepareError> {
    let issues = check(resource_type, &id, &mut resource)?;
    if issues.is_empty() {
        meta::claim_profile(&mut resource, &profile_url(resource_type));
    } else {
        meta::drop_profile(&mut resource, &profile_url(resource_type));
    }
    finish(resource_type, id, resource)
}

/// The type, the id and the R4 structure, then the issues the profile finds.
fn check(resource_type: ResourceType, id: &ResourceId, resource: &mut Value) -> Result<Vec<Issue>, PrepareError> {
    let malformed = PrepareError::Malformed;
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type.as_str() => {}
        Some(t) => return Err(malformed(format!("resourceType is '{t}', expected '{resource_type}'"))),
        None => return Err(malformed("the resource has no resourceType".into())),
    }
    if let Some(map) = resource.as_object_mut() {
        map.insert("id".into(), Value::String(id.as_str().to_owned()));
    }
    model::check_structure(resource).map_err(|e| malformed(format!("{resource_type} is not valid R4: {e}")))?;
    Ok(ProfileSet::builtin().validate(resource))
}

fn finish(resource_type: ResourceType, id: ResourceId, resource: Value) -> Result<PreparedResource, PrepareError> {
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

    #[test]
    fn a_writers_resource_names_the_profile_only_when_it_conforms() {
        let id = || ResourceId::parse("x").unwrap();
        let profile = profile_url(ResourceType::Patient);
        let ok = prepare(ResourceType::Patient, id(), json!({"resourceType": "Patient", "birthDate": "1950-02-28"}));
        assert_eq!(ok.unwrap().resource["meta"]["profile"], json!([profile]));
        let claimed = json!({"resourceType": "Patient", "meta": {"profile": [profile, "http://other"]},
            "birthDate": "1950-02-30"});
        let written = prepare(ResourceType::Patient, id(), claimed).unwrap();
        assert_eq!(written.resource["meta"], json!({"profile": ["http://other"]}));
    }

    #[test]
    fn what_the_gateway_makes_claims_its_profile_and_conforms() {
        let id = || ResourceId::parse("x").unwrap();
        let practitioner = json!({"resourceType": "Practitioner", "identifier": [{"system": "s", "value": "1"}],
            "name": [{"family": "Jansen"}]});
        let ok = prepare_profiled(ResourceType::Practitioner, id(), practitioner.clone()).unwrap();
        assert_eq!(ok.resource["meta"]["profile"], json!([profile_url(ResourceType::Practitioner)]));
        let mut nameless = practitioner;
        nameless.as_object_mut().unwrap().remove("name");
        let e = prepare_profiled(ResourceType::Practitioner, id(), nameless).unwrap_err();
        assert_eq!(
            e.to_string(),
            "does not conform to https://zorgpoort.nl/fhir/StructureDefinition/ZorgpoortPractitioner: \
             Practitioner.name: minimum 1 required, found 0"
        );
        let e = prepare_profiled(ResourceType::Practitioner, id(), json!({"resourceType": "Patient"})).unwrap_err();
        assert!(matches!(e, ProfiledError::Prepare(PrepareError::Malformed(_))), "{e}");
    }
}
