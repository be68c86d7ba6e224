//! The profile validator: the project's profiles (`profiles/`) and code
//! tables (`conformance/`) applied to a resource, beyond the R4 structure
//! check of [`super::model`]. Pure: a profile set and a resource in, a list
//! of issues out, each with a FHIRPath-like path (`Patient.birthDate`).
//!
//! It checks the R4 shape (one value or an array), primitive formats and
//! code bindings of every element ([`elements`], [`primitive`], [`codes`]),
//! the BSN's 11-check, and the differential of the type's profile
//! ([`profile`], [`check`]): cardinality, fixed values, patterns and
//! required bindings to the project's code tables.

mod check;
pub mod codes;
pub mod elements;
pub mod issue;
mod primitive;
pub mod profile;
pub mod terminology;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use self::elements::ElementTable;
pub use self::issue::Issue;
use self::profile::Profile;
use self::terminology::Terminology;
use super::ResourceType;

/// Where profile URLs live.
pub const PROFILE_BASE: &str = "https://zorgpoort.nl/fhir/StructureDefinition/Zorgpoort";

/// The canonical URL of the project's profile of `resource_type`.
pub fn profile_url(resource_type: ResourceType) -> String {
    format!("{PROFILE_BASE}{resource_type}")
}

/// The profiles in force, one per served resource type.
#[derive(Debug)]
pub struct ProfileSet {
    profiles: HashMap<ResourceType, Profile>,
    table: &'static ElementTable,
}

macro_rules! embedded {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../", $dir, "/", $file)))),*]
    };
}

/// The profiles in `profiles/`, embedded so that a binary needs no files.
pub const PROFILE_FILES: &[(&str, &str)] = embedded!("profiles":
    "StructureDefinition-ZorgpoortAppointment.json",
    "StructureDefinition-ZorgpoortBinary.json",
    "StructureDefinition-ZorgpoortCarePlan.json",
    "StructureDefinition-ZorgpoortCareTeam.json",
    "StructureDefinition-ZorgpoortCommunication.json",
    "StructureDefinition-ZorgpoortConsent.json",
    "StructureDefinition-ZorgpoortCoverage.json",
    "StructureDefinition-ZorgpoortDocumentReference.json",
    "StructureDefinition-ZorgpoortEpisodeOfCare.json",
    "StructureDefinition-ZorgpoortGoal.json",
    "StructureDefinition-ZorgpoortInvoice.json",
    "StructureDefinition-ZorgpoortObservation.json",
    "StructureDefinition-ZorgpoortOrganization.json",
    "StructureDefinition-ZorgpoortPatient.json",
    "StructureDefinition-ZorgpoortPractitioner.json",
    "StructureDefinition-ZorgpoortPractitionerRole.json",
    "StructureDefinition-ZorgpoortProvenance.json",
    "StructureDefinition-ZorgpoortQuestionnaireResponse.json",
    "StructureDefinition-ZorgpoortRelatedPerson.json",
);

/// The code tables in `conformance/` the profiles bind to.
pub const TERMINOLOGY_FILES: &[(&str, &str)] = embedded!("conformance":
    "CodeSystem-communication-category.json",
    "CodeSystem-consent-category.json",
    "CodeSystem-data-category.json",
    "CodeSystem-emotion.json",
    "CodeSystem-representative-kind.json",
    "ValueSet-communication-category.json",
    "ValueSet-consent-category.json",
    "ValueSet-data-category.json",
    "ValueSet-emotion.json",
    "ValueSet-representative-kind.json",
);

impl ProfileSet {
    /// The project's profiles, loaded once (a broken embedded profile is a
    /// bug of the build: the tests load them all).
    pub fn builtin() -> &'static ProfileSet {
        static SET: OnceLock<ProfileSet> = OnceLock::new();
        SET.get_or_init(|| {
            ProfileSet::load(PROFILE_FILES, TERMINOLOGY_FILES).unwrap_or_else(|e| panic!("the embedded profiles: {e}"))
        })
    }

    /// Loads profiles (`(file name, JSON)`) against the given code tables;
    /// an unsupported construct is an error naming the file and element.
    pub fn load(profiles: &[(&str, &str)], terminology: &[(&str, &str)]) -> Result<ProfileSet, String> {
        let table = ElementTable::r4();
        let terminology = Terminology::load(terminology)?;
        let mut set = HashMap::new();
        for (file, text) in profiles {
            let profile = Profile::load(file, text, table, &terminology)?;
            if let Some(other) = set.insert(profile.resource_type, profile) {
                return Err(format!("{file}: a second profile of {}", other.resource_type));
            }
        }
        Ok(ProfileSet { profiles: set, table })
    }

    /// The profile of `resource_type`, when there is one.
    pub fn profile(&self, resource_type: ResourceType) -> Option<&Profile> {
        self.profiles.get(&resource_type)
    }

    /// Every issue of a resource as sent to the gateway: the R4 structure
    /// check first (an issue on the resource as a whole), then [`Self::validate`].
    pub fn check(&self, resource: &Value) -> Vec<Issue> {
        let name = resource.get("resourceType").and_then(Value::as_str).unwrap_or("Resource").to_owned();
        match resource.get("resourceType").and_then(Value::as_str).map(str::parse::<ResourceType>) {
            None => return vec![Issue::new(name, "has no resourceType".into())],
            Some(Err(e)) => return vec![Issue::new(name, e.to_string())],
            Some(Ok(_)) => {}
        }
        if let Err(e) = super::model::check_structure(resource) {
            return vec![Issue::new(name, format!("is not valid R4: {e}"))];
        }
        self.validate(resource)
    }

    /// The issues of a Bundle's own elements (`Bundle.type`,
    /// `Bundle.entry[0].request.method`), not of the resources of its
    /// entries: check each of those with [`Self::check`].
    pub fn check_bundle(&self, bundle: &Value) -> Vec<Issue> {
        // The structure check of the Bundle alone: each entry's resource
        // stands in as an empty Parameters (the entry stays, so paths do).
        let mut frame = bundle.clone();
        for entry in frame.get_mut("entry").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(resource) = entry.get_mut("resource") {
                *resource = serde_json::json!({"resourceType": "Parameters"});
            }
        }
        if let Err(e) = super::model::check_structure(&frame) {
            return vec![Issue::new("Bundle".into(), format!("is not valid R4: {e}"))];
        }
        let mut issues = Vec::new();
        elements::walk(self.table, bundle, &mut issues);
        issues
    }

    /// Every issue of `resource` (a served type: others have no profile and
    /// get their R4 shape checked only).
    pub fn validate(&self, resource: &Value) -> Vec<Issue> {
        let mut issues = Vec::new();
        elements::walk(self.table, resource, &mut issues);
        let resource_type = resource.get("resourceType").and_then(Value::as_str).and_then(|t| t.parse().ok());
        if let Some(profile) = resource_type.and_then(|t| self.profiles.get(&t)) {
            check::apply(profile, resource, &mut issues);
        }
        issues
    }
}

#[cfg(test)]
mod tests;
