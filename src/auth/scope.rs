//! SMART on FHIR scopes, v2 (`patient/Observation.rs`) and v1
//! (`patient/*.read`): https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html

use std::fmt;

use crate::fhir::ResourceType;
use crate::fhir::search_param::{self, SearchParamKind};

/// Whose data a scope is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeContext {
    Patient,
    User,
    System,
}

/// SMART v2 permissions `c r u d s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions {
    pub create: bool,
    pub read: bool,
    pub update: bool,
    pub delete: bool,
    pub search: bool,
}

/// One permission, as an interaction needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Create,
    Read,
    Update,
    Delete,
    Search,
}

impl Permissions {
    fn has(self, permission: Permission) -> bool {
        match permission {
            Permission::Create => self.create,
            Permission::Read => self.read,
            Permission::Update => self.update,
            Permission::Delete => self.delete,
            Permission::Search => self.search,
        }
    }
}

/// A resource scope such as `system/Observation.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScope {
    pub context: ScopeContext,
    /// `None` for `*`.
    pub resource_type: Option<ResourceType>,
    pub permissions: Permissions,
    /// A SMART v2 refinement (`?category=…|laboratory`): only the records
    /// that match it.
    pub refinement: Option<Refinement>,
}

/// A SMART v2 scope refinement on a token parameter, `category` or `code`
/// (`patient/Observation.rs?category=http://…|vital-signs`): the scope
/// reaches only the records with that code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Refinement {
    /// The search parameter, `category` or `code`.
    pub param: &'static str,
    /// `None` when the value names no system (`?category=vital-signs`).
    pub system: Option<String>,
    pub code: String,
}

impl Refinement {
    /// The parameters a refinement may name: what a portal app narrows by.
    pub const PARAMS: [&'static str; 2] = ["category", "code"];

    /// Whether one of a record's tokens, as `(param, system, code)`, matches.
    pub fn matches<'a>(&self, mut tokens: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> bool {
        tokens.any(|(param, system, code)| {
            param == self.param && code == self.code && self.system.as_deref().is_none_or(|s| s == system)
        })
    }
}

/// How far the scopes reach into a type for one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Not at all.
    Nothing,
    /// Every record.
    Whole,
    /// The records matching one of these refinements.
    Refined(Vec<Refinement>),
}

impl Reach {
    /// What either reach covers.
    pub fn union(self, other: Reach) -> Reach {
        match (self, other) {
            (Reach::Whole, _) | (_, Reach::Whole) => Reach::Whole,
            (Reach::Nothing, reach) | (reach, Reach::Nothing) => reach,
            (Reach::Refined(mut a), Reach::Refined(b)) => {
                a.extend(b.into_iter().filter(|r| !a.contains(r)).collect::<Vec<_>>());
                Reach::Refined(a)
            }
        }
    }

    /// The refinements a query must apply: `None` for the whole type.
    pub fn refinements(self) -> Option<Vec<Refinement>> {
        match self {
            Reach::Refined(refinements) => Some(refinements),
            Reach::Nothing | Reach::Whole => None,
        }
    }
}

/// A granted scope string, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    pub resources: Vec<ResourceScope>,
    /// Scopes that are not resource scopes (`openid`, `launch/patient`, …).
    pub other: Vec<String>,
    /// Resource scopes left out: a type not served here, or a SMART v2
    /// refinement other than one `category` or `code` of the type, which
    /// would narrow a scope in ways not applied here; leaving the item out
    /// is narrower still.
    pub ignored: Vec<String>,
}

/// A scope that cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope '{scope}': {reason}")]
pub struct ScopeError {
    pub scope: String,
    pub reason: &'static str,
}

impl Scopes {
    /// Parses a space-separated scope string. Resource scopes must name a
    /// served type or `*`, and v2 permissions must be in `cruds` order.
    pub fn parse(scope: &str) -> Result<Scopes, ScopeError> {
        let mut scopes = Scopes::default();
        for item in scope.split_ascii_whitespace() {
            match parse_resource_scope(item) {
                Ok(Some(resource_scope)) => scopes.resources.push(resource_scope),
                Ok(None) => scopes.other.push(item.to_owned()),
                Err(ScopeError { reason: IGNORED, .. }) => scopes.ignored.push(item.to_owned()),
                Err(e) => return Err(e),
            }
        }
        Ok(scopes)
    }

    /// Whether an ingest scope, `ingest/<vendor>` or `ingest/*`, lets the
    /// token deliver for `vendor` (`POST /{tenant}/ingest/{vendor}`).
    pub fn allows_ingest(&self, vendor: &str) -> bool {
        self.other.iter().any(|scope| scope.strip_prefix("ingest/").is_some_and(|v| v == "*" || v == vendor))
    }

