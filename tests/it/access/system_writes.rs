//! A system token's update is checked like a person's read: the new
//! content is classified, and a move to another client is refused (409)
//! in a single update, a transaction and a batch; a new category is allowed.

use reqwest::Method;
use serde_json::{Value, json};

use super::World;
use super::delivery::*;
use crate::common::{Db, TENANT, json as read_json};
use crate::on_both_databases;

on_both_databases!(an_update_cannot_move_a_record_to_another_client, an_update_may_change_the_category);

async fn observation(world: &World, token: &str) -> (String, Value) {
    let id = world.id("Observation", "meting", &format!("M-{CLIENT}-1")).await;
    let (status, observation) = world.get(token, &format!("Observation/{id}")).await;
    assert_eq!(status, 200);
    (id, observation)
}

async fn an_update_cannot_move_a_record_to_another_client(db: Db) {
    let world = World::new(db).await;
    let writer = world.server.token(TENANT, "system/*.cruds").await;
    let (id, mut moved) = observation(&world, &writer).await;
    let other = world.client(OTHER_CLIENT).await;
    moved["subject"] = json!({"reference": format!("Patient/{other}")});
    let response =
        world.server.request(Method::PUT, &format!("Observation/{id}"), &writer).json(&moved).send().await.unwrap();
    let (status, outcome) = read_json(response).await;
    assert_eq!(status, 409, "{outcome}");
    let transaction = |kind: &str| {
        json!({"resourceType": "Bundle", "type": kind, "entry": [{
            "resource": moved.clone(), "request": {"method": "PUT", "url": format!("Observation/{id}")}
        }]})
    };
    let (status, _) = read_json(
        world
            .server
            .client
            .post(world.server.base(TENANT))
            .bearer_auth(&writer)
            .json(&transaction("transaction"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    let (status, batch) = read_json(
        world
            .server
            .client
            .post(world.server.base(TENANT))
            .bearer_auth(&writer)
            .json(&transaction("batch"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(batch["entry"][0]["response"]["status"].as_str().unwrap().starts_with("409"), "{batch}");
    // Nothing moved: the client's own measurement is still theirs.
    let (_, total, _) = world.search(&world.system, &format!("Observation?patient={other}")).await;
    assert_eq!(total, 1);
    // The same content without the move is an ordinary update.
    let (_, unchanged) = observation(&world, &writer).await;
    let response =
        world.server.request(Method::PUT, &format!("Observation/{id}"), &writer).json(&unchanged).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

async fn an_update_may_change_the_category(db: Db) {
    let world = World::new(db).await;
    let writer = world.server.token(TENANT, "system/*.cruds").await;
    let id = world.id("Communication", "rapportage", &format!("RR-{CLIENT}-1")).await;
    let (_, mut report) = world.get(&writer, &format!("Communication/{id}")).await;
    let message_category = json!([{"coding": [{
        "system": "https://zorgpoort.nl/fhir/CodeSystem/communication-category", "code": "message"}]}]);
    report["category"] = message_category;
    if let Some(meta) = report.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("security");
    }
    let response =
        world.server.request(Method::PUT, &format!("Communication/{id}"), &writer).json(&report).send().await.unwrap();
    let (status, updated) = read_json(response).await;
    assert_eq!(status, 200, "{updated}");
    // The naaste with reports only no longer sees it.
    let naaste = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    assert_eq!(world.get(&naaste, &format!("Communication/{id}")).await.0, 404);
}
