//! search (type level), with `_include` and `_revinclude`
//! (https://hl7.org/fhir/R4/search.html): the page of matches and what it
//! brings along, each as the requester may see it.

use super::include::{self, Included};
use super::{Error, Result, Sources, permit, served};
use crate::access::{Interaction, RequestContext, Visibility, VisibleRecords};
use crate::fhir::ResourceType;
use crate::search::{self, Handling, SearchLimits, SearchRequest};
use crate::store::{ErrorKind, SearchPage};

/// A search done: the request as understood, one page of matches and the
/// resources included with it, all as served.
#[derive(Debug)]
pub struct Searched {
    pub request: SearchRequest,
    pub page: SearchPage,
    pub included: Included,
}

/// Runs a search: decided on first, then the page (from a new search, or
/// from the snapshot a paging link names), then its includes; at most
/// `include_limit` included resources.
pub async fn search(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    params: &[(String, String)],
    handling: Handling,
    limits: SearchLimits,
    include_limit: usize,
) -> Result<Searched> {
    let visibility = permit(context, resource_type, Interaction::Search)?;
    refuse_hidden_criteria(&visibility, resource_type, params)?;
    let request = search::parse(resource_type, params, handling, limits).map_err(|e| Error::Invalid(e.0))?;
    visibility.admits_named_clients(resource_type, request.named_clients().into_iter()).map_err(Error::Denied)?;
    let page = match &request.snapshot {
        None => {
            sources.searches.search(sources.store, &context.tenant, &request, &visibility, context.seen_change).await?
        }
        Some(snapshot) => sources
            .store
            .snapshot_page(&context.tenant, resource_type, snapshot, request.offset, request.count, &visibility)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => Error::Gone("This search has expired or is not known here; run it again".into()),
                _ => e.into(),
            })?,
    };
    let included = match request.inclusions.is_empty() {
        true => Included::default(),
        false => include::related(sources.store, context, &request.inclusions, &page.resources, include_limit).await?,
    };
    let resources = page.resources.into_iter().map(|stored| served(stored, &visibility)).collect();
    Ok(Searched { page: SearchPage { resources, ..page }, request, included })
}

/// A person who sees a client's Patient as the identity view only may not
/// search on what the view hides: a BSN, address or GP cannot be tested.
fn refuse_hidden_criteria(
    visibility: &Visibility,
    resource_type: ResourceType,
    params: &[(String, String)],
) -> Result<()> {
    let VisibleRecords::Person(person) = visibility.records() else { return Ok(()) };
    if resource_type != ResourceType::Patient || person.identity_only.is_empty() {
        return Ok(());
    }
    match params.iter().find(|(name, _)| crate::access::patient_view::hides_search_parameter(name)) {
        Some((name, _)) => Err(Error::Refused(format!(
            "you may see who the client is (name, gender, birth date), so '{name}' cannot be searched"
        ))),
        None => Ok(()),
    }
}
