//! read, vread and history of one record
//! (https://hl7.org/fhir/R4/http.html#read, #vread, #history).

use super::{Result, Sources, permit, served, visible};
use crate::access::{Admission, Interaction, MessageFacts, RecordFacts, RequestContext, Visibility};
use crate::fhir::{DataCategory, ResourceId, ResourceType, VersionId};
use crate::store::{HistoryPage, StoredResource};

/// The most versions of one record a person's history looks through.
pub const HISTORY_LIMIT: u32 = 1000;

/// The current version as the requester may see it (a tombstone when
/// deleted: HTTP answers 410), through the resource cache.
pub async fn read(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    id: &ResourceId,
) -> Result<StoredResource> {
    let visibility = permit(context, resource_type, Interaction::Read)?;
    let stored = sources.resources.read(&context.tenant, resource_type, id, context.seen_change).await?;
    visible(sources.store, context, stored, &visibility).await
}

/// One version as the requester may see it, judged on its own.
pub async fn vread(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    id: &ResourceId,
    version: VersionId,
) -> Result<StoredResource> {
    let visibility = permit(context, resource_type, Interaction::Vread)?;
    let stored = sources.store.vread(&context.tenant, resource_type, id, version).await?;
    visible(sources.store, context, stored, &visibility).await
}

/// A page of a record's versions, newest first, as served. Care-side
/// readers see every version once the current one is visible to them; a
/// person sees the versions they could see, each judged on its own, and
/// never a deletion.
pub async fn history_instance(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    id: &ResourceId,
    count: u32,
    offset: u64,
) -> Result<HistoryPage> {
    let store = sources.store;
    let visibility = permit(context, resource_type, Interaction::HistoryInstance)?;
    let current = store.read(&context.tenant, resource_type, id).await?;
    visible(store, context, current, &visibility).await?;
    let page = if visibility.is_person() {
        let all = store.history(&context.tenant, resource_type, id, HISTORY_LIMIT, 0).await?;
        let seen: Vec<StoredResource> = all.versions.into_iter().filter(|v| version_visible(v, &visibility)).collect();
        let total = seen.len() as u64;
        let versions =
            seen.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(count as usize).collect();
        HistoryPage { total, versions }
    } else {
        store.history(&context.tenant, resource_type, id, count, offset).await?
    };
    let versions = page.versions.into_iter().map(|v| served(v, &visibility)).collect();
    Ok(HistoryPage { total: page.total, versions })
}

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
