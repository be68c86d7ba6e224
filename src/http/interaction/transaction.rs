//! FHIR transaction and batch: https://hl7.org/fhir/R4/http.html#transaction
//!
//! A transaction is all or nothing: every entry is checked and prepared
//! first, then all writes go to the store in one database transaction.
//! POST entries get server ids, and references to their `fullUrl`
//! (`urn:uuid:...`) are rewritten. A batch runs each entry on its own.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{resource_id, resource_type};
use crate::access::{Interaction, RequestContext};
use crate::fhir::classify::Classification;
use crate::fhir::datetime::format_instant;
use crate::fhir::{ResourceId, ResourceType, VersionId};
use crate::http::bundle::{Bundle, Entry, EntryResponse, outcome_raw};
use crate::http::error::ApiError;
use crate::http::response::{etag, fhir_json};
use crate::http::{AppState, body::FhirJson, query_pairs};
use crate::store::{self, StoredResource, WriteOp, WriteOutcome};

/// One entry's request, parsed.
#[derive(Debug, Clone)]
enum EntryRequest {
    Create { resource_type: ResourceType, resource: Value },
    Update { resource_type: ResourceType, id: ResourceId, resource: Value, if_match: Option<VersionId> },
    Delete { resource_type: ResourceType, id: ResourceId },
    Read { resource_type: ResourceType, id: ResourceId },
    Search { resource_type: ResourceType, params: Vec<(String, String)> },
}

pub async fn transaction_or_batch(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    FhirJson(bundle): FhirJson,
) -> Result<Response, ApiError> {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ApiError::bad_request("POST to the base takes a Bundle of type transaction or batch"));
    }
    let entries = match bundle.get("entry") {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => return Err(ApiError::bad_request("Bundle.entry must be an array").at("Bundle.entry")),
    };
    match bundle.get("type").and_then(Value::as_str) {
        Some("transaction") => transaction(&state, &context, &headers, entries).await,
        Some("batch") => batch(&state, &context, &headers, entries).await,
        other => Err(ApiError::bad_request(format!(
            "Bundle.type must be transaction or batch, not {}",
            other.unwrap_or("missing")
        ))
        .at("Bundle.type")),
    }
}

async fn transaction(
    state: &AppState,
    context: &RequestContext,
    headers: &HeaderMap,
    entries: Vec<Value>,
) -> Result<Response, ApiError> {
    // Checking and preparing hundreds of entries is CPU work: it runs off
    // the request threads, so that the time limit and other requests go on.
    let planning_context = context.clone();
    let TransactionPlan { indices, ops, reads } =
        tokio::task::spawn_blocking(move || plan_transaction(&planning_context, entries))
            .await
            .map_err(|e| ApiError::internal(&e))??;
    for op in &ops {
        crate::interaction::check_existing(super::sources(state), context, op).await?;
    }
    let outcomes = state.store().write(&context.tenant, ops, context.received_at).await?;
    // The reads come after the writes and see them.
    let context = &seeing(context, &outcomes);

    let mut responses: Vec<Option<Entry>> = (0..indices.len() + reads.len()).map(|_| None).collect();
    let base = state.fhir_base(&context.tenant);
    for (index, outcome) in indices.into_iter().zip(outcomes) {
        responses[index] = Some(write_entry(&base, outcome));
    }
    for (index, request) in reads {
        responses[index] = Some(read_entry(state, context, headers, request).await?);
    }
    let mut bundle = Bundle::new("transaction-response");
    for entry in responses.into_iter().flatten() {
        bundle.push(entry);
    }
    Ok(fhir_json(StatusCode::OK, bundle.to_json()))
}

/// The context of a request that made these writes: what it reads next
/// is at least as current as they are.
fn seeing(context: &RequestContext, outcomes: &[WriteOutcome]) -> RequestContext {
    let seen_change = outcomes.iter().filter_map(WriteOutcome::change).fold(context.seen_change, Ord::max);
    RequestContext { seen_change, ..context.clone() }
}

/// The writes of a transaction in the order they are applied (with the
/// index of each entry), and its reads.
struct TransactionPlan {
    indices: Vec<usize>,
    ops: Vec<WriteOp>,
    reads: Vec<(usize, EntryRequest)>,
}

