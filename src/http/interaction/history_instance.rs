//! FHIR history (instance): https://hl7.org/fhir/R4/http.html#history

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{permit, resource_id, resource_type, served, visible};
use crate::access::{Admission, Interaction, MessageFacts, RecordFacts, RequestContext, Visibility};
use crate::fhir::DataCategory;
use crate::http::AppState;
use crate::http::bundle::{Bundle, Entry};
use crate::http::error::ApiError;
use crate::http::query_pairs;
use crate::http::response::fhir_json;
use crate::store::{HistoryPage, StoredResource};

pub async fn history_instance(
    State(state): State<AppState>,
    context: RequestContext,
    Path((_tenant, type_name, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let resource_type = resource_type(&type_name)?;
    let id = resource_id(&id)?;
    let visibility = permit(&context, resource_type, Interaction::HistoryInstance)?;
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
    let store = state.store();
    let current = store.read(&context.tenant, resource_type, &id).await?;
    let page = if visibility.is_person() {
        // A person sees the versions they could see, each on its own.
        visible(store, &context, current, &visibility).await?;
        let all = store.history(&context.tenant, resource_type, &id, PERSON_HISTORY_LIMIT, 0).await?;
        let seen: Vec<StoredResource> = all
            .versions
            .into_iter()
            .filter(|v| version_visible(v, &visibility))
            .map(|v| served(v, &visibility))
            .collect();
        let total = seen.len() as u64;
        let versions =
            seen.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(count as usize).collect();
        HistoryPage { total, versions }
    } else {
        // The current version decides visibility of the whole history.
        visible(store, &context, current, &visibility).await?;
        store.history(&context.tenant, resource_type, &id, count, offset).await?
    };
    let base = state.fhir_base(&context.tenant);
    let link = |offset: u64| format!("{base}/{resource_type}/{id}/_history?_count={count}&_offset={offset}");
    let mut bundle = Bundle::new("history").total(page.total).link("self", link(offset));
    if offset + u64::from(count) < page.total && count > 0 {
        bundle = bundle.link("next", link(offset + u64::from(count)));
    }
    for version in page.versions {
        bundle.push(Entry::version(&base, served(version, &visibility)));
    }
    Ok(fhir_json(StatusCode::OK, bundle.to_json()))
}

/// The most versions of one record a person's history looks through.
const PERSON_HISTORY_LIMIT: u32 = 1000;

/// Whether one version is visible on its own: its client, category and
/// (for a message) participants as that version had them. Deletions are
/// never shown to a person.
fn version_visible(version: &StoredResource, visibility: &Visibility) -> bool {
    let Some(content) = &version.content else { return false };
    let message = (version.category == DataCategory::Messages).then(|| MessageFacts::of(content));
    let facts = RecordFacts {
        resource_type: version.resource_type,
        id: &version.id,
        client: version.client.as_ref(),
        category: version.category,
        message: message.as_ref(),
        content: Some(content),
    };
    // A directory entry: the current version was found referenced above.
    visibility.admits(facts) != Admission::Refused
}
