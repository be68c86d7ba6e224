//! Which extraction made the rows of a search index: a fingerprint of the
//! search-parameter table and of what [`super::extract`] makes of a few
//! sample resources. The store keeps the fingerprint of the extraction its
//! index rows were made with and rebuilds them from the stored resources
//! when a gateway with another one opens the database (`store::reindex`),
//! so that a change of the table or of the extraction also reaches the
//! resources written before it.

use std::sync::OnceLock;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::extract;
use crate::fhir::search_param::SEARCH_PARAMS;
use crate::fhir::types::ResourceType;

/// Raised with every change of the table or of the extraction (the test
/// below holds the fingerprint of this version and fails until it is). A
/// gateway leaves an index made by a higher version as it is, so that an
/// older and a newer gateway on one database do not rebuild it in turns.
///
/// 1: the extraction before migration 0003 (no `:text`, no `:exact`).
/// 2: token texts and strings as written (migration 0003).
/// 3: the search parameters the access rules need (issue 14).
/// 4: `Communication?_tag` (the message audience of the vendor contract).
/// 5: `Consent?consentor`: staff who changed a consent are referred to.
pub const INDEX_VERSION: i64 = 5;

/// The extraction of this build: its version and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFingerprint {
    pub version: i64,
    /// SHA-256 (hex) of the version, the table and the samples' values.
    pub hash: String,
}

/// The fingerprint of this build's extraction.
pub fn fingerprint() -> &'static IndexFingerprint {
    static FINGERPRINT: OnceLock<IndexFingerprint> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        let mut hasher = Sha256::new();
        hasher.update(format!("version {INDEX_VERSION}\n{SEARCH_PARAMS:?}\n"));
        for (resource_type, resource) in samples() {
            hasher.update(format!("{:?}\n", extract(resource_type, &resource)));
        }
        IndexFingerprint { version: INDEX_VERSION, hash: hex::encode(hasher.finalize()) }
    })
}

/// Resources with a value of every shape the extraction reads: codes,
/// booleans, Codings with displays, concepts with and without text,
/// identifiers with a type's text, names and addresses with accents,
/// dates, times with and without offsets, open and closed periods, choice
/// elements, and references of several kinds.
fn samples() -> [(ResourceType, Value); 5] {
    [
        (
            ResourceType::Patient,
            json!({
                "resourceType": "Patient",
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120",
                                "type": {"text": "Burgerservicenummer"}}],
                "active": true,
                "name": [{"text": "Zoë van den Bäkker", "family": "van den Bäkker", "given": ["Zoë", "Anne"],
                          "prefix": ["Mw."]}],
                "gender": "female",
                "birthDate": "1938-03",
                "generalPractitioner": [{"reference": "Practitioner/p1"}, {"reference": "urn:uuid:x"}]
            }),
        ),
        (
            ResourceType::Observation,
            json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "vital-signs", "display": "Vital Signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}],
                         "text": "Gewicht"},
                "subject": {"reference": "Patient/c1"},
                "effectivePeriod": {"start": "2024-03-31T01:30:00+01:00", "end": "2024-03-31T03:30:00"},
                "performer": [{"reference": "Practitioner/p1"}, {"reference": "Organization/o1"}],
                "component": [{"code": {"text": "Zonder codering"}}]
            }),
        ),
        (
            ResourceType::Appointment,
            json!({
                "resourceType": "Appointment",
                "status": "booked",
                "start": "2024-10-27T02:30:00",
                "serviceType": [{"text": "Dagbesteding"}],
                "participant": [{"actor": {"reference": "Patient/c1"}}, {"actor": {"reference": "Practitioner/p1"}}]
            }),
        ),
        (
            ResourceType::Goal,
            json!({
                "resourceType": "Goal",
                "lifecycleStatus": "active",
                "startDate": "2024-01-01",
                "target": [{"dueDate": "2024-12-31"}, {"dueDuration": {"value": 3}}],
                "subject": {"reference": "Patient/c1"}
            }),
        ),
        (
            ResourceType::Organization,
            json!({
                "resourceType": "Organization",
                "active": false,
                "name": "Zorggroep De Linde",
                "alias": ["Linde", "ZGL"],
                "type": [{"coding": [{"code": "prov"}]}]
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_belongs_to_this_index_version() {
        // A change of the search-parameter table or of the extraction
        // changes the fingerprint: then raise INDEX_VERSION and put the new
        // fingerprint here. Databases are rebuilt either way; the version
        // keeps an older gateway from rebuilding a newer one's index.
        assert_eq!(
            (fingerprint().version, fingerprint().hash.as_str()),
            (5, "4ea7c450f11930f70ceea50d22b2e871ea7b47c8da647d9e5f608e440ab09365"),
            "the search index extraction changed: raise INDEX_VERSION and update this test"
        );
    }

    #[test]
    fn the_samples_give_values_of_every_kind() {
        let mut index = super::super::SearchIndex::default();
        for (resource_type, resource) in samples() {
            let one = extract(resource_type, &resource);
            index.tokens.extend(one.tokens);
            index.references.extend(one.references);
            index.dates.extend(one.dates);
            index.strings.extend(one.strings);
        }
        assert!(index.tokens.iter().any(|t| t.code.is_empty() && t.text.is_some()), "a concept's text alone");
        assert!(index.tokens.iter().any(|t| !t.code.is_empty() && t.text.is_some()), "a coding's display");
        assert!(index.strings.iter().any(|s| s.exact != s.value), "a string with capitals or accents");
        assert!(index.dates.len() >= 4, "dates, times and periods");
        assert!(index.references.len() > 4);
    }
}