fn plan_transaction(context: &RequestContext, mut entries: Vec<Value>) -> Result<TransactionPlan, ApiError> {
    // Server ids for POST entries, and their fullUrls rewritten everywhere.
    let mut new_ids: Vec<Option<ResourceId>> = Vec::with_capacity(entries.len());
    let mut replacements: HashMap<String, String> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let is_post = entry.pointer("/request/method").and_then(Value::as_str) == Some("POST");
        let id = is_post.then(ResourceId::generate);
        if let (Some(id), Some(full_url), Some(type_name)) = (
            &id,
            entry.get("fullUrl").and_then(Value::as_str),
            entry.pointer("/resource/resourceType").and_then(Value::as_str),
        ) && replacements.insert(full_url.to_owned(), format!("{type_name}/{id}")).is_some()
        {
            return Err(
                ApiError::bad_request(format!("fullUrl '{full_url}' appears twice")).at(format!("Bundle.entry[{i}]"))
            );
        }
        new_ids.push(id);
    }
    for entry in &mut entries {
        if let Some(resource) = entry.get_mut("resource") {
            rewrite_references(resource, &replacements);
        }
    }

    let mut writes: Vec<(usize, WriteOp)> = Vec::new();
    let mut reads: Vec<(usize, EntryRequest)> = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let at = |e: ApiError| e.at(format!("Bundle.entry[{i}]"));
        let request = parse_entry(entry).map_err(at)?;
        match prepare_write(context, request, new_ids[i].clone()).map_err(at)? {
            Prepared::Write(op) => writes.push((i, op)),
            Prepared::Read(request) => reads.push((i, request)),
        }
    }
    // R4 order: deletes, then creates and updates; resources whose access
    // follows another (Binary, Provenance) after the ones they follow.
    writes.sort_by_key(|(_, op)| match op {
        WriteOp::Delete { .. } => 0,
        WriteOp::Create(p) | WriteOp::Update { resource: p, .. } => match p.classification {
            Classification::Own { .. } => 1,
            Classification::SameAs(_) => 2,
        },
    });
    let (indices, ops) = writes.into_iter().unzip();
    Ok(TransactionPlan { indices, ops, reads })
}

async fn batch(
    state: &AppState,
    context: &RequestContext,
    headers: &HeaderMap,
    entries: Vec<Value>,
) -> Result<Response, ApiError> {
    let base = state.fhir_base(&context.tenant);
    let mut bundle = Bundle::new("batch-response");
    // Each entry sees the writes of the entries before it.
    let mut context = context.clone();
    for entry in entries {
        let context = &mut context;
        let result = async {
            let request = parse_entry(entry)?;
            let new_id = matches!(request, EntryRequest::Create { .. }).then(ResourceId::generate);
            match prepare_write(context, request, new_id)? {
                Prepared::Write(op) => {
                    crate::interaction::check_existing(super::sources(state), context, &op).await?;
                    let outcome = state.store().write(&context.tenant, vec![op], context.received_at).await?;
                    *context = seeing(context, &outcome);
                    let outcome = outcome
                        .into_iter()
                        .next()
                        .ok_or_else(|| ApiError::internal(&std::io::Error::other("no outcome")))?;
                    Ok(write_entry(&base, outcome))
                }
                Prepared::Read(request) => read_entry(state, context, headers, request).await,
            }
        }
        .await;
        bundle.push(result.unwrap_or_else(error_entry));
    }
    Ok(fhir_json(StatusCode::OK, bundle.to_json()))
}

fn parse_entry(entry: Value) -> Result<EntryRequest, ApiError> {
    let method = entry.pointer("/request/method").and_then(Value::as_str).unwrap_or("").to_owned();
    let url = entry.pointer("/request/url").and_then(Value::as_str).unwrap_or("").to_owned();
    let if_match = entry.pointer("/request/ifMatch").and_then(Value::as_str).map(super::version_of_etag).transpose()?;
    let resource = entry.get("resource").cloned();
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url.as_str(), None),
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let needs_resource =
        || resource.clone().ok_or_else(|| ApiError::bad_request(format!("{method} {url} needs a resource")));
    match (method.as_str(), segments.as_slice(), query) {
        ("POST", [type_name], None) => {
            Ok(EntryRequest::Create { resource_type: resource_type(type_name)?, resource: needs_resource()? })
        }
        ("PUT", [type_name, id], None) => Ok(EntryRequest::Update {
            resource_type: resource_type(type_name)?,
            id: resource_id(id)?,
            resource: needs_resource()?,
            if_match,
        }),
        ("DELETE", [type_name, id], None) => {
            Ok(EntryRequest::Delete { resource_type: resource_type(type_name)?, id: resource_id(id)? })
        }
        ("GET", [type_name, id], None) => {
            Ok(EntryRequest::Read { resource_type: resource_type(type_name)?, id: resource_id(id)? })
        }
        ("GET", [type_name], query) => {
            Ok(EntryRequest::Search { resource_type: resource_type(type_name)?, params: query_pairs(query) })
        }
        _ => Err(ApiError::bad_request(format!(
            "Unsupported entry request '{method} {url}': use POST Type, PUT Type/id, DELETE Type/id, GET Type/id or GET Type?params"
        ))),
    }
}

