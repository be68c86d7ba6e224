//! Extraction of search values from a resource, done once when it is
//! written. The store saves the result in its index tables; searches only
//! read those tables. [`fingerprint`] tells which extraction made an
//! index's rows.

pub mod fingerprint;

use serde_json::Value;

use super::datetime::{self, TimeRange};
use super::reference::LocalReference;
use super::search_param::{self, SearchParamDef, SearchParamKind};
use super::types::ResourceType;

/// Every search value of one resource version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchIndex {
    pub tokens: Vec<TokenValue>,
    pub references: Vec<ReferenceValue>,
    pub dates: Vec<DateValue>,
    pub strings: Vec<StringValue>,
}

/// A token: `system|code`; `system` is empty when the source has none,
/// `code` is empty for a row that only carries text (a CodeableConcept's
/// `text`). `text` (normalised) serves the `:text` modifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    pub param: &'static str,
    pub system: String,
    pub code: String,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue {
    pub param: &'static str,
    pub target: LocalReference,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue {
    pub param: &'static str,
    pub range: TimeRange,
}

/// A string value, normalised for matching (see [`normalize_string`]), and
/// as written, for `:exact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringValue {
    pub param: &'static str,
    pub value: String,
    pub exact: String,
}

/// Extracts the values of every search parameter of `resource_type`.
/// Values that do not parse (a malformed date) are left out of the index;
/// validation is a separate concern.
pub fn extract(resource_type: ResourceType, resource: &Value) -> SearchIndex {
    let mut index = SearchIndex::default();
    for def in search_param::of_type(resource_type) {
        for path in def.paths {
            let mut nodes = Vec::new();
            collect(resource, path, &mut nodes);
            for node in nodes {
                add_values(def, node, &mut index);
            }
        }
    }
    index.tokens.dedup();
    index.references.dedup();
    index.strings.dedup();
    index
}

/// Lower case without diacritics, so that `name=bakker` finds "Bäkker".
pub fn normalize_string(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// Follows a dot-separated path, flattening arrays; a segment ending in
/// `[x]` matches every choice element (`effective[x]` → `effectiveDateTime`).
fn collect<'a>(node: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if let Value::Array(items) = node {
        for item in items {
            collect(item, path, out);
        }
        return;
    }
    let (segment, rest) = match path.split_once('.') {
        Some((segment, rest)) => (segment, Some(rest)),
        None => (path, None),
    };
    let Value::Object(map) = node else { return };
    let children: Vec<&Value> = match segment.strip_suffix("[x]") {
        Some(prefix) => map
            .iter()
            .filter(|(k, _)| k.strip_prefix(prefix).is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase())))
            .map(|(_, v)| v)
            .collect(),
        None => map.get(segment).into_iter().collect(),
    };
    for child in children {
        match rest {
            Some(rest) => collect(child, rest, out),
            None => match child {
                Value::Array(items) => out.extend(items.iter()),
                other => out.push(other),
            },
        }
    }
}

fn add_values(def: &SearchParamDef, node: &Value, index: &mut SearchIndex) {
    let param = def.name;
    match def.kind {
        SearchParamKind::Token => token_values(node, &mut |system, code, text| {
            let text = text.map(normalize_string);
            index.tokens.push(TokenValue { param, system: system.to_owned(), code: code.to_owned(), text })
        }),
        SearchParamKind::Reference => {
            let target = node.get("reference").and_then(Value::as_str).and_then(LocalReference::parse);
            if let Some(target) = target {
                let wanted = def.target.is_none_or(|t| t.as_str() == target.type_name);
                if wanted {
                    index.references.push(ReferenceValue { param, target });
                }
            }
        }
        SearchParamKind::Date => {
            if let Some(range) = date_range(node) {
                index.dates.push(DateValue { param, range });
            }
        }
        SearchParamKind::String => string_values(node, &mut |s| {
            index.strings.push(StringValue { param, value: normalize_string(s), exact: s.to_owned() })
        }),
    }
}

/// Tokens from a code, boolean, Coding, CodeableConcept, Identifier or
/// ContactPoint, each with its text (display, or the concept's text).
fn token_values(node: &Value, emit: &mut dyn FnMut(&str, &str, Option<&str>)) {
    match node {
        Value::String(code) => emit("", code, None),
        Value::Bool(b) => emit("", if *b { "true" } else { "false" }, None),
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str);
            if map.contains_key("coding") || text("text").is_some() && !map.contains_key("value") {
                for coding in map.get("coding").and_then(Value::as_array).into_iter().flatten() {
                    token_values(coding, emit);
                }
                if let Some(concept_text) = text("text") {
                    emit("", "", Some(concept_text));
                }
                return;
            }
            let system = text("system").unwrap_or("");
            if let Some(code) = text("code").or_else(|| text("value")) {
                emit(
                    system,
                    code,
                    text("display").or_else(|| map.get("type").and_then(|t| t.get("text")).and_then(Value::as_str)),
                );
            }
        }
        _ => {}
    }
}

