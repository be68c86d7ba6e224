//! `$validate` on a resource type (https://hl7.org/fhir/R4/resource-operation-validate.html):
//! `POST /{tenant}/fhir/{type}/$validate` with a resource, or a Parameters
//! holding it as `resource`; the answer is 200 with an OperationOutcome of
//! every issue the project's profile finds (an information issue when
//! there is none). It writes and reads nothing; any system token may ask.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::resource_type;
use crate::access::{Interaction, RequestContext};
use crate::fhir::ResourceType;
use crate::fhir::outcome::{Issue, IssueCode, Severity, operation_outcome};
use crate::fhir::validate::{ProfileSet, profile_url};
use crate::http::body::FhirJson;
use crate::http::error::ApiError;
use crate::http::response::fhir_json;

pub async fn validate(
    context: RequestContext,
    Path((_tenant, type_name)): Path<(String, String)>,
    FhirJson(body): FhirJson,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    crate::interaction::permit(&context, resource_type, Interaction::Validate)?;
    let resource = resource_of(resource_type, body)?;
    let outcome = operation_outcome(&outcome_issues(resource_type, &resource));
    Ok(fhir_json(StatusCode::OK, outcome.to_string()))
}

/// The resource to check: the body, or the `resource` of a Parameters; a
/// `profile` other than the project's, or a `mode` of delete, is refused.
fn resource_of(resource_type: ResourceType, body: Value) -> Result<Value, ApiError> {
    if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Ok(body);
    }
    let mut resource = None;
    for parameter in body["parameter"].as_array().into_iter().flatten() {
        match parameter["name"].as_str() {
            Some("resource") => resource = parameter.get("resource").cloned(),
            Some("profile") => {
                let profile = parameter["valueUri"].as_str().or(parameter["valueCanonical"].as_str());
                if profile != Some(profile_url(resource_type).as_str()) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        IssueCode::NotSupported,
                        format!("only the project's profile {} is checked here", profile_url(resource_type)),
                    ));
                }
            }
            Some("mode") if matches!(parameter["valueCode"].as_str(), Some("create" | "update")) => {}
            Some(name) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    IssueCode::NotSupported,
                    format!("the $validate parameter '{name}' with this value is not supported"),
                ));
            }
            None => return Err(ApiError::bad_request("a parameter without a name")),
        }
    }
    resource.ok_or_else(|| ApiError::bad_request("the Parameters have no 'resource' to validate"))
}

fn outcome_issues(resource_type: ResourceType, resource: &Value) -> Vec<Issue> {
    let given = resource.get("resourceType").and_then(Value::as_str).unwrap_or("(none)");
    if given != resource_type.as_str() {
        return vec![
            Issue::error(IssueCode::Invalid, format!("resourceType is '{given}', expected '{resource_type}'"))
                .at(resource_type.as_str()),
        ];
    }
    let issues: Vec<Issue> = ProfileSet::builtin()
        .check(resource)
        .into_iter()
        .map(|issue| Issue::error(IssueCode::Invalid, issue.message).at(issue.path))
        .collect();
    if issues.is_empty() {
        let ok = format!("conforms to {}", profile_url(resource_type));
        return vec![Issue { severity: Severity::Information, ..Issue::error(IssueCode::Informational, ok) }];
    }
    issues
}
