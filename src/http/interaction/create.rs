//! FHIR create: https://hl7.org/fhir/R4/http.html#create
//! The server assigns the id; an id in the body is ignored.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{permit, prefers_minimal, resource_type};
use crate::access::{Interaction, RequestContext};
use crate::fhir::ResourceId;
use crate::http::AppState;
use crate::http::body::FhirJson;
use crate::http::error::ApiError;
use crate::http::response::{resource_response, version_headers};
use crate::store::{self, WriteOp, WriteOutcome};

pub async fn create(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name)): Path<(String, String)>,
    headers: HeaderMap,
    FhirJson(resource): FhirJson,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let visibility = permit(&context, resource_type, Interaction::Create)?;
    let prepared = store::prepare(resource_type, ResourceId::generate(), resource)?;
    let outcome = state.store().write(&context.tenant, vec![WriteOp::Create(prepared)], context.received_at).await?;
    let Some(WriteOutcome::Created(stored)) = outcome.into_iter().next() else {
        return Err(ApiError::internal(&std::io::Error::other("create wrote no resource")));
    };
    let location = format!(
        "{}/{}/{}/_history/{}",
        state.fhir_base(&context.tenant),
        stored.resource_type,
        stored.id,
        stored.version
    );
    let mut response = if prefers_minimal(&headers) {
        let mut r = axum::response::IntoResponse::into_response(StatusCode::CREATED);
        r.headers_mut().extend(version_headers(&stored));
        r
    } else {
        resource_response(StatusCode::CREATED, super::served(stored, &visibility))
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}
