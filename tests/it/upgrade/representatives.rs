//! Migration 0011: a database whose Pluriform representatives are keyed
//! on their `relatienummer` alone (the mapping's version 1) gets them
//! keyed within their client (`R-2001@100234`), so that the deliveries
//! after the upgrade find every stored representative: nothing is written
//! twice, a kept reject is the same record, and a representative who is
//! also listed under another client becomes a second RelatedPerson there.
//!
//! Only today's mapping exists, so the old database is made with it and
//! its keys are then put back in the old shape with SQL, with migration
//! 0011 marked as not yet applied; opening the store applies it, as an
//! upgraded gateway does.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use zorgpoort::fhir::{ResourceType, TenantCode};
use zorgpoort::ingest::{self, Quiet, Summary};
use zorgpoort::mapping::spec::Mapping;
use zorgpoort::store::Store;

use crate::common::{Db, TENANT, TestDb};

const CLIENT_A: &str = "700001";
const CLIENT_B: &str = "700002";

async fn representatives_keyed_on_relatienummer_alone_get_the_key_within_their_client(db: Db) {
    let test_db = TestDb::new(db).await;
    let store = test_db.open().await;
    let deliveries = tempfile::tempdir().unwrap();
    // R-A represents A; R-X represents B (in the old database one record,
    // which the last delivery had put under B); R-BAD under A cannot be
    // mapped (no surname) and is kept as a reject.
    let first = delivery(vec![
        client(CLIENT_A, vec![representative("R-A"), bad_representative("R-BAD")], "R-A"),
        client(CLIENT_B, vec![representative("R-X")], "R-X"),
    ]);
    let summary = ingest(&store, deliveries.path(), "pluriform-1.json", &first).await;
    assert_eq!((summary.created, summary.rejected), (6, 1), "{summary:?}");
    let new_keys = keys(&test_db).await;
    assert_eq!(
        new_keys,
        [
            "record R-A@700001 client 700001",
            "record R-X@700002 client 700002",
            "reject R-BAD@700001",
            "resource R-A@700001 ",
            "resource R-A@700001 @provenance",
            "resource R-A@700001 grant",
            "resource R-A@700001 grant@provenance",
            "resource R-X@700002 ",
            "resource R-X@700002 @provenance",
            "resource R-X@700002 grant",
            "resource R-X@700002 grant@provenance",
        ]
    );
    let person_of_x = related_person(&test_db, "R-X@700002").await;
    drop(store);

    // The database as the earlier version left it.
    let old_key = match db {
        Db::Sqlite => "substr(source_id, 1, instr(source_id, '@') - 1)",
        Db::Postgres => "split_part(source_id, '@', 1)",
    };
    let representatives = "vendor = 'pluriform' AND kind = 'vertegenwoordiger'";
    test_db
        .execute(&format!(
            "UPDATE source_record SET source_id = {old_key} WHERE {representatives}; \
             UPDATE source_identity SET source_id = {old_key} WHERE {representatives}; \
             UPDATE ingest_reject SET source_id = {old_key} WHERE {representatives}; \
             DELETE FROM _sqlx_migrations WHERE version = 11"
        ))
        .await;
    assert!(keys(&test_db).await.contains(&"record R-X client 700002".to_owned()));
    assert_eq!(test_db.count("SELECT max(version) FROM _sqlx_migrations").await, 10, "0011 is the latest migration");

    // Upgraded: every key as today's mapping makes it.
    let store = test_db.open().await;
    assert_eq!(keys(&test_db).await, new_keys);

    // The same delivery again writes nothing and keeps its reject once.
    let again = ingest(&store, deliveries.path(), "pluriform-1.json", &first).await;
    assert_eq!((again.created, again.updated, again.rejected), (0, 0, 1), "{again:?}");
    let open = store.rejects(&TenantCode::parse(TENANT).unwrap(), false).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");

    // A later delivery: R-X is listed under A too, R-BAD is mended. R-X
    // under A is a RelatedPerson of its own; the one of B keeps its id.
    let second = delivery(vec![
        client(CLIENT_A, vec![representative("R-A"), representative("R-BAD"), representative("R-X")], "R-X"),
        client(CLIENT_B, vec![representative("R-X")], "R-X"),
    ]);
    let summary = ingest(&store, deliveries.path(), "pluriform-2.json", &second).await;
    assert_eq!((summary.created, summary.rejected), (2, 0), "{summary:?}");
    assert!(store.rejects(&TenantCode::parse(TENANT).unwrap(), false).await.unwrap().is_empty());
    assert_eq!(related_person(&test_db, "R-X@700002").await, person_of_x);
    let person_of_x_for_a = related_person(&test_db, "R-X@700001").await;
    assert_ne!(person_of_x_for_a, person_of_x);
    let patient = |id: String| {
        let store = Arc::clone(&store);
        async move {
            let tenant = TenantCode::parse(TENANT).unwrap();
            let id = zorgpoort::fhir::ResourceId::parse(&id).unwrap();
            let stored = store.read(&tenant, ResourceType::RelatedPerson, &id).await.unwrap();
            let person: Value = serde_json::from_str(&stored.content.unwrap()).unwrap();
            person["patient"]["reference"].as_str().unwrap().to_owned()
        }
    };
    assert_ne!(patient(person_of_x.clone()).await, patient(person_of_x_for_a).await);
    assert_eq!(patient(person_of_x).await, format!("Patient/{}", client_patient(&test_db, CLIENT_B).await));
}

