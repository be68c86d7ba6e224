//! The search-parameter table (`src/fhir/search_param.rs`) against the
//! official R4 search parameters (`tests/fixtures/search-parameters.json.gz`):
//! the definition each served parameter names is an R4 one of its type, with
//! the parameter's name, type and element paths; where the project differs
//! on purpose, the exception list says so and why.
//!
//! Paths are compared after normalising the R4 FHIRPath expression: it is
//! split at its top-level unions (`|`), the parts of other types are left
//! out, brackets around a part and `as` casts to a type of a choice are
//! taken off (`(Goal.start as date)` is `Goal.start`), a trailing
//! `.where(resolve() is Patient)` becomes the parameter's target type, and
//! the type is taken off the front (`Observation.subject` is `subject`). The
//! table's paths lose their `[x]` (`effective[x]` is `effective`). Both sides
//! are compared as sets.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use zorgpoort::fhir::ResourceType;
use zorgpoort::fhir::search_param::{SEARCH_PARAMS, SearchParamDef};

use crate::common::gzipped_fixture;

/// The one list of parameters where the project's table differs from R4
/// on purpose: `(type, name, why)`.
const EXCEPTIONS: &[(ResourceType, &str, &str)] = &[(
    ResourceType::Communication,
    "date",
    "the project's own parameter (conformance/SearchParameter-Communication-date.json, its URL the \
     project's): R4 has none; it searches sent, as clients of the other types expect of date",
)];

/// The official definitions by canonical URL.
fn official() -> HashMap<String, Value> {
    let bundle: Value = serde_json::from_str(&gzipped_fixture("search-parameters.json.gz")).unwrap();
    assert_eq!((&bundle["resourceType"], &bundle["id"]), (&Value::from("Bundle"), &Value::from("searchParams")));
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["fullUrl"].as_str().unwrap().to_owned(), e["resource"].clone()))
        .collect()
}

/// `A | (B as date) | C.where(resolve() is Patient)`: the parts at the top
/// level, each with the target type its `where` names.
fn unions(expression: &str) -> Vec<(String, Option<String>)> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in expression.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '|' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut().unwrap().push(c);
    }
    parts.iter().map(|part| normalise(part)).collect()
}

fn normalise(part: &str) -> (String, Option<String>) {
    let mut part = part.trim();
    while let Some(inner) = part.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
        part = inner.trim();
    }
    let (part, target) = match part.split_once(".where(resolve() is ") {
        Some((path, rest)) => (path, Some(rest.trim_end_matches(')').to_owned())),
        None => (part, None),
    };
    let part = part.split_once(" as ").map_or(part, |(path, _)| path);
    (part.to_owned(), target)
}

/// What differs between a row of the table and the R4 definition it names.
fn differences(row: &SearchParamDef, definitions: &HashMap<String, Value>) -> Vec<String> {
    let url = row.definition_url();
    let Some(definition) = definitions.get(&url) else { return vec![format!("no R4 definition {url}")] };
    let mut found = Vec::new();
    let type_name = row.resource_type.as_str();
    // `Resource-*` (`_tag`, `_profile`, …) is for every type, with paths from `Resource.`.
    let base = definition["base"].as_array().unwrap();
    let expression_base = if base.iter().any(|b| b == "Resource") { "Resource" } else { type_name };
    if !base.iter().any(|b| b == type_name || b == "Resource") {
        found.push(format!("{url} is not for {type_name}"));
    }
    if definition["code"] != row.name {
        found.push(format!("the name is {}", definition["code"]));
    }
    if definition["type"] != row.kind.as_str() {
        found.push(format!("the type is {}", definition["type"]));
    }
    let prefix = format!("{expression_base}.");
    let parts: Vec<(String, Option<String>)> = unions(definition["expression"].as_str().unwrap_or_default())
        .into_iter()
        .filter(|(path, _)| path.starts_with(&prefix))
        .collect();
    let r4: BTreeSet<String> = parts.iter().map(|(path, _)| path[prefix.len()..].to_owned()).collect();
    let ours: BTreeSet<String> = row.paths.iter().map(|p| p.replace("[x]", "")).collect();
    if r4 != ours {
        found.push(format!("the paths are {r4:?}, the table has {ours:?}"));
    }
    for target in parts.iter().filter_map(|(_, target)| target.as_deref()) {
        if row.target.map(ResourceType::as_str) != Some(target) {
            found.push(format!("R4 matches references to a {target} only"));
        }
    }
    found
}

#[test]
fn the_search_parameter_table_is_r4s() {
    let definitions = official();
    assert_eq!(definitions.len(), 1375);
    assert!(definitions.values().all(|d| d["version"] == "4.0.1"));
    let mut unexplained = Vec::new();
    let mut excepted = BTreeSet::new();
    for row in SEARCH_PARAMS {
        let found = differences(row, &definitions);
        let exception = EXCEPTIONS.iter().find(|(t, n, _)| (*t, *n) == (row.resource_type, row.name));
        match (found.is_empty(), exception) {
            (true, None) => {}
            (false, Some(_)) => {
                excepted.insert((row.resource_type, row.name));
            }
            (true, Some(_)) => {
                unexplained.push(format!("{} {}: as R4, leave it out of EXCEPTIONS", row.resource_type, row.name))
            }
            (false, None) => unexplained.push(format!("{} {}: {}", row.resource_type, row.name, found.join("; "))),
        }
    }
    assert!(unexplained.is_empty(), "the table differs from R4:\n{}", unexplained.join("\n"));
    assert_eq!(excepted.len(), EXCEPTIONS.len(), "every exception names a row of the table");
    println!("{} search parameters compared with R4, {} exceptions", SEARCH_PARAMS.len(), EXCEPTIONS.len());
}

/// The normalisation, on the shapes R4's expressions take.
#[test]
fn r4_expressions_are_normalised() {
    let check = |expression: &str, expected: &[(&str, Option<&str>)]| {
        let found = unions(expression);
        let expected: Vec<(String, Option<String>)> =
            expected.iter().map(|(p, t)| ((*p).to_owned(), t.map(str::to_owned))).collect();
        assert_eq!(found, expected, "{expression}");
    };
    check("Patient.name", &[("Patient.name", None)]);
    check("Organization.name | Organization.alias", &[("Organization.name", None), ("Organization.alias", None)]);
    check("(Goal.start as date)", &[("Goal.start", None)]);
    check(
        "Observation.subject.where(resolve() is Patient) | (Condition.onset as Age) | (A.b as Quantity) | (A.b as Range)",
        &[("Observation.subject", Some("Patient")), ("Condition.onset", None), ("A.b", None), ("A.b", None)],
    );
}
