//! The project's table of R4 search parameters for the served types.
//!
//! Each row names the parameter, its kind and the element paths its values
//! come from (a small subset of FHIRPath: dot-separated element names,
//! `[x]` for a choice element). Values are extracted from these paths when
//! a resource is written (see `index.rs`) and stored in index tables; a
//! search never looks into resource JSON. The CapabilityStatement is
//! generated from this same table, so it lists exactly what works.

use super::types::ResourceType;

/// The kind of a search parameter (R4 `SearchParameter.type`), for the kinds served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchParamKind {
    Token,
    Reference,
    Date,
    String,
}

impl SearchParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchParamKind::Token => "token",
            SearchParamKind::Reference => "reference",
            SearchParamKind::Date => "date",
            SearchParamKind::String => "string",
        }
    }
}

/// One search parameter of one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchParamDef {
    pub resource_type: ResourceType,
    pub name: &'static str,
    pub kind: SearchParamKind,
    /// Element paths relative to the resource; values of all are indexed.
    pub paths: &'static [&'static str],
    /// For reference parameters that only match one target type (`patient`).
    pub target: Option<ResourceType>,
}

impl SearchParamDef {
    /// The canonical URL of the definition: the R4 one, or the project's
    /// own where R4 has none (`Communication-date`).
    pub fn definition_url(&self) -> String {
        if PROJECT_DEFINED.contains(&(self.resource_type, self.name)) {
            return format!("https://zorgpoort.nl/fhir/SearchParameter/{}-{}", self.resource_type, self.name);
        }
        let shared = SHARED_R4.iter().find(|(t, n, _)| (*t, *n) == (self.resource_type, self.name));
        let base = shared.map_or(self.resource_type.as_str(), |(_, _, base)| base);
        // `_tag` is `Resource-tag`: ids drop the underscore of common parameters.
        format!("http://hl7.org/fhir/SearchParameter/{base}-{}", self.name.trim_start_matches('_'))
    }
}

/// Parameters the project defines itself (R4 has no equivalent).
const PROJECT_DEFINED: &[(ResourceType, &str)] = &[(ResourceType::Communication, "date")];

/// Parameters whose R4 definition is one shared by several types, with the
/// prefix of its id (`clinical-patient`, `individual-gender`); every URL is
/// checked against the official definitions by `tests/it/search_params.rs`.
const SHARED_R4: &[(ResourceType, &str, &str)] = &[
    (T::Communication, "_tag", "Resource"),
    (T::CarePlan, "identifier", "clinical"),
    (T::CareTeam, "identifier", "clinical"),
    (T::Consent, "identifier", "clinical"),
    (T::DocumentReference, "identifier", "clinical"),
    (T::EpisodeOfCare, "identifier", "clinical"),
    (T::Goal, "identifier", "clinical"),
    (T::Observation, "identifier", "clinical"),
    (T::CarePlan, "patient", "clinical"),
    (T::CareTeam, "patient", "clinical"),
    (T::Consent, "patient", "clinical"),
    (T::DocumentReference, "patient", "clinical"),
    (T::EpisodeOfCare, "patient", "clinical"),
    (T::Goal, "patient", "clinical"),
    (T::Observation, "patient", "clinical"),
    (T::CarePlan, "date", "clinical"),
    (T::CareTeam, "date", "clinical"),
    (T::Consent, "date", "clinical"),
    (T::EpisodeOfCare, "date", "clinical"),
    (T::Observation, "date", "clinical"),
    (T::Observation, "code", "clinical"),
    (T::DocumentReference, "type", "clinical"),
    (T::EpisodeOfCare, "type", "clinical"),
    (T::Patient, "family", "individual"),
    (T::Patient, "given", "individual"),
    (T::Patient, "birthdate", "individual"),
    (T::Patient, "gender", "individual"),
    (T::Practitioner, "family", "individual"),
    (T::Practitioner, "given", "individual"),
    (T::RelatedPerson, "telecom", "individual"),
];

/// Looks up a parameter of a type by name.
pub fn find(resource_type: ResourceType, name: &str) -> Option<&'static SearchParamDef> {
    SEARCH_PARAMS.iter().find(|p| p.resource_type == resource_type && p.name == name)
}

/// All parameters of one type, in table order.
pub fn of_type(resource_type: ResourceType) -> impl Iterator<Item = &'static SearchParamDef> {
    SEARCH_PARAMS.iter().filter(move |p| p.resource_type == resource_type)
}

use ResourceType as T;
use SearchParamKind::{Date, Reference, String as Str, Token};

const fn p(
    resource_type: ResourceType,
    name: &'static str,
    kind: SearchParamKind,
    paths: &'static [&'static str],
) -> SearchParamDef {
    SearchParamDef { resource_type, name, kind, paths, target: None }
}

