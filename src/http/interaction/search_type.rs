//! FHIR search (type level), by GET and by POST `_search`:
//! https://hl7.org/fhir/R4/http.html#search

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use super::{prefer, resource_type, sources};
use crate::access::RequestContext;
use crate::fhir::ResourceType;
use crate::fhir::outcome::{Issue, IssueCode, operation_outcome};
use crate::http::AppState;
use crate::http::bundle::{Bundle, Entry};
use crate::http::error::ApiError;
use crate::http::query_pairs;
use crate::http::response::fhir_json;
use crate::search::{Handling, SearchLimits, SearchRequest};

/// `GET [base]/[type]?params`
pub async fn search_get(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let params = query_pairs(query.as_deref());
    let bundle = perform(&state, &context, resource_type, &headers, params).await?;
    Ok(fhir_json(StatusCode::OK, bundle))
}

/// `POST [base]/[type]/_search` with form-encoded parameters (and any in
/// the URL): the same results as GET, and the way to search by BSN, since
/// no parameter sent in the body ends up in a URL or a log line.
pub async fn search_post(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            IssueCode::NotSupported,
            "POST _search takes application/x-www-form-urlencoded parameters",
        ));
    }
    let mut params = query_pairs(query.as_deref());
    let body = std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("The form body is not UTF-8"))?;
    params.extend(query_pairs(Some(body)));
    let bundle = perform(&state, &context, resource_type, &headers, params).await?;
    Ok(fhir_json(StatusCode::OK, bundle))
}

/// Runs a search and returns the searchset Bundle as JSON.
pub async fn perform(
    state: &AppState,
    context: &RequestContext,
    resource_type: ResourceType,
    headers: &HeaderMap,
    params: Vec<(String, String)>,
) -> Result<String, ApiError> {
    let handling = match prefer(headers, "handling") {
        Some("strict") => Handling::Strict,
        _ => Handling::Lenient,
    };
    let limits = state.config().limits;
    let include_limit = limits.max_page_size as usize;
    let limits = SearchLimits { default_count: limits.default_page_size, max_count: limits.max_page_size };
    let crate::interaction::Searched { request, page, included } =
        crate::interaction::search(sources(state), context, resource_type, &params, handling, limits, include_limit)
            .await?;
    let base = state.fhir_base(&context.tenant);
    let link = |offset: u64| match &page.snapshot {
        Some(snapshot) => snapshot_link(&base, &request, snapshot, offset),
        None => page_link(&base, &request, offset),
    };
    let self_link = match &request.snapshot {
        Some(snapshot) => snapshot_link(&base, &request, snapshot, request.offset),
        None => page_link(&base, &request, request.offset),
    };
    let mut bundle = Bundle::new("searchset").total(page.total).link("self", self_link);
    let next = request.offset + u64::from(request.count);
    if request.count > 0 && !request.summary_count && next < page.total {
        bundle = bundle.link("next", link(next));
    }
    if request.offset > 0 && request.count > 0 {
        bundle = bundle.link("previous", link(request.offset.saturating_sub(u64::from(request.count))));
    }
    let elements = request.elements.as_deref();
    for stored in page.resources {
        bundle.push(Entry::matched(&base, stored, elements));
    }
    for stored in included.resources {
        bundle.push(Entry::included(&base, stored, elements));
    }
    if included.truncated {
        let warning = Issue::warning(
            IssueCode::TooCostly,
            "More resources would be included than one page may hold; the included ones are incomplete. \
             Use a smaller _count.",
        );
        bundle.push(Entry::search_outcome(&operation_outcome(&[warning])));
    }
    Ok(bundle.to_json())
}

/// A link to a page of a snapshot: no criteria, so nothing sensitive.
fn snapshot_link(base: &str, request: &SearchRequest, snapshot: &str, offset: u64) -> String {
    let mut link =
        format!("{base}/{}?_snapshot={snapshot}&_count={}&_offset={offset}", request.resource_type, request.count);
    if let Some(elements) = &request.elements {
        // Element names are letters and digits only.
        link.push_str(&format!("&_elements={}", elements.join(",")));
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for inclusion in &request.inclusions {
        query.append_pair(inclusion.param_name(), &inclusion.value());
    }
    let query = query.finish();
    if !query.is_empty() {
        link.push('&');
        link.push_str(&query);
    }
    link
}

/// A link to one page: the understood parameters, the page size and position.
fn page_link(base: &str, request: &SearchRequest, offset: u64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in request.linkable_params().filter(|(name, _)| name != "_count") {
        query.append_pair(name, value);
    }
    query.append_pair("_count", &request.count.to_string());
    if offset > 0 {
        query.append_pair("_offset", &offset.to_string());
    }
    format!("{base}/{}?{}", request.resource_type, query.finish())
}
