//! The profiles in `profiles/` and the validator that reads them: the files
//! are valid R4, every resource the samples produce conforms, and each kind
//! of constraint bites with a message naming the path.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use zorgpoort::ingest::replay::replay;
use zorgpoort::mapping::spec::Mapping;

use zorgpoort::fhir::ResourceType;
use zorgpoort::fhir::validate::elements::BSN_SYSTEM;
use zorgpoort::fhir::validate::{PROFILE_FILES, ProfileSet, TERMINOLOGY_FILES, profile_url};

use crate::common::schema::assert_valid;
use crate::common::{Db, TENANT, TestServer, gzipped_fixture, json};
use crate::ingest::{copy_dir, ingest, repo, tenant};

const TYPE_TABLE: &str = "src/fhir/validate/r4_elements.txt";

pub(crate) fn r4_schema() -> Value {
    serde_json::from_str(&gzipped_fixture("fhir.schema.json.gz")).unwrap()
}

/// The definitions the validator's tables start from: the served resource
/// types, and Bundle (whose own elements `zorgpoort validate` checks).
pub(crate) fn root_definitions() -> Vec<&'static str> {
    ResourceType::ALL.iter().map(|t| t.as_str()).chain(["Bundle"]).collect()
}

/// The element table the validator walks with, derived from the official
/// R4 JSON schema: `Definition.element type` (`[]` after the type for an
/// array), for every definition reachable from the root definitions.
fn derive_type_table(schema: &Value) -> String {
    let definitions = schema["definitions"].as_object().unwrap();
    let primitives: Vec<&str> =
        definitions.keys().map(String::as_str).filter(|n| n.starts_with(|c: char| c.is_ascii_lowercase())).collect();
    let name_of_ref = |r: &str| r.trim_start_matches("#/definitions/").to_owned();
    let mut todo: Vec<String> = root_definitions().into_iter().map(str::to_owned).collect();
    let mut seen: BTreeSet<String> = todo.iter().cloned().collect();
    let mut lines = BTreeMap::new();
    while let Some(definition) = todo.pop() {
        let Some(properties) = definitions[&definition]["properties"].as_object() else { continue };
        for (element, spec) in properties {
            if element.starts_with('_') || spec.get("const").is_some() {
                continue;
            }
            let (item, array) = match spec.get("items") {
                Some(items) => (items, true),
                None => (spec, false),
            };
            let type_name = if let Some(r) = item.get("$ref").and_then(Value::as_str) {
                name_of_ref(r)
            } else if item.get("enum").is_some() {
                "code".to_owned()
            } else {
                // An inline primitive of a choice: `effectiveDateTime` is a dateTime.
                let found = primitives
                    .iter()
                    .filter(|p| {
                        let mut capital = p.to_string();
                        capital[..1].make_ascii_uppercase();
                        element.ends_with(&capital)
                    })
                    .max_by_key(|p| p.len())
                    .unwrap_or_else(|| panic!("{definition}.{element}: no primitive type"));
                let pattern = &definitions[*found]["pattern"];
                assert!(pattern.is_null() || *pattern == item["pattern"], "{definition}.{element}");
                (*found).to_owned()
            };
            if definitions.contains_key(&type_name)
                && !primitives.contains(&type_name.as_str())
                && type_name != "ResourceList"
                && seen.insert(type_name.clone())
            {
                todo.push(type_name.clone());
            }
            lines.insert(format!("{definition}.{element}"), format!("{type_name}{}", if array { "[]" } else { "" }));
        }
    }
    lines.into_iter().map(|(path, type_name)| format!("{path} {type_name}\n")).collect()
}

#[test]
fn the_validators_element_table_is_the_r4_schemas() {
    let derived = derive_type_table(&r4_schema());
    let path = format!("{}/{TYPE_TABLE}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("ZORGPOORT_BLESS").is_some() {
        std::fs::write(&path, &derived).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(kept == derived, "{TYPE_TABLE} is not what the R4 schema gives; write it with ZORGPOORT_BLESS=1");
}

pub(crate) fn json_files(dir: &str) -> Vec<(String, Value)> {
    let dir = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).unwrap())
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

#[test]
fn the_profiles_are_valid_r4_and_all_embedded() {
    let files = json_files("profiles");
    for (_, profile) in &files {
        assert_valid(profile);
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let embedded: Vec<&str> = PROFILE_FILES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, embedded, "every file in profiles/ is embedded in the validator");
    assert_eq!(files.len(), ResourceType::ALL.len());
    let value_sets: Vec<String> =
        json_files("conformance").into_iter().map(|(n, _)| n).filter(|n| n.starts_with("ValueSet-")).collect();
    let embedded: Vec<String> =
        TERMINOLOGY_FILES.iter().map(|(n, _)| (*n).to_owned()).filter(|n| n.starts_with("ValueSet-")).collect();
    assert_eq!(value_sets, embedded);
}

