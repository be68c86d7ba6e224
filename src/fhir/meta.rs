//! `Resource.meta` as the server writes it: version, last update and the
//! data-category label.

use serde_json::{Map, Value};

use super::classify::category_label;
use super::types::{DataCategory, ResourceId, ResourceType, VersionId};

/// Sets `id`, `meta.versionId`, `meta.lastUpdated` and the data-category
/// label (replacing any label of the same CodeSystem), keeping the rest of
/// `meta` (profiles, tags, other security labels) as the writer sent it.
pub fn stamp(resource: &mut Value, id: &ResourceId, version: VersionId, last_updated: &str, category: DataCategory) {
    let Value::Object(map) = resource else { return };
    map.insert("id".into(), Value::String(id.as_str().to_owned()));
    let meta = map.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let Value::Object(meta) = meta else { return };
    meta.insert("versionId".into(), Value::String(version.to_string()));
    meta.insert("lastUpdated".into(), Value::String(last_updated.to_owned()));
    let labels = meta.entry("security").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(labels) = labels {
        labels.retain(|l| l.get("system").and_then(Value::as_str) != Some(DataCategory::SYSTEM));
        labels.push(category_label(category));
    }
    // Keep `id` and `meta` first after `resourceType`, as FHIR examples do.
    let mut ordered = Map::with_capacity(map.len());
    for key in ["resourceType", "id", "meta"] {
        if let Some(v) = map.remove(key) {
            ordered.insert(key.to_owned(), v);
        }
    }
    ordered.append(map);
    *map = ordered;
}

/// Names `profile` in `meta.profile` (once), keeping the profiles already there.
pub fn claim_profile(resource: &mut Value, profile: &str) {
    let Value::Object(map) = resource else { return };
    let meta = map.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else { return };
    let profiles = meta.entry("profile").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(profiles) = profiles
        && !profiles.iter().any(|p| p == profile)
    {
        profiles.push(Value::String(profile.to_owned()));
    }
}

/// Takes `profile` out of `meta.profile` (and an emptied `profile` or `meta`).
pub fn drop_profile(resource: &mut Value, profile: &str) {
    let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) else { return };
    if let Some(Value::Array(profiles)) = meta.get_mut("profile") {
        profiles.retain(|p| p != profile);
        if profiles.is_empty() {
            meta.remove("profile");
        }
    }
    if meta.is_empty() {
        resource.as_object_mut().map(|m| m.remove("meta"));
    }
}

/// A summary of a resource with only the named top-level elements (and
/// `resourceType`, `id`, `meta` and the elements R4 requires), tagged
/// SUBSETTED as R4 asks for `_elements`.
pub fn subset(resource: &mut Value, elements: &[String]) {
    let mandatory = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<ResourceType>().ok())
        .map_or(&[][..], ResourceType::mandatory_elements);
    let Value::Object(map) = resource else { return };
    let wanted = |name: &str| elements.iter().any(|e| e == name) || mandatory.contains(&name);
    map.retain(|key, _| {
        let name = key.strip_prefix('_').unwrap_or(key);
        matches!(key.as_str(), "resourceType" | "id" | "meta")
            || wanted(name)
            || elements.iter().any(|e| is_choice_of(name, e))
    });
    let meta = map.entry("meta").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        let tags = meta.entry("tag").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(tags) = tags {
            tags.push(serde_json::json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED",
                "display": "subsetted"
            }));
        }
    }
}

/// `valueQuantity` is the `value` element (a choice).
fn is_choice_of(key: &str, element: &str) -> bool {
    key.strip_prefix(element).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// A hash of what a writer sent, without the server-maintained parts of
/// `meta`: an update with the same content makes no new version.
pub fn content_hash(resource: &Value) -> String {
    use sha2::{Digest, Sha256};
    let mut copy = resource.clone();
    if let Some(meta) = copy.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("versionId");
        meta.remove("lastUpdated");
        if let Some(Value::Array(labels)) = meta.get_mut("security") {
            labels.retain(|l| l.get("system").and_then(Value::as_str) != Some(DataCategory::SYSTEM));
            if labels.is_empty() {
                meta.remove("security");
            }
        }
        if meta.is_empty() {
            copy.as_object_mut().map(|m| m.remove("meta"));
        }
    }
    if let Some(map) = copy.as_object_mut() {
        map.remove("id");
    }
    hex::encode(Sha256::digest(copy.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stamps_version_time_and_label_keeping_other_meta() {
        let mut r = json!({"resourceType": "Observation", "status": "final",
            "meta": {"profile": ["http://x"], "security": [{"system": DataCategory::SYSTEM, "code": "old"}, {"system": "s", "code": "c"}]}});
        stamp(
            &mut r,
            &ResourceId::parse("o1").unwrap(),
            VersionId(3),
            "2024-01-01T00:00:00.000Z",
            DataCategory::Measurements,
        );
        assert_eq!(r["id"], "o1");
        assert_eq!(r["meta"]["versionId"], "3");
        assert_eq!(r["meta"]["profile"], json!(["http://x"]));
        assert_eq!(
            r["meta"]["security"],
            json!([{"system": "s", "code": "c"}, category_label(DataCategory::Measurements)])
        );
        let keys: Vec<_> = r.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["resourceType", "id", "meta", "status"]);
    }

    #[test]
    fn claims_a_profile_once_beside_others() {
        let mut r = json!({"resourceType": "Patient", "meta": {"profile": ["http://a"]}});
        claim_profile(&mut r, "http://b");
        claim_profile(&mut r, "http://b");
        assert_eq!(r["meta"]["profile"], json!(["http://a", "http://b"]));
        let mut bare = json!({"resourceType": "Patient"});
        claim_profile(&mut bare, "http://b");
        assert_eq!(bare["meta"], json!({"profile": ["http://b"]}));
        drop_profile(&mut r, "http://b");
        assert_eq!(r["meta"]["profile"], json!(["http://a"]));
        drop_profile(&mut bare, "http://b");
        assert_eq!(bare, json!({"resourceType": "Patient"}));
    }

    #[test]
    fn subsets_keep_the_named_elements_and_say_so() {
        let mut r = json!({"resourceType": "Observation", "id": "o", "meta": {"versionId": "1"}, "status": "final",
            "code": {"text": "x"}, "valueQuantity": {"value": 1}, "subject": {"reference": "Patient/p"}});
        subset(&mut r, &["status".into(), "value".into()]);
        let keys: Vec<_> = r.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["resourceType", "id", "meta", "status", "code", "valueQuantity"]);
        assert_eq!(r["meta"]["tag"][0]["code"], "SUBSETTED");
    }

    #[test]
    fn content_hash_ignores_server_meta_only() {
        let a = json!({"resourceType": "Patient", "gender": "male"});
        let mut b = a.clone();
        stamp(
            &mut b,
            &ResourceId::parse("p").unwrap(),
            VersionId(7),
            "2024-01-01T00:00:00.000Z",
            DataCategory::Identity,
        );
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = json!({"resourceType": "Patient", "gender": "female"});
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
