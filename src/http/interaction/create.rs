//! FHIR create: https://hl7.org/fhir/R4/http.html#create
//! The server assigns the id; an id in the body is ignored.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{prefers_minimal, resource_type, sources};
use crate::access::RequestContext;
use crate::http::AppState;
use crate::http::body::FhirJson;
use crate::http::error::ApiError;
use crate::http::response::{resource_response, version_headers};

pub async fn create(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name)): Path<(String, String)>,
    headers: HeaderMap,
    FhirJson(resource): FhirJson,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let stored = crate::interaction::create(sources(&state), &context, resource_type, resource).await?;
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
        resource_response(StatusCode::CREATED, stored)
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}
