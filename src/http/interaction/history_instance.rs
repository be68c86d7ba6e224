//! FHIR history (instance): https://hl7.org/fhir/R4/http.html#history

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{resource_id, resource_type, sources};
use crate::access::RequestContext;
use crate::http::AppState;
use crate::http::bundle::{Bundle, Entry};
use crate::http::error::ApiError;
use crate::http::query_pairs;
use crate::http::response::fhir_json;

pub async fn history_instance(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let limits = state.config().limits;
    let (mut count, mut offset) = (limits.default_page_size, 0);
    for (name, value) in query_pairs(query.as_deref()) {
        let bad = || ApiError::bad_request(format!("{name} must be a whole number, not '{value}'"));
        match name.as_str() {
            "_count" => count = value.parse::<u32>().map_err(|_| bad())?.min(limits.max_page_size),
            "_offset" => offset = value.parse().map_err(|_| bad())?,
            _ => {}
        }
    }
    let page =
        crate::interaction::history_instance(sources(&state), &context, resource_type, &id, count, offset).await?;
    let base = state.fhir_base(&context.tenant);
    let link = |offset: u64| format!("{base}/{resource_type}/{id}/_history?_count={count}&_offset={offset}");
    let mut bundle = Bundle::new("history").total(page.total).link("self", link(offset));
    if offset + u64::from(count) < page.total && count > 0 {
        bundle = bundle.link("next", link(offset + u64::from(count)));
    }
    for version in page.versions {
        bundle.push(Entry::version(&base, version));
    }
    Ok(fhir_json(StatusCode::OK, bundle.to_json()))
}
