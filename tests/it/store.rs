//! The store conformance suite: the `Store` trait itself, the same cases on
//! SQLite and PostgreSQL.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};
use zorgpoort::access::person::{self, ClientAccess};
use zorgpoort::access::{
    CategorySet, Decision, Interaction, InternalWork, PersonAccess, PersonPrincipal, PersonRef, Rights, Visibility,
};
use zorgpoort::auth::scope::Scopes;
use zorgpoort::fhir::{ChangeNumber, DataCategory, ResourceId, ResourceType, TenantCode, VersionId};
use zorgpoort::search::{self, Handling, SearchLimits};
use zorgpoort::store::{self, ErrorKind, Store, WriteOp, WriteOutcome};

use crate::common::{Db, TestDb};

/// The store seen as a whole, as operators' tools see it.
fn everything() -> Visibility {
    zorgpoort::access::internal(InternalWork::Operator)
}

/// What a representative of `client`, whose grant gives `categories`, may
/// search of `resource_type`: a decision of `access`.
fn granted(client: &ResourceId, categories: &[DataCategory], resource_type: ResourceType) -> Visibility {
    let access = PersonAccess {
        clients: vec![ClientAccess {
            client: client.clone(),
            identities: vec![],
            rights: Rights { read: CategorySet::of(categories), write: CategorySet::EMPTY },
        }],
    };
    let principal =
        PersonPrincipal { user: PersonRef::RelatedPerson(ResourceId::parse("rep").unwrap()), patient: client.clone() };
    let scopes = Scopes::parse("patient/*.rs").unwrap();
    match person::decide(&principal, &access, &scopes, resource_type, Interaction::Search) {
        Decision::Permit(visibility) => visibility,
        Decision::Deny(reason) => panic!("{reason}"),
    }
}

fn tenant() -> TenantCode {
    TenantCode::parse("pameijer").unwrap()
}

fn create(resource: Value) -> (ResourceId, WriteOp) {
    let id = ResourceId::generate();
    let t: ResourceType = resource["resourceType"].as_str().unwrap().parse().unwrap();
    (id.clone(), WriteOp::Create(store::prepare(t, id, resource).unwrap()))
}

fn observation(patient: &ResourceId, day: u32) -> Value {
    json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": format!("2024-03-{day:02}T10:00:00+01:00")})
}

async fn write(store: &dyn Store, ops: Vec<WriteOp>) -> store::Result<Vec<WriteOutcome>> {
    store.write(&tenant(), ops, Utc::now()).await
}

async fn search(
    store: &dyn Store,
    t: ResourceType,
    query: &[(&str, &str)],
    visibility: &Visibility,
) -> (u64, Vec<String>) {
    let params: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let request = search::parse(t, &params, Handling::Strict, SearchLimits::default()).unwrap();
    let page = store.search(&tenant(), &request, visibility).await.unwrap();
    (page.total, page.resources.into_iter().map(|r| r.id.to_string()).collect())
}