/// The resources of the golden mapping files (what the samples produce),
/// as written: amendments are merged into what they amend before writing,
/// so they are left out here (the ingest tests write them).
pub(crate) fn sample_resources() -> Vec<(String, Value)> {
    let mut resources = Vec::new();
    for (name, records) in json_files("tests/golden/mapping") {
        for record in records.as_array().unwrap() {
            if !record["amends"].is_null() {
                continue;
            }
            for write in record["action"]["write"].as_array().into_iter().flatten() {
                let mut resource = write["resource"].clone();
                resource["id"] = Value::String("x".into());
                resources.push((format!("{name} {} {}", record["kind"], record["id"]), resource));
            }
        }
    }
    resources
}

#[test]
fn every_resource_the_samples_produce_conforms() {
    let set = ProfileSet::builtin();
    let resources = sample_resources();
    assert!(resources.len() > 200, "{}", resources.len());
    let mut types = BTreeSet::new();
    for (origin, resource) in &resources {
        let issues: Vec<String> = set.validate(resource).iter().map(ToString::to_string).collect();
        assert!(issues.is_empty(), "{origin}: {issues:?}");
        types.insert(resource["resourceType"].as_str().unwrap().to_owned());
    }
    assert!(types.len() >= 15, "{types:?}");
}

/// The first sample resource of `resource_type` (a valid one).
fn sample(resource_type: &str) -> Value {
    sample_resources().into_iter().map(|(_, r)| r).find(|r| r["resourceType"] == resource_type).unwrap()
}

/// Breaks one constraint of each kind in valid resources: each is caught,
/// with the path of the element.
#[test]
fn each_broken_constraint_is_caught_with_its_path() {
    let set = ProfileSet::builtin();
    let caught = |resource: &Value| -> Vec<String> { set.validate(resource).iter().map(ToString::to_string).collect() };

    let mut missing = sample("Communication");
    missing.as_object_mut().unwrap().remove("category");
    assert_eq!(caught(&missing), ["Communication.category: minimum 1 required, found 0"]);

    let mut too_many = sample("Communication");
    let payload = too_many["payload"][0].clone();
    too_many["payload"].as_array_mut().unwrap().push(payload);
    assert_eq!(caught(&too_many), ["Communication.payload: at most 1 allowed, found 2"]);

    let mut wrong_fixed = sample("CarePlan");
    wrong_fixed["intent"] = "order".into();
    assert_eq!(caught(&wrong_fixed), ["CarePlan.intent: must be exactly \"plan\", found \"order\""]);

    let mut wrong_pattern = sample("Consent");
    wrong_pattern["scope"]["coding"][0]["system"] = "http://example.org/scope".into();
    assert_eq!(
        caught(&wrong_pattern),
        [
            "Consent.scope: must match the pattern {\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\"}]}"
        ]
    );

    let mut unbound = sample("Communication");
    unbound["category"][0]["coding"][0]["code"] = "gossip".into();
    assert_eq!(
        caught(&unbound),
        ["Communication.category[0].coding[0]: https://zorgpoort.nl/fhir/CodeSystem/communication-category#gossip \
          is not in the value set https://zorgpoort.nl/fhir/ValueSet/communication-category (required binding)"]
    );

    let mut bad_date = sample("Patient");
    bad_date["birthDate"] = "1950-02-30".into();
    assert_eq!(caught(&bad_date), ["Patient.birthDate: is not a valid R4 date: \"1950-02-30\""]);

    let mut bad_bsn = sample("Patient");
    let bsn = bad_bsn["identifier"].as_array().unwrap().iter().position(|i| i["system"] == BSN_SYSTEM).unwrap();
    bad_bsn["identifier"][bsn]["value"] = "123456789".into();
    let issues = caught(&bad_bsn);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(
        issues[0].starts_with(&format!("Patient.identifier[{bsn}].value: is not a valid BSN: it fails the 11-check")),
        "{issues:?}"
    );
    assert!(!issues[0].contains("123456789"), "the message never shows the number");
}