    /// Whether some scope of `context` allows `permission` on `resource_type`
    /// (on all of its records or, refined, on some).
    pub fn allows(&self, context: ScopeContext, resource_type: ResourceType, permission: Permission) -> bool {
        self.reach(context, resource_type, permission) != Reach::Nothing
    }

    /// Which records of `resource_type` the scopes of `context` reach with
    /// `permission`: several scopes reach what any of them reaches.
    pub fn reach(&self, context: ScopeContext, resource_type: ResourceType, permission: Permission) -> Reach {
        self.resources
            .iter()
            .filter(|s| {
                s.context == context
                    && s.resource_type.is_none_or(|t| t == resource_type)
                    && s.permissions.has(permission)
            })
            .fold(Reach::Nothing, |reach, s| {
                reach.union(match &s.refinement {
                    None => Reach::Whole,
                    Some(refinement) => Reach::Refined(vec![refinement.clone()]),
                })
            })
    }
}

/// The reason of a scope item that is left out rather than refused.
const IGNORED: &str = "left out";

fn parse_resource_scope(item: &str) -> Result<Option<ResourceScope>, ScopeError> {
    let err = |reason| ScopeError { scope: item.to_owned(), reason };
    let Some((context, rest)) = item.split_once('/') else { return Ok(None) };
    let context = match context {
        "patient" => ScopeContext::Patient,
        "user" => ScopeContext::User,
        "system" => ScopeContext::System,
        _ => return Ok(None),
    };
    let (rest, refinement) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (resource, access) = rest.split_once('.').ok_or_else(|| err("expected <Type>.<permissions>"))?;
    let resource_type = match resource {
        "*" => None,
        name if name.chars().all(|c| c.is_ascii_alphabetic()) && name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            match name.parse::<ResourceType>() {
                Ok(t) => Some(t),
                // A type not served here: nothing to grant, not an error.
                Err(_) => return Err(err(IGNORED)),
            }
        }
        _ => return Err(err("expected a resource type or '*'")),
    };
    let permissions = match access {
        "read" => Permissions { read: true, search: true, ..Permissions::default() },
        "write" => Permissions { create: true, update: true, delete: true, ..Permissions::default() },
        "*" => Permissions { create: true, read: true, update: true, delete: true, search: true },
        letters => parse_v2_permissions(letters)
            .ok_or_else(|| err("permissions must be a subset of 'cruds', in that order"))?,
    };
    let refinement = match refinement {
        None => None,
        Some(query) => Some(parse_refinement(resource_type, query).ok_or_else(|| err(IGNORED))?),
    };
    Ok(Some(ResourceScope { context, resource_type, permissions, refinement }))
}

/// A refinement this server applies: one `category` or `code` token of a
/// named type that has that parameter (`category=system|code` or
/// `category=code`, percent-encoded or not). Anything else is left out.
fn parse_refinement(resource_type: Option<ResourceType>, query: &str) -> Option<Refinement> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let [(name, value)] = &pairs[..] else { return None };
    let param = *Refinement::PARAMS.iter().find(|p| *p == name)?;
    let definition = search_param::find(resource_type?, param)?;
    if definition.kind != SearchParamKind::Token || value.contains(',') {
        return None;
    }
    let (system, code) = match value.split_once('|') {
        Some((system, code)) => (Some(system.to_owned()).filter(|s| !s.is_empty()), code),
        None => (None, value.as_str()),
    };
    (!code.is_empty()).then(|| Refinement { param, system, code: code.to_owned() })
}

fn parse_v2_permissions(letters: &str) -> Option<Permissions> {
    let mut permissions = Permissions::default();
    let mut rest = letters;
    for (letter, flag) in [
        ('c', &mut permissions.create),
        ('r', &mut permissions.read),
        ('u', &mut permissions.update),
        ('d', &mut permissions.delete),
        ('s', &mut permissions.search),
    ] {
        if let Some(stripped) = rest.strip_prefix(letter) {
            *flag = true;
            rest = stripped;
        }
    }
    (rest.is_empty() && !letters.is_empty()).then_some(permissions)
}

