//! FHIR capabilities: https://hl7.org/fhir/R4/http.html#capabilities
//! `GET [base]/metadata` needs no token.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::fhir::capability::capability_statement;
use crate::http::AppState;
use crate::http::context::tenant_of;
use crate::http::error::ApiError;
use crate::http::response::fhir_json;

pub async fn capabilities(State(state): State<AppState>, OriginalUri(uri): OriginalUri) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, uri.path())?;
    let statement = capability_statement(&state.fhir_base(&tenant), env!("CARGO_PKG_VERSION"), state.started_at());
    Ok(fhir_json(StatusCode::OK, statement.to_string()))
}
