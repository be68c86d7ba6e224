//! A profile as the validator understands it: a StructureDefinition that
//! constrains one served resource type by its differential. Supported per
//! element: `min`/`max`, one `fixed[x]` or `pattern[x]`, and a required
//! binding to a project ValueSet; documentation (`short`, `definition`,
//! `comment`, `requirements`, `alias`, `mustSupport`) is kept out of the
//! check. Anything else (slicing, type constraints, invariants, other
//! binding strengths, a snapshot) is refused with the file and element id.

use serde_json::{Map, Value};

use super::elements::{ElementTable, ElementType, is_choice_of};
use super::terminology::{Terminology, ValueSetCodes};
use crate::fhir::ResourceType;

/// One constrained element of a profile.
#[derive(Debug, Clone)]
pub struct ElementRule {
    /// The element path after the resource type: `["identifier", "system"]`;
    /// a choice is its stem with `[x]` (`value[x]`).
    pub segments: Vec<String>,
    pub min: usize,
    pub max: Option<usize>,
    pub fixed: Option<Value>,
    pub pattern: Option<Value>,
    pub binding: Option<(ElementType, ValueSetCodes)>,
}

/// A loaded profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub url: String,
    pub resource_type: ResourceType,
    pub rules: Vec<ElementRule>,
}

const DOCUMENTATION: [&str; 6] = ["short", "definition", "comment", "requirements", "alias", "mustSupport"];
const TOP_LEVEL: [&str; 17] = [
    "resourceType",
    "id",
    "url",
    "version",
    "name",
    "title",
    "status",
    "date",
    "publisher",
    "description",
    "purpose",
    "fhirVersion",
    "kind",
    "abstract",
    "type",
    "baseDefinition",
    "derivation",
];

impl Profile {
    /// Reads a StructureDefinition; `file` names it in errors.
    pub fn load(file: &str, text: &str, table: &ElementTable, terminology: &Terminology) -> Result<Profile, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("{file}: not JSON: {e}"))?;
        let map = json.as_object().ok_or(format!("{file}: not a JSON object"))?;
        if let Some(key) = map.keys().find(|k| !TOP_LEVEL.contains(&k.as_str()) && *k != "differential") {
            return Err(format!("{file}: '{key}' is not supported (only a differential is read)"));
        }
        let field = |name: &str| map.get(name).and_then(Value::as_str).unwrap_or_default();
        if field("resourceType") != "StructureDefinition"
            || field("derivation") != "constraint"
            || field("kind") != "resource"
        {
            return Err(format!(
                "{file}: only StructureDefinitions of kind resource that constrain (derivation constraint)"
            ));
        }
        let resource_type: ResourceType = field("type").parse().map_err(|e| format!("{file}: {e}"))?;
        let base = format!("http://hl7.org/fhir/StructureDefinition/{resource_type}");
        if field("baseDefinition") != base {
            return Err(format!("{file}: baseDefinition must be {base} (profiles on profiles are not supported)"));
        }
        let url = field("url").to_owned();
        if url.is_empty() {
            return Err(format!("{file}: no url"));
        }
        let elements = json["differential"]["element"].as_array().ok_or(format!("{file}: no differential.element"))?;
        let mut rules = Vec::new();
        for element in elements {
            let element = element.as_object().ok_or(format!("{file}: an element is not an object"))?;
            let id = element.get("id").and_then(Value::as_str).unwrap_or("(no id)");
            let rule = element_rule(resource_type, element, table, terminology)
                .map_err(|reason| format!("{file}: element {id}: {reason}"))?;
            rules.extend(rule);
        }
        Ok(Profile { url, resource_type, rules })
    }
}

fn element_rule(
    resource_type: ResourceType,
    element: &Map<String, Value>,
    table: &ElementTable,
    terminology: &Terminology,
) -> Result<Option<ElementRule>, String> {
    let path = element.get("path").and_then(Value::as_str).ok_or("no path")?;
    if element.get("id").and_then(Value::as_str) != Some(path) {
        return Err("the id must be the path (slices are not supported)".into());
    }
    let mut fixed = None;
    let mut pattern = None;
    for (key, value) in element {
        match key.as_str() {
            "id" | "path" | "min" | "max" | "binding" => {}
            k if DOCUMENTATION.contains(&k) => {}
            k if is_choice_of(k, "fixed") => fixed = Some(value.clone()),
            k if is_choice_of(k, "pattern") => pattern = Some(value.clone()),
            k => return Err(format!("'{k}' is not supported by the validator")),
        }
    }
    let mut segments: Vec<String> = path.split('.').map(str::to_owned).collect();
    if segments.remove(0) != resource_type.as_str() {
        return Err(format!("the path must start with {resource_type}"));
    }
    if segments.is_empty() {
        return if element.keys().all(|k| matches!(k.as_str(), "id" | "path") || DOCUMENTATION.contains(&k.as_str())) {
            Ok(None)
        } else {
            Err("only documentation on the root element".into())
        };
    }
    let element_type = resolve(resource_type, &segments, table)?;
    let min = match element.get("min") {
        None => 0,
        Some(v) => v.as_u64().ok_or("min must be a whole number")? as usize,
    };
    let max = match element.get("max").map(|v| v.as_str()) {
        None | Some(Some("*")) => None,
        Some(Some(n)) => Some(n.parse::<usize>().map_err(|_| format!("max '{n}' is not a number or *"))?),
        Some(None) => return Err("max must be a string".into()),
    };
    if max.is_some_and(|max| max < min) {
        return Err("max is below min".into());
    }
    if (fixed.is_some() || pattern.is_some() || element.contains_key("binding")) && element_type.is_none() {
        return Err("fixed values, patterns and bindings on a choice are not supported".into());
    }
    let binding = match element.get("binding") {
        None => None,
        Some(binding) => Some((
            element_type.unwrap_or(ElementType { name: "", repeats: false, binding: None }),
            bound(binding, terminology)?,
        )),
    };
    if let Some((ElementType { name, .. }, _)) = &binding
        && !matches!(*name, "code" | "Coding" | "CodeableConcept")
    {
        return Err(format!("a binding on a {name} is not supported (code, Coding, CodeableConcept)"));
    }
    Ok(Some(ElementRule { segments, min, max, fixed, pattern, binding }))
}

/// The type of the element at `segments`; `None` for a choice (`value[x]`).
fn resolve(
    resource_type: ResourceType,
    segments: &[String],
    table: &ElementTable,
) -> Result<Option<ElementType>, String> {
    let mut definition = resource_type.as_str().to_owned();
    let mut found = None;
    for (i, segment) in segments.iter().enumerate() {
        if let Some(stem) = segment.strip_suffix("[x]") {
            if i + 1 != segments.len() {
                return Err("elements inside a choice are not supported".into());
            }
            if table.choices(&definition, stem).next().is_none() {
                return Err(format!("{definition} has no choice {segment}"));
            }
            return Ok(None);
        }
        let element =
            table.get(&definition, segment).ok_or(format!("{definition} has no element '{segment}' in R4"))?;
        definition = element.name.to_owned();
        found = Some(element);
    }
    Ok(found)
}

fn bound(binding: &Value, terminology: &Terminology) -> Result<ValueSetCodes, String> {
    if binding["strength"] != "required" {
        return Err(format!("binding strength {} is not supported (only required)", binding["strength"]));
    }
    let url = binding["valueSet"].as_str().ok_or("a binding without valueSet")?;
    let url = url.split('|').next().unwrap_or(url);
    terminology.value_set(url).cloned().ok_or(format!("the ValueSet {url} is not one of the project's (conformance/)"))
}