impl fmt::Display for ScopeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopeContext::Patient => "patient",
            ScopeContext::User => "user",
            ScopeContext::System => "system",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;
    use ResourceType as T;
    use ScopeContext::*;

    fn check(scope: &str, context: ScopeContext, t: ResourceType, allowed: &[Permission]) {
        let scopes = Scopes::parse(scope).unwrap();
        for p in [Create, Read, Update, Delete, Search] {
            assert_eq!(scopes.allows(context, t, p), allowed.contains(&p), "{scope} {context} {t} {p:?}");
        }
    }

    #[test]
    fn v2_scopes() {
        check("system/*.rs", System, T::Observation, &[Read, Search]);
        check("system/*.cruds", System, T::Patient, &[Create, Read, Update, Delete, Search]);
        check("system/Observation.r", System, T::Observation, &[Read]);
        check("system/Observation.r", System, T::Patient, &[]);
        check("patient/*.rs", System, T::Observation, &[]);
        check("system/Observation.cu system/Patient.s", System, T::Patient, &[Search]);
    }

    #[test]
    fn v1_scopes() {
        check("patient/*.read", Patient, T::Goal, &[Read, Search]);
        check("user/Observation.write", User, T::Observation, &[Create, Update, Delete]);
        check("system/*.*", System, T::Consent, &[Create, Read, Update, Delete, Search]);
    }

    #[test]
    fn ingest_scopes_name_a_vendor_or_all() {
        let scopes = Scopes::parse("system/*.rs ingest/pluriform").unwrap();
        assert!(scopes.allows_ingest("pluriform"));
        assert!(!scopes.allows_ingest("caress"));
        assert!(Scopes::parse("ingest/*").unwrap().allows_ingest("caress"));
        for no in ["system/*.cruds", "ingest", "ingest/", "ingestion/pluriform", "user/ingest.rs"] {
            assert!(!Scopes::parse(no).unwrap_or_default().allows_ingest("pluriform"), "{no}");
        }
    }

    #[test]
    fn non_resource_scopes_are_kept_aside() {
        let scopes = Scopes::parse("openid fhirUser launch/patient offline_access").unwrap();
        assert!(scopes.resources.is_empty());
        assert_eq!(scopes.other, ["openid", "fhirUser", "launch/patient", "offline_access"]);
    }

    #[test]
    fn malformed_scopes_are_refused() {
        for bad in ["system/*.sr", "system/*.", "system/Observation", "system/*.rx", "system/observation.rs"] {
            assert!(Scopes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unserved_types_and_refinements_not_applied_are_left_out_not_refused() {
        let left_out = [
            "patient/Medication.rs",
            "patient/Observation.rs?status=final",
            "patient/Observation.rs?category=a&code=b",
            "patient/Observation.rs?category=a,b",
            "patient/*.rs?category=vital-signs",
            "patient/Goal.rs?code=x",
            "patient/Observation.rs?category=",
        ];
        let scopes = Scopes::parse(&format!("{} patient/Goal.rs", left_out.join(" "))).unwrap();
        assert_eq!(scopes.ignored, left_out);
        assert!(!scopes.allows(Patient, T::Observation, Read));
        assert!(scopes.allows(Patient, T::Goal, Read));
    }

    fn refinement(param: &'static str, system: Option<&str>, code: &str) -> Refinement {
        Refinement { param, system: system.map(str::to_owned), code: code.to_owned() }
    }

    #[test]
    fn category_and_code_refinements_narrow_a_scope() {
        const VITAL: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
        let scopes = Scopes::parse(&format!(
            "patient/Observation.rs?category={VITAL}|vital-signs patient/Observation.rs?code=http%3A%2F%2Floinc.org%7C29463-7 \
             patient/Communication.rs?category=message"
        ))
        .unwrap();
        assert!(scopes.ignored.is_empty(), "{:?}", scopes.ignored);
        assert_eq!(
            scopes.reach(Patient, T::Observation, Read),
            Reach::Refined(vec![
                refinement("category", Some(VITAL), "vital-signs"),
                refinement("code", Some("http://loinc.org"), "29463-7")
            ])
        );
        assert_eq!(
            scopes.reach(Patient, T::Communication, Search),
            Reach::Refined(vec![refinement("category", None, "message")])
        );
        assert_eq!(scopes.reach(Patient, T::Observation, Update), Reach::Nothing);
        assert_eq!(scopes.reach(User, T::Observation, Read), Reach::Nothing);
        // An unrefined scope of the same type reaches every record.
        let wider = Scopes::parse("patient/Observation.rs?category=vital-signs patient/*.rs").unwrap();
        assert_eq!(wider.reach(Patient, T::Observation, Read), Reach::Whole);
    }

    #[test]
    fn a_refinement_matches_tokens_of_its_parameter_and_code() {
        let tokens = [("category", "http://s", "vital-signs"), ("code", "http://loinc.org", "29463-7")];
        let matches = |r: Refinement| r.matches(tokens.iter().copied());
        assert!(matches(refinement("category", None, "vital-signs")));
        assert!(matches(refinement("category", Some("http://s"), "vital-signs")));
        assert!(!matches(refinement("category", Some("http://other"), "vital-signs")));
        assert!(!matches(refinement("code", None, "vital-signs")));
        assert!(!matches(refinement("category", None, "laboratory")));
    }
}
