//! The access decision of an interaction, and the one path by which a
//! stored record is judged and served.

use super::{Error, Result};
use crate::access::{self, Admission, Decision, Interaction, MessageFacts, RecordFacts, RequestContext, Visibility};
use crate::fhir::{DataCategory, ResourceType, VersionId};
use crate::store::{PreparedResource, Store, StoredResource};

/// Asks `access` for a decision on `interaction` with `resource_type`.
pub fn permit(context: &RequestContext, resource_type: ResourceType, interaction: Interaction) -> Result<Visibility> {
    match access::decide(context, resource_type, interaction) {
        Decision::Permit(visibility) => Ok(visibility),
        Decision::Deny(reason) => Err(Error::Denied(reason)),
    }
}

/// A stored version the requester may see, in the form they may see it
/// (`served`); else 404, as if it did not exist. For a person the rules
/// that look inside a record (message participants, a scope refinement, a
/// directory entry seen through what refers to it) are applied here as the
/// store applies them inside its queries. A deletion is shown to a person
/// (410) only when they could see the record's last live version; else it
/// is 404.
pub async fn visible(
    store: &dyn Store,
    context: &RequestContext,
    stored: StoredResource,
    visibility: &Visibility,
) -> Result<StoredResource> {
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
        return Err(Error::NotFound(format!("{}/{} is not known", stored.resource_type, stored.id)));
    }
    Ok(served(stored, visibility))
}

/// Whether `visibility` admits one stored version.
async fn admitted(
    store: &dyn Store,
    context: &RequestContext,
    stored: &StoredResource,
    visibility: &Visibility,
) -> Result<bool> {
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
pub fn check_relocation(current: &StoredResource, prepared: &PreparedResource) -> Result<()> {
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
        Relocation::Client { .. } => Err(Error::Conflict(format!(
            "{}/{} belongs to another client than this content names; a record cannot move to another client",
            current.resource_type, current.id
        ))),
    }
}
