//! The project's code tables: the ValueSets and CodeSystems of
//! `conformance/`, as the sets of codes a required binding allows. Only
//! ValueSets that include whole project CodeSystems, or listed codes of
//! them, are understood; any other construct is refused when loading.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// The codes of one ValueSet: `(system, code)` pairs.
#[derive(Debug, Clone, Default)]
pub struct ValueSetCodes {
    pub url: String,
    pub codes: BTreeSet<(String, String)>,
}

impl ValueSetCodes {
    pub fn contains(&self, system: &str, code: &str) -> bool {
        self.codes.contains(&(system.to_owned(), code.to_owned()))
    }

    /// Whether a bare `code` (no system) is one of the set.
    pub fn contains_code(&self, code: &str) -> bool {
        self.codes.iter().any(|(_, c)| c == code)
    }
}

/// The ValueSets by canonical URL.
#[derive(Debug, Default)]
pub struct Terminology {
    value_sets: HashMap<String, ValueSetCodes>,
}

impl Terminology {
    /// Reads CodeSystems and ValueSets (`(file name, JSON)`); other files are skipped.
    pub fn load(files: &[(&str, &str)]) -> Result<Terminology, String> {
        let mut systems: HashMap<String, Vec<String>> = HashMap::new();
        let mut value_sets = Vec::new();
        for (name, text) in files {
            let json: Value = serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
            match json["resourceType"].as_str() {
                Some("CodeSystem") => {
                    let url = json["url"].as_str().ok_or(format!("{name}: a CodeSystem without url"))?;
                    if json["content"] != "complete" {
                        return Err(format!("{name}: only CodeSystems with content 'complete' are supported"));
                    }
                    let mut codes = Vec::new();
                    collect_codes(&json["concept"], &mut codes);
                    systems.insert(url.to_owned(), codes);
                }
                Some("ValueSet") => value_sets.push((*name, json)),
                _ => {}
            }
        }
        let mut terminology = Terminology::default();
        for (name, json) in value_sets {
            let codes = expand(name, &json, &systems)?;
            terminology.value_sets.insert(codes.url.clone(), codes);
        }
        Ok(terminology)
    }

    pub fn value_set(&self, url: &str) -> Option<&ValueSetCodes> {
        self.value_sets.get(url)
    }
}

fn collect_codes(concepts: &Value, codes: &mut Vec<String>) {
    for concept in concepts.as_array().into_iter().flatten() {
        if let Some(code) = concept["code"].as_str() {
            codes.push(code.to_owned());
        }
        collect_codes(&concept["concept"], codes);
    }
}

fn expand(name: &str, value_set: &Value, systems: &HashMap<String, Vec<String>>) -> Result<ValueSetCodes, String> {
    let url = value_set["url"].as_str().ok_or(format!("{name}: a ValueSet without url"))?.to_owned();
    let compose = value_set["compose"].as_object().ok_or(format!("{name}: a ValueSet without compose"))?;
    if let Some(key) = compose.keys().find(|k| !matches!(k.as_str(), "include" | "inactive")) {
        return Err(format!("{name}: compose.{key} is not supported (only include of project CodeSystems)"));
    }
    let mut codes = BTreeSet::new();
    for include in compose.get("include").and_then(Value::as_array).into_iter().flatten() {
        let include = include.as_object().ok_or(format!("{name}: compose.include must be objects"))?;
        if let Some(key) = include.keys().find(|k| !matches!(k.as_str(), "system" | "concept")) {
            return Err(format!("{name}: compose.include.{key} is not supported (only system and concept)"));
        }
        let system =
            include.get("system").and_then(Value::as_str).ok_or(format!("{name}: an include without system"))?;
        let known =
            systems.get(system).ok_or(format!("{name}: the CodeSystem {system} is not one of the project's"))?;
        match include.get("concept").and_then(Value::as_array) {
            None => codes.extend(known.iter().map(|c| (system.to_owned(), c.clone()))),
            Some(listed) => {
                for code in listed.iter().filter_map(|c| c["code"].as_str()) {
                    if !known.iter().any(|k| k == code) {
                        return Err(format!("{name}: the code '{code}' is not in {system}"));
                    }
                    codes.insert((system.to_owned(), code.to_owned()));
                }
            }
        }
    }
    if codes.is_empty() {
        return Err(format!("{name}: the ValueSet has no codes"));
    }
    Ok(ValueSetCodes { url, codes })
}
