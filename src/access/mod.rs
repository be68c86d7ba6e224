//! Access decisions: who is asking, and what they may see or do.
//!
//! `decide` is pure: it takes the request context and answers with a
//! [`Decision`]. A permit carries the [`Visibility`] that the store applies
//! inside its queries, so that totals, paging and includes stay exact.
//! System (care-side) principals are bound by their scopes; clients and
//! representatives by the client's Consents as well (`person`).

pub mod category_set;
pub mod grant;
pub mod law;
pub mod patient_view;
pub mod person;
pub mod private;
pub mod relocation;
pub mod visibility;

pub use category_set::CategorySet;
pub use grant::{AccessGrant, Rights};
pub use person::{PersonAccess, PersonPrincipal, PersonRef};
pub use visibility::{
    Admission, MessageFacts, MessageRule, PersonSlice, PersonVisibility, RecordFacts, Visibility, VisibleRecords,
};

use std::sync::Arc;

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

use crate::auth::scope::{Permission, Reach, ScopeContext, Scopes};
use crate::fhir::{ChangeNumber, ResourceType, TenantCode};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A vendor system or operator with a system token: care-side.
    System { subject: String },
    /// A client or representative, with the rights their grants give as of
    /// this request (loaded per request: a revoked grant counts at once).
    Person { person: PersonPrincipal, access: Arc<PersonAccess> },
}

impl Principal {
    /// The subject as written in logs and, later, the access log.
    pub fn subject(&self) -> String {
        match self {
            Principal::System { subject } => subject.clone(),
            Principal::Person { person, .. } => person.user.to_string(),
        }
    }

    /// Whether this principal is a client or representative.
    pub fn is_person(&self) -> bool {
        matches!(self, Principal::Person { .. })
    }
}

/// Everything known about a request that the access decision and the
/// access log need: who, with which app and rights, from where, when.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub tenant: TenantCode,
    pub principal: Principal,
    pub scopes: Scopes,
    /// The OAuth client id of the app, when the token was issued to one.
    pub client_id: Option<String>,
    pub remote_addr: Option<SocketAddr>,
    /// The id of this request in logs (`x-request-id`).
    pub request_id: String,
    pub received_at: DateTime<Utc>,
    /// The tenant's last change number, read after the request arrived:
    /// what the request sees is at least this current.
    pub seen_change: ChangeNumber,
}

/// What a request wants to do with a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Read,
    Vread,
    HistoryInstance,
    Search,
    Create,
    Update,
    Delete,
    /// `$validate`: a care-side service that reads and writes nothing.
    Validate,
}

impl Interaction {
    pub fn is_write(self) -> bool {
        matches!(self, Interaction::Create | Interaction::Update | Interaction::Delete)
    }

    fn permission(self) -> Permission {
        match self {
            Interaction::Read | Interaction::Vread | Interaction::HistoryInstance | Interaction::Validate => {
                Permission::Read
            }
            Interaction::Search => Permission::Search,
            Interaction::Create => Permission::Create,
            Interaction::Update => Permission::Update,
            Interaction::Delete => Permission::Delete,
        }
    }
}

/// The answer to "may this request go ahead?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Yes, seeing only what `Visibility` allows.
    Permit(Visibility),
    Deny(DenyReason),
}

/// Why a request is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The token's scopes do not cover this interaction on this type.
    ScopeMissing { resource_type: ResourceType, interaction: Interaction },
    /// No grant of the person, within the token's scopes, covers any
    /// category this type can have.
    NotGranted { resource_type: ResourceType },
    /// Clients and representatives cannot write through the API yet.
    PersonWrite,
}

impl std::fmt::Display for DenyReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenyReason::ScopeMissing { resource_type, interaction } => {
                write!(f, "the token's scopes do not allow {interaction:?} on {resource_type}")
            }
            DenyReason::NotGranted { resource_type } => {
                write!(f, "no access to {resource_type} of this client has been granted to you")
            }
            DenyReason::PersonWrite => f.write_str("clients and representatives cannot change records here yet"),
        }
    }
}