/// A reference parameter that matches only references to a Patient.
const fn patient(resource_type: ResourceType, paths: &'static [&'static str]) -> SearchParamDef {
    SearchParamDef { resource_type, name: "patient", kind: Reference, paths, target: Some(ResourceType::Patient) }
}

/// The table. `_id` and `_lastUpdated` apply to every type and are served
/// from the resource table itself, so they are not listed here.
pub static SEARCH_PARAMS: &[SearchParamDef] = &[
    p(T::Appointment, "identifier", Token, &["identifier"]),
    patient(T::Appointment, &["participant.actor"]),
    p(T::Appointment, "actor", Reference, &["participant.actor"]),
    p(T::Appointment, "status", Token, &["status"]),
    p(T::Appointment, "date", Date, &["start"]),
    p(T::Appointment, "service-type", Token, &["serviceType"]),
    p(T::Appointment, "appointment-type", Token, &["appointmentType"]),
    p(T::CarePlan, "identifier", Token, &["identifier"]),
    patient(T::CarePlan, &["subject"]),
    p(T::CarePlan, "subject", Reference, &["subject"]),
    p(T::CarePlan, "status", Token, &["status"]),
    p(T::CarePlan, "intent", Token, &["intent"]),
    p(T::CarePlan, "category", Token, &["category"]),
    p(T::CarePlan, "date", Date, &["period"]),
    p(T::CarePlan, "goal", Reference, &["goal"]),
    p(T::CareTeam, "identifier", Token, &["identifier"]),
    patient(T::CareTeam, &["subject"]),
    p(T::CareTeam, "subject", Reference, &["subject"]),
    p(T::CareTeam, "status", Token, &["status"]),
    p(T::CareTeam, "category", Token, &["category"]),
    p(T::CareTeam, "date", Date, &["period"]),
    p(T::CareTeam, "participant", Reference, &["participant.member"]),
    p(T::Communication, "identifier", Token, &["identifier"]),
    patient(T::Communication, &["subject"]),
    p(T::Communication, "subject", Reference, &["subject"]),
    p(T::Communication, "status", Token, &["status"]),
    p(T::Communication, "category", Token, &["category"]),
    p(T::Communication, "date", Date, &["sent"]),
    p(T::Communication, "sent", Date, &["sent"]),
    p(T::Communication, "received", Date, &["received"]),
    p(T::Communication, "sender", Reference, &["sender"]),
    p(T::Communication, "recipient", Reference, &["recipient"]),
    p(T::Communication, "_tag", Token, &["meta.tag"]),
    p(T::Consent, "identifier", Token, &["identifier"]),
    patient(T::Consent, &["patient"]),
    p(T::Consent, "status", Token, &["status"]),
    p(T::Consent, "scope", Token, &["scope"]),
    p(T::Consent, "category", Token, &["category"]),
    p(T::Consent, "date", Date, &["dateTime"]),
    p(T::Consent, "period", Date, &["provision.period"]),
    p(T::Consent, "actor", Reference, &["provision.actor.reference"]),
    // Who gave or changed it: staff a person sees through it.
    p(T::Consent, "consentor", Reference, &["performer"]),
    p(T::Coverage, "identifier", Token, &["identifier"]),
    patient(T::Coverage, &["beneficiary"]),
    p(T::Coverage, "beneficiary", Reference, &["beneficiary"]),
    p(T::Coverage, "status", Token, &["status"]),
    p(T::Coverage, "type", Token, &["type"]),
    p(T::Coverage, "payor", Reference, &["payor"]),
    p(T::DocumentReference, "identifier", Token, &["identifier", "masterIdentifier"]),
    patient(T::DocumentReference, &["subject"]),
    p(T::DocumentReference, "subject", Reference, &["subject"]),
    p(T::DocumentReference, "status", Token, &["status"]),
    p(T::DocumentReference, "type", Token, &["type"]),
    p(T::DocumentReference, "category", Token, &["category"]),
    p(T::DocumentReference, "date", Date, &["date"]),
    p(T::DocumentReference, "period", Date, &["context.period"]),
    p(T::DocumentReference, "author", Reference, &["author"]),
    p(T::EpisodeOfCare, "identifier", Token, &["identifier"]),
    patient(T::EpisodeOfCare, &["patient"]),
    p(T::EpisodeOfCare, "status", Token, &["status"]),
    p(T::EpisodeOfCare, "type", Token, &["type"]),
    p(T::EpisodeOfCare, "date", Date, &["period"]),
    p(T::EpisodeOfCare, "organization", Reference, &["managingOrganization"]),
    p(T::Goal, "identifier", Token, &["identifier"]),
    patient(T::Goal, &["subject"]),
    p(T::Goal, "subject", Reference, &["subject"]),
    p(T::Goal, "lifecycle-status", Token, &["lifecycleStatus"]),
    p(T::Goal, "achievement-status", Token, &["achievementStatus"]),
    p(T::Goal, "category", Token, &["category"]),
    p(T::Goal, "start-date", Date, &["start[x]"]),
    p(T::Goal, "target-date", Date, &["target.due[x]"]),
    p(T::Invoice, "identifier", Token, &["identifier"]),
    patient(T::Invoice, &["subject"]),
    p(T::Invoice, "subject", Reference, &["subject"]),
    p(T::Invoice, "status", Token, &["status"]),
    p(T::Invoice, "type", Token, &["type"]),
    p(T::Invoice, "date", Date, &["date"]),
    p(T::Observation, "identifier", Token, &["identifier"]),
    patient(T::Observation, &["subject"]),
    p(T::Observation, "subject", Reference, &["subject"]),
    p(T::Observation, "status", Token, &["status"]),
    p(T::Observation, "code", Token, &["code"]),
    p(T::Observation, "category", Token, &["category"]),
    p(T::Observation, "date", Date, &["effective[x]"]),
    p(T::Observation, "component-code", Token, &["component.code"]),
    p(T::Observation, "performer", Reference, &["performer"]),
    p(T::Organization, "identifier", Token, &["identifier"]),
    p(T::Organization, "name", Str, &["name", "alias"]),
    p(T::Organization, "type", Token, &["type"]),
    p(T::Organization, "active", Token, &["active"]),
    p(T::Patient, "identifier", Token, &["identifier"]),
    p(T::Patient, "name", Str, &["name"]),
    p(T::Patient, "family", Str, &["name.family"]),
    p(T::Patient, "given", Str, &["name.given"]),
    p(T::Patient, "birthdate", Date, &["birthDate"]),
    p(T::Patient, "gender", Token, &["gender"]),
    p(T::Patient, "active", Token, &["active"]),
    p(T::Patient, "general-practitioner", Reference, &["generalPractitioner"]),
    p(T::Practitioner, "identifier", Token, &["identifier"]),
    p(T::Practitioner, "name", Str, &["name"]),
    p(T::Practitioner, "family", Str, &["name.family"]),
    p(T::Practitioner, "given", Str, &["name.given"]),
    p(T::Practitioner, "active", Token, &["active"]),
    p(T::PractitionerRole, "identifier", Token, &["identifier"]),
    p(T::PractitionerRole, "practitioner", Reference, &["practitioner"]),
    p(T::PractitionerRole, "organization", Reference, &["organization"]),
    p(T::PractitionerRole, "role", Token, &["code"]),
    p(T::PractitionerRole, "active", Token, &["active"]),
    patient(T::Provenance, &["target"]),
    p(T::Provenance, "target", Reference, &["target"]),
    p(T::Provenance, "recorded", Date, &["recorded"]),
    p(T::Provenance, "agent", Reference, &["agent.who"]),
    p(T::QuestionnaireResponse, "identifier", Token, &["identifier"]),
    patient(T::QuestionnaireResponse, &["subject"]),
    p(T::QuestionnaireResponse, "subject", Reference, &["subject"]),
    p(T::QuestionnaireResponse, "status", Token, &["status"]),
    p(T::QuestionnaireResponse, "authored", Date, &["authored"]),
    p(T::QuestionnaireResponse, "author", Reference, &["author"]),
    p(T::RelatedPerson, "identifier", Token, &["identifier"]),
    patient(T::RelatedPerson, &["patient"]),
    p(T::RelatedPerson, "relationship", Token, &["relationship"]),
    p(T::RelatedPerson, "name", Str, &["name"]),
    p(T::RelatedPerson, "telecom", Token, &["telecom"]),
    p(T::RelatedPerson, "active", Token, &["active"]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_per_type() {
        let mut seen = HashSet::new();
        for p in SEARCH_PARAMS {
            assert!(seen.insert((p.resource_type, p.name)), "{} {}", p.resource_type, p.name);
        }
    }

    #[test]
    fn every_clinical_type_can_be_searched_by_patient() {
        for t in ResourceType::ALL {
            let exempt = matches!(t, T::Binary | T::Organization | T::Patient | T::Practitioner | T::PractitionerRole);
            assert_eq!(find(t, "patient").is_some(), !exempt, "{t}");
        }
    }

    #[test]
    fn definition_urls() {
        let url = |t, n| find(t, n).unwrap().definition_url();
        assert_eq!(url(T::Observation, "code"), "http://hl7.org/fhir/SearchParameter/clinical-code");
        assert_eq!(url(T::Consent, "status"), "http://hl7.org/fhir/SearchParameter/Consent-status");
        assert_eq!(url(T::Consent, "patient"), "http://hl7.org/fhir/SearchParameter/clinical-patient");
        assert_eq!(url(T::Patient, "gender"), "http://hl7.org/fhir/SearchParameter/individual-gender");
        assert_eq!(url(T::Appointment, "identifier"), "http://hl7.org/fhir/SearchParameter/Appointment-identifier");
        assert_eq!(url(T::Communication, "date"), "https://zorgpoort.nl/fhir/SearchParameter/Communication-date");
    }
}
