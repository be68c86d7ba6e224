//! One access attempt, as the access log keeps it (NEN 7513): what kind of
//! access, when, with which result, by whom on whose behalf, through which
//! app and access point, and what was touched. Built from the request and
//! the interaction's outcome; pure.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::access::PersonRef;
use crate::fhir::{ResourceId, ResourceType, TenantCode};

/// The FHIR interaction attempted (`AuditEvent.subtype`, the codes of
/// http://hl7.org/fhir/restful-interaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessKind {
    Read,
    Vread,
    HistoryInstance,
    SearchType,
    Create,
    Update,
    Delete,
    /// An operation, by its name without `$` (`everything`, `lastn`,
    /// `validate`), or a delivery (`ingest`).
    Operation(String),
}

impl AccessKind {
    /// The restful-interaction code.
    pub fn code(&self) -> &'static str {
        match self {
            AccessKind::Read => "read",
            AccessKind::Vread => "vread",
            AccessKind::HistoryInstance => "history-instance",
            AccessKind::SearchType => "search-type",
            AccessKind::Create => "create",
            AccessKind::Update => "update",
            AccessKind::Delete => "delete",
            AccessKind::Operation(_) => "operation",
        }
    }

    /// NEN 7513's action: Create, Read, Update, Delete or Execute.
    pub fn action(&self) -> Action {
        match self {
            AccessKind::Read | AccessKind::Vread | AccessKind::HistoryInstance | AccessKind::SearchType => Action::Read,
            AccessKind::Create => Action::Create,
            AccessKind::Update => Action::Update,
            AccessKind::Delete => Action::Delete,
            AccessKind::Operation(_) => Action::Execute,
        }
    }
}

/// `AuditEvent.action` (http://hl7.org/fhir/audit-event-action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    Execute,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Create => "C",
            Action::Read => "R",
            Action::Update => "U",
            Action::Delete => "D",
            Action::Execute => "E",
        }
    }
}

/// The result of the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessResult {
    /// Allowed, and done.
    Allowed,
    /// Refused by the authorisation or Consent checks, with the reason
    /// (no data in it).
    Denied(String),
    /// Allowed, but it failed (not found, invalid, an error).
    Failed(String),
}

impl AccessResult {
    /// `AuditEvent.outcome`: 0 success, 4 minor failure, 8 serious failure.
    pub fn outcome_code(&self) -> &'static str {
        match self {
            AccessResult::Allowed => "0",
            AccessResult::Denied(_) => "4",
            AccessResult::Failed(_) => "8",
        }
    }

    pub fn description(&self) -> Option<&str> {
        match self {
            AccessResult::Allowed => None,
            AccessResult::Denied(reason) | AccessResult::Failed(reason) => Some(reason),
        }
    }
}

/// Who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// A system client (a vendor system, an operator), by its token's
    /// subject.
    System { subject: String },
    /// A client or representative, by their record (`fhirUser`), acting
    /// for the client in context.
    Person { user: PersonRef, on_behalf_of: ResourceId },
}

/// What was touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Nothing was reached (a denial before any record was read).
    Nothing,
    /// One record (a version when `version` is set).
    Record { resource_type: ResourceType, id: ResourceId, version: Option<i64> },
    /// A search, by its query string with BSN values left out, and the
    /// number of matches it found.
    Search { resource_type: ResourceType, query: String, matches: u64 },
}

/// One record of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    pub tenant: TenantCode,
    pub recorded: DateTime<Utc>,
    /// How long the request took, in milliseconds.
    pub duration_ms: u64,
    pub kind: AccessKind,
    pub result: AccessResult,
    pub requester: Requester,
    /// The OAuth client id of the app, when the token was issued to one.
    pub app: Option<String>,
    /// The access point: the TCP peer, or the address a trusted proxy
    /// forwarded.
    pub address: Option<IpAddr>,
    pub request_id: String,
    /// The clients (Patient ids) whose data was touched: one index row each.
    pub clients: Vec<ResourceId>,
    pub touched: Touched,
}

/// A query string as the log keeps it: every parameter whose value may
/// hold a BSN loses its value (`identifier=` stays, so the kind of search
/// is known), and the token never appears (it is not in a query string).
pub fn loggable_query(params: &[(String, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        let value = if crate::fhir::bsn::holds_bsn(value) { "" } else { value.as_str() };
        query.append_pair(name, value);
    }
    query.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_interaction_has_its_code_and_nen_7513_action() {
        let cases = [
            (AccessKind::Read, "read", "R"),
            (AccessKind::Vread, "vread", "R"),
            (AccessKind::HistoryInstance, "history-instance", "R"),
            (AccessKind::SearchType, "search-type", "R"),
            (AccessKind::Create, "create", "C"),
            (AccessKind::Update, "update", "U"),
            (AccessKind::Delete, "delete", "D"),
            (AccessKind::Operation("everything".into()), "operation", "E"),
        ];
        for (kind, code, action) in cases {
            assert_eq!((kind.code(), kind.action().code()), (code, action), "{kind:?}");
        }
    }

    #[test]
    fn results_give_the_audit_outcome_and_their_reason() {
        assert_eq!((AccessResult::Allowed.outcome_code(), AccessResult::Allowed.description()), ("0", None));
        let denied = AccessResult::Denied("no grant".into());
        assert_eq!((denied.outcome_code(), denied.description()), ("4", Some("no grant")));
        assert_eq!(AccessResult::Failed("gone".into()).outcome_code(), "8");
    }

    #[test]
    fn a_logged_query_keeps_no_bsn() {
        let params = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert_eq!(
            loggable_query(&params(&[
                ("identifier", "http://fhir.nl/fhir/NamingSystem/bsn|999911120"),
                ("_count", "5")
            ])),
            "identifier=&_count=5"
        );
        assert_eq!(loggable_query(&params(&[("identifier", "999911120,123")])), "identifier=");
        assert_eq!(loggable_query(&params(&[("patient", "p1"), ("code", "a b")])), "patient=p1&code=a+b");
    }
}