/// Work done without a token, which still needs a decision to touch
/// stored records: each kind is named, so that it can be told apart (and,
/// with the access log, audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalWork {
    /// Loading the grants and identities that decide persons' requests.
    LoadingGrants,
    /// The store's own upkeep: index rebuilds, records a write relates.
    StoreUpkeep,
    /// A system write answering with what it wrote (the writer sees all).
    WriteResult,
    /// Operators' tools, benchmarks and tests reading the store directly.
    Operator,
}

/// The explicit decision for work without a token: every record of the
/// tenant, care-side view.
pub fn internal(work: InternalWork) -> Visibility {
    tracing::trace!(?work, "internal access");
    Visibility::of(VisibleRecords::Everything)
}

/// Decides whether `context` may perform `interaction` on `resource_type`.
pub fn decide(context: &RequestContext, resource_type: ResourceType, interaction: Interaction) -> Decision {
    match &context.principal {
        Principal::System { .. } => {
            match context.scopes.reach(ScopeContext::System, resource_type, interaction.permission()) {
                Reach::Whole => Decision::Permit(Visibility::of(VisibleRecords::Everything)),
                Reach::Refined(refinements) => Decision::Permit(Visibility::of(VisibleRecords::Refined(refinements))),
                Reach::Nothing => Decision::Deny(DenyReason::ScopeMissing { resource_type, interaction }),
            }
        }
        Principal::Person { person, access } => {
            person::decide(person, access, &context.scopes, resource_type, interaction)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(scope: &str) -> RequestContext {
        RequestContext {
            tenant: TenantCode::parse("t").unwrap(),
            principal: Principal::System { subject: "system:test".into() },
            scopes: Scopes::parse(scope).unwrap(),
            client_id: None,
            remote_addr: None,
            request_id: "r".into(),
            received_at: Utc::now(),
            seen_change: ChangeNumber(0),
        }
    }

    fn check(scope: &str, t: ResourceType, interaction: Interaction, permitted: bool) {
        let decision = decide(&context(scope), t, interaction);
        let expected = if permitted {
            Decision::Permit(Visibility::of(VisibleRecords::Everything))
        } else {
            Decision::Deny(DenyReason::ScopeMissing { resource_type: t, interaction })
        };
        assert_eq!(decision, expected, "{scope} {t} {interaction:?}");
    }

    #[test]
    fn system_principals_are_bound_by_their_scopes() {
        use Interaction::*;
        use ResourceType as T;
        check("system/*.rs", T::Observation, Read, true);
        check("system/*.rs", T::Observation, Vread, true);
        check("system/*.rs", T::Observation, HistoryInstance, true);
        check("system/*.rs", T::Observation, Search, true);
        check("system/*.rs", T::Observation, Create, false);
        check("system/*.rs", T::Observation, Delete, false);
        check("system/Patient.cruds", T::Patient, Update, true);
        check("system/Patient.cruds", T::Observation, Read, false);
        check("patient/*.rs", T::Observation, Read, false);
        check("system/*.rs", T::Observation, Validate, true);
        check("system/Patient.rs", T::Observation, Validate, false);
    }

    #[test]
    fn a_refined_system_scope_sees_the_matching_records_only() {
        let refined = decide(
            &context("system/Observation.rs?category=vital-signs"),
            ResourceType::Observation,
            Interaction::Search,
        );
        let vital = crate::auth::scope::Refinement { param: "category", system: None, code: "vital-signs".into() };
        assert_eq!(refined, Decision::Permit(Visibility::of(VisibleRecords::Refined(vec![vital]))));
        let whole = decide(
            &context("system/Observation.rs?category=vital-signs system/*.rs"),
            ResourceType::Observation,
            Interaction::Search,
        );
        assert_eq!(whole, Decision::Permit(Visibility::of(VisibleRecords::Everything)));
    }
}
