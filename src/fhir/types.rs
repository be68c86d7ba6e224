//! FHIR value types the rest of the gateway speaks in: resource types,
//! logical ids, versions and the data categories of the access model.

use std::fmt;
use std::str::FromStr;

/// The resource types this gateway serves (`fhir-mapping.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Appointment,
    Binary,
    CarePlan,
    CareTeam,
    Communication,
    Consent,
    Coverage,
    DocumentReference,
    EpisodeOfCare,
    Goal,
    Invoice,
    Observation,
    Organization,
    Patient,
    Practitioner,
    PractitionerRole,
    Provenance,
    QuestionnaireResponse,
    RelatedPerson,
}

impl ResourceType {
    /// Every served type, in alphabetical order (the CapabilityStatement order).
    pub const ALL: [ResourceType; 19] = [
        ResourceType::Appointment,
        ResourceType::Binary,
        ResourceType::CarePlan,
        ResourceType::CareTeam,
        ResourceType::Communication,
        ResourceType::Consent,
        ResourceType::Coverage,
        ResourceType::DocumentReference,
        ResourceType::EpisodeOfCare,
        ResourceType::Goal,
        ResourceType::Invoice,
        ResourceType::Observation,
        ResourceType::Organization,
        ResourceType::Patient,
        ResourceType::Practitioner,
        ResourceType::PractitionerRole,
        ResourceType::Provenance,
        ResourceType::QuestionnaireResponse,
        ResourceType::RelatedPerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Appointment => "Appointment",
            ResourceType::Binary => "Binary",
            ResourceType::CarePlan => "CarePlan",
            ResourceType::CareTeam => "CareTeam",
            ResourceType::Communication => "Communication",
            ResourceType::Consent => "Consent",
            ResourceType::Coverage => "Coverage",
            ResourceType::DocumentReference => "DocumentReference",
            ResourceType::EpisodeOfCare => "EpisodeOfCare",
            ResourceType::Goal => "Goal",
            ResourceType::Invoice => "Invoice",
            ResourceType::Observation => "Observation",
            ResourceType::Organization => "Organization",
            ResourceType::Patient => "Patient",
            ResourceType::Practitioner => "Practitioner",
            ResourceType::PractitionerRole => "PractitionerRole",
            ResourceType::Provenance => "Provenance",
            ResourceType::QuestionnaireResponse => "QuestionnaireResponse",
            ResourceType::RelatedPerson => "RelatedPerson",
        }
    }
}

impl ResourceType {
    /// The top-level elements R4 requires (min 1): kept in every summary.
    pub fn mandatory_elements(self) -> &'static [&'static str] {
        match self {
            ResourceType::Appointment => &["status", "participant"],
            ResourceType::Binary => &["contentType"],
            ResourceType::CarePlan => &["status", "intent", "subject"],
            ResourceType::Communication | ResourceType::Invoice | ResourceType::QuestionnaireResponse => &["status"],
            ResourceType::Consent => &["status", "scope", "category"],
            ResourceType::Coverage => &["status", "beneficiary", "payor"],
            ResourceType::DocumentReference => &["status", "content"],
            ResourceType::EpisodeOfCare => &["status", "patient"],
            ResourceType::Goal => &["lifecycleStatus", "description", "subject"],
            ResourceType::Observation => &["status", "code"],
            ResourceType::Provenance => &["target", "recorded", "agent"],
            ResourceType::RelatedPerson => &["patient"],
            ResourceType::CareTeam
            | ResourceType::Organization
            | ResourceType::Patient
            | ResourceType::Practitioner
            | ResourceType::PractitionerRole => &[],
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the served resource types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a resource type served here")]
pub struct UnknownResourceType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownResourceType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownResourceType(s.to_owned()))
    }
}

/// A FHIR logical id: `[A-Za-z0-9\-\.]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

/// A string that is not a valid FHIR id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid FHIR id (1-64 of A-Z, a-z, 0-9, '-', '.')")]
pub struct InvalidId(pub String);

