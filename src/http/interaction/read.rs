//! FHIR read: https://hl7.org/fhir/R4/http.html#read

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::{resource_id, resource_type, sources};
use crate::access::RequestContext;
use crate::fhir::ResourceType;
use crate::fhir::outcome::IssueCode;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::format::Format;
use crate::http::response::{not_modified, not_modified_response, resource_response, version_headers};
use crate::store::StoredResource;

pub async fn read(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    format: Option<Extension<Format>>,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let stored = crate::interaction::read(sources(&state), &context, resource_type, &id).await?;
    if stored.is_deleted() {
        let mut response =
            axum::response::IntoResponse::into_response(ApiError::gone(format!("{resource_type}/{id} was deleted")));
        response.headers_mut().extend(version_headers(&stored));
        return Ok(response);
    }
    if not_modified(&headers, &stored) {
        return Ok(not_modified_response(&stored));
    }
    if resource_type == ResourceType::Binary && format.is_some_and(|f| f.0 == Format::NotFhir) {
        return binary_content(&headers, stored);
    }
    Ok(resource_response(StatusCode::OK, stored))
}

/// A Binary asked for with its own media type (`Accept: application/pdf`)
/// answers with the raw bytes.
fn binary_content(headers: &HeaderMap, stored: StoredResource) -> Result<Response, ApiError> {
    let resource: serde_json::Value =
        serde_json::from_str(stored.content.as_deref().unwrap_or("{}")).map_err(|e| ApiError::internal(&e))?;
    let content_type =
        resource.get("contentType").and_then(serde_json::Value::as_str).unwrap_or("application/octet-stream");
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    let (kind, _) = content_type.split_once('/').unwrap_or((content_type, ""));
    let acceptable = accept.split(',').map(|r| r.split(';').next().unwrap_or("").trim()).any(|range| {
        range.eq_ignore_ascii_case(content_type) || range == "*/*" || range.eq_ignore_ascii_case(&format!("{kind}/*"))
    });
    if !acceptable {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            IssueCode::NotSupported,
            format!("This Binary is {content_type}; ask for that, or for a FHIR format"),
        ));
    }
    let data = resource.get("data").and_then(serde_json::Value::as_str).unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|e| ApiError::internal(&e))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response.headers_mut().extend(version_headers(&stored));
    Ok(response)
}
