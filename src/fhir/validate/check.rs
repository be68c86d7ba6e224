//! Applying a profile's element rules to a resource: cardinality, fixed
//! values, patterns and required bindings, each issue with the path of the
//! element (`Patient.identifier[0].system`).

use serde_json::Value;

use super::Issue;
use super::elements::is_choice_of;
use super::profile::{ElementRule, Profile};

pub(super) fn apply(profile: &Profile, resource: &Value, issues: &mut Vec<Issue>) {
    for rule in &profile.rules {
        apply_rule(profile.resource_type.as_str(), rule, resource, issues);
    }
}

fn apply_rule(root: &str, rule: &ElementRule, resource: &Value, issues: &mut Vec<Issue>) {
    let (last, parents) = rule.segments.split_last().expect("a rule has a path");
    let mut instances = vec![(root.to_owned(), resource)];
    for segment in parents {
        instances = instances.iter().flat_map(|(path, value)| children(path, value, segment)).collect();
    }
    for (path, parent) in &instances {
        let values = children(path, parent, last);
        let shown = format!("{path}.{last}");
        if values.len() < rule.min {
            issues.push(Issue::new(shown.clone(), format!("minimum {} required, found {}", rule.min, values.len())));
        }
        if let Some(max) = rule.max.filter(|max| values.len() > *max) {
            issues.push(Issue::new(shown.clone(), format!("at most {max} allowed, found {}", values.len())));
        }
        for (path, value) in &values {
            if let Some(fixed) = &rule.fixed
                && *value != fixed
            {
                issues.push(Issue::new(path.clone(), format!("must be exactly {fixed}, found {value}")));
            }
            if let Some(pattern) = &rule.pattern
                && !matches_pattern(value, pattern)
            {
                issues.push(Issue::new(path.clone(), format!("must match the pattern {pattern}")));
            }
            if let Some((element_type, codes)) = &rule.binding
                && let Err(reason) = in_value_set(element_type.name, value, codes)
            {
                issues.push(Issue::new(path.clone(), reason));
            }
        }
    }
}

/// The values of `segment` in `value`, each with its path; arrays give one
/// per item (`identifier[0]`), a choice (`value[x]`) each of its forms.
fn children<'a>(path: &str, value: &'a Value, segment: &str) -> Vec<(String, &'a Value)> {
    let Value::Object(map) = value else { return Vec::new() };
    let keys: Vec<&String> = match segment.strip_suffix("[x]") {
        Some(stem) => map.keys().filter(|k| is_choice_of(k, stem)).collect(),
        None => map.keys().filter(|k| *k == segment).collect(),
    };
    let mut found = Vec::new();
    for key in keys {
        match &map[key] {
            Value::Array(items) => {
                found.extend(items.iter().enumerate().map(|(i, item)| (format!("{path}.{key}[{i}]"), item)))
            }
            single => found.push((format!("{path}.{key}"), single)),
        }
    }
    found
}

/// R4 pattern[x]: every element of the pattern is in the value; an array
/// item of the pattern matches some item of the value.
fn matches_pattern(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => {
            p.iter().all(|(k, pv)| v.get(k).is_some_and(|vv| matches_pattern(vv, pv)))
        }
        (Value::Array(v), Value::Array(p)) => p.iter().all(|pv| v.iter().any(|vv| matches_pattern(vv, pv))),
        _ => value == pattern,
    }
}

fn in_value_set(type_name: &str, value: &Value, codes: &super::terminology::ValueSetCodes) -> Result<(), String> {
    let coding_in = |coding: &Value| {
        coding["system"].as_str().zip(coding["code"].as_str()).is_some_and(|(s, c)| codes.contains(s, c))
    };
    let ok = match type_name {
        "code" => value.as_str().is_some_and(|c| codes.contains_code(c)),
        "Coding" => coding_in(value),
        _ => value["coding"].as_array().is_some_and(|codings| codings.iter().any(coding_in)),
    };
    if ok {
        return Ok(());
    }
    let given = match type_name {
        "code" => value.to_string(),
        "Coding" => format!(
            "{}#{}",
            value["system"].as_str().unwrap_or("(no system)"),
            value["code"].as_str().unwrap_or("(no code)")
        ),
        _ => "no coding of it".to_owned(),
    };
    Err(format!("{given} is not in the value set {} (required binding)", codes.url))
}
