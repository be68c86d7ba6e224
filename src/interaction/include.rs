//! `_include` and `_revinclude` (R4 search §3.1.1.5.4): the resources
//! related to a page of matches, added to that page. Each included type is
//! decided on like a read: a type the requester may not read is left out,
//! and the visibility of the requester applies inside every query.

use std::collections::HashSet;

use crate::access::{self, Decision, Interaction, RequestContext};
use crate::fhir::{ResourceId, ResourceType};
use crate::search::{Inclusion, InclusionDirection};
use crate::store::{self, Store, StoredResource};

/// How many times `:iterate` inclusions are repeated on what they added.
const MAX_ITERATIONS: usize = 4;

/// The resources added to one page.
#[derive(Debug, Default)]
pub struct Included {
    /// Each at most once, and none that is also a match.
    pub resources: Vec<StoredResource>,
    /// More would have been included than the limit allows.
    pub truncated: bool,
}

type Key = (ResourceType, ResourceId);

fn key(stored: &StoredResource) -> Key {
    (stored.resource_type, stored.id.clone())
}

/// Follows `inclusions` from `matches`, adding at most `limit` resources.
pub async fn related(
    store: &dyn Store,
    context: &RequestContext,
    inclusions: &[Inclusion],
    matches: &[StoredResource],
    limit: usize,
) -> store::Result<Included> {
    let mut seen: HashSet<Key> = matches.iter().map(key).collect();
    let mut included = Included::default();
    let mut frontier: Vec<Key> = matches.iter().map(key).collect();
    for round in 0..MAX_ITERATIONS {
        let mut added = Vec::new();
        for inclusion in inclusions.iter().filter(|i| round == 0 || i.iterate) {
            // One more than fits, to know whether anything was left out.
            let room = limit + 1 - included.resources.len() - added.len();
            for stored in follow(store, context, inclusion, &frontier, room).await? {
                if seen.insert(key(&stored)) {
                    added.push(stored);
                }
            }
            if included.resources.len() + added.len() > limit {
                added.truncate(limit - included.resources.len());
                included.truncated = true;
                included.resources.extend(added);
                return Ok(included);
            }
        }
        if added.is_empty() {
            break;
        }
        frontier = added.iter().map(key).collect();
        included.resources.extend(added);
    }
    Ok(included)
}

/// One inclusion, one step: what it adds to `from`.
async fn follow(
    store: &dyn Store,
    context: &RequestContext,
    inclusion: &Inclusion,
    from: &[Key],
    limit: usize,
) -> store::Result<Vec<StoredResource>> {
    let tenant = &context.tenant;
    let starts: Vec<&Key> = from.iter().filter(|(t, _)| inclusion.starts_from(*t)).collect();
    if starts.is_empty() {
        return Ok(Vec::new());
    }
    match inclusion.direction {
        InclusionDirection::Include => {
            let ids: Vec<ResourceId> = starts.into_iter().map(|(_, id)| id.clone()).collect();
            let targets = store.reference_targets(tenant, inclusion.source, &ids, inclusion.param).await?;
            let mut found = Vec::new();
            for target_type in distinct_types(&targets) {
                if inclusion.target.is_some_and(|t| t != target_type) {
                    continue;
                }
                let ids: Vec<ResourceId> =
                    targets.iter().filter(|(t, _)| *t == target_type).map(|(_, id)| id.clone()).collect();
                if let Some(visibility) = readable(context, target_type) {
                    let visible = store.read_many(tenant, target_type, &ids, &visibility).await?;
                    found.extend(visible.into_iter().map(|stored| super::served(stored, &visibility)));
                }
                if found.len() >= limit {
                    break;
                }
            }
            found.truncate(limit);
            Ok(found)
        }
        InclusionDirection::RevInclude => {
            let Some(visibility) = readable(context, inclusion.source) else { return Ok(Vec::new()) };
            let targets: Vec<Key> = starts.into_iter().cloned().collect();
            let limit = u32::try_from(limit).unwrap_or(u32::MAX);
            let visible =
                store.referencing(tenant, inclusion.source, inclusion.param, &targets, &visibility, limit).await?;
            Ok(visible.into_iter().map(|stored| super::served(stored, &visibility)).collect())
        }
    }
}

fn distinct_types(targets: &[Key]) -> Vec<ResourceType> {
    let mut types: Vec<ResourceType> = targets.iter().map(|(t, _)| *t).collect();
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    types
}

/// The visibility for reading `resource_type`, or `None` when the requester
/// may not read it at all.
fn readable(context: &RequestContext, resource_type: ResourceType) -> Option<crate::access::Visibility> {
    match access::decide(context, resource_type, Interaction::Read) {
        Decision::Permit(visibility) => Some(visibility),
        Decision::Deny(_) => None,
    }
}