/// A date, dateTime, instant or Period as a range.
fn date_range(node: &Value) -> Option<TimeRange> {
    match node {
        Value::String(s) => datetime::parse_range(s).ok(),
        Value::Object(map) => {
            let bound = |key: &str| map.get(key).and_then(Value::as_str).map(datetime::parse_range);
            let low = match bound("start") {
                Some(Ok(r)) => r.low,
                Some(Err(_)) => return None,
                None => i64::MIN,
            };
            let high = match bound("end") {
                Some(Ok(r)) => r.high,
                Some(Err(_)) => return None,
                None => i64::MAX,
            };
            (low != i64::MIN || high != i64::MAX).then_some(TimeRange { low, high })
        }
        _ => None,
    }
}

/// Strings from a string, HumanName or Address.
fn string_values(node: &Value, emit: &mut dyn FnMut(&str)) {
    match node {
        Value::String(s) => emit(s),
        Value::Object(map) => {
            for key in ["text", "family", "given", "prefix", "suffix", "line", "city", "postalCode"] {
                match map.get(key) {
                    Some(Value::String(s)) => emit(s),
                    Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).for_each(&mut *emit),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens(index: &SearchIndex, param: &str) -> Vec<(String, String)> {
        index
            .tokens
            .iter()
            .filter(|t| t.param == param && !t.code.is_empty())
            .map(|t| (t.system.clone(), t.code.clone()))
            .collect()
    }

    #[test]
    fn observation_values() {
        let obs = json!({
            "resourceType": "Observation",
            "status": "final",
            "identifier": [{"system": "urn:x", "value": "m-1"}],
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}, {"system": "http://snomed.info/sct", "code": "27113001"}], "text": "Gewicht"},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": "2024-05-03T18:30:00+02:00",
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}}]
        });
        let index = extract(ResourceType::Observation, &obs);
        assert_eq!(tokens(&index, "status"), [("".into(), "final".into())]);
        assert_eq!(tokens(&index, "identifier"), [("urn:x".into(), "m-1".into())]);
        assert_eq!(
            tokens(&index, "code"),
            [("http://loinc.org".into(), "29463-7".into()), ("http://snomed.info/sct".into(), "27113001".into())]
        );
        assert_eq!(tokens(&index, "component-code"), [("http://loinc.org".into(), "8480-6".into())]);
        let texts: Vec<_> = index.tokens.iter().filter(|t| t.param == "code").map(|t| t.text.as_deref()).collect();
        assert_eq!(texts, [None, None, Some("gewicht")]);
        let refs: Vec<_> = index.references.iter().map(|r| (r.param, r.target.to_string())).collect();
        assert_eq!(refs, [("patient", "Patient/p1".into()), ("subject", "Patient/p1".into())]);
        assert_eq!(index.dates.len(), 1);
        assert_eq!(index.dates[0].range, datetime::parse_range("2024-05-03T16:30:00Z").unwrap());
    }

    #[test]
    fn patient_param_only_indexes_patient_targets() {
        let obs = json!({"resourceType": "Observation", "subject": {"reference": "Group/g"}});
        let index = extract(ResourceType::Observation, &obs);
        let refs: Vec<_> = index.references.iter().map(|r| r.param).collect();
        assert_eq!(refs, ["subject"]);
    }

    #[test]
    fn periods_with_open_ends() {
        let plan = json!({"resourceType": "CarePlan", "period": {"start": "2024-01-01"}});
        let index = extract(ResourceType::CarePlan, &plan);
        assert_eq!(index.dates[0].range.low, datetime::parse_range("2024-01-01").unwrap().low);
        assert_eq!(index.dates[0].range.high, i64::MAX);
    }

    #[test]
    fn appointment_participants_and_names() {
        let appt = json!({"resourceType": "Appointment", "participant": [
            {"actor": {"reference": "Practitioner/x"}}, {"actor": {"reference": "Patient/p"}}]});
        let index = extract(ResourceType::Appointment, &appt);
        let refs: Vec<_> = index.references.iter().map(|r| (r.param, r.target.to_string())).collect();
        assert_eq!(
            refs,
            [("patient", "Patient/p".into()), ("actor", "Practitioner/x".into()), ("actor", "Patient/p".into())]
        );

        let patient =
            json!({"resourceType": "Patient", "name": [{"family": "Bäkker", "given": ["Anna", "Ö"]}], "active": true});
        let index = extract(ResourceType::Patient, &patient);
        let names: Vec<_> = index.strings.iter().map(|s| (s.param, s.value.as_str())).collect();
        assert_eq!(index.strings[0].exact, "Bäkker");
        assert_eq!(
            names,
            [
                ("name", "bakker"),
                ("name", "anna"),
                ("name", "o"),
                ("family", "bakker"),
                ("given", "anna"),
                ("given", "o")
            ]
        );
        assert_eq!(tokens(&index, "active"), [("".into(), "true".into())]);
    }

    #[test]
    fn bad_dates_are_left_out() {
        let obs = json!({"resourceType": "Observation", "effectiveDateTime": "2024-13-01"});
        assert!(extract(ResourceType::Observation, &obs).dates.is_empty());
    }
}
