//! Private agenda items: fully visible client-side; care-side readers get
//! only when they are, their start and end (access-model.md). A private
//! item is an Appointment labelled restricted (`meta.security`, v3
//! Confidentiality `R`), as the Caress mapping labels `zichtbaarheid="Privé"`
//! and an item without it.
//!
//! Today every principal is care-side (system tokens), so the HTTP layer
//! passes every Appointment it serves through [`care_side_view`];
//! client-side principals (clients, representatives) will be served the
//! stored JSON as it is.

use serde_json::{Map, Value, json};

use crate::fhir::ResourceType;

const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

/// What a care-side reader keeps of a private item: what it is, its
/// identity, whether it takes place and when, and who takes part.
const KEPT: [&str; 9] =
    ["resourceType", "id", "meta", "identifier", "status", "start", "end", "minutesDuration", "participant"];

/// The stored JSON of a resource as a care-side reader may see it: a
/// private agenda item reduced to when it is, labelled `REDACTED`;
/// anything else unchanged.
pub fn care_side_view(resource_type: ResourceType, content: String) -> String {
    // Cheap first: most resources are no Appointment or carry no label.
    if resource_type != ResourceType::Appointment || !content.contains(CONFIDENTIALITY) {
        return content;
    }
    let Ok(Value::Object(mut resource)) = serde_json::from_str::<Value>(&content) else { return content };
    if !is_private(&resource) {
        return content;
    }
    resource.retain(|key, _| KEPT.contains(&key.strip_prefix('_').unwrap_or(key)));
    if let Some(Value::Array(participants)) = resource.get_mut("participant") {
        for participant in participants.iter_mut().filter_map(Value::as_object_mut) {
            participant.retain(|key, _| matches!(key.as_str(), "actor" | "status" | "required"));
            if let Some(Value::Object(actor)) = participant.get_mut("actor") {
                actor.remove("display");
            }
        }
    }
    let meta = resource.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta
        && let Value::Array(labels) = meta.entry("security").or_insert_with(|| Value::Array(Vec::new()))
    {
        labels.push(json!({
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "REDACTED",
            "display": "redacted"
        }));
    }
    Value::Object(resource).to_string()
}

fn is_private(resource: &Map<String, Value>) -> bool {
    let labels = resource.get("meta").and_then(|m| m.get("security")).and_then(Value::as_array);
    labels.is_some_and(|labels| {
        labels.iter().any(|label| {
            label.get("system").and_then(Value::as_str) == Some(CONFIDENTIALITY)
                && matches!(label.get("code").and_then(Value::as_str), Some("R" | "V"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appointment(label: Option<&str>) -> String {
        let mut resource = json!({
            "resourceType": "Appointment", "id": "a1",
            "meta": {"versionId": "2", "security": []},
            "identifier": [{"system": "https://zorgpoort.nl/x", "value": "A-1"}],
            "status": "booked", "description": "Tandarts", "comment": "Wortelkanaal",
            "_description": {"extension": [{"url": "https://x", "valueString": "Tandarts"}]},
            "start": "2024-04-01T10:00:00+02:00", "end": "2024-04-01T11:30:00+02:00",
            "serviceType": [{"text": "Tandarts"}],
            "participant": [{"type": [{"text": "auteur"}], "actor": {"reference": "Patient/p1", "display": "Tedje"}, "status": "accepted"}]
        });
        if let Some(code) = label {
            resource["meta"]["security"] = json!([{"system": CONFIDENTIALITY, "code": code}]);
        }
        resource.to_string()
    }

    #[test]
    fn a_private_item_is_reduced_to_when_it_is() {
        let seen: Value =
            serde_json::from_str(&care_side_view(ResourceType::Appointment, appointment(Some("R")))).unwrap();
        let text = seen.to_string();
        for secret in ["Tandarts", "Wortelkanaal", "auteur"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(seen["start"], "2024-04-01T10:00:00+02:00");
        assert_eq!(seen["end"], "2024-04-01T11:30:00+02:00");
        assert_eq!(seen["status"], "booked");
        assert_eq!(seen["identifier"][0]["value"], "A-1");
        assert_eq!(seen["participant"][0], json!({"actor": {"reference": "Patient/p1"}, "status": "accepted"}));
        assert_eq!(seen["meta"]["versionId"], "2");
        assert_eq!(seen["meta"]["security"][1]["code"], "REDACTED");
    }

    #[test]
    fn everything_else_is_served_as_stored() {
        for label in [None, Some("N"), Some("L")] {
            let stored = appointment(label);
            assert_eq!(care_side_view(ResourceType::Appointment, stored.clone()), stored, "{label:?}");
        }
        let labelled_observation = appointment(Some("R")).replace("\"Appointment\"", "\"Observation\"");
        assert_eq!(care_side_view(ResourceType::Observation, labelled_observation.clone()), labelled_observation);
    }
}
