//! An access grant: what one representative may read and write of one
//! client, read from the Consent that a delivery (or the API) wrote, and
//! the rights it gives on a given day once the law has had its say. Pure.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::category_set::CategorySet;
use crate::fhir::classify::CONSENT_CATEGORY_SYSTEM;
use crate::fhir::{DataCategory, ResourceId};

/// Vektis COD472, the role of a representative.
const ROLE_SYSTEM: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472";
/// The project's exact kinds where COD472 has one code for two (24).
const KIND_SYSTEM: &str = "https://zorgpoort.nl/fhir/CodeSystem/representative-kind";

/// What a representative is to the client (`access-model.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RepresentativeKind {
    Mentor,
    Curator,
    Voogd,
    OuderMetGezag,
    Gemachtigde,
    /// COD472 24 without the exact kind: a legal representative.
    WettelijkVertegenwoordiger,
    Bewindvoerder,
    /// A relative or friend (COD472 23, contactpersoon), or a role that is
    /// not known: never more than a naaste.
    Naaste,
}

impl RepresentativeKind {
    /// Parental authority, which ends when the client turns 18.
    pub fn is_parental(self) -> bool {
        matches!(self, RepresentativeKind::Voogd | RepresentativeKind::OuderMetGezag)
    }

    /// A legal representative who may see more than money.
    fn is_legal_beyond_money(self) -> bool {
        !matches!(self, RepresentativeKind::Bewindvoerder | RepresentativeKind::Naaste)
    }
}

/// The kinds of one actor, from its role codings. "Mentor en
/// bewindvoerder" is two kinds at once.
pub fn kinds_of(role_codings: &[(&str, &str)]) -> Vec<RepresentativeKind> {
    use RepresentativeKind as K;
    let exact = role_codings.iter().find(|(system, _)| *system == KIND_SYSTEM).map(|(_, code)| *code);
    let mut kinds: Vec<K> = role_codings
        .iter()
        .filter(|(system, _)| *system == ROLE_SYSTEM)
        .map(|(_, code)| match (*code, exact) {
            ("15", _) => K::Mentor,
            ("03", _) => K::Curator,
            ("11", _) => K::Voogd,
            ("14", _) => K::Bewindvoerder,
            ("24", Some("ouder-met-gezag")) => K::OuderMetGezag,
            ("24", Some("schriftelijk-gemachtigde")) => K::Gemachtigde,
            ("24", _) => K::WettelijkVertegenwoordiger,
            _ => K::Naaste,
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        kinds.push(K::Naaste);
    }
    kinds
}

/// An access grant as its Consent states it, before the law and the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub client: ResourceId,
    /// The representative's RelatedPerson for this client.
    pub representative: ResourceId,
    pub kinds: Vec<RepresentativeKind>,
    pub active: bool,
    /// First and last day of the grant (Europe/Amsterdam dates, both
    /// included); `None` is open.
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub read: CategorySet,
    pub write: CategorySet,
}

/// What a grant gives on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    pub read: CategorySet,
    pub write: CategorySet,
}

impl Rights {
    /// Full access: the grant lists the access log (`access-model.md`).
    pub fn is_full_access(self) -> bool {
        self.read.contains(DataCategory::AccessLog)
    }
}

/// The categories a bewindvoerder may ever have: money only (WGBO).
pub const MONEY_ONLY: [DataCategory; 3] = [DataCategory::Identity, DataCategory::Profile, DataCategory::Finance];

impl AccessGrant {
    /// The grant a Consent states, if it is an access grant with a client
    /// and a representative; anything else is no grant.
    pub fn from_consent(consent: &Value) -> Option<AccessGrant> {
        if !has_coding(consent.get("category")?, CONSENT_CATEGORY_SYSTEM, "access-grant") {
            return None;
        }
        let client = reference_id(consent.pointer("/patient/reference")?, "Patient")?;
        let provision = consent.get("provision")?;
        if provision.get("type").and_then(Value::as_str) != Some("permit") {
            return None;
        }
        let actor = provision.get("actor")?.as_array()?.iter().find(|a| {
            a.pointer("/reference/reference").and_then(Value::as_str).is_some_and(|r| r.starts_with("RelatedPerson/"))
        })?;
        let representative = reference_id(actor.pointer("/reference/reference")?, "RelatedPerson")?;
        let role_codings: Vec<(&str, &str)> = codings(actor.get("role")).collect();
        let write = provision
            .get("provision")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("permit"))
            .filter(|p| has_action(p, "correct"))
            .fold(CategorySet::EMPTY, |set, p| set.union(categories(p)));
        Some(AccessGrant {
            client,
            representative,
            kinds: kinds_of(&role_codings),
            active: consent.get("status").and_then(Value::as_str) == Some("active"),
            first_day: day(provision.pointer("/period/start")),
            last_day: day(provision.pointer("/period/end")),
            read: if has_action(provision, "access") { categories(provision) } else { CategorySet::EMPTY },
            write,
        })
    }

    /// The rights on `today` for a client born on `client_birth`: none
    /// unless the grant is active and `today` is inside its period; a
    /// bewindvoerder keeps money only; parental authority ends on the
    /// client's 18th birthday; every grant that gives anything includes
    /// identity.
    pub fn rights_on(&self, today: NaiveDate, client_birth: Option<NaiveDate>) -> Option<Rights> {
        if !self.active
            || self.first_day.is_some_and(|first| today < first)
            || self.last_day.is_some_and(|last| today > last)
        {
            return None;
        }
        if self.kinds.iter().all(|k| k.is_parental())
            && client_birth.and_then(super::law::eighteenth_birthday).is_some_and(|adult| today >= adult)
        {
            return None;
        }
        let (mut read, mut write) = (self.read, self.write);
        let bewindvoerder_only = self.kinds.contains(&RepresentativeKind::Bewindvoerder)
            && !self.kinds.iter().any(|k| k.is_legal_beyond_money());
        if bewindvoerder_only {
            let money = CategorySet::of(&MONEY_ONLY);
            read = read.intersection(money);
            write = write.intersection(money);
        }
        Some(Rights { read: read.with(DataCategory::Identity), write })
    }
}

/// The calendar day of a FHIR date or dateTime (its first ten characters:
/// the ECD's own, Amsterdam, date).
fn day(value: Option<&Value>) -> Option<NaiveDate> {
    let text = value?.as_str()?;
    let date = NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()?;
    (date.year() > 0).then_some(date)
}

fn reference_id(reference: &Value, resource_type: &str) -> Option<ResourceId> {
    let (kind, id) = reference.as_str()?.split_once('/')?;
    if kind != resource_type {
        return None;
    }
    ResourceId::parse(id).ok()
}

fn codings(concept: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|coding| Some((coding.get("system")?.as_str()?, coding.get("code")?.as_str()?)))
}

fn has_coding(concepts: &Value, system: &str, code: &str) -> bool {
    concepts.as_array().into_iter().flatten().flat_map(|c| codings(Some(c))).any(|(s, c)| s == system && c == code)
}

fn has_action(provision: &Value, code: &str) -> bool {
    provision
        .get("action")
        .is_some_and(|actions| has_coding(actions, "http://terminology.hl7.org/CodeSystem/consentaction", code))
}

fn categories(provision: &Value) -> CategorySet {
    provision
        .get("class")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|coding| coding.get("system").and_then(Value::as_str) == Some(DataCategory::SYSTEM))
        .filter_map(|coding| DataCategory::from_code(coding.get("code")?.as_str()?))
        .collect()
}

#[cfg(test)]
mod tests;