async fn versions_and_change_numbers(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    assert_eq!(store.last_change(&tenant()).await.unwrap(), ChangeNumber(0));
    let (patient, op) = create(json!({"resourceType": "Patient", "gender": "male"}));
    let outcomes = write(store.as_ref(), vec![op]).await.unwrap();
    let WriteOutcome::Created(first) = &outcomes[0] else { panic!("{outcomes:?}") };
    assert_eq!((first.version, first.change, first.category), (VersionId(1), ChangeNumber(1), DataCategory::Identity));
    assert_eq!(first.client.as_ref(), Some(&patient));

    let update = |gender: &str| WriteOp::Update {
        resource: store::prepare(
            ResourceType::Patient,
            patient.clone(),
            json!({"resourceType": "Patient", "gender": gender}),
        )
        .unwrap(),
        if_match: None,
    };
    let outcomes = write(store.as_ref(), vec![update("female")]).await.unwrap();
    assert!(
        matches!(&outcomes[0], WriteOutcome::Updated(s) if s.version == VersionId(2) && s.change == ChangeNumber(2))
    );
    let outcomes = write(store.as_ref(), vec![update("female")]).await.unwrap();
    assert!(matches!(&outcomes[0], WriteOutcome::Unchanged(s) if s.version == VersionId(2)), "{outcomes:?}");

    let stale = WriteOp::Update {
        resource: store::prepare(ResourceType::Patient, patient.clone(), json!({"resourceType": "Patient"})).unwrap(),
        if_match: Some(VersionId(1)),
    };
    assert_eq!(write(store.as_ref(), vec![stale]).await.unwrap_err().kind(), ErrorKind::VersionConflict);

    let outcomes =
        write(store.as_ref(), vec![WriteOp::Delete { resource_type: ResourceType::Patient, id: patient.clone() }])
            .await
            .unwrap();
    assert!(matches!(&outcomes[0], WriteOutcome::Deleted(s) if s.version == VersionId(3)));
    let current = store.read(&tenant(), ResourceType::Patient, &patient).await.unwrap();
    assert!(current.is_deleted());
    let v1 = store.vread(&tenant(), ResourceType::Patient, &patient, VersionId(1)).await.unwrap();
    assert!(v1.content.unwrap().contains("\"male\""));
    let history = store.history(&tenant(), ResourceType::Patient, &patient, 10, 0).await.unwrap();
    let versions: Vec<i64> = history.versions.iter().map(|v| v.version.0).collect();
    assert_eq!((history.total, versions), (3, vec![3, 2, 1]));
    // Change numbers only ever grow, in commit order.
    assert!(store.last_change(&tenant()).await.unwrap() >= ChangeNumber(3));
    let missing = store.read(&tenant(), ResourceType::Patient, &ResourceId::generate()).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

async fn a_failed_write_leaves_nothing(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let (patient, op) = create(json!({"resourceType": "Patient"}));
    let duplicate = WriteOp::Create(
        store::prepare(ResourceType::Patient, patient.clone(), json!({"resourceType": "Patient"})).unwrap(),
    );
    let (_, observation_op) = create(observation(&patient, 1));
    let error = write(store.as_ref(), vec![op, observation_op, duplicate]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Duplicate);
    assert_eq!(store.last_change(&tenant()).await.unwrap(), ChangeNumber(0));
    let (total, _) = search(store.as_ref(), ResourceType::Observation, &[], &everything()).await;
    assert_eq!(total, 0);
    assert_eq!(store.read(&tenant(), ResourceType::Patient, &patient).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn binaries_follow_their_document(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let (patient, patient_op) = create(json!({"resourceType": "Patient"}));
    let (document, document_op) = create(json!({"resourceType": "DocumentReference", "status": "current",
        "subject": {"reference": format!("Patient/{patient}")},
        "category": [{"coding": [{"system": DataCategory::SYSTEM, "code": "finance"}]}],
        "content": [{"attachment": {"contentType": "application/pdf"}}]}));
    let (binary, binary_op) = create(json!({"resourceType": "Binary", "contentType": "application/pdf",
        "securityContext": {"reference": format!("DocumentReference/{document}")}, "data": "JVBERg=="}));
    write(store.as_ref(), vec![patient_op, document_op, binary_op]).await.unwrap();
    let stored = store.read(&tenant(), ResourceType::Binary, &binary).await.unwrap();
    assert_eq!((stored.client, stored.category), (Some(patient), DataCategory::Finance));
    assert!(stored.content.unwrap().contains("\"code\":\"finance\""));

    let (_, orphan) = create(json!({"resourceType": "Binary", "contentType": "text/plain",
        "securityContext": {"reference": "DocumentReference/nope"}}));
    assert_eq!(write(store.as_ref(), vec![orphan]).await.unwrap_err().kind(), ErrorKind::Invalid);
}

async fn restrictions_apply_inside_the_query(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let (anna, anna_op) = create(json!({"resourceType": "Patient"}));
    let (bram, bram_op) = create(json!({"resourceType": "Patient"}));
    let mut ops = vec![anna_op, bram_op];
    for day in 1..=5 {
        ops.push(create(observation(&anna, day)).1);
        ops.push(create(observation(&bram, day)).1);
    }
    write(store.as_ref(), ops).await.unwrap();
    let anna_measurements = granted(&anna, &[DataCategory::Measurements], ResourceType::Observation);
    let (total, page) = search(store.as_ref(), ResourceType::Observation, &[("_count", "2")], &anna_measurements).await;
    assert_eq!((total, page.len()), (5, 2));
    let (total, page) =
        search(store.as_ref(), ResourceType::Observation, &[("_count", "2"), ("_offset", "4")], &anna_measurements)
            .await;
    assert_eq!((total, page.len()), (5, 1));
    // Asking for Bram's data with Anna's rights finds nothing, not even a count.
    let bram_query = format!("Patient/{bram}");
    let (total, _) =
        search(store.as_ref(), ResourceType::Observation, &[("patient", &bram_query)], &anna_measurements).await;
    assert_eq!(total, 0);
    let (total, ids) = search(
        store.as_ref(),
        ResourceType::Patient,
        &[],
        &granted(&anna, &[DataCategory::Identity], ResourceType::Patient),
    )
    .await;
    assert_eq!((total, ids), (1, vec![anna.to_string()]));
    let (total, _) = search(store.as_ref(), ResourceType::Observation, &[], &everything()).await;
    assert_eq!(total, 10);
}

async fn concurrent_writers_get_distinct_change_numbers(db: Db) {
    let db = TestDb::new(db).await;
    let store: Arc<dyn Store> = db.open().await;
    let (patient, op) = create(json!({"resourceType": "Patient"}));
    write(store.as_ref(), vec![op]).await.unwrap();
    let mut tasks = Vec::new();
    for day in 1..=16 {
        let store = store.clone();
        let patient = patient.clone();
        tasks.push(tokio::spawn(async move {
            let (_, op) = create(observation(&patient, day));
            let outcomes = write(store.as_ref(), vec![op]).await.unwrap();
            match &outcomes[0] {
                WriteOutcome::Created(s) => s.change,
                other => panic!("{other:?}"),
            }
        }));
    }
    let mut changes = Vec::new();
    for task in tasks {
        changes.push(task.await.unwrap().0);
    }
    changes.sort();
    assert_eq!(changes, (2..=17).collect::<Vec<i64>>());
    assert_eq!(store.last_change(&tenant()).await.unwrap(), ChangeNumber(17));
}

async fn tokens_are_stored_as_hashes(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let (record, token) = zorgpoort::cli::token::new_system_token(tenant(), "tester", "system/*.rs", 60);
    assert_ne!(record.token_hash, token);
    store.insert_token(&record).await.unwrap();
    let found = store.find_token(&zorgpoort::auth::token::hash(&token)).await.unwrap().unwrap();
    assert_eq!(found, record);
    let other_tenant = TenantCode::parse("other").unwrap();
    let before = (store.database_state(&tenant()).await.unwrap(), store.database_state(&other_tenant).await.unwrap());
    store.revoke_token(&record.token_hash).await.unwrap();
    assert!(store.find_token(&record.token_hash).await.unwrap().unwrap().revoked);
    assert!(store.find_token(&zorgpoort::auth::token::hash("other")).await.unwrap().is_none());
    // The revocation moves its own tenant's access epoch only.
    let after = (store.database_state(&tenant()).await.unwrap(), store.database_state(&other_tenant).await.unwrap());
    assert_eq!(after.0.access_epoch, before.0.access_epoch + 1);
    assert_eq!(after.0.last_change, before.0.last_change);
    assert_eq!(after.1, before.1);
}

/// A resource written twice in one transaction is found by what it holds
/// last, once; every version is kept.
async fn a_resource_written_twice_in_one_write_is_indexed_once(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let patient = ResourceId::generate();
    let (id, create_op) = create(observation(&patient, 1));
    let mut later = observation(&patient, 2);
    later["code"]["coding"][0]["code"] = json!("8302-2");
    later["id"] = json!(id.as_str());
    let update = WriteOp::Update {
        resource: store::prepare(ResourceType::Observation, id.clone(), later).unwrap(),
        if_match: None,
    };
    write(store.as_ref(), vec![create_op, update]).await.unwrap();
    let everyone = everything();
    let weight = [("code", "http://loinc.org|29463-7")];
    let height = [("code", "http://loinc.org|8302-2")];
    assert_eq!(search(store.as_ref(), ResourceType::Observation, &weight, &everyone).await, (0, vec![]));
    assert_eq!(search(store.as_ref(), ResourceType::Observation, &height, &everyone).await, (1, vec![id.to_string()]));
    let dated = [("date", "2024-03-02")];
    assert_eq!(search(store.as_ref(), ResourceType::Observation, &dated, &everyone).await.0, 1);
    let history = store.history(&tenant(), ResourceType::Observation, &id, 10, 0).await.unwrap();
    assert_eq!(history.versions.iter().map(|v| v.version.0).collect::<Vec<_>>(), vec![2, 1]);

    write(store.as_ref(), vec![WriteOp::Delete { resource_type: ResourceType::Observation, id: id.clone() }])
        .await
        .unwrap();
    assert_eq!(search(store.as_ref(), ResourceType::Observation, &height, &everyone).await.0, 0);
}

/// Every version reads back as it was written, and each version's JSON is
/// stored once: the current one in the resource row, the earlier ones in
/// their version rows, also when a version is replaced within the write
/// that made it.
async fn every_version_keeps_its_own_content_stored_once(db: Db) {
    let db = TestDb::new(db).await;
    let store = db.open().await;
    let patient = ResourceId::generate();
    let (id, create_op) = create(observation(&patient, 1));
    let update = |day: u32| {
        let mut resource = observation(&patient, day);
        resource["id"] = json!(id.as_str());
        WriteOp::Update {
            resource: store::prepare(ResourceType::Observation, id.clone(), resource).unwrap(),
            if_match: None,
        }
    };
    write(store.as_ref(), vec![create_op, update(2)]).await.unwrap();
    write(store.as_ref(), vec![update(3)]).await.unwrap();
    write(store.as_ref(), vec![WriteOp::Delete { resource_type: ResourceType::Observation, id: id.clone() }])
        .await
        .unwrap();
    write(store.as_ref(), vec![update(5)]).await.unwrap();

    let day_of = |content: Option<String>| -> Option<String> {
        content.map(|c| serde_json::from_str::<Value>(&c).unwrap()["effectiveDateTime"].as_str().unwrap().to_owned())
    };
    let mut days = Vec::new();
    for version in 1..=5 {
        let stored = store.vread(&tenant(), ResourceType::Observation, &id, VersionId(version)).await.unwrap();
        days.push(day_of(stored.content));
    }
    let expected = |day: &str| Some(format!("2024-03-{day}T10:00:00+01:00"));
    assert_eq!(days, vec![expected("01"), expected("02"), expected("03"), None, expected("05")]);
    let history = store.history(&tenant(), ResourceType::Observation, &id, 10, 0).await.unwrap();
    let history_days: Vec<_> = history.versions.into_iter().map(|v| day_of(v.content)).collect();
    assert_eq!(history_days, days.into_iter().rev().collect::<Vec<_>>());
    let kept_in_versions = db.count("SELECT count(*) FROM resource_version WHERE content IS NOT NULL").await;
    assert_eq!(kept_in_versions, 3, "versions 1 to 3 in their rows, 4 is a deletion, 5 is in the resource row");
}

crate::on_both_databases!(
    every_version_keeps_its_own_content_stored_once,
    versions_and_change_numbers,
    a_failed_write_leaves_nothing,
    binaries_follow_their_document,
    restrictions_apply_inside_the_query,
    concurrent_writers_get_distinct_change_numbers,
    tokens_are_stored_as_hashes,
    a_resource_written_twice_in_one_write_is_indexed_once,
);