impl ResourceId {
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let valid =
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if valid { Ok(ResourceId(s.to_owned())) } else { Err(InvalidId(s.to_owned())) }
    }

    /// A new server-assigned id: a UUID version 7, 74 random bits after
    /// the time of its creation in milliseconds. It reveals nothing about
    /// the source record or the client (only when it was made, which the
    /// first version's `meta.lastUpdated` says anyway), and ids made one
    /// after the other sort together, so that a large delivery appends to
    /// the store's indexes instead of writing all over them.
    pub fn generate() -> Self {
        ResourceId(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `meta.versionId`: counts per resource from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(pub i64);

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The per-tenant change number: assigned in commit order to every stored
/// version. Later feeds and cache checks compare against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChangeNumber(pub i64);

/// A tenant (care organisation) code from the configuration, e.g. `pameijer`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantCode(String);

/// A string that is not a usable tenant code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid tenant code (1-40 of a-z, 0-9, '-', starting with a letter)")]
pub struct InvalidTenantCode(pub String);

impl TenantCode {
    pub fn parse(s: &str) -> Result<Self, InvalidTenantCode> {
        let valid = !s.is_empty()
            && s.len() <= 40
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid { Ok(TenantCode(s.to_owned())) } else { Err(InvalidTenantCode(s.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The data categories of `access-model.md`: every served resource falls in
/// exactly one, and access is granted per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCategory {
    Identity,
    Profile,
    Reports,
    Measurements,
    Plan,
    Questionnaires,
    Agenda,
    Messages,
    Consents,
    Finance,
    AccessLog,
}

impl DataCategory {
    /// The project's CodeSystem for data categories (published in `conformance/`).
    pub const SYSTEM: &'static str = "https://zorgpoort.nl/fhir/CodeSystem/data-category";

    pub const ALL: [DataCategory; 11] = [
        DataCategory::Identity,
        DataCategory::Profile,
        DataCategory::Reports,
        DataCategory::Measurements,
        DataCategory::Plan,
        DataCategory::Questionnaires,
        DataCategory::Agenda,
        DataCategory::Messages,
        DataCategory::Consents,
        DataCategory::Finance,
        DataCategory::AccessLog,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DataCategory::Identity => "identity",
            DataCategory::Profile => "profile",
            DataCategory::Reports => "reports",
            DataCategory::Measurements => "measurements",
            DataCategory::Plan => "plan",
            DataCategory::Questionnaires => "questionnaires",
            DataCategory::Agenda => "agenda",
            DataCategory::Messages => "messages",
            DataCategory::Consents => "consents",
            DataCategory::Finance => "finance",
            DataCategory::AccessLog => "access-log",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        DataCategory::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The Dutch display used in `meta.security` labels.
    pub fn display(self) -> &'static str {
        match self {
            DataCategory::Identity => "Identiteit",
            DataCategory::Profile => "Persoonsgegevens",
            DataCategory::Reports => "Rapportages",
            DataCategory::Measurements => "Metingen",
            DataCategory::Plan => "Plan",
            DataCategory::Questionnaires => "Vragenlijsten",
            DataCategory::Agenda => "Agenda",
            DataCategory::Messages => "Berichten",
            DataCategory::Consents => "Toestemmingen",
            DataCategory::Finance => "Financiën",
            DataCategory::AccessLog => "Inzagelog",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_type_round_trips_through_its_name() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>(), Ok(t));
        }
        assert!("Medication".parse::<ResourceType>().is_err());
        assert!("observation".parse::<ResourceType>().is_err());
    }

    #[test]
    fn ids_follow_the_r4_id_rule() {
        for ok in ["a", "123", "a-b.c", &"x".repeat(64)] {
            assert!(ResourceId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "a_b", &"x".repeat(65), "é"] {
            assert!(ResourceId::parse(bad).is_err(), "{bad}");
        }
        assert!(ResourceId::parse(ResourceId::generate().as_str()).is_ok());
    }

    #[test]
    fn tenant_codes_are_url_safe_lowercase() {
        assert!(TenantCode::parse("pameijer").is_ok());
        assert!(TenantCode::parse("s-heeren-loo2").is_ok());
        for bad in ["", "Pameijer", "2x", "a/b", "a b"] {
            assert!(TenantCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn category_codes_round_trip() {
        for c in DataCategory::ALL {
            assert_eq!(DataCategory::from_code(c.code()), Some(c));
        }
    }
}
