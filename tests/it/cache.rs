//! What the gateway keeps in memory never outlives a change: reads through
//! one instance follow changes made through another instance, through
//! another pool on the database, and floods of changes; so do searches;
//! snapshots of the same result are shared and a changed result gets its
//! own.

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::fhir::{ResourceId, ResourceType, TenantCode};
use zorgpoort::store::{self, Store, WriteOp};

use crate::common::{Db, TENANT, TestServer, create, entry_ids, expect_outcome, get, link};
use crate::on_both_databases;

fn patient(family: &str) -> Value {
    json!({"resourceType": "Patient", "name": [{"family": family}], "gender": "female"})
}

fn tenant() -> TenantCode {
    TenantCode::parse(TENANT).unwrap()
}

/// Updates the patient through a store of its own, as another instance
/// or process would.
async fn update_elsewhere(other: &dyn Store, id: &str, family: &str) {
    let id = ResourceId::parse(id).unwrap();
    let mut resource = patient(family);
    resource["id"] = json!(id.as_str());
    let prepared = store::prepare(ResourceType::Patient, id, resource).unwrap();
    other.write(&tenant(), vec![WriteOp::Update { resource: prepared, if_match: None }], Utc::now()).await.unwrap();
}

async fn family_and_version(server: &TestServer, token: &str, id: &str) -> (String, String) {
    let (status, body) = get(server, token, &format!("Patient/{id}")).await;
    assert_eq!(status, 200, "{body}");
    (body["name"][0]["family"].as_str().unwrap().to_owned(), body["meta"]["versionId"].as_str().unwrap().to_owned())
}

async fn reads_follow_changes_made_elsewhere(db: Db) {
    let server = TestServer::start(db).await;
    let other_instance = server.beside(|_| {}).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let id = create(&server, &token, patient("Bakker")).await["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(family_and_version(&server, &token, &id).await, ("Bakker".into(), "1".into()));
    }

    // Changed through the other instance's API.
    let response = other_instance
        .request(Method::PUT, &format!("Patient/{id}"), &token)
        .header("content-type", "application/fhir+json")
        .body(json!({"resourceType": "Patient", "id": id, "name": [{"family": "Visser"}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(family_and_version(&server, &token, &id).await, ("Visser".into(), "2".into()));
    let response = server.request(Method::GET, &format!("Patient/{id}"), &token).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "W/\"2\"");

    // Changed through another pool on the database.
    let other_pool = server.db.open().await;
    update_elsewhere(other_pool.as_ref(), &id, "de Vries").await;
    assert_eq!(family_and_version(&server, &token, &id).await, ("de Vries".into(), "3".into()));

    // Deleted through the other instance: gone here at once.
    let response = other_instance.request(Method::DELETE, &format!("Patient/{id}"), &token).send().await.unwrap();
    assert!(response.status().is_success());
    let response = server.request(Method::GET, &format!("Patient/{id}"), &token).send().await.unwrap();
    expect_outcome(response, 410).await;
}

async fn reads_follow_a_flood_of_changes(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let id = create(&server, &token, patient("Bakker")).await["id"].as_str().unwrap().to_owned();
    assert_eq!(family_and_version(&server, &token, &id).await, ("Bakker".into(), "1".into()));

    // More changes than the cache lists one by one, this one among them.
    let other_pool = server.db.open().await;
    let mut ops: Vec<WriteOp> = (0..1_200)
        .map(|i| {
            let new_id = ResourceId::generate();
            WriteOp::Create(store::prepare(ResourceType::Patient, new_id, patient(&format!("Flood {i}"))).unwrap())
        })
        .collect();
    let mut resource = patient("Jansen");
    resource["id"] = json!(id);
    ops.push(WriteOp::Update {
        resource: store::prepare(ResourceType::Patient, ResourceId::parse(&id).unwrap(), resource).unwrap(),
        if_match: None,
    });
    other_pool.write(&tenant(), ops, Utc::now()).await.unwrap();
    assert_eq!(family_and_version(&server, &token, &id).await, ("Jansen".into(), "2".into()));
}

/// Readers keep the cache busy while another pool changes the resource:
/// every read that starts after a change committed shows that change.
async fn reads_racing_changes_never_go_back(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let writer = server.token(TENANT, "system/*.cruds").await;
    let id = create(&server, &writer, patient("Version 1")).await["id"].as_str().unwrap().to_owned();
    let other_pool = server.db.open().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (request, stop) = (server.request(Method::GET, &format!("Patient/{id}"), &token), stop.clone());
        readers.spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let response = request.try_clone().unwrap().send().await.unwrap();
                assert_eq!(response.status(), 200);
            }
        });
    }
    for version in 2..=20 {
        update_elsewhere(other_pool.as_ref(), &id, &format!("Version {version}")).await;
        let (family, seen_version) = family_and_version(&server, &token, &id).await;
        assert_eq!((family, seen_version), (format!("Version {version}"), version.to_string()));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    readers.join_all().await;
}

