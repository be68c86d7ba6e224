//! `GET [base]/metadata`: no token needed, valid against the official R4
//! schema, and saying exactly what the server supports.

use serde_json::Value;
use zorgpoort::fhir::ResourceType;
use zorgpoort::fhir::search_param;

use crate::common::schema::{assert_valid, is_valid};
use crate::common::{Db, TENANT, TestServer, expect_outcome, json};

async fn capability_statement_is_valid_r4(db: Db) {
    let server = TestServer::start(db).await;
    let response = server.client.get(format!("{}/metadata", server.base(TENANT))).send().await.unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/fhir+json"));
    let (status, statement) = json(response).await;
    assert_eq!(status, 200);
    assert_valid(&statement);
    assert_eq!(statement["fhirVersion"], "4.0.1");
    assert_eq!(statement["implementation"]["url"], server.base(TENANT));

    // Every served type with exactly the parameters of the table.
    let resources = statement["rest"][0]["resource"].as_array().unwrap();
    let types: Vec<&str> = resources.iter().map(|r| r["type"].as_str().unwrap()).collect();
    let served: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(types, served);
    for resource in resources {
        let t: ResourceType = resource["type"].as_str().unwrap().parse().unwrap();
        let mut listed: Vec<&str> =
            resource["searchParam"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        let mut expected: Vec<&str> = vec!["_id", "_lastUpdated"];
        expected.extend(search_param::of_type(t).map(|p| p.name));
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "{t}");
    }

    // The schema check itself bites: a broken statement fails it.
    let mut broken: Value = statement.clone();
    broken["status"] = "running".into();
    assert!(!is_valid(&broken));
}

async fn metadata_of_an_unknown_tenant_is_404(db: Db) {
    let server = TestServer::start(db).await;
    let response = server.client.get(format!("{}/nobody/fhir/metadata", server.origin)).send().await.unwrap();
    let outcome = expect_outcome(response, 404).await;
    assert_valid(&outcome);
}

crate::on_both_databases!(capability_statement_is_valid_r4, metadata_of_an_unknown_tenant_is_404);
