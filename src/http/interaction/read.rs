//! FHIR read: https://hl7.org/fhir/R4/http.html#read

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{permit, resource_id, resource_type, visible};
use crate::access::{Interaction, RequestContext};
use crate::fhir::{ResourceId, ResourceType};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::response::{resource_response, version_headers};
use crate::store::StoredResource;

pub async fn read(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let stored = perform(&state, &context, resource_type, &id).await?;
    if stored.is_deleted() {
        let mut response =
            axum::response::IntoResponse::into_response(ApiError::gone(format!("{resource_type}/{id} was deleted")));
        response.headers_mut().extend(version_headers(&stored));
        return Ok(response);
    }
    Ok(resource_response(StatusCode::OK, stored))
}

/// Reads the current version the requester may see (a tombstone if deleted).
pub async fn perform(
    state: &AppState,
    context: &RequestContext,
    resource_type: ResourceType,
    id: &ResourceId,
) -> Result<StoredResource, ApiError> {
    let visibility = permit(context, resource_type, Interaction::Read)?;
    visible(state.store().read(&context.tenant, resource_type, id).await?, &visibility)
}
