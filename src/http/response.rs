//! FHIR responses: content type, versions as ETag and Last-Modified, and
//! resources written straight from their stored JSON.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::fhir::datetime::format_http_date;
use crate::store::StoredResource;

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
pub const FHIR_XML: &str = "application/fhir+xml; charset=utf-8";

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

/// A stored version as the response body (not for tombstones), already in
/// the form its reader may see (`interaction::served`).
pub fn resource_response(status: StatusCode, stored: StoredResource) -> Response {
    let headers = version_headers(&stored);
    let body = stored.content.clone().unwrap_or_default();
    let mut response = fhir_json(status, body);
    response.headers_mut().extend(headers);
    response
}

/// Whether a conditional read may answer 304 Not Modified: `If-None-Match`
/// names the current ETag (or `*`), or, without it, `If-Modified-Since` is
/// not before the last update (RFC 9110 §13.1.2, §13.1.3).
pub fn not_modified(headers: &HeaderMap, stored: &StoredResource) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        let current = etag(stored);
        let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
        return value
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|tag| tag.trim() == "*" || weak(tag) == weak(&current));
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok());
    since.is_some_and(|since| stored.last_updated / 1000 <= since.timestamp())
}

/// 304 with the version headers.
pub fn not_modified_response(stored: &StoredResource) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    response.headers_mut().extend(version_headers(stored));
    response
}
