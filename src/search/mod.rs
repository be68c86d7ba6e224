//! FHIR search as data: what a search request asks for, parsed and checked
//! against the search-parameter table (`parse.rs`), ready for a store to
//! turn into a query. No I/O.

mod include;
mod parse;

pub use include::{Inclusion, InclusionDirection};
pub use parse::{Handling, ParseError, SearchLimits, parse};

use crate::fhir::datetime::TimeRange;
use crate::fhir::search_param::SearchParamKind;
use crate::fhir::types::ResourceType;

/// A parsed search on one resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub resource_type: ResourceType,
    /// Every clause must hold (repeated parameters: AND).
    pub clauses: Vec<Clause>,
    pub sort: Vec<SortKey>,
    /// Page size after limits; 0 asks for the total only.
    pub count: u32,
    /// Position of the page in the result, from the paging link.
    pub offset: u64,
    /// `_summary=count`: the total only.
    pub summary_count: bool,
    /// `_elements`: only these top-level elements in each entry.
    pub elements: Option<Vec<String>>,
    /// `_snapshot`: a page of an earlier search's snapshot (from a next
    /// link); the other criteria are then those of that search.
    pub snapshot: Option<String>,
    /// `_include` and `_revinclude`: related resources to add to each page.
    pub inclusions: Vec<Inclusion>,
    /// The parameters as understood, in canonical form, for the self link.
    /// Never holds parameters that were ignored.
    pub canonical: Vec<(String, String)>,
    /// Parameters left out under lenient handling, for a warning.
    pub ignored: Vec<String>,
}

/// The identifier system of the BSN, which never appears in a URL.
pub use crate::fhir::bsn::SYSTEM as BSN_SYSTEM;

impl SearchRequest {
    /// The canonical parameters that may appear in a generated link: all
    /// but those that may carry a BSN ([`crate::fhir::bsn::holds_bsn`]): a
    /// parameter naming the BSN system, or with a value that is, or has in
    /// its OR list (with or without `system|`), 9 digits passing the
    /// 11-check, whatever its name (`identifier`, `_id`, a reference). Such
    /// a parameter is left out whole (not only the one value of an OR
    /// list): the link then asks for more than the search did, never for
    /// something else.
    pub fn linkable_params(&self) -> impl Iterator<Item = &(String, String)> {
        self.canonical.iter().filter(|(_, value)| !crate::fhir::bsn::holds_bsn(value))
    }

    /// The clients (Patient ids) the search is restricted to: those of
    /// each parameter all of whose values name a Patient (`patient=`, a
    /// reference typed `Patient/…`, `_id` of a Patient search). Empty when
    /// the search names none.
    pub fn named_clients(&self) -> Vec<&str> {
        fn client(condition: &Condition, patient_search: bool) -> Option<&str> {
            match condition {
                Condition::Reference { param, target_type, id } => {
                    (*param == "patient" || target_type.as_deref() == Some("Patient")).then_some(id.as_str())
                }
                Condition::Id(id) if patient_search => Some(id.as_str()),
                _ => None,
            }
        }
        let patient_search = self.resource_type == ResourceType::Patient;
        let mut named = Vec::new();
        for clause in &self.clauses {
            if let Some(ids) = clause.any_of.iter().map(|c| client(c, patient_search)).collect::<Option<Vec<&str>>>() {
                named.extend(ids);
            }
        }
        named.sort_unstable();
        named.dedup();
        named
    }
}

/// One parameter occurrence: any one of its conditions must hold (a comma
/// in the value: OR).
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub any_of: Vec<Condition>,
}

/// One condition on a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `_id`
    Id(String),
    /// `_lastUpdated`
    LastUpdated {
        prefix: DatePrefix,
        range: TimeRange,
    },
    Token {
        param: &'static str,
        system: TokenSystem,
        code: Option<String>,
    },
    Reference {
        param: &'static str,
        target_type: Option<String>,
        id: String,
    },
    Date {
        param: &'static str,
        prefix: DatePrefix,
        range: TimeRange,
    },
    /// Normalised value; matches values that start with it.
    String {
        param: &'static str,
        starts_with: String,
    },
    /// `:contains`: normalised value anywhere in the string.
    StringContains {
        param: &'static str,
        contains: String,
    },
    /// `:exact`: the whole string, as written (case and accents count).
    StringExact {
        param: &'static str,
        value: String,
    },
    /// `:text` on a token: the display or text starts with this (normalised).
    TokenText {
        param: &'static str,
        starts_with: String,
    },
    /// `:not`: none of these conditions holds.
    NoneOf(Vec<Condition>),
    /// `:missing=true` (no value at all) or `:missing=false` (some value).
    Missing {
        param: &'static str,
        kind: SearchParamKind,
        missing: bool,
    },
}

/// The system part of a token search value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSystem {
    /// `code`: any system.
    Any,
    /// `|code`: no system.
    NoSystem,
    /// `system|code` or `system|`.
    Exactly(String),
}

/// Search prefixes for dates (R4 search §3.1.1.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePrefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl DatePrefix {
    pub fn as_str(self) -> &'static str {
        match self {
            DatePrefix::Eq => "eq",
            DatePrefix::Ne => "ne",
            DatePrefix::Gt => "gt",
            DatePrefix::Lt => "lt",
            DatePrefix::Ge => "ge",
            DatePrefix::Le => "le",
            DatePrefix::Sa => "sa",
            DatePrefix::Eb => "eb",
            DatePrefix::Ap => "ap",
        }
    }
}

/// What to sort by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortField {
    Id,
    LastUpdated,
    /// A date search parameter of the type.
    Date(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(resource_type: ResourceType, query: &[(&str, &str)]) -> Vec<String> {
        let params: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let request = parse(resource_type, &params, Handling::Strict, SearchLimits::default()).unwrap();
        request.named_clients().into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn a_search_names_the_clients_of_parameters_that_name_only_patients() {
        use ResourceType as T;
        assert_eq!(named(T::Observation, &[("patient", "c1")]), ["c1"]);
        assert_eq!(named(T::Observation, &[("subject", "Patient/c1,Patient/c2")]), ["c1", "c2"]);
        assert_eq!(named(T::Communication, &[("subject", "Patient/c2"), ("patient", "c1")]), ["c1", "c2"]);
        assert_eq!(named(T::Patient, &[("_id", "c1")]), ["c1"]);
        // A parameter that may name something else names no client.
        assert!(named(T::Observation, &[("subject", "c1")]).is_empty());
        assert!(named(T::Observation, &[("subject", "Patient/c1,Group/g")]).is_empty());
        assert!(named(T::Observation, &[("_id", "o1")]).is_empty());
        assert!(named(T::Observation, &[]).is_empty());
    }
}
