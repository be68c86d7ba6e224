//! create, update and delete (https://hl7.org/fhir/R4/http.html#create,
//! #update, #delete): decided on first; an update or delete must find a
//! record the requester may see, and an update may not move it to another
//! client.

use serde_json::Value;

use super::{Error, Result, Sources, check_relocation, permit, served, visible};
use crate::access::{Interaction, RequestContext};
use crate::fhir::{ResourceId, ResourceType, VersionId};
use crate::store::{self, ErrorKind, WriteOp, WriteOutcome};

/// Creates a record with a new id; the written version as served.
pub async fn create(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    resource: Value,
) -> Result<store::StoredResource> {
    let visibility = permit(context, resource_type, Interaction::Create)?;
    let prepared = store::prepare(resource_type, ResourceId::generate(), resource)?;
    let outcome = sources.store.write(&context.tenant, vec![WriteOp::Create(prepared)], context.received_at).await?;
    match outcome.into_iter().next() {
        Some(WriteOutcome::Created(stored)) => Ok(served(stored, &visibility)),
        _ => Err(store::Error::new(ErrorKind::Internal, "create wrote no resource").into()),
    }
}

/// Updates a record the requester may see (ids are the server's: an
/// unknown id is refused); the written version as served.
pub async fn update(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    id: ResourceId,
    resource: Value,
    if_match: Option<VersionId>,
) -> Result<store::StoredResource> {
    let visibility = permit(context, resource_type, Interaction::Update)?;
    let current = sources.store.read(&context.tenant, resource_type, &id).await.map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::NotAssigned(format!(
            "{resource_type}/{id} does not exist, and ids are assigned by this server: create it with POST"
        )),
        _ => e.into(),
    })?;
    let current = visible(sources.store, context, current, &visibility).await?;
    let prepared = store::prepare(resource_type, id, resource)?;
    check_relocation(&current, &prepared)?;
    let op = WriteOp::Update { resource: prepared, if_match };
    let outcome = sources.store.write(&context.tenant, vec![op], context.received_at).await?;
    match outcome.into_iter().next() {
        Some(WriteOutcome::Updated(stored) | WriteOutcome::Unchanged(stored)) => Ok(served(stored, &visibility)),
        _ => Err(store::Error::new(ErrorKind::Internal, "update wrote no resource").into()),
    }
}

/// Deletes a record the requester may see; the tombstone, when one was
/// written.
pub async fn delete(
    sources: Sources<'_>,
    context: &RequestContext,
    resource_type: ResourceType,
    id: ResourceId,
) -> Result<Option<store::StoredResource>> {
    let visibility = permit(context, resource_type, Interaction::Delete)?;
    let current = sources.store.read(&context.tenant, resource_type, &id).await?;
    visible(sources.store, context, current, &visibility).await?;
    let op = WriteOp::Delete { resource_type, id };
    let outcome = sources.store.write(&context.tenant, vec![op], context.received_at).await?;
    Ok(match outcome.into_iter().next() {
        Some(WriteOutcome::Deleted(stored)) => Some(stored),
        _ => None,
    })
}

/// The checks a transaction or batch entry that updates or deletes gets,
/// as the single interactions do: the record must be visible to the
/// requester, and an update may not move it to another client. An unknown
/// record is left to the store to answer.
pub async fn check_existing(sources: Sources<'_>, context: &RequestContext, op: &WriteOp) -> Result<()> {
    let (resource_type, id, prepared) = match op {
        WriteOp::Create(_) => return Ok(()),
        WriteOp::Update { resource, .. } => (resource.resource_type, &resource.id, Some(resource)),
        WriteOp::Delete { resource_type, id } => (*resource_type, id, None),
    };
    let current = match sources.store.read(&context.tenant, resource_type, id).await {
        Ok(current) => current,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let interaction = if prepared.is_some() { Interaction::Update } else { Interaction::Delete };
    let visibility = permit(context, resource_type, interaction)?;
    let current = visible(sources.store, context, current, &visibility).await?;
    match prepared {
        Some(prepared) => check_relocation(&current, prepared),
        None => Ok(()),
    }
}
