//! The validator's table of R4 code bindings (`r4_codes.txt`) against the
//! official R4 definitions (`tests/fixtures/r4-definitions.ndjson.gz`): the
//! table is what they give, it agrees with the R4 JSON schema's enums, and a
//! wrong code at every bound element is caught, with the element's path.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Map, Value, json};
use zorgpoort::fhir::validate::ProfileSet;
use zorgpoort::fhir::validate::codes::{Binding, CodeTable};
use zorgpoort::fhir::validate::codes::{Codes, Grammar};

use crate::common::gzipped_fixture;
use crate::profiles::{r4_schema, root_definitions, sample_resources};

const CODE_TABLE: &str = "src/fhir/validate/r4_codes.txt";
const ELEMENT_TABLE: &str = "src/fhir/validate/r4_elements.txt";

/// What R4 binds that the table does not list, each with why.
enum Exception {
    /// A code system that cannot be enumerated: the table names its
    /// grammar (`marker`) and the validator checks that instead.
    Grammar { system: &'static str, marker: &'static str, reason: &'static str },
    /// A binding on a data type as a whole, not on one of its elements.
    LeftOut { definition: &'static str, reason: &'static str },
}

/// The one exception list of the code table.
const EXCEPTIONS: &[Exception] = &[
    Exception::Grammar {
        system: "urn:ietf:bcp:13",
        marker: "@bcp13",
        reason: "BCP 13 media types (ValueSet mimetypes: Attachment.contentType, Binary.contentType, \
                 Signature.targetFormat and sigFormat): the IANA registry is open and not in the R4 definitions; \
                 checked as type/subtype with parameters (RFC 6838, RFC 2045)",
    },
    Exception::Grammar {
        system: "http://www.rfc-editor.org/bcp/bcp13.txt",
        marker: "@bcp13",
        reason: "the maximum value set of Expression.language is BCP 13 itself: checked as a media type",
    },
    Exception::Grammar {
        system: "urn:ietf:bcp:47",
        marker: "@bcp47",
        reason: "BCP 47 language tags (ValueSet all-languages, the maximum value set of every language element): \
                 tags combine registered subtags and cannot be listed; checked by the RFC 5646 grammar; on a \
                 CodeableConcept the codings of urn:ietf:bcp:47 are checked, codings of other systems are \
                 translations and left alone",
    },
    Exception::Grammar {
        system: "urn:iso:std:iso:4217",
        marker: "@iso4217",
        reason: "ISO 4217 currencies (ValueSet currencies: Money.currency): the code system is not in the R4 \
                 definitions; checked as three capital letters",
    },
    Exception::LeftOut {
        definition: "Age",
        reason: "a maximum value set of UCUM time units on the data type as a whole, with the invariant age-1; \
                 UCUM is a grammar of its own and the validator checks no invariants",
    },
    Exception::LeftOut { definition: "Duration", reason: "as Age: UCUM time units on the data type as a whole" },
    Exception::LeftOut { definition: "Distance", reason: "as Age: UCUM length units on the data type as a whole" },
];

impl Exception {
    fn names(&self) -> &'static str {
        match self {
            Exception::Grammar { system, .. } => system,
            Exception::LeftOut { definition, .. } => definition,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Exception::Grammar { reason, .. } | Exception::LeftOut { reason, .. } => reason,
        }
    }
}