/// The keys of the representatives' source records, resources and
/// rejects, sorted.
async fn keys(test_db: &TestDb) -> Vec<String> {
    let representatives = "vendor = 'pluriform' AND kind = 'vertegenwoordiger'";
    let mut keys = test_db
        .texts(&format!(
            "SELECT 'record ' || source_id || ' client ' || client_source FROM source_record WHERE {representatives}"
        ))
        .await;
    keys.extend(
        test_db
            .texts(&format!(
                "SELECT 'resource ' || source_id || ' ' || part FROM source_identity WHERE {representatives}"
            ))
            .await,
    );
    keys.extend(
        test_db.texts(&format!("SELECT 'reject ' || source_id FROM ingest_reject WHERE {representatives}")).await,
    );
    keys.sort();
    keys
}

/// The RelatedPerson of a representative's source record.
async fn related_person(test_db: &TestDb, source_id: &str) -> String {
    let ids = test_db
        .texts(&format!(
            "SELECT resource_id FROM source_identity WHERE vendor = 'pluriform' AND kind = 'vertegenwoordiger' \
             AND source_id = '{source_id}' AND part = ''"
        ))
        .await;
    assert_eq!(ids.len(), 1, "{source_id}: {ids:?}");
    ids[0].clone()
}

async fn client_patient(test_db: &TestDb, number: &str) -> String {
    let ids = test_db
        .texts(&format!(
            "SELECT resource_id FROM source_identity WHERE vendor = 'pluriform' AND kind = 'client' \
             AND source_id = '{number}' AND part = ''"
        ))
        .await;
    ids[0].clone()
}

async fn ingest(store: &Arc<dyn Store>, dir: &Path, name: &str, delivery: &Value) -> Summary {
    let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/pluriform")).unwrap());
    let path = dir.join(name);
    std::fs::write(&path, delivery.to_string()).unwrap();
    let tenant = TenantCode::parse(TENANT).unwrap();
    ingest::ingest_file(store, &mapping, &tenant, &path, &Quiet).await.unwrap_or_else(|e| panic!("{e}"))
}

const CHANGED: &str = "2026-11-20T09:00:00+01:00";

fn delivery(clients: Vec<Value>) -> Value {
    json!({
        "formaat": "pluriform-export", "versie": 1,
        "organisatie": {"code": TENANT, "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": "2026-11-20T10:15:00+01:00",
        "medewerkers": [],
        "clienten": clients
    })
}

/// A client with its representatives and a report `author` wrote.
fn client(number: &str, representatives: Vec<Value>, author: &str) -> Value {
    json!({
        "clientnummer": number,
        "naam": {"voornamen": "Cliënt", "achternaam": number},
        "geboortedatum": "01-02-1990", "geslacht": "V", "gewijzigd": CHANGED,
        "vertegenwoordigers": representatives,
        "rapportages": [{"id": format!("RR-{number}"), "datum": "03-05-2025 18:30",
                         "auteur": {"soort": "vertegenwoordiger", "relatienummer": author},
                         "tekst": "Op bezoek geweest.", "portaal": "J", "gewijzigd": CHANGED}]
    })
}

fn representative(number: &str) -> Value {
    json!({
        "relatienummer": number,
        "naam": {"voornamen": "Test", "voorvoegsel": "", "achternaam": number},
        "relatie": "moeder", "soort": "mentor", "volgorde": 1, "portaaltoegang": "volledig", "mag_schrijven": "N",
        "email": format!("{}@example.nl", number.to_lowercase()), "mobiel": null,
        "geldig_van": "01-01-2024", "geldig_tot": null, "gewijzigd": CHANGED
    })
}

fn bad_representative(number: &str) -> Value {
    let mut representative = representative(number);
    representative["naam"]["achternaam"] = Value::Null;
    representative
}

crate::on_both_databases!(representatives_keyed_on_relatienummer_alone_get_the_key_within_their_client);
