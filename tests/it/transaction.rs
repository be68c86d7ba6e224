//! Transaction and batch Bundles on `[base]`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::schema::assert_valid;
use crate::common::{Db, TENANT, TestServer, expect_outcome, get, json, post_bundle};

fn entry(full_url: &str, resource: Value) -> Value {
    let t = resource["resourceType"].as_str().unwrap().to_owned();
    json!({"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": t}})
}

fn observation(subject: &str, status: &str) -> Value {
    json!({"resourceType": "Observation", "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": subject}, "valueQuantity": {"value": 56.0, "unit": "kg"}})
}

async fn transaction_creates_and_links(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let patient_url = "urn:uuid:6a0e1c2e-8d3f-4a5b-9c1d-2e3f4a5b6c7d";
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        entry("urn:uuid:0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", observation(patient_url, "final")),
        entry(patient_url, json!({"resourceType": "Patient", "name": [{"family": "Dijk"}]})),
        {"request": {"method": "GET", "url": "Observation?code=http://loinc.org|29463-7"}},
    ]});
    let (status, response) = json(post_bundle(&server, &token, &bundle).await).await;
    assert_eq!(status, 200, "{response}");
    assert_valid(&response);
    assert_eq!(response["type"], "transaction-response");
    let entries = response["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["response"]["status"], "201 Created");
    assert_eq!(entries[1]["response"]["status"], "201 Created");
    let patient_id = entries[1]["resource"]["id"].as_str().unwrap();
    assert_eq!(entries[0]["resource"]["subject"]["reference"], format!("Patient/{patient_id}"));
    assert!(
        entries[1]["response"]["location"].as_str().unwrap().starts_with(&format!("Patient/{patient_id}/_history/1"))
    );
    // The GET runs after the writes and sees them.
    assert_eq!(entries[2]["resource"]["total"], 1);
    let (_, found) = get(&server, &token, &format!("Observation?patient={patient_id}")).await;
    assert_eq!(found["total"], 1);
}

async fn a_transaction_that_fails_part_way_writes_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let patient_url = "urn:uuid:1a0e1c2e-8d3f-4a5b-9c1d-2e3f4a5b6c7d";
    // Invalid content in the last entry: refused before anything is written.
    let invalid = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        entry(patient_url, json!({"resourceType": "Patient"})),
        entry("urn:uuid:2", observation(patient_url, "final")),
        entry("urn:uuid:3", json!({"resourceType": "Observation", "status": "final"})),
    ]});
    let outcome = expect_outcome(post_bundle(&server, &token, &invalid).await, 400).await;
    assert_eq!(outcome["issue"][0]["expression"][0], "Bundle.entry[2]");
    // A failure inside the database transaction (an update with a stale
    // version after two creates) rolls everything back.
    let existing = crate::common::create(&server, &token, json!({"resourceType": "Patient"})).await;
    let id = existing["id"].as_str().unwrap();
    let conflicting = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        entry(patient_url, json!({"resourceType": "Patient"})),
        entry("urn:uuid:4", observation(patient_url, "final")),
        {"resource": {"resourceType": "Patient", "id": id, "gender": "male"},
         "request": {"method": "PUT", "url": format!("Patient/{id}"), "ifMatch": "W/\"7\""}},
    ]});
    expect_outcome(post_bundle(&server, &token, &conflicting).await, 412).await;
    let (_, observations) = get(&server, &token, "Observation").await;
    let (_, patients) = get(&server, &token, "Patient").await;
    assert_eq!((observations["total"].as_u64(), patients["total"].as_u64()), (Some(0), Some(1)));
    let (_, unchanged) = get(&server, &token, &format!("Patient/{id}")).await;
    assert_eq!(unchanged["meta"]["versionId"], "1");
}

async fn batch_entries_stand_alone(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        entry("urn:uuid:a", json!({"resourceType": "Patient"})),
        entry("urn:uuid:b", json!({"resourceType": "Observation"})),
        {"request": {"method": "GET", "url": "Patient/missing"}},
        {"request": {"method": "PATCH", "url": "Patient/x"}},
    ]});
    let (status, response) = json(post_bundle(&server, &token, &bundle).await).await;
    assert_eq!(status, 200, "{response}");
    assert_valid(&response);
    let statuses: Vec<&str> =
        response["entry"].as_array().unwrap().iter().map(|e| e["response"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201 Created", "400 Bad Request", "404 Not Found", "400 Bad Request"]);
    assert_eq!(response["entry"][1]["response"]["outcome"]["resourceType"], "OperationOutcome");
    let (_, patients) = get(&server, &token, "Patient").await;
    assert_eq!(patients["total"], 1);
}

async fn bundles_are_checked(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let reader = server.token(TENANT, "system/*.rs").await;
    expect_outcome(post_bundle(&server, &token, &json!({"resourceType": "Patient"})).await, 400).await;
    expect_outcome(post_bundle(&server, &token, &json!({"resourceType": "Bundle", "type": "collection"})).await, 400)
        .await;
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [entry("urn:uuid:a", json!({"resourceType": "Patient"}))]});
    expect_outcome(post_bundle(&server, &reader, &bundle).await, 403).await;
    let response = server.request(Method::GET, "Patient", &token).send().await.unwrap();
    assert_eq!(json(response).await.1["total"], 0);
}

crate::on_both_databases!(
    transaction_creates_and_links,
    a_transaction_that_fails_part_way_writes_nothing,
    batch_entries_stand_alone,
    bundles_are_checked,
);
