//! FHIR vread: https://hl7.org/fhir/R4/http.html#vread

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{permit, resource_id, resource_type, visible};
use crate::access::{Interaction, RequestContext};
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
    let visibility = permit(&context, resource_type, Interaction::Vread)?;
    let stored = state.store().vread(&context.tenant, resource_type, &id, version).await?;
    let stored = visible(state.store(), &context, stored, &visibility).await?;
    if stored.is_deleted() {
        return Err(ApiError::gone(format!("Version {version} of {resource_type}/{id} is its deletion")));
    }
    if not_modified(&headers, &stored) {
        return Ok(not_modified_response(&stored));
    }
    Ok(resource_response(StatusCode::OK, stored))
}
