//! The one function that places a resource in the access model: whose
//! record it is (the client, i.e. the Patient compartment) and which data
//! category it falls in (`access-model.md`). The store keeps both as
//! indexed values of every version, so that access restrictions apply
//! inside search queries.

use serde_json::Value;

use super::reference::LocalReference;
use super::types::{DataCategory, ResourceId, ResourceType};

/// The project's CodeSystem telling reports and messages apart in
/// `Communication.category`.
pub const COMMUNICATION_CATEGORY_SYSTEM: &str = "https://zorgpoort.nl/fhir/CodeSystem/communication-category";

/// The project's CodeSystem telling an access grant of a representative
/// apart from a client's own consent in `Consent.category`.
pub const CONSENT_CATEGORY_SYSTEM: &str = "https://zorgpoort.nl/fhir/CodeSystem/consent-category";

/// Where a resource sits in the access model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// The resource's own client (if it belongs to one) and category.
    Own { client: Option<ResourceId>, category: DataCategory },
    /// Visible exactly with another resource: a Binary with the
    /// DocumentReference of its `securityContext`, a Provenance with its
    /// first `target`. The writer resolves it.
    SameAs(LocalReference),
}

/// Why a resource cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    #[error("{0} must reference the resource it belongs to ({1})")]
    MissingAnchor(ResourceType, &'static str),
    #[error("meta.security says data category '{label}', but this {resource_type} is '{derived}'")]
    ConflictingLabel { resource_type: ResourceType, label: String, derived: &'static str },
    #[error("'{0}' is not a data category of {1}")]
    UnknownCategory(String, ResourceType),
}

/// Classifies a resource. Pure: looks only at the resource itself.
pub fn classify(resource_type: ResourceType, resource: &Value) -> Result<Classification, ClassifyError> {
    use DataCategory as C;
    use ResourceType as T;
    let (client_path, category): (&[&str], DataCategory) = match resource_type {
        T::Binary => return anchor(resource_type, resource, "securityContext"),
        T::Provenance => return anchor(resource_type, resource, "target"),
        T::Patient => {
            let client = resource.get("id").and_then(Value::as_str).and_then(|id| ResourceId::parse(id).ok());
            return checked_label(resource_type, resource, client, C::Identity);
        }
        T::RelatedPerson | T::EpisodeOfCare => (&["patient"], C::Profile),
        T::CareTeam => (&["subject"], C::Profile),
        T::Coverage => (&["beneficiary"], C::Profile),
        T::Practitioner | T::PractitionerRole | T::Organization => (&[], C::Profile),
        T::Observation => (&["subject"], C::Measurements),
        T::Communication => (&["subject"], communication_category(resource)),
        T::CarePlan | T::Goal => (&["subject"], C::Plan),
        T::DocumentReference => (&["subject"], document_category(resource_type, resource)?),
        T::Consent => (&["patient"], C::Consents),
        T::Appointment => (&["participant", "actor"], C::Agenda),
        T::Invoice => (&["subject"], C::Finance),
        T::QuestionnaireResponse => (&["subject"], C::Questionnaires),
    };
    let client = patient_reference(resource, client_path);
    checked_label(resource_type, resource, client, category)
}

/// The data category label a stored resource carries in `meta.security`.
pub fn category_label(category: DataCategory) -> Value {
    serde_json::json!({
        "system": DataCategory::SYSTEM,
        "code": category.code(),
        "display": category.display(),
    })
}

/// The data-category code in `meta.security`, if the resource has one.
pub fn label_of(resource: &Value) -> Option<&str> {
    resource
        .pointer("/meta/security")?
        .as_array()?
        .iter()
        .find(|c| c.get("system").and_then(Value::as_str) == Some(DataCategory::SYSTEM))?
        .get("code")?
        .as_str()
}

fn checked_label(
    resource_type: ResourceType,
    resource: &Value,
    client: Option<ResourceId>,
    category: DataCategory,
) -> Result<Classification, ClassifyError> {
    match label_of(resource) {
        Some(label) if label != category.code() => {
            Err(ClassifyError::ConflictingLabel { resource_type, label: label.to_owned(), derived: category.code() })
        }
        _ => Ok(Classification::Own { client, category }),
    }
}

fn anchor(
    resource_type: ResourceType,
    resource: &Value,
    element: &'static str,
) -> Result<Classification, ClassifyError> {
    let node = match resource.get(element) {
        Some(Value::Array(items)) => items.first(),
        other => other,
    };
    node.and_then(|n| n.get("reference"))
        .and_then(Value::as_str)
        .and_then(LocalReference::parse)
        .map(Classification::SameAs)
        .ok_or(ClassifyError::MissingAnchor(resource_type, element))
}

/// The first `Patient/...` reference found along the path.
fn patient_reference(resource: &Value, path: &[&str]) -> Option<ResourceId> {
    fn walk<'a>(node: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
        match (node, path.split_first()) {
            (Value::Array(items), _) => items.iter().for_each(|i| walk(i, path, out)),
            (_, None) => out.push(node),
            (Value::Object(map), Some((head, tail))) => {
                if let Some(child) = map.get(*head) {
                    walk(child, tail, out)
                }
            }
            _ => {}
        }
    }
    if path.is_empty() {
        return None;
    }
    let mut nodes = Vec::new();
    walk(resource, path, &mut nodes);
    nodes
        .into_iter()
        .filter_map(|n| n.get("reference").and_then(Value::as_str).and_then(LocalReference::parse))
        .find(|r| r.type_name == "Patient")
        .and_then(|r| ResourceId::parse(&r.id).ok())
}

