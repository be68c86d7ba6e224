//! The files in `conformance/`: valid R4, and in step with the code.

use serde_json::Value;
use zorgpoort::fhir::DataCategory;
use zorgpoort::fhir::classify::{COMMUNICATION_CATEGORY_SYSTEM, CONSENT_CATEGORY_SYSTEM};

use crate::common::schema::assert_valid;

fn load(name: &str) -> Value {
    let path = format!("{}/conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn codes(code_system: &Value) -> Vec<String> {
    code_system["concept"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_conformance_file_is_valid_r4() {
    let dir = format!("{}/conformance", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let resource: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_valid(&resource);
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} files");
}

#[test]
fn code_systems_match_the_code() {
    let categories = load("CodeSystem-data-category.json");
    assert_eq!(categories["url"], DataCategory::SYSTEM);
    let expected: Vec<String> = DataCategory::ALL.iter().map(|c| c.code().to_owned()).collect();
    assert_eq!(codes(&categories), expected);
    for (concept, category) in categories["concept"].as_array().unwrap().iter().zip(DataCategory::ALL) {
        assert_eq!(concept["display"], category.display());
    }
    let communication = load("CodeSystem-communication-category.json");
    assert_eq!(communication["url"], COMMUNICATION_CATEGORY_SYSTEM);
    assert_eq!(codes(&communication), ["report", "message"]);
    let consent = load("CodeSystem-consent-category.json");
    assert_eq!(consent["url"], CONSENT_CATEGORY_SYSTEM);
    assert_eq!(codes(&consent), ["access-grant", "client-consent"]);
    let parameter = load("SearchParameter-Communication-date.json");
    let table = zorgpoort::fhir::search_param::find(zorgpoort::fhir::ResourceType::Communication, "date").unwrap();
    assert_eq!(parameter["url"], table.definition_url());
}
