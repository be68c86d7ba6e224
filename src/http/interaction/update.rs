//! FHIR update: https://hl7.org/fhir/R4/http.html#update
//! Updates existing resources only: ids are assigned by the server, so an
//! update of an unknown id is refused (405), and `If-Match` gives 412 on a
//! version mismatch.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{if_match, prefers_minimal, resource_id, resource_type, sources};
use crate::access::RequestContext;
use crate::http::AppState;
use crate::http::body::FhirJson;
use crate::http::error::ApiError;
use crate::http::response::{resource_response, version_headers};

pub async fn update(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    FhirJson(resource): FhirJson,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    match resource.get("id").and_then(Value::as_str) {
        Some(body_id) if body_id == id.as_str() => {}
        Some(body_id) => return Err(ApiError::bad_request(format!("The body has id '{body_id}', the URL '{id}'"))),
        None => return Err(ApiError::bad_request("An update needs the resource id in the body")),
    }
    let if_match = if_match(&headers)?;
    let stored = crate::interaction::update(sources(&state), &context, resource_type, id, resource, if_match).await?;
    if prefers_minimal(&headers) {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().extend(version_headers(&stored));
        return Ok(response);
    }
    Ok(resource_response(StatusCode::OK, stored))
}