/// A Communication is a report or a message by its project category code;
/// without one it is treated as a message, the more restricted category.
fn communication_category(resource: &Value) -> DataCategory {
    let codes = codes_in(resource.get("category"), COMMUNICATION_CATEGORY_SYSTEM);
    if codes.contains(&"report") { DataCategory::Reports } else { DataCategory::Messages }
}

/// A DocumentReference belongs to the plan unless its category (from the
/// data-category CodeSystem) says finance.
fn document_category(resource_type: ResourceType, resource: &Value) -> Result<DataCategory, ClassifyError> {
    match codes_in(resource.get("category"), DataCategory::SYSTEM).first() {
        None => Ok(DataCategory::Plan),
        Some(&"plan") => Ok(DataCategory::Plan),
        Some(&"finance") => Ok(DataCategory::Finance),
        Some(other) => Err(ClassifyError::UnknownCategory((*other).to_owned(), resource_type)),
    }
}

/// Codes of one system in a list of CodeableConcepts.
fn codes_in<'a>(concepts: Option<&'a Value>, system: &str) -> Vec<&'a str> {
    let Some(Value::Array(concepts)) = concepts else { return Vec::new() };
    concepts
        .iter()
        .filter_map(|c| c.get("coding")?.as_array())
        .flatten()
        .filter(|coding| coding.get("system").and_then(Value::as_str) == Some(system))
        .filter_map(|coding| coding.get("code")?.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn own(client: Option<&str>, category: DataCategory) -> Result<Classification, ClassifyError> {
        Ok(Classification::Own { client: client.map(|c| ResourceId::parse(c).unwrap()), category })
    }

    fn check(resource: Value, expected: Result<Classification, ClassifyError>) {
        let t: ResourceType = resource["resourceType"].as_str().unwrap().parse().unwrap();
        assert_eq!(classify(t, &resource), expected, "{resource}");
    }

    #[test]
    fn each_type_lands_in_its_category() {
        use DataCategory as C;
        let p = json!({"reference": "Patient/p1"});
        check(json!({"resourceType": "Patient", "id": "p1"}), own(Some("p1"), C::Identity));
        check(json!({"resourceType": "Patient"}), own(None, C::Identity));
        check(json!({"resourceType": "RelatedPerson", "patient": p}), own(Some("p1"), C::Profile));
        check(json!({"resourceType": "EpisodeOfCare", "patient": p}), own(Some("p1"), C::Profile));
        check(json!({"resourceType": "CareTeam", "subject": p}), own(Some("p1"), C::Profile));
        check(json!({"resourceType": "Coverage", "beneficiary": p}), own(Some("p1"), C::Profile));
        check(json!({"resourceType": "Practitioner"}), own(None, C::Profile));
        check(json!({"resourceType": "Organization"}), own(None, C::Profile));
        check(json!({"resourceType": "Observation", "subject": p}), own(Some("p1"), C::Measurements));
        check(json!({"resourceType": "CarePlan", "subject": p}), own(Some("p1"), C::Plan));
        check(json!({"resourceType": "Goal", "subject": p}), own(Some("p1"), C::Plan));
        check(json!({"resourceType": "Consent", "patient": p}), own(Some("p1"), C::Consents));
        check(json!({"resourceType": "Invoice", "subject": p}), own(Some("p1"), C::Finance));
        check(json!({"resourceType": "QuestionnaireResponse", "subject": p}), own(Some("p1"), C::Questionnaires));
        check(
            json!({"resourceType": "Appointment", "participant": [{"actor": {"reference": "Practitioner/x"}}, {"actor": p}]}),
            own(Some("p1"), C::Agenda),
        );
        check(json!({"resourceType": "Observation", "subject": {"reference": "Group/g"}}), own(None, C::Measurements));
    }

    #[test]
    fn communications_are_reports_or_messages() {
        let report = json!({"resourceType": "Communication", "subject": {"reference": "Patient/p"},
            "category": [{"coding": [{"system": COMMUNICATION_CATEGORY_SYSTEM, "code": "report"}]}]});
        check(report, own(Some("p"), DataCategory::Reports));
        let message = json!({"resourceType": "Communication",
            "category": [{"coding": [{"system": COMMUNICATION_CATEGORY_SYSTEM, "code": "message"}]}]});
        check(message, own(None, DataCategory::Messages));
        check(json!({"resourceType": "Communication"}), own(None, DataCategory::Messages));
    }

    #[test]
    fn documents_are_plan_or_finance() {
        let finance = json!({"resourceType": "DocumentReference",
            "category": [{"coding": [{"system": DataCategory::SYSTEM, "code": "finance"}]}]});
        check(finance, own(None, DataCategory::Finance));
        check(json!({"resourceType": "DocumentReference"}), own(None, DataCategory::Plan));
        let odd = json!({"resourceType": "DocumentReference",
            "category": [{"coding": [{"system": DataCategory::SYSTEM, "code": "agenda"}]}]});
        check(odd, Err(ClassifyError::UnknownCategory("agenda".into(), ResourceType::DocumentReference)));
    }

    #[test]
    fn binaries_and_provenance_follow_their_anchor() {
        check(
            json!({"resourceType": "Binary", "securityContext": {"reference": "DocumentReference/d"}}),
            Ok(Classification::SameAs(LocalReference::parse("DocumentReference/d").unwrap())),
        );
        check(
            json!({"resourceType": "Binary"}),
            Err(ClassifyError::MissingAnchor(ResourceType::Binary, "securityContext")),
        );
        check(
            json!({"resourceType": "Provenance", "target": [{"reference": "Observation/o"}, {"reference": "Patient/p"}]}),
            Ok(Classification::SameAs(LocalReference::parse("Observation/o").unwrap())),
        );
    }

    #[test]
    fn a_conflicting_label_is_refused() {
        let obs = json!({"resourceType": "Observation", "meta": {"security": [category_label(DataCategory::Finance)]}});
        assert!(matches!(classify(ResourceType::Observation, &obs), Err(ClassifyError::ConflictingLabel { .. })));
        let obs =
            json!({"resourceType": "Observation", "meta": {"security": [category_label(DataCategory::Measurements)]}});
        assert_eq!(classify(ResourceType::Observation, &obs), own(None, DataCategory::Measurements));
    }
}
