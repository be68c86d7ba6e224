//! FHIR update: https://hl7.org/fhir/R4/http.html#update
//! Updates existing resources only: ids are assigned by the server, so an
//! update of an unknown id is refused (405), and `If-Match` gives 412 on a
//! version mismatch.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{if_match, permit, prefers_minimal, resource_id, resource_type};
use crate::access::{Interaction, RequestContext};
use crate::http::AppState;
use crate::http::body::FhirJson;
use crate::http::error::ApiError;
use crate::http::response::{resource_response, version_headers};
use crate::store::{self, ErrorKind, WriteOp, WriteOutcome};

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
    let visibility = permit(&context, resource_type, Interaction::Update)?;
    let current = state.store().read(&context.tenant, resource_type, &id).await.map_err(|e| match e.kind() {
        ErrorKind::NotFound => ApiError::method_not_allowed(format!(
            "{resource_type}/{id} does not exist, and ids are assigned by this server: create it with POST"
        )),
        _ => e.into(),
    })?;
    let current = super::visible(state.store(), &context, current, &visibility).await?;
    let prepared = store::prepare(resource_type, id, resource)?;
    super::check_relocation(&current, &prepared)?;
    let op = WriteOp::Update { resource: prepared, if_match };
    let outcome = state.store().write(&context.tenant, vec![op], context.received_at).await?;
    let stored = match outcome.into_iter().next() {
        Some(WriteOutcome::Updated(stored) | WriteOutcome::Unchanged(stored)) => stored,
        _ => return Err(ApiError::internal(&std::io::Error::other("update wrote no resource"))),
    };
    if prefers_minimal(&headers) {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().extend(version_headers(&stored));
        return Ok(response);
    }
    Ok(resource_response(StatusCode::OK, super::served(stored, &visibility)))
}