async fn the_same_result_shares_a_snapshot(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let patient_id = create(&server, &token, patient("Bakker")).await["id"].as_str().unwrap().to_owned();
    let observation = |day: u32| {
        json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": {"reference": format!("Patient/{patient_id}")},
            "effectiveDateTime": format!("2024-03-{day:02}T10:00:00+01:00")})
    };
    for day in 1..=5 {
        create(&server, &token, observation(day)).await;
    }
    let query = format!("Observation?patient={patient_id}&_sort=date&_count=2");
    let (_, first) = get(&server, &token, &query).await;
    let (_, again) = get(&server, &token, &query).await;
    let next = link(&first, "next").expect("a next link");
    assert_eq!(link(&again, "next").as_deref(), Some(next.as_str()), "the same keys, the same snapshot");

    // Another result: a snapshot of its own; the first one still pages as it was.
    create(&server, &token, observation(6)).await;
    let (_, changed) = get(&server, &token, &query).await;
    assert_eq!(changed["total"], 6);
    assert_ne!(link(&changed, "next").as_deref(), Some(next.as_str()));
    let (status, page) = crate::common::json(server.client.get(&next).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 5);
    assert_eq!(entry_ids(&page).len(), 2);
}

/// The race the cache must win, played step by step: a slow request read
/// version 1, then the resource changed and the cache dropped it, then the
/// slow request offers its version 1. It must not be kept.
async fn a_version_read_before_a_change_is_not_kept_after_it(db: Db) {
    use zorgpoort::cache::resources::ResourceCache;
    let db = crate::common::TestDb::new(db).await;
    let store = db.open().await;
    let tenant = tenant();
    let id = ResourceId::generate();
    let prepared = store::prepare(ResourceType::Patient, id.clone(), patient("Version 1")).unwrap();
    store.write(&tenant, vec![WriteOp::Create(prepared)], Utc::now()).await.unwrap();
    let cache = ResourceCache::new(std::sync::Arc::clone(&store), 1 << 20);
    let seen = store.database_state(&tenant).await.unwrap().last_change;
    assert_eq!(cache.read(&tenant, ResourceType::Patient, &id, seen).await.unwrap().version.0, 1);

    let (slow_read, as_of) = store.read_as_of(&tenant, ResourceType::Patient, &id).await.unwrap();
    update_elsewhere(db.open().await.as_ref(), id.as_str(), "Version 2").await;
    let seen = store.database_state(&tenant).await.unwrap().last_change;
    cache.bring_in_line(&tenant, seen).await.unwrap();
    cache.offer(&tenant, &slow_read, as_of);
    let now = cache.read(&tenant, ResourceType::Patient, &id, seen).await.unwrap();
    assert_eq!(now.version.0, 2);
    assert!(now.content.unwrap().contains("Version 2"));
}

/// A search answered from memory follows a change made through another
/// instance or another pool before the next request: a new match, a
/// changed match and a deleted one.
async fn searches_follow_changes_made_elsewhere(db: Db) {
    let server = TestServer::start(db).await;
    let other_instance = server.beside(|_| {}).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let search = |family: &'static str| format!("Patient?family={family}");
    let id = create(&server, &token, patient("Smit")).await["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let (_, bundle) = get(&server, &token, &search("Smit")).await;
        assert_eq!((bundle["total"].as_u64(), entry_ids(&bundle)), (Some(1), vec![id.clone()]));
    }

    // A new match, through the other instance.
    let second = create(&other_instance, &token, patient("Smit")).await["id"].as_str().unwrap().to_owned();
    let (_, bundle) = get(&server, &token, &search("Smit")).await;
    assert_eq!(bundle["total"], 2);
    assert!(entry_ids(&bundle).contains(&second));

    // A match changed through another pool: gone from this search, found by the new name.
    update_elsewhere(server.db.open().await.as_ref(), &id, "Smits").await;
    let (_, bundle) = get(&server, &token, &search("Smit")).await;
    assert_eq!(bundle["total"], 2, "`family=Smit` matches the start of Smits too");
    let changed = bundle["entry"].as_array().unwrap().iter().find(|e| e["resource"]["id"] == id.as_str()).unwrap();
    assert_eq!(changed["resource"]["name"][0]["family"], "Smits");
    assert_eq!(changed["resource"]["meta"]["versionId"], "2");

    // Deleted through the other instance.
    let response = other_instance.request(Method::DELETE, &format!("Patient/{second}"), &token).send().await.unwrap();
    assert!(response.status().is_success());
    let (_, bundle) = get(&server, &token, &search("Smit")).await;
    assert_eq!((bundle["total"].as_u64(), entry_ids(&bundle)), (Some(1), vec![id.clone()]));
}

/// The same search with another visibility or page is another result.
async fn searches_are_kept_per_page_and_visibility(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    for _ in 0..3 {
        create(&server, &token, patient("Visser")).await;
    }
    let (_, all) = get(&server, &token, "Patient?family=Visser").await;
    let (_, first) = get(&server, &token, "Patient?family=Visser&_count=1").await;
    let (_, count) = get(&server, &token, "Patient?family=Visser&_summary=count").await;
    assert_eq!((entry_ids(&all).len(), entry_ids(&first).len(), count["total"].as_u64()), (3, 1, Some(3)));
    let no_patients = server.token(TENANT, "system/Observation.rs").await;
    let response = server.request(Method::GET, "Patient?family=Visser", &no_patients).send().await.unwrap();
    expect_outcome(response, 403).await;
}

on_both_databases!(
    reads_follow_changes_made_elsewhere,
    reads_follow_a_flood_of_changes,
    reads_racing_changes_never_go_back,
    the_same_result_shares_a_snapshot,
    a_version_read_before_a_change_is_not_kept_after_it,
    searches_follow_changes_made_elsewhere,
    searches_are_kept_per_page_and_visibility,
);
