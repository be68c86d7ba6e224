//! The R4 element table (`r4_elements.txt`, derived from the official R4
//! JSON schema by `tests/it/profiles.rs`): the type of every element of the
//! served resources, Bundle and the data types they use, with its R4 code
//! binding ([`codes`](super::codes)), and a walk over a resource that checks
//! what the structure check does not: one value where R4 has one, an array
//! where it has many, the primitive formats, the codes and the BSN.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::Issue;
use super::codes::{Binding, CodeTable, Codes};
use super::primitive;
use crate::fhir::bsn;

pub use crate::fhir::bsn::SYSTEM as BSN_SYSTEM;

/// The type of one element: a data type, a primitive or a backbone element
/// (`Observation_Component`), whether it repeats, and the codes R4 binds it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementType {
    pub name: &'static str,
    pub repeats: bool,
    pub binding: Option<&'static Binding>,
}

/// `Definition.element` → its type.
#[derive(Debug)]
pub struct ElementTable(HashMap<(&'static str, &'static str), ElementType>);

impl ElementTable {
    /// The table of R4, embedded in the binary.
    pub fn r4() -> &'static ElementTable {
        static TABLE: OnceLock<ElementTable> = OnceLock::new();
        TABLE.get_or_init(|| ElementTable::parse(include_str!("r4_elements.txt"), CodeTable::r4()))
    }

    fn parse(text: &'static str, codes: &'static CodeTable) -> ElementTable {
        let mut map = HashMap::new();
        for line in text.lines() {
            let Some((path, type_name)) = line.split_once(' ') else { continue };
            let Some((definition, element)) = path.split_once('.') else { continue };
            let (name, repeats) = match type_name.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (type_name, false),
            };
            let binding = codes.get(definition, element);
            // Listed codes bind `code` elements only (the derivation of the
            // table refuses others); a grammar also binds codings.
            assert!(
                name == "code" || binding.is_none_or(|b| matches!(b.codes, Codes::Grammar(_))),
                "r4_codes.txt: listed codes on {path}, a {name}"
            );
            map.insert((definition, element), ElementType { name, repeats, binding });
        }
        ElementTable(map)
    }

    /// The type of `element` in `definition`.
    pub fn get(&self, definition: &str, element: &str) -> Option<ElementType> {
        self.0.get(&(definition, element)).copied()
    }

    /// The elements of a choice (`value[x]`): `valueQuantity`, `valueString`, ...
    pub fn choices<'a>(&'a self, definition: &'a str, stem: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.0.keys().filter(move |(d, e)| *d == definition && is_choice_of(e, stem)).map(|(_, e)| *e)
    }
}

/// `valueQuantity` is a choice of `value`.
pub fn is_choice_of(element: &str, stem: &str) -> bool {
    element.strip_prefix(stem).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Checks the shape and primitive formats of every element of `resource`.
pub fn walk(table: &ElementTable, resource: &Value, issues: &mut Vec<Issue>) {
    let Some(resource_type) = resource.get("resourceType").and_then(Value::as_str) else { return };
    // One path buffer, grown and cut back while walking: no string per element.
    let mut path = resource_type.to_owned();
    walk_object(table, resource_type, resource, &mut path, issues);
}

fn walk_object(table: &ElementTable, definition: &str, value: &Value, path: &mut String, issues: &mut Vec<Issue>) {
    let Value::Object(map) = value else { return };
    let parent = path.len();
    for (key, child) in map {
        // A Bundle's entries are resources of their own, each checked
        // against its own type by the caller (`ProfileSet::check_bundle`).
        if key == "resourceType" || key.starts_with('_') || (definition == "Bundle_Entry" && key == "resource") {
            continue;
        }
        let Some(element) = table.get(definition, key) else { continue };
        path.push('.');
        path.push_str(key);
        let here = path.len();
        match (child, element.repeats) {
            (Value::Array(items), true) => {
                for (i, item) in items.iter().enumerate() {
                    use std::fmt::Write;
                    let _ = write!(path, "[{i}]");
                    walk_value(table, element, item, path, issues);
                    path.truncate(here);
                }
            }
            (Value::Array(_), false) => {
                issues.push(Issue::new(path.clone(), "has at most one value in R4, found an array".into()))
            }
            (_, true) => issues.push(Issue::new(path.clone(), "repeats in R4: it must be an array".into())),
            (_, false) => walk_value(table, element, child, path, issues),
        }
        path.truncate(parent);
    }
    if definition == "Identifier" {
        check_bsn(value, path, issues);
    }
}

fn walk_value(table: &ElementTable, element: ElementType, value: &Value, path: &mut String, issues: &mut Vec<Issue>) {
    if element.name.starts_with(|c: char| c.is_ascii_lowercase()) {
        let checked = primitive::check(element.name, value).and_then(|()| match (element.binding, value.as_str()) {
            (Some(binding), Some(code)) => binding.check(code),
            _ => Ok(()),
        });
        if let Err(reason) = checked {
            issues.push(Issue::new(path.clone(), reason));
        }
    } else if element.name == "ResourceList" {
        // A contained resource: walked as a resource of its own type.
        if let Some(resource_type) = value.get("resourceType").and_then(Value::as_str) {
            walk_object(table, resource_type, value, path, issues);
        }
    } else {
        walk_object(table, element.name, value, path, issues);
        if let Some(binding) = element.binding {
            check_codings(binding, element.name, value, path, issues);
        }
    }
}

/// A Coding or CodeableConcept bound to a code system that cannot be
/// listed (the languages of `Patient.communication.language`): each of its
/// codings of that system has a code of its grammar; codings of other
/// systems are translations, left alone.
fn check_codings(binding: &Binding, type_name: &str, value: &Value, path: &str, issues: &mut Vec<Issue>) {
    let Codes::Grammar(grammar) = binding.codes else { return };
    let codings: Vec<(String, &Value)> = match type_name {
        "Coding" => vec![(String::new(), value)],
        _ => value["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| (format!(".coding[{i}]"), c))
            .collect(),
    };
    for (at, coding) in codings {
        if coding["system"] == grammar.system()
            && let Some(code) = coding["code"].as_str()
            && let Err(reason) = binding.check(code)
        {
            issues.push(Issue::new(format!("{path}{at}.code"), reason));
        }
    }
}

/// A BSN identifier passes the 11-check; the message never shows the number.
fn check_bsn(identifier: &Value, path: &str, issues: &mut Vec<Issue>) {
    if identifier.get("system").and_then(Value::as_str) != Some(BSN_SYSTEM) {
        return;
    }
    let Some(value) = identifier.get("value").and_then(Value::as_str) else { return };
    if let Err(reason) = bsn::check(value) {
        issues.push(Issue::new(format!("{path}.value"), format!("is not a valid BSN: {reason}")));
    }
}
