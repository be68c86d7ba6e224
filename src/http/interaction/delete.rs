//! FHIR delete: https://hl7.org/fhir/R4/http.html#delete
//! A deletion is a new version (a tombstone); reads then answer 410.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{permit, resource_id, resource_type, visible};
use crate::access::{Interaction, RequestContext};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::response::version_headers;
use crate::store::{WriteOp, WriteOutcome};

pub async fn delete(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let visibility = permit(&context, resource_type, Interaction::Delete)?;
    visible(state.store(), &context, state.store().read(&context.tenant, resource_type, &id).await?, &visibility)
        .await?;
    let op = WriteOp::Delete { resource_type, id };
    let outcome = state.store().write(&context.tenant, vec![op], context.received_at).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(WriteOutcome::Deleted(stored)) = outcome.first() {
        response.headers_mut().extend(version_headers(stored));
    }
    Ok(response)
}
