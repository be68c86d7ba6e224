//! FHIR vread: https://hl7.org/fhir/R4/http.html#vread

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{resource_id, resource_type, sources};
use crate::access::RequestContext;
use crate::fhir::VersionId;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::response::{not_modified, not_modified_response, resource_response};

pub async fn vread(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id, version)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let version = version
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .map(VersionId)
        .ok_or_else(|| ApiError::not_found(format!("'{version}' is not a version of {resource_type}/{id}")))?;
    let stored = crate::interaction::vread(sources(&state), &context, resource_type, &id, version).await?;
    if stored.is_deleted() {
        return Err(ApiError::gone(format!("Version {version} of {resource_type}/{id} is its deletion")));
    }
    if not_modified(&headers, &stored) {
        return Ok(not_modified_response(&stored));
    }
    Ok(resource_response(StatusCode::OK, stored))
}
