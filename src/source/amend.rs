//! Records that amend another record (`amends` in a mapping: a completed
//! step of a MijnEigenPlan step plan changes the plan): their resources
//! are merged into the amended record's when it is written. Pure.
//!
//! The merge: objects field by field; in an array, an element with an
//! `id` changes the element of the same `id` (none: a warning), an element
//! without one is added; any other value replaces. Amendments apply in
//! the order of their change times, and only those changed at or after the
//! amended record: an edit of the record after an amendment starts it over.

use serde_json::Value;

use crate::mapping::engine::MappedResource;

/// An amendment: when it changed (ms) and its resources (merged into the
/// amended record's resources of the same part).
#[derive(Debug, Clone, PartialEq)]
pub struct Amendment {
    pub source_id: String,
    pub changed_at: i64,
    pub resources: Vec<MappedResource>,
}

/// Merges `amendments` changed at or after `since` into `resources`, in
/// the order of their change times; warnings for what amends nothing.
pub fn apply_amendments(resources: &mut [MappedResource], since: i64, amendments: &[Amendment]) -> Vec<String> {
    let mut ordered: Vec<&Amendment> = amendments.iter().filter(|a| a.changed_at >= since).collect();
    ordered.sort_by(|a, b| (a.changed_at, &a.source_id).cmp(&(b.changed_at, &b.source_id)));
    let mut warnings = Vec::new();
    for amendment in ordered {
        for patch in &amendment.resources {
            match resources.iter_mut().find(|r| r.part == patch.part && r.resource_type == patch.resource_type) {
                Some(target) => {
                    let mut missing = Vec::new();
                    merge(&mut target.resource, &patch.resource, &mut missing);
                    warnings.extend(missing.into_iter().map(|id| {
                        format!("{} amends an element `{id}` the record does not have: left out", amendment.source_id)
                    }));
                }
                None => warnings.push(format!(
                    "{} amends a {} the record does not have: left out",
                    amendment.source_id, patch.resource_type
                )),
            }
        }
    }
    warnings
}

fn merge(target: &mut Value, patch: &Value, missing: &mut Vec<String>) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if key == "resourceType" {
                    continue;
                }
                match target.get_mut(key) {
                    Some(existing) => merge(existing, value, missing),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(patch)) => {
            for element in patch {
                match element.get("id") {
                    Some(id) => match target.iter_mut().find(|t| t.get("id") == Some(id)) {
                        Some(existing) => merge(existing, element, missing),
                        None => missing.push(id.as_str().map_or_else(|| id.to_string(), str::to_owned)),
                    },
                    None => target.push(element.clone()),
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fhir::ResourceType;

    fn plan(steps: usize) -> MappedResource {
        let activity: Vec<Value> = (1..=steps)
            .map(|n| json!({"id": format!("stap-{n}"), "detail": {"status": "not-started", "description": format!("{n}")}}))
            .collect();
        MappedResource {
            part: String::new(),
            resource_type: ResourceType::CarePlan,
            resource: json!({"resourceType": "CarePlan", "activity": activity}),
        }
    }

    fn completed(source_id: &str, changed_at: i64, step: u32) -> Amendment {
        Amendment {
            source_id: source_id.into(),
            changed_at,
            resources: vec![MappedResource {
                part: String::new(),
                resource_type: ResourceType::CarePlan,
                resource: json!({"resourceType": "CarePlan", "activity": [{"id": format!("stap-{step}"),
                    "progress": [{"text": format!("at {changed_at}")}], "detail": {"status": "completed"}}]}),
            }],
        }
    }

    fn statuses(resource: &MappedResource) -> Vec<&str> {
        let activity = resource.resource["activity"].as_array().unwrap();
        activity.iter().map(|a| a["detail"]["status"].as_str().unwrap()).collect()
    }

    #[test]
    fn completed_steps_change_their_own_activity_only() {
        let mut resources = vec![plan(3)];
        let warnings = apply_amendments(&mut resources, 100, &[completed("e-2", 120, 2), completed("e-1", 110, 1)]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(statuses(&resources[0]), ["completed", "completed", "not-started"]);
        assert_eq!(resources[0].resource["activity"][1]["progress"], json!([{"text": "at 120"}]));
        assert_eq!(resources[0].resource["activity"][1]["detail"]["description"], "2");
        assert_eq!(resources[0].resource["resourceType"], "CarePlan");
    }

    #[test]
    fn amendments_older_than_the_record_do_not_apply() {
        let mut resources = vec![plan(2)];
        let warnings = apply_amendments(&mut resources, 100, &[completed("e-1", 99, 1), completed("e-2", 100, 2)]);
        assert!(warnings.is_empty());
        assert_eq!(statuses(&resources[0]), ["not-started", "completed"]);
    }

    #[test]
    fn an_amendment_of_an_element_that_is_not_there_is_a_warning() {
        let mut resources = vec![plan(2)];
        let warnings = apply_amendments(&mut resources, 0, &[completed("e-9", 5, 7)]);
        assert_eq!(warnings, ["e-9 amends an element `stap-7` the record does not have: left out"]);
        assert_eq!(statuses(&resources[0]), ["not-started", "not-started"]);
        let mut observation = vec![MappedResource {
            part: String::new(),
            resource_type: ResourceType::Observation,
            resource: json!({"resourceType": "Observation"}),
        }];
        let warnings = apply_amendments(&mut observation, 0, &[completed("e-9", 5, 1)]);
        assert_eq!(warnings, ["e-9 amends a CarePlan the record does not have: left out"]);
    }

    #[test]
    fn elements_without_an_id_are_added_and_values_replaced() {
        let mut target = json!({"a": [1, {"id": "x", "v": 1}], "b": "old", "c": {"d": 1}});
        let mut missing = Vec::new();
        merge(&mut target, &json!({"a": [2, {"id": "x", "v": 2}], "b": "new", "c": {"e": 2}}), &mut missing);
        assert_eq!(target, json!({"a": [1, {"id": "x", "v": 2}, 2], "b": "new", "c": {"d": 1, "e": 2}}));
        assert!(missing.is_empty());
    }
}