enum Prepared {
    Write(WriteOp),
    Read(EntryRequest),
}

fn prepare_write(
    context: &RequestContext,
    request: EntryRequest,
    new_id: Option<ResourceId>,
) -> Result<Prepared, ApiError> {
    Ok(match request {
        EntryRequest::Create { resource_type, resource } => {
            crate::interaction::permit(context, resource_type, Interaction::Create)?;
            let id = new_id.ok_or_else(|| ApiError::internal(&std::io::Error::other("no id for a create")))?;
            Prepared::Write(WriteOp::Create(store::prepare(resource_type, id, resource)?))
        }
        EntryRequest::Update { resource_type, id, resource, if_match } => {
            crate::interaction::permit(context, resource_type, Interaction::Update)?;
            if resource.get("id").and_then(Value::as_str) != Some(id.as_str()) {
                return Err(ApiError::bad_request(format!("The resource id must be '{id}', as in the request URL")));
            }
            Prepared::Write(WriteOp::Update { resource: store::prepare(resource_type, id, resource)?, if_match })
        }
        EntryRequest::Delete { resource_type, id } => {
            crate::interaction::permit(context, resource_type, Interaction::Delete)?;
            Prepared::Write(WriteOp::Delete { resource_type, id })
        }
        read => Prepared::Read(read),
    })
}

fn write_entry(base: &str, outcome: WriteOutcome) -> Entry {
    let with_status = |status: &str, stored: StoredResource| {
        let location = format!("{}/{}/_history/{}", stored.resource_type, stored.id, stored.version);
        let response = EntryResponse {
            status: status.to_owned(),
            location: Some(location),
            etag: Some(etag(&stored)),
            last_modified: chrono::DateTime::from_timestamp_millis(stored.last_updated).map(format_instant),
            outcome: None,
        };
        let full_url = crate::http::bundle::full_url(base, &stored);
        // Writers are care-side (persons do not write).
        let written = crate::access::internal(crate::access::InternalWork::WriteResult);
        let served = crate::interaction::served(stored, &written).content;
        Entry::response(Some(full_url), served, response)
    };
    match outcome {
        WriteOutcome::Created(stored) => with_status("201 Created", stored),
        WriteOutcome::Updated(stored) | WriteOutcome::Unchanged(stored) => with_status("200 OK", stored),
        WriteOutcome::Deleted(_) | WriteOutcome::AlreadyDeleted { .. } => Entry::response(
            None,
            None,
            EntryResponse {
                status: "204 No Content".into(),
                location: None,
                etag: None,
                last_modified: None,
                outcome: None,
            },
        ),
    }
}

async fn read_entry(
    state: &AppState,
    context: &RequestContext,
    headers: &HeaderMap,
    request: EntryRequest,
) -> Result<Entry, ApiError> {
    let ok = |resource: String, etag: Option<String>| {
        Entry::response(
            None,
            Some(resource),
            EntryResponse { status: "200 OK".into(), location: None, etag, last_modified: None, outcome: None },
        )
    };
    match request {
        EntryRequest::Read { resource_type, id } => {
            let stored = crate::interaction::read(super::sources(state), context, resource_type, &id).await?;
            if stored.is_deleted() {
                return Err(ApiError::gone(format!("{resource_type}/{id} was deleted")));
            }
            let tag = etag(&stored);
            Ok(ok(stored.content.unwrap_or_default(), Some(tag)))
        }
        EntryRequest::Search { resource_type, params } => {
            Ok(ok(super::search_type::perform(state, context, resource_type, headers, params).await?, None))
        }
        _ => Err(ApiError::internal(&std::io::Error::other("not a read"))),
    }
}

fn error_entry(error: ApiError) -> Entry {
    let status = error.status();
    let status_line = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    Entry::response(
        None,
        None,
        EntryResponse {
            status: status_line.trim().to_owned(),
            location: None,
            etag: None,
            last_modified: None,
            outcome: outcome_raw(&error.outcome()),
        },
    )
}

/// Replaces every string equal to a rewritten `fullUrl` (references and
/// attachment URLs alike).
fn rewrite_references(value: &mut Value, replacements: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(replacement) = replacements.get(s.as_str()) {
                *s = replacement.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_references(v, replacements)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite_references(v, replacements)),
        _ => {}
    }
}
