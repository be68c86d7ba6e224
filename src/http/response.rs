//! FHIR responses: content type, versions as ETag and Last-Modified, and
//! resources written straight from their stored JSON.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::datetime::format_http_date;
use crate::store::StoredResource;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A FHIR JSON body with a status.
pub fn fhir_json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))], body).into_response()
}

/// `W/"<version>"`
pub fn etag(stored: &StoredResource) -> String {
    format!("W/\"{}\"", stored.version)
}

/// The version headers of a stored resource.
pub fn version_headers(stored: &StoredResource) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag(stored)) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format_http_date(stored.last_updated)) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    headers
}

/// A stored version as the response body (not for tombstones).
pub fn resource_response(status: StatusCode, stored: StoredResource) -> Response {
    let headers = version_headers(&stored);
    let body = stored.content.unwrap_or_default();
    let mut response = fhir_json(status, body);
    response.headers_mut().extend(headers);
    response
}
