//! `POST /{tenant}/ingest/{vendor}`: a vendor system delivers a file over
//! HTTP, with a system token that holds the scope `ingest/<vendor>` (or
//! `ingest/*`). The body is streamed into a spool file (its own size limit,
//! `limits.max_delivery_bytes`, and time limit, `limits.ingest_timeout`),
//! then ingested exactly as `zorgpoort ingest` does; the answer is the same
//! summary as the CLI's `--json`.
//!
//! - 200: ingested (rejected records are in the summary, and kept);
//! - 422: the delivery was refused whole (framing, envelope, another
//!   organisation): nothing was written;
//! - 401/403: no valid token, or no ingest scope for this vendor;
//! - 404: no mapping for this vendor; 413: too large; 503: took too long.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::spool;
use crate::access::RequestContext;
use crate::fhir::outcome::IssueCode;
use crate::ingest::vendor::{self, VendorError};
use crate::ingest::{self, IngestError, Quiet};

#[derive(Debug, Deserialize)]
pub struct IngestParams {
    /// What Provenance and rejects call the delivery (the file name at the
    /// vendor, say); by default `<vendor>-<time received>-<hash>`.
    name: Option<String>,
}

pub async fn ingest_delivery(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, vendor)): Path<(String, String)>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !context.scopes.allows_ingest(&vendor) {
        return Err(ApiError::forbidden(format!(
            "This token has no scope to deliver for '{vendor}' (ingest/{vendor})"
        )));
    }
    if let Some(name) = &params.name
        && !is_delivery_name(name)
    {
        return Err(ApiError::bad_request("name: 1 to 200 letters, digits, '.', '-' or '_'").at("name"));
    }
    let mapping =
        Arc::new(vendor::load_mapping(state.config().mappings_dir.as_deref(), &vendor).map_err(|e| match e {
            VendorError::NotAName(_) | VendorError::Unknown { .. } => {
                ApiError::not_found(format!("There is no mapping for vendor '{vendor}' on this server"))
            }
            VendorError::Invalid(e) => ApiError::internal(&e),
        })?);
    let limit = state.config().limits.max_delivery_bytes;
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(spool::too_large(limit));
    }
    let spooled = spool::receive(&state.config().spool_dir, body, limit).await?;
    let name = params.name.unwrap_or_else(|| {
        format!("{vendor}-{}-{}", context.received_at.format("%Y%m%dT%H%M%SZ"), &spooled.sha256[..12])
    });
    tracing::info!(
        tenant = %context.tenant,
        vendor = %vendor,
        delivery = %name,
        bytes = spooled.bytes,
        subject = %context.principal.subject(),
        request_id = %context.request_id,
        "delivery received"
    );
    let store = state.shared_store();
    let summary = ingest::ingest_delivery(&store, &mapping, &context.tenant, spooled.path(), &name, &Quiet)
        .await
        .map_err(|e| match e {
            IngestError::Refused(refusal) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                IssueCode::Invalid,
                format!("Delivery refused: {}", refusal.0),
            ),
            IngestError::Store(e) => ApiError::from(e),
        })?;
    let answer = serde_json::json!({
        "delivery": name,
        "bytes": spooled.bytes,
        "sha256": spooled.sha256,
        "summary": summary,
    });
    Ok((StatusCode::OK, Json(answer)).into_response())
}

fn is_delivery_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}
