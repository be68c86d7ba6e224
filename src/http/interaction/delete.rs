//! FHIR delete: https://hl7.org/fhir/R4/http.html#delete
//! A deletion is a new version (a tombstone); reads then answer 410.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{resource_id, resource_type, sources};
use crate::access::RequestContext;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::response::version_headers;

pub async fn delete(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let deleted = crate::interaction::delete(sources(&state), &context, resource_type, id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(stored) = &deleted {
        response.headers_mut().extend(version_headers(stored));
    }
    Ok(response)
}