/// The marker of a code system checked by its grammar; noted as used.
fn grammar_of(system: &str, used: &mut BTreeSet<&'static str>) -> Option<&'static str> {
    EXCEPTIONS.iter().find_map(|e| match e {
        Exception::Grammar { system: s, marker, .. } if *s == system => {
            used.insert(s);
            Some(*marker)
        }
        _ => None,
    })
}

/// The official definitions in the fixture, by canonical URL.
fn definitions() -> HashMap<String, Value> {
    gzipped_fixture("r4-definitions.ndjson.gz")
        .lines()
        .map(|line| {
            let resource: Value = serde_json::from_str(line).unwrap();
            (resource["url"].as_str().unwrap().to_owned(), resource)
        })
        .collect()
}

/// `Definition.element` → type, as the validator's element table has it.
fn element_table() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(format!("{}/{ELEMENT_TABLE}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.lines().map(|l| l.split_once(' ').unwrap()).map(|(p, t)| (p.to_owned(), t.to_owned())).collect()
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// The codes of a ValueSet: whole CodeSystems of the definitions, or listed
/// codes of them, or the grammar of a code system that cannot be listed.
fn expand(definitions: &HashMap<String, Value>, url: &str, used: &mut BTreeSet<&'static str>) -> Vec<String> {
    if let Some(marker) = grammar_of(url, used) {
        return vec![marker.to_owned()];
    }
    let value_set = definitions.get(url).unwrap_or_else(|| panic!("{url} is not in the definitions fixture"));
    let compose = value_set["compose"].as_object().unwrap();
    assert!(compose.keys().all(|k| k == "include"), "{url}: only compose.include is understood");
    let mut codes = BTreeSet::new();
    for include in compose["include"].as_array().unwrap() {
        let include = include.as_object().unwrap();
        assert!(include.keys().all(|k| ["system", "version", "concept"].contains(&k.as_str())), "{url}: {include:?}");
        let system = include["system"].as_str().unwrap();
        if let Some(marker) = grammar_of(system, used) {
            assert_eq!(compose["include"].as_array().unwrap().len(), 1, "{url}: a grammar and more");
            return vec![marker.to_owned()];
        }
        let listed: Vec<String> = match include.get("concept") {
            Some(concepts) => concepts.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().into()).collect(),
            None => {
                let code_system =
                    definitions.get(system).unwrap_or_else(|| panic!("{system} is not in the definitions fixture"));
                assert_eq!(code_system["content"], "complete", "{system}");
                let mut all = Vec::new();
                collect_codes(&code_system["concept"], &mut all);
                all
            }
        };
        codes.extend(listed);
    }
    let codes: Vec<String> = codes.into_iter().collect();
    assert!(codes.iter().all(|c| !c.is_empty() && !c.contains(char::is_whitespace) && !c.starts_with('@')), "{url}");
    codes
}

fn collect_codes(concepts: &Value, codes: &mut Vec<String>) {
    for concept in concepts.as_array().into_iter().flatten() {
        codes.push(concept["code"].as_str().unwrap().to_owned());
        collect_codes(&concept["concept"], codes);
    }
}

/// The code table, derived from the StructureDefinitions of every
/// definition of the element table: each element with a required binding,
/// or a maximum value set, and the codes of that value set; `used` gets the
/// exceptions it needed.
fn derive_code_table(definitions: &HashMap<String, Value>, used: &mut BTreeSet<&'static str>) -> String {
    let elements = element_table();
    let roots: BTreeSet<&str> = elements.keys().map(|p| p.split(['.', '_']).next().unwrap()).collect();
    let mut lines = BTreeSet::new();
    for root in roots {
        let url = format!("http://hl7.org/fhir/StructureDefinition/{root}");
        let structure = definitions.get(&url).unwrap_or_else(|| panic!("{url} is not in the definitions fixture"));
        for element in structure["snapshot"]["element"].as_array().unwrap() {
            let Some(binding) = element.get("binding") else { continue };
            let maximum = binding["extension"].as_array().into_iter().flatten().find_map(|x| {
                let url = x["url"].as_str()?;
                url.ends_with("/elementdefinition-maxValueSet").then(|| x["valueCanonical"].as_str()).flatten()
            });
            let (strength, value_set) = match (binding["strength"].as_str(), maximum) {
                (Some("required"), _) => ("required", binding["valueSet"].as_str().unwrap()),
                (_, Some(maximum)) => ("maximum", maximum),
                _ => continue,
            };
            let value_set = value_set.split('|').next().unwrap();
            let path: Vec<&str> = element["path"].as_str().unwrap().split('.').collect();
            let (definition, name) = match path.as_slice() {
                [_] => {
                    let left_out = EXCEPTIONS
                        .iter()
                        .find(|e| matches!(e, Exception::LeftOut { definition, .. } if *definition == root));
                    let left_out =
                        left_out.unwrap_or_else(|| panic!("{root}: a binding on the type as a whole, not excepted"));
                    used.insert(left_out.names());
                    continue;
                }
                [_, name] => (root.to_owned(), *name),
                [.., parent, name] => (format!("{root}_{}", upper_first(parent)), *name),
                [] => unreachable!(),
            };
            let names: Vec<String> = match name.strip_suffix("[x]") {
                Some(stem) => element["type"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| format!("{stem}{}", upper_first(t["code"].as_str().unwrap())))
                    .collect(),
                None => vec![name.to_owned()],
            };
            let codes = expand(definitions, value_set, used);
            for name in names {
                let key = format!("{definition}.{name}");
                let type_name = elements.get(&key).unwrap_or_else(|| panic!("{key} is not in {ELEMENT_TABLE}"));
                let grammar = codes[0].starts_with('@');
                assert!(
                    type_name.trim_end_matches("[]") == "code" || grammar,
                    "{key}: listed codes bind a {type_name}: the validator checks bindings of code elements only"
                );
                lines.insert(format!("{key} {strength} {value_set} {}\n", codes.join(" ")));
            }
        }
    }
    lines.into_iter().collect()
}

#[test]
fn the_validators_code_table_is_the_r4_definitions() {
    let mut used = BTreeSet::new();
    let derived = derive_code_table(&definitions(), &mut used);
    let path = format!("{}/{CODE_TABLE}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("ZORGPOORT_BLESS").is_some() {
        std::fs::write(&path, &derived).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(kept == derived, "{CODE_TABLE} is not what the R4 definitions give; write it with ZORGPOORT_BLESS=1");
    let named: Vec<&str> = ["Patient.gender", "Observation.status", "Communication.status", "Consent.status"]
        .into_iter()
        .chain(["Appointment.status", "Invoice.status", "CarePlan.status", "CarePlan.intent", "Goal.lifecycleStatus"])
        .chain(["DocumentReference.status", "QuestionnaireResponse.status", "Provenance_Entity.role", "Bundle.type"])
        .collect();
    for element in named {
        assert!(derived.lines().any(|l| l.starts_with(&format!("{element} "))), "{element} is bound");
    }
    for exception in EXCEPTIONS {
        assert!(used.contains(exception.names()), "{} is excepted but R4 does not need it", exception.names());
        println!("not listed: {}: {}", exception.names(), exception.reason());
    }
}

/// The official R4 JSON schema lists the codes of most `code` elements
/// (not of the value sets several resources share): where it does, they are
/// the table's. Expression.language is the one enum of an extensible
/// binding; its maximum value set is BCP 13.
#[test]
fn the_code_table_agrees_with_the_r4_schemas_enums() {
    let schema = r4_schema();
    let table = CodeTable::r4();
    let mut compared = 0;
    for path in element_table().keys() {
        let (definition, element) = path.split_once('.').unwrap();
        let spec = &schema["definitions"][definition]["properties"][element];
        let Some(codes) = spec.get("items").unwrap_or(spec).get("enum").and_then(Value::as_array) else { continue };
        let binding = table.get(definition, element).unwrap_or_else(|| panic!("{path}: an enum, but no binding"));
        match &binding.codes {
            Codes::Listed(listed) => {
                let listed: BTreeSet<&str> = listed.iter().copied().collect();
                let enumerated: BTreeSet<&str> = codes.iter().map(|c| c.as_str().unwrap()).collect();
                assert_eq!(listed, enumerated, "{path}");
            }
            Codes::Grammar(grammar) => {
                assert_eq!((path.as_str(), *grammar), ("Expression.language", Grammar::MediaType))
            }
        }
        compared += 1;
    }
    assert!(compared >= 40, "{compared}");
}

/// One step from a definition to an element of it, of type `target`.
#[derive(Clone)]
struct Step {
    element: String,
    target: String,
    repeats: bool,
}

/// The shortest way from a root definition to each definition of the
/// element table (elements tried in name order, so it is always the same).
fn routes() -> HashMap<String, (String, Vec<Step>)> {
    let elements = element_table();
    let mut routes: HashMap<String, (String, Vec<Step>)> = HashMap::new();
    let mut queue = VecDeque::new();
    for root in root_definitions() {
        routes.insert(root.to_owned(), (root.to_owned(), Vec::new()));
        queue.push_back(root.to_owned());
    }
    while let Some(definition) = queue.pop_front() {
        let (root, steps) = routes[&definition].clone();
        for (path, type_name) in elements.range(format!("{definition}.")..format!("{definition}/")) {
            let target = type_name.trim_end_matches("[]");
            if routes.contains_key(target) || !elements.keys().any(|p| p.starts_with(&format!("{target}."))) {
                continue;
            }
            let element = path[definition.len() + 1..].to_owned();
            let mut steps = steps.clone();
            steps.push(Step { element, target: target.to_owned(), repeats: type_name.ends_with("[]") });
            routes.insert(target.to_owned(), (root.clone(), steps));
            queue.push_back(target.to_owned());
        }
    }
    routes
}

/// The elements R4 requires (`min` 1) of each definition of the element
/// table, with their types: what a made-up object needs to be valid R4.
fn required_elements(definitions: &HashMap<String, Value>) -> HashMap<String, Vec<(String, String)>> {
    let elements = element_table();
    let roots: BTreeSet<&str> = elements.keys().map(|p| p.split(['.', '_']).next().unwrap()).collect();
    let mut required: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for root in roots {
        let structure = &definitions[&format!("http://hl7.org/fhir/StructureDefinition/{root}")];
        for element in structure["snapshot"]["element"].as_array().unwrap() {
            let path: Vec<&str> = element["path"].as_str().unwrap().split('.').collect();
            let (definition, name) = match path.as_slice() {
                [_, name] => (root.to_owned(), *name),
                [.., parent, name] if path.len() > 2 => (format!("{root}_{}", upper_first(parent)), *name),
                _ => continue,
            };
            if element["min"] == 0 || element["contentReference"].is_string() {
                continue;
            }
            let name = match name.strip_suffix("[x]") {
                Some(stem) => format!("{stem}{}", upper_first(element["type"][0]["code"].as_str().unwrap())),
                None => name.to_owned(),
            };
            let type_name = elements[&format!("{definition}.{name}")].clone();
            required.entry(definition).or_default().push((name, type_name));
        }
    }
    required
}

/// Builds resources with a code at a bound element: a conforming sample of
/// the root type, and on the way to the element made-up objects with what
/// R4 requires of them.
struct Skeleton {
    samples: Vec<(String, Value)>,
    required: HashMap<String, Vec<(String, String)>>,
}

impl Skeleton {
    /// A conforming resource of `root` from the samples, or a made-up one.
    fn base(&self, root: &str) -> Value {
        let sample = self.samples.iter().map(|(_, r)| r).find(|r| r["resourceType"] == root);
        let mut resource = sample.cloned().unwrap_or_else(|| json!({"resourceType": root}));
        self.fill(root, resource.as_object_mut().unwrap());
        resource
    }

    /// Adds the elements R4 requires of a `definition` that `object` lacks.
    fn fill(&self, definition: &str, object: &mut Map<String, Value>) {
        for (name, type_name) in self.required.get(definition).into_iter().flatten() {
            if !object.contains_key(name) {
                let value = self.made_up(definition, name, type_name.trim_end_matches("[]"));
                let value = if type_name.ends_with("[]") { json!([value]) } else { value };
                object.insert(name.clone(), value);
            }
        }
    }

    fn made_up(&self, definition: &str, name: &str, type_name: &str) -> Value {
        match type_name {
            "code" => match CodeTable::r4().get(definition, name) {
                Some(binding) => right_and_wrong(binding).0.into(),
                None => "x".into(),
            },
            "boolean" => true.into(),
            "decimal" | "integer" | "unsignedInt" | "positiveInt" => 1.into(),
            "date" | "dateTime" => "2024-01-01".into(),
            "instant" => "2024-01-01T00:00:00Z".into(),
            "time" => "08:00:00".into(),
            "uri" | "url" | "canonical" => "https://zorgpoort.nl/fhir/test".into(),
            "base64Binary" => "AA==".into(),
            "xhtml" => "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>".into(),
            "Reference" => json!({"reference": "Patient/x"}),
            primitive if primitive.starts_with(|c: char| c.is_ascii_lowercase()) => "x".into(),
            complex => {
                let mut object = Map::new();
                self.fill(complex, &mut object);
                if object.is_empty() {
                    // FHIR JSON has no empty objects; every element may have an id.
                    object.insert("id".into(), "made-up".into());
                }
                Value::Object(object)
            }
        }
    }

    /// The object at the end of `steps` in `resource` (the first item of an
    /// array; made, with what R4 requires, where missing), and its path.
    fn reach<'a>(&self, resource: &'a mut Value, steps: &[Step]) -> (&'a mut Map<String, Value>, String) {
        let mut path = resource["resourceType"].as_str().unwrap().to_owned();
        let mut here = resource.as_object_mut().unwrap();
        for step in steps {
            drop_other_choices(here, &step.element);
            path.push('.');
            path.push_str(&step.element);
            let made = || {
                let mut object = Map::new();
                self.fill(&step.target, &mut object);
                if step.repeats { json!([object]) } else { Value::Object(object) }
            };
            let slot = here.entry(step.element.clone()).or_insert_with(made);
            let object = if step.repeats {
                path.push_str("[0]");
                &mut slot.as_array_mut().unwrap()[0]
            } else {
                slot
            };
            here = object.as_object_mut().unwrap();
        }
        (here, path)
    }
}

/// A choice (`value[x]`) holds one form: the sample's other forms go when
/// the route takes `element`.
fn drop_other_choices(object: &mut Map<String, Value>, element: &str) {
    for (at, _) in element.char_indices().filter(|(_, c)| c.is_ascii_uppercase()) {
        let stem = &element[..at];
        object.retain(|key, _| key == element || !zorgpoort::fhir::validate::elements::is_choice_of(key, stem));
    }
}

/// A code of `binding` and one it refuses.
fn right_and_wrong(binding: &Binding) -> (&'static str, &'static str) {
    match &binding.codes {
        Codes::Listed(codes) => (codes[0], "not-an-r4-code"),
        Codes::Grammar(Grammar::MediaType) => ("application/pdf", "pdf"),
        Codes::Grammar(Grammar::Language) => ("nl-NL", "nl_NL"),
        Codes::Grammar(Grammar::Currency) => ("EUR", "euro"),
    }
}

/// Sets `element` of `object` to `code` (a list of one where it repeats; a
/// CodeableConcept with one coding of the grammar's system where it is
/// one), and gives the path the issue must name.
fn put(object: &mut Map<String, Value>, element: &str, type_name: &str, code: &str, binding: &Binding) -> String {
    let (value, at) = match (type_name.trim_end_matches("[]"), &binding.codes) {
        ("code", _) => (Value::from(code), ""),
        ("CodeableConcept", Codes::Grammar(grammar)) => {
            (json!({"coding": [{"system": grammar.system(), "code": code}]}), ".coding[0].code")
        }
        (other, _) => panic!("{element}: a binding on a {other}"),
    };
    let (value, index) = if type_name.ends_with("[]") { (json!([value]), "[0]") } else { (value, "") };
    object.insert(element.to_owned(), value);
    format!("{index}{at}")
}

/// For every bound element of the table (so a new entry is covered by
/// itself): a conforming resource with a wrong code there is refused by the
/// checks of `zorgpoort validate`, naming the element's path; the same
/// resource with a right code (the sample's, where it has one) has no issue
/// there.
#[test]
fn a_wrong_code_at_every_bound_element_is_caught_with_its_path() {
    let set = ProfileSet::builtin();
    let skeleton = Skeleton { samples: sample_resources(), required: required_elements(&definitions()) };
    let routes = routes();
    let elements = element_table();
    let mut bound: Vec<(&str, &str, &Binding)> = CodeTable::r4().iter().collect();
    bound.sort_by_key(|(d, e, _)| (*d, *e));
    let issues_of = |resource: &Value| match resource["resourceType"].as_str() {
        Some("Bundle") => set.check_bundle(resource),
        _ => set.check(resource),
    };
    let mut checked = 0;
    for (definition, element, binding) in &bound {
        let (root, steps) = routes.get(*definition).unwrap_or_else(|| panic!("{definition}: no way from a root"));
        let type_name = &elements[&format!("{definition}.{element}")];
        let (right, wrong) = right_and_wrong(binding);
        let mut resource = skeleton.base(root);
        let (object, parent) = skeleton.reach(&mut resource, steps);
        let original = object.get(*element).cloned();
        let suffix = put(object, element, type_name, wrong, binding);
        let path = format!("{parent}.{element}{suffix}");
        let issues = issues_of(&resource);
        assert!(
            issues.iter().any(|i| i.path == path && i.message.contains(binding.value_set)),
            "{definition}.{element}: no issue at {path} for {wrong:?}: {issues:?}\n{resource:#}"
        );
        // The sample's own code, where it has one (a profile may fix it).
        let (object, _) = skeleton.reach(&mut resource, steps);
        match original {
            Some(code) => drop(object.insert(element.to_string(), code)),
            None => drop(put(object, element, type_name, right, binding)),
        }
        let issues = issues_of(&resource);
        assert!(!issues.iter().any(|i| i.path == path), "{definition}.{element}: {right:?} refused: {issues:?}");
        checked += 1;
    }
    println!("{checked} bound elements checked with a wrong code");
    assert!(checked >= 60, "{checked}");
}