/// A mapped resource that breaks its profile (two categories where the
/// Observation profile allows one) is a kept reject naming the element; the
/// others go in, and a replay after the template is mended writes it.
async fn a_mapped_resource_that_breaks_its_profile_is_a_reject(db: Db) {
    let server = TestServer::start(db).await;
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/mappings/zorgdorp"), folder.path());
    let template = folder.path().join("templates/reading.json");
    let good = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, good.replacen("\"category\": [", "\"category\": [{\"text\": \"meting\"},", 1)).unwrap();
    let mapping = Arc::new(Mapping::load(folder.path()).unwrap());
    let summary = ingest(&server.store, &mapping, &repo().join("tests/fixtures/deliveries/zorgdorp-1.json")).await;
    // P-1 still goes in; R-1 joins the three the mapping rejects.
    assert_eq!((summary.created, summary.rejected), (1, 4), "{summary:?}");
    let open = server.store.rejects(&tenant(), false).await.unwrap();
    let r1 = open.iter().find(|r| r.reject.source_id.as_deref() == Some("R-1")).expect("R-1 kept");
    assert_eq!(r1.reject.field, "Observation.category");
    assert_eq!(
        r1.reject.reason,
        "does not conform to https://zorgpoort.nl/fhir/StructureDefinition/ZorgpoortObservation: \
         Observation.category: at most 1 allowed, found 2"
    );
    std::fs::write(&template, good).unwrap();
    let mappings = [Mapping::load(folder.path()).unwrap()];
    let replayed = replay(&server.store, &mappings, &tenant(), vec![r1.clone()]).await.unwrap();
    assert_eq!((replayed.created, replayed.rejected), (1, 0), "{replayed:?}");
    let token = server.token(TENANT, "system/*.rs").await;
    let (status, bundle) = json(server.request(Method::GET, "Observation", &token).send().await.unwrap()).await;
    assert_eq!(status, 200, "{bundle}");
    let served = &bundle["entry"][0]["resource"];
    assert_eq!(served["meta"]["profile"], serde_json::json!([profile_url(ResourceType::Observation)]), "{served}");
}

/// `$validate` over HTTP: a resource or a Parameters in, 200 with an
/// OperationOutcome naming each issue's path out; nothing is written.
async fn validate_operation_answers_an_operation_outcome(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let post = |path: &str, body: Value| {
        server
            .request(Method::POST, path, &token)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
    };
    let good = serde_json::json!({"resourceType": "Practitioner", "name": [{"family": "Jansen"}]});
    let (status, outcome) = json(post("Practitioner/$validate", good.clone()).await.unwrap()).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["issue"][0]["severity"], "information", "{outcome}");
    assert_eq!(outcome["issue"][0]["diagnostics"], format!("conforms to {}", profile_url(ResourceType::Practitioner)));

    let bad = serde_json::json!({"resourceType": "Patient", "birthDate": "1950-02-30",
        "identifier": [{"system": BSN_SYSTEM, "value": "123456789"}]});
    let parameters = serde_json::json!({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": bad}, {"name": "mode", "valueCode": "create"}]});
    let (status, outcome) = json(post("Patient/$validate", parameters).await.unwrap()).await;
    assert_eq!(status, 200, "{outcome}");
    let issues = outcome["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{outcome}");
    assert_eq!(issues[0]["severity"], "error");
    assert_eq!(issues[0]["expression"], serde_json::json!(["Patient.birthDate"]));
    assert_eq!(issues[0]["diagnostics"], "is not a valid R4 date: \"1950-02-30\"");
    assert_eq!(issues[1]["expression"], serde_json::json!(["Patient.identifier[0].value"]));
    assert!(!outcome.to_string().contains("123456789"), "no BSN in the answer");

    let (status, outcome) = json(post("Patient/$validate", good).await.unwrap()).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["issue"][0]["diagnostics"], "resourceType is 'Practitioner', expected 'Patient'");
    let other_profile = serde_json::json!({"resourceType": "Parameters", "parameter": [
        {"name": "profile", "valueUri": "http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient"}]});
    let (status, outcome) = json(post("Patient/$validate", other_profile).await.unwrap()).await;
    assert_eq!((status, &outcome["issue"][0]["code"]), (400, &Value::from("not-supported")), "{outcome}");

    let response = server
        .client
        .post(format!("{}/Patient/$validate", server.base(TENANT)))
        .header("content-type", "application/fhir+json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "a token is needed");
    let (status, bundle) = json(server.request(Method::GET, "Patient", &token).send().await.unwrap()).await;
    assert_eq!((status, bundle["total"].as_u64()), (200, Some(0)), "nothing written");
}

/// A resource written through the API names the profile when it conforms,
/// and is written without the claim when it does not.
async fn api_writes_name_the_profile_when_they_conform(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let create = |body: Value| {
        server
            .request(Method::POST, "Practitioner", &token)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
    };
    let profile = profile_url(ResourceType::Practitioner);
    let good = serde_json::json!({"resourceType": "Practitioner", "name": [{"family": "Jansen"}]});
    let (status, created) = json(create(good).await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["meta"]["profile"], serde_json::json!([profile]));
    let nameless =
        serde_json::json!({"resourceType": "Practitioner", "meta": {"profile": [profile]}, "gender": "male"});
    let (status, created) = json(create(nameless).await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["meta"].get("profile").is_none(), "{created}");
}

crate::on_both_databases!(
    a_mapped_resource_that_breaks_its_profile_is_a_reject,
    validate_operation_answers_an_operation_outcome,
    api_writes_name_the_profile_when_they_conform
);
