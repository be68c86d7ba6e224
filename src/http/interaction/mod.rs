//! The FHIR REST interactions over HTTP, one file each
//! (https://hl7.org/fhir/R4/http.html): each reads its request, calls the
//! interaction in `crate::interaction` (which decides on access and serves)
//! and writes the answer.

pub mod capabilities;
pub mod create;
pub mod delete;
pub mod history_instance;
pub mod read;
pub mod search_type;
pub mod transaction;
pub mod update;
pub mod validate;
pub mod vread;

use axum::http::HeaderMap;

use crate::fhir::{ResourceId, ResourceType, VersionId};
use crate::interaction::Sources;

use super::error::ApiError;

/// A served resource type from the path, or 404.
pub fn resource_type(name: &str) -> Result<ResourceType, ApiError> {
    name.parse().map_err(|_| ApiError::not_found(format!("'{name}' is not a resource type served here")))
}

/// The sources the interactions read and write through.
pub fn sources(state: &super::AppState) -> Sources<'_> {
    Sources { store: state.store(), resources: state.resources(), searches: state.searches() }
}

/// A logical id from the path, or 400.
pub fn resource_id(id: &str) -> Result<ResourceId, ApiError> {
    ResourceId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `If-Match: W/"3"` as a version.
pub fn if_match(headers: &HeaderMap) -> Result<Option<VersionId>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else { return Ok(None) };
    version_of_etag(value.to_str().unwrap_or_default()).map(Some)
}

/// The version an ETag (`W/"3"`, or `"3"`) names, as in `If-Match` and a
/// transaction entry's `request.ifMatch`.
pub fn version_of_etag(etag: &str) -> Result<VersionId, ApiError> {
    let text = etag.trim();
    let inner = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    inner
        .parse::<i64>()
        .map(VersionId)
        .map_err(|_| ApiError::bad_request(format!("If-Match must be an ETag like W/\"3\", not '{text}'")))
}

/// `Prefer: return=minimal` asks for no body on writes.
pub fn prefers_minimal(headers: &HeaderMap) -> bool {
    prefer(headers, "return") == Some("minimal")
}

/// A token of the `Prefer` header (`handling=strict`, `return=minimal`).
pub fn prefer<'a>(headers: &'a HeaderMap, key: &str) -> Option<&'a str> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v.trim().trim_matches('"'))
}
