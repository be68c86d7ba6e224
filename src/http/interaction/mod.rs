//! The FHIR REST interactions, one file each: https://hl7.org/fhir/R4/http.html

pub mod capabilities;
pub mod create;
pub mod delete;
pub mod history_instance;
pub mod include;
pub mod read;
pub mod search_type;
pub mod transaction;
pub mod update;
pub mod validate;
pub mod vread;

use axum::http::HeaderMap;

use crate::access::{self, Admission, Decision, Interaction, MessageFacts, RecordFacts, RequestContext, Visibility};
use crate::fhir::{DataCategory, ResourceId, ResourceType, VersionId};
use crate::store::{Store, StoredResource};

use super::error::ApiError;

/// A served resource type from the path, or 404.
pub fn resource_type(name: &str) -> Result<ResourceType, ApiError> {
    name.parse().map_err(|_| ApiError::not_found(format!("'{name}' is not a resource type served here")))
}

/// A logical id from the path, or 400.
pub fn resource_id(id: &str) -> Result<ResourceId, ApiError> {
    ResourceId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Asks `access` for a decision; a denial is 403.
pub fn permit(
    context: &RequestContext,
    resource_type: ResourceType,
    interaction: Interaction,
) -> Result<Visibility, ApiError> {
    match access::decide(context, resource_type, interaction) {
        Decision::Permit(visibility) => Ok(visibility),
        Decision::Deny(reason) => Err(ApiError::forbidden(format!("Not allowed: {reason}"))),
    }
}

/// A stored version the requester may see, in the form they may see it
/// (`served`); else 404, as if it did not exist. For a person the rules
/// that look inside a record (message participants, a directory entry
/// seen through what refers to it) are applied here as the store applies
/// them inside its queries. A deletion is shown to a person (410) only
/// when they could see the record's last live version; else it is 404.
pub async fn visible(
    store: &dyn Store,
    context: &RequestContext,
    stored: StoredResource,
    visibility: &Visibility,
) -> Result<StoredResource, ApiError> {
    let hidden = || ApiError::not_found(format!("{}/{} is not known", stored.resource_type, stored.id));
    let judged = match (visibility.is_person() && stored.is_deleted(), stored.version.0 > 1) {
        (true, true) => {
            let last_live = VersionId(stored.version.0 - 1);
            let last_live = store.vread(&context.tenant, stored.resource_type, &stored.id, last_live).await?;
            !last_live.is_deleted() && admitted(store, context, &last_live, visibility).await?
        }
        (true, false) => false,
        (false, _) => admitted(store, context, &stored, visibility).await?,
    };
    if !judged {
        return Err(hidden());
    }
    Ok(served(stored, visibility))
}

/// Whether `visibility` admits one stored version.
async fn admitted(
    store: &dyn Store,
    context: &RequestContext,
    stored: &StoredResource,
    visibility: &Visibility,
) -> Result<bool, ApiError> {
    let message = match (&stored.content, stored.category) {
        (Some(content), DataCategory::Messages) => Some(MessageFacts::of(content)),
        _ => None,
    };
    let facts = RecordFacts {
        resource_type: stored.resource_type,
        id: &stored.id,
        client: stored.client.as_ref(),
        category: stored.category,
        message: message.as_ref(),
        content: stored.content.as_deref(),
    };
    Ok(match visibility.admits(facts) {
        Admission::Admitted => true,
        Admission::Refused => false,
        Admission::IfReferenced => !store
            .read_many(&context.tenant, stored.resource_type, std::slice::from_ref(&stored.id), visibility)
            .await?
            .is_empty(),
    })
}

/// A visible record in the form the requester may see it: for care-side
/// readers a private agenda item reduced to when it is; for a person, a
/// Patient whose client granted identity only as the identity view.
/// Everything served passes through here.
pub fn served(mut stored: StoredResource, visibility: &Visibility) -> StoredResource {
    if let Some(content) = stored.content.take() {
        stored.content = visibility.served_content(stored.resource_type, stored.client.as_ref(), content);
    }
    stored
}

/// Checks what an update does to where a record sits: a new category is
/// logged, a move to another client refused (409), so that no update hands
/// a record to other people unnoticed.
pub fn check_relocation(current: &StoredResource, prepared: &crate::store::PreparedResource) -> Result<(), ApiError> {
    use crate::access::relocation::{Relocation, relocation};
    match relocation(current.client.as_ref(), current.category, &prepared.classification) {
        Relocation::None => Ok(()),
        Relocation::Category { from, to } => {
            tracing::info!(
                resource = %format!("{}/{}", current.resource_type, current.id),
                from = from.code(),
                to = to.code(),
                "update changes the data category"
            );
            Ok(())
        }
        Relocation::Client { .. } => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            crate::fhir::outcome::IssueCode::Conflict,
            format!(
                "{}/{} belongs to another client than this content names; a record cannot move to another client",
                current.resource_type, current.id
            ),
        )),
    }
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
