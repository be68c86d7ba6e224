//! Building the [`RequestContext`] of a FHIR request: the tenant from the
//! path, the principal and scopes from the bearer token, the app, the
//! remote address and the request id.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::access::{PersonPrincipal, PersonRef, Principal, RequestContext};
use crate::auth::scope::Scopes;
use crate::auth::token;
use crate::fhir::{ResourceId, TenantCode};

use super::AppState;
use super::error::ApiError;

/// The tenant of the request path (`/{tenant}/fhir/...`), if configured.
pub fn tenant_of(state: &AppState, path: &str) -> Result<TenantCode, ApiError> {
    let segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    state
        .config()
        .tenant(segment)
        .map(|t| t.code.clone())
        .ok_or_else(|| ApiError::not_found(format!("There is no tenant '{segment}' on this server")))
}

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tenant = tenant_of(state, parts.uri.path())?;
        let presented = bearer_token(parts)?;
        if !token::looks_like_token(presented) {
            return Err(ApiError::unauthorized(Some("invalid_token"), "The access token is not valid"));
        }
        let database = state.freshness().state(&tenant).await?;
        let record = state.tokens().find(&tenant, &token::hash(presented), database.access_epoch).await?;
        let now = state.clock().now();
        let record = match record {
            Some(r) if !r.revoked && r.expires_at > now.timestamp_millis() && r.tenant == tenant => r,
            // One message for unknown, revoked, expired and other-tenant
            // tokens: the reason is not the caller's business.
            _ => return Err(ApiError::unauthorized(Some("invalid_token"), "The access token is not valid")),
        };
        let scopes = Scopes::parse(&record.scope).unwrap_or_default();
        let principal = match PersonRef::parse(&record.subject) {
            None => Principal::System { subject: record.subject },
            Some(user) => {
                let patient = record.patient.as_deref().and_then(|p| ResourceId::parse(p).ok());
                let Some(patient) = patient else {
                    return Err(ApiError::unauthorized(Some("invalid_token"), "The access token is not valid"));
                };
                let today = state.clock().today_in_amsterdam();
                let access = state.persons().access(&tenant, &user, database.last_change, today).await?;
                Principal::Person { person: PersonPrincipal { user, patient }, access }
            }
        };
        let remote_addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Ok(RequestContext {
            tenant,
            principal,
            scopes,
            client_id: record.client_id,
            remote_addr,
            request_id,
            received_at: now,
            seen_change: database.last_change,
        })
    }
}

fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(None, "This endpoint needs a bearer token (Authorization: Bearer ...)")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized(Some("invalid_request"), "Malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => {
            Err(ApiError::unauthorized(Some("invalid_request"), "Use the Bearer scheme: Authorization: Bearer <token>"))
        }
    }
}
