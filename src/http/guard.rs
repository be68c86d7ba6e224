//! Middleware around every request: the time limit, one log line per
//! request (path only: query strings can carry identifiers; a path segment
//! that may hold a BSN is redacted too), and OperationOutcome bodies for
//! errors raised outside the handlers.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::fhir::outcome::IssueCode;

pub(super) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let started = std::time::Instant::now();
    let limits = state.config().limits;
    let limit = if is_delivery(&path) { limits.ingest_timeout } else { limits.request_timeout };
    let query_length = request.uri().query().map_or(0, str::len);
    let response = if query_length > limits.max_query_bytes {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            IssueCode::TooLong,
            format!("The query string is longer than {} bytes; use POST _search", limits.max_query_bytes),
        )
        .into_response()
    } else {
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                IssueCode::Timeout,
                format!("The request took longer than the limit of {}", seconds_or_milliseconds(limit)),
            )
            .into_response(),
        }
    };
    let response = outcome_for_plain_errors(response).await;
    tracing::info!(
        %method,
        path = %logged_path(&path),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        request_id = %request_id,
        "request"
    );
    response
}

/// A path as it is logged: a segment that may hold a BSN (an id asked
/// for by a number, `Patient/999911120`, also percent-encoded) becomes
/// `[redacted]`.
fn logged_path(path: &str) -> String {
    let holds_bsn = |segment: &str| crate::fhir::bsn::holds_bsn(&percent_decoded(segment));
    if !holds_bsn(path) {
        return path.to_owned();
    }
    path.split('/').map(|segment| if holds_bsn(segment) { "[redacted]" } else { segment }).collect::<Vec<_>>().join("/")
}

/// `%xx` escapes decoded (anything else kept as it is).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes.get(i), bytes.get(i + 1..i + 3)) {
            (Some(b'%'), Some(hex)) => std::str::from_utf8(hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok()),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.extend(bytes.get(i).copied());
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/{tenant}/ingest/{vendor}`: a delivery, which has its own time limit.
fn is_delivery(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some(_), Some("ingest"), Some(_), None)
    )
}

/// `30 s`, or `250 ms` for a limit that is not whole seconds.
fn seconds_or_milliseconds(duration: std::time::Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// Errors produced by the framework (an unknown route, a malformed path)
/// come back as OperationOutcome like all others.
async fn outcome_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    let is_fhir = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/fhir+"));
    if status.as_u16() < 400 || is_fhir {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => IssueCode::TooLong,
        StatusCode::NOT_FOUND => IssueCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => IssueCode::NotSupported,
        s if s.is_server_error() => IssueCode::Exception,
        _ => IssueCode::Invalid,
    };
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text.into_owned()
    };
    let mut fhir = ApiError::new(status, code, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fhir.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fhir
}

pub(super) async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!("There is nothing at {}", request.uri().path()))
}

pub(super) async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::method_not_allowed(format!("{} is not supported on {}", request.method(), request.uri().path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_path_never_holds_a_bsn() {
        for (path, logged) in [
            ("/demo/fhir/Patient", "/demo/fhir/Patient"),
            (
                "/demo/fhir/Patient/0b6d6c8e-4a1f-4c59-9b43-1d0f6a1e2f3a",
                "/demo/fhir/Patient/0b6d6c8e-4a1f-4c59-9b43-1d0f6a1e2f3a",
            ),
            ("/demo/fhir/Patient/999911121", "/demo/fhir/Patient/999911121"),
            ("/demo/fhir/Patient/999911120", "/demo/fhir/Patient/[redacted]"),
            ("/demo/fhir/Patient/999911120/_history/2", "/demo/fhir/Patient/[redacted]/_history/2"),
            ("/demo/fhir/Patient/%39%39%399111%320", "/demo/fhir/Patient/[redacted]"),
            ("/demo/fhir/Patient/%zz", "/demo/fhir/Patient/%zz"),
            ("/demo/ingest/pluriform", "/demo/ingest/pluriform"),
        ] {
            assert_eq!(logged_path(path), logged, "{path}");
        }
    }
}
