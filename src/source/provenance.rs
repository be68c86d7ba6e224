//! The Provenance the writer adds to every resource a delivery writes:
//! which vendor, delivery and source record it came from, when, and with
//! which mapping. Pure.

use serde_json::{Value, json};

use crate::fhir::{ResourceId, ResourceType, VersionId};

/// Where a delivery came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStamp {
    /// The vendor's name in the mapping (`pluriform`).
    pub vendor: String,
    /// The mapping's own version (`version` in mapping.toml).
    pub mapping_version: String,
    /// The delivery's name: its file name.
    pub name: String,
    /// When the delivery was made, as it says (FHIR dateTime).
    pub created: String,
    /// The same, in ms since the epoch.
    pub created_at: i64,
    /// Whether this is a replay of rejected records of the delivery.
    pub replay: bool,
}

/// The source record a resource came from.
#[derive(Debug, Clone, Copy)]
pub struct SourceOf<'a> {
    pub tenant: &'a str,
    pub kind: &'a str,
    pub source_id: &'a str,
}

/// A Provenance for version `version` of `resource_type/id`, recorded at
/// `recorded` (FHIR instant); `created` tells a first version from an update.
pub fn provenance(
    target: (ResourceType, &ResourceId, VersionId),
    source: SourceOf<'_>,
    delivery: &DeliveryStamp,
    recorded: &str,
) -> Value {
    let (resource_type, id, version) = target;
    let (code, display) = if version.0 == 1 { ("CREATE", "create") } else { ("UPDATE", "revise") };
    json!({
        "resourceType": "Provenance",
        "target": [{"reference": format!("{resource_type}/{id}/_history/{version}")}],
        "recorded": recorded,
        "activity": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
            "code": code,
            "display": display
        }]},
        "agent": [
            {
                "type": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "code": "author",
                    "display": "Author"
                }]},
                "who": {"display": format!("{} (care-record system of {})", delivery.vendor, source.tenant)}
            },
            {
                "type": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                    "code": "assembler",
                    "display": "Assembler"
                }]},
                "who": {"display": format!("Zorgpoort ingest, {} mapping version {}", delivery.vendor, delivery.mapping_version)}
            }
        ],
        "entity": [{
            "role": "source",
            "what": {
                "identifier": {
                    "system": source_system(source.tenant, &delivery.vendor, source.kind),
                    "value": source.source_id
                },
                "display": format!("{} {} in delivery {} of {}", source.kind, source.source_id, delivery.name, delivery.created)
            }
        }]
    })
}

/// The identifier system of a vendor's record kind for a tenant: the one
/// the mappings put on every resource.
pub fn source_system(tenant: &str, vendor: &str, kind: &str) -> String {
    format!("https://zorgpoort.nl/fhir/NamingSystem/{tenant}/{vendor}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::classify::{Classification, classify};
    use crate::fhir::reference::LocalReference;

    #[test]
    fn a_provenance_names_its_target_version_source_and_delivery() {
        let id = ResourceId::parse("abc").unwrap();
        let delivery = DeliveryStamp {
            vendor: "pluriform".into(),
            mapping_version: "1".into(),
            name: "export.json".into(),
            created: "2026-11-20T10:15:00+01:00".into(),
            created_at: 0,
            replay: false,
        };
        let source = SourceOf { tenant: "pameijer", kind: "meting", source_id: "M-1" };
        let p = provenance((ResourceType::Observation, &id, VersionId(2)), source, &delivery, "2026-11-24T08:00:00Z");
        assert_eq!(p["target"][0]["reference"], "Observation/abc/_history/2");
        assert_eq!(p["activity"]["coding"][0]["code"], "UPDATE");
        assert_eq!(
            p["entity"][0]["what"]["identifier"]["system"],
            "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/meting"
        );
        assert_eq!(
            p["entity"][0]["what"]["display"],
            "meting M-1 in delivery export.json of 2026-11-20T10:15:00+01:00"
        );
        // It is visible exactly with the resource it describes.
        assert_eq!(
            classify(ResourceType::Provenance, &p),
            Ok(Classification::SameAs(LocalReference::new(ResourceType::Observation, &id)))
        );
        crate::fhir::model::check_structure(&p).unwrap();
    }
}
