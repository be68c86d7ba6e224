//! Bundles of stored resources (searchset, history, transaction-response).
//! Stored JSON goes into the bundle as it is, without being parsed again.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::fhir::datetime::format_instant;
use crate::store::StoredResource;

#[derive(Debug, Serialize)]
pub struct Bundle {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    id: String,
    meta: Meta,
    #[serde(rename = "type")]
    bundle_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry: Vec<Entry>,
}

#[derive(Debug, Serialize)]
struct Meta {
    #[serde(rename = "lastUpdated")]
    last_updated: String,
}

#[derive(Debug, Serialize)]
pub struct Link {
    relation: &'static str,
    url: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Entry {
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    full_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<EntrySearch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<EntryRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<EntryResponse>,
}

#[derive(Debug, Serialize)]
struct EntrySearch {
    mode: &'static str,
}

#[derive(Debug, Serialize)]
struct EntryRequest {
    method: &'static str,
    url: String,
}

#[derive(Debug, Serialize)]
pub struct EntryResponse {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Box<RawValue>>,
}

impl Bundle {
    pub fn new(bundle_type: &'static str) -> Self {
        Bundle {
            resource_type: "Bundle",
            id: uuid::Uuid::new_v4().to_string(),
            meta: Meta { last_updated: format_instant(chrono::Utc::now()) },
            bundle_type,
            total: None,
            link: Vec::new(),
            entry: Vec::new(),
        }
    }

    pub fn total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    pub fn link(mut self, relation: &'static str, url: String) -> Self {
        self.link.push(Link { relation, url });
        self
    }

    pub fn push(&mut self, entry: Entry) {
        self.entry.push(entry);
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("bundles serialise")
    }
}

fn raw(content: String) -> Option<Box<RawValue>> {
    // Stored content is JSON written by the store itself.
    RawValue::from_string(content).ok()
}

/// The server URL of a stored resource.
pub fn full_url(fhir_base: &str, stored: &StoredResource) -> String {
    format!("{fhir_base}/{}/{}", stored.resource_type, stored.id)
}

impl Entry {
    /// A search match, whole or with only some `elements`.
    pub fn matched(fhir_base: &str, stored: StoredResource, elements: Option<&[String]>) -> Self {
        Self::found(fhir_base, stored, elements, "match")
    }

    /// A resource added by `_include` or `_revinclude`.
    pub fn included(fhir_base: &str, stored: StoredResource, elements: Option<&[String]>) -> Self {
        Self::found(fhir_base, stored, elements, "include")
    }

    /// Warnings about the search itself (`search.mode = outcome`).
    pub fn search_outcome(outcome: &serde_json::Value) -> Self {
        Entry { resource: outcome_raw(outcome), search: Some(EntrySearch { mode: "outcome" }), ..Entry::default() }
    }

    fn found(fhir_base: &str, stored: StoredResource, elements: Option<&[String]>, mode: &'static str) -> Self {
        let full_url = full_url(fhir_base, &stored);
        let content = match (stored.content.clone(), elements) {
            (Some(content), Some(elements)) => serde_json::from_str::<serde_json::Value>(&content).ok().map(|mut r| {
                crate::fhir::meta::subset(&mut r, elements);
                r.to_string()
            }),
            (content, _) => content,
        };
        Entry {
            full_url: Some(full_url),
            resource: content.and_then(raw),
            search: Some(EntrySearch { mode }),
            ..Entry::default()
        }
    }

    /// A version in a history bundle; deletions carry no resource.
    pub fn version(fhir_base: &str, stored: StoredResource) -> Self {
        let url = format!("{}/{}", stored.resource_type, stored.id);
        let (method, status) = match (&stored.content, stored.version.0) {
            (None, _) => ("DELETE", "204 No Content"),
            (Some(_), 1) => ("POST", "201 Created"),
            (Some(_), _) => ("PUT", "200 OK"),
        };
        let response = EntryResponse {
            status: status.to_owned(),
            location: None,
            etag: Some(super::response::etag(&stored)),
            last_modified: chrono::DateTime::from_timestamp_millis(stored.last_updated).map(format_instant),
            outcome: None,
        };
        let url = if method == "POST" { stored.resource_type.to_string() } else { url };
        Entry {
            full_url: Some(full_url(fhir_base, &stored)),
            resource: stored.content.clone().and_then(raw),
            request: Some(EntryRequest { method, url }),
            response: Some(response),
            ..Entry::default()
        }
    }

    /// An entry of a transaction or batch response.
    pub fn response(full_url: Option<String>, resource: Option<String>, response: EntryResponse) -> Self {
        Entry { full_url, resource: resource.and_then(raw), response: Some(response), ..Entry::default() }
    }
}

/// Wraps an OperationOutcome for `Bundle.entry.response.outcome`.
pub fn outcome_raw(outcome: &serde_json::Value) -> Option<Box<RawValue>> {
    raw(outcome.to_string())
}
