//! Upgrades keep answering: a database an earlier version made, migrated
//! by today's `zorgpoort migrate`, answers every supported search as a
//! fresh database with the same resources does, and holds the same index
//! rows. The earlier databases are SQL fixtures (`fixture.rs`); the
//! rebuild of the search index that migrating runs resumes after a stop,
//! runs once when several gateways open the database together, and
//! retires the search results gateways keep in memory. `representatives`:
//! migration 0011 keys the stored Pluriform representatives per client.

mod fixture;
mod representatives;
mod searches;

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::Utc;
use reqwest::Method;
use serde_json::Value;
use zorgpoort::fhir::{ResourceId, ResourceType, TenantCode, VersionId};
use zorgpoort::store::{self, IndexProgress, Store, WriteOp};

use crate::common::{Db, TENANT, TestDb, TestServer, json};
use fixture::{BEFORE_0003, BEFORE_0007, Fixture};

async fn a_database_from_before_0003_answers_every_search_as_a_fresh_one(db: Db) {
    let found = upgraded_answers_as_fresh(BEFORE_0003, db).await;
    // The searches 0003's columns serve found something: had the rows
    // not been rebuilt, the upgraded database would have answered none.
    assert!(found.get("exact").copied().unwrap_or(0) > 3, "{found:?}");
    assert!(found.get("text").copied().unwrap_or(0) > 3, "{found:?}");
}

async fn a_database_from_before_0007_answers_every_search_as_a_fresh_one(db: Db) {
    upgraded_answers_as_fresh(BEFORE_0007, db).await;
}

/// Loads the fixture, migrates it with `zorgpoort migrate`, and compares
/// it with a fresh database that got the same resources through today's
/// writer: versions, index rows, resources and every supported search.
/// Returns how many searches found something, per modifier.
async fn upgraded_answers_as_fresh(fixture: Fixture, db: Db) -> BTreeMap<String, usize> {
    let upgraded = fixture.load(db).await;
    let versions = upgraded
        .rows(
            "SELECT r.tenant, r.resource_type, r.id, CAST(v.version AS TEXT), v.content \
             FROM resource_version v JOIN resource r ON r.pk = v.resource_pk ORDER BY v.resource_pk, v.version",
        )
        .await;
    assert!(versions.len() > 20, "{} versions", versions.len());

    let log = migrate(&upgraded).await;
    assert!(log.contains("search index rebuilt"), "{log}");
    let state = upgraded.rows("SELECT fingerprint, building FROM search_index_state").await;
    assert!(state[0][0].as_deref().is_some_and(|f| f.len() == 64) && state[0][1].is_none(), "{state:?}");
    let store = upgraded.open().await;

    // Every version as it was (migration 0007 kept one copy of each).
    for row in &versions {
        let [Some(tenant), Some(resource_type), Some(id), Some(version), content] = &row[..] else { panic!("{row:?}") };
        let tenant = TenantCode::parse(tenant).unwrap();
        let (resource_type, id) = (resource_type.parse().unwrap(), ResourceId::parse(id).unwrap());
        let stored = store.vread(&tenant, resource_type, &id, VersionId(version.parse().unwrap())).await.unwrap();
        assert_eq!(&stored.content, content, "{resource_type}/{id}/_history/{version}");
    }
    assert_eq!(
        upgraded
            .count(
                "SELECT count(*) FROM resource_version v JOIN resource r ON r.pk = v.resource_pk \
                 WHERE v.version = r.version AND v.content IS NOT NULL"
            )
            .await,
        0,
        "the current version's content is in resource only"
    );

    let fresh = TestDb::new(db).await;
    let fresh_store = fresh.open().await;
    copy_resources(&upgraded, store.as_ref(), fresh_store.as_ref()).await;
    assert_same("index rows", &index_rows(&upgraded).await, &index_rows(&fresh).await);
    assert_same("resource rows", &resource_rows(&upgraded).await, &resource_rows(&fresh).await);
    assert_eq!(contents(&upgraded, store.as_ref()).await, contents(&fresh, fresh_store.as_ref()).await);

    let searches = searches::every_supported_search(&fresh).await;
    assert!(searches.len() > 300, "{} searches", searches.len());
    let found = searches::compare(&searches, store.as_ref(), fresh_store.as_ref()).await;

    if fixture.before == BEFORE_0007.before {
        // The source records came through: the deliveries again create nothing.
        for again in fixture::ingest_deliveries(&store).await {
            assert_eq!(again.created, 0, "{again:?}");
        }
    }
    found
}

/// `zorgpoort migrate` on the database, as an operator runs it (not on a
/// terminal: the rebuild is reported in log lines); its standard error.
async fn migrate(test_db: &TestDb) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = crate::processes::zorgpoort(&test_db.url, crate::processes::free_port(), dir.path());
    command.arg("migrate");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "zorgpoort migrate failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("migrations applied"), "{stdout}");
    stderr.into_owned()
}

/// Writes the current resources of `from` (deleted ones: created from
/// their last content, then deleted) into `to` through the writer, per
/// tenant in the order of their keys, so that searches without a sort
/// list them in the same order, and under the same ids.
async fn copy_resources(from_db: &TestDb, from: &dyn Store, to: &dyn Store) {
    let rows = from_db
        .rows(
            "SELECT tenant, resource_type, id, CASE WHEN deleted THEN 'deleted' ELSE '' END FROM resource ORDER BY pk",
        )
        .await;
    let mut tenants: BTreeMap<String, Vec<(ResourceType, ResourceId, bool)>> = BTreeMap::new();
    for row in rows {
        let [Some(tenant), Some(resource_type), Some(id), Some(deleted)] = &row[..] else { panic!("{row:?}") };
        let resource = (resource_type.parse().unwrap(), ResourceId::parse(id).unwrap(), deleted == "deleted");
        tenants.entry(tenant.clone()).or_default().push(resource);
    }
    for (tenant, resources) in tenants {
        let tenant = TenantCode::parse(&tenant).unwrap();
        let (mut creates, mut deletes) = (Vec::new(), Vec::new());
        for (resource_type, id, deleted) in resources {
            let content = if deleted {
                let before = from.history(&tenant, resource_type, &id, 1, 1).await.unwrap();
                before.versions[0].content.clone()
            } else {
                from.read(&tenant, resource_type, &id).await.unwrap().content
            };
            let resource: Value = serde_json::from_str(&content.unwrap()).unwrap();
            creates.push(WriteOp::Create(store::prepare(resource_type, id.clone(), resource).unwrap()));
            if deleted {
                deletes.push(WriteOp::Delete { resource_type, id });
            }
        }
        to.write(&tenant, creates, Utc::now()).await.unwrap();
        if !deletes.is_empty() {
            to.write(&tenant, deletes, Utc::now()).await.unwrap();
        }
    }
}

/// Every index row, with its resource named by tenant, type and id (keys
/// differ between databases), sorted.
async fn index_rows(db: &TestDb) -> Vec<String> {
    let of = "r.tenant || ' ' || r.resource_type || '/' || r.id || ' ' || x.param || ' '";
    let mut rows = Vec::new();
    for (table, values) in [
        ("search_token", "x.system || '|' || x.code || ' text ' || COALESCE(x.text, '(none)')"),
        ("search_reference", "x.target_type || '/' || x.target_id"),
        ("search_date", "CAST(x.low AS TEXT) || '..' || CAST(x.high AS TEXT)"),
        ("search_string", "x.value || ' exact ' || x.exact"),
    ] {
        let query =
            format!("SELECT '{table} ' || {of} || {values} FROM {table} x JOIN resource r ON r.pk = x.resource_pk");
        rows.extend(db.texts(&query).await);
    }
    rows.sort();
    rows
}

/// Asserts two sorted lists of rows are equal, showing the rows that are
/// in only one of them.
#[track_caller]
fn assert_same(what: &str, got: &[String], expected: &[String]) {
    if got == expected {
        return;
    }
    let only = |a: &[String], b: &[String]| {
        a.iter().filter(|row| b.binary_search(row).is_err()).take(10).cloned().collect::<Vec<_>>().join("\n  ")
    };
    panic!(
        "{what} differ ({} rows, expected {}); only these:\n  {}\nonly expected:\n  {}",
        got.len(),
        expected.len(),
        only(got, expected),
        only(expected, got)
    );
}

/// Every resource row but what differs by nature (key, version, change
/// number, time), sorted.
async fn resource_rows(db: &TestDb) -> Vec<String> {
    let mut rows = db
        .texts(
            "SELECT tenant || ' ' || resource_type || '/' || id || CASE WHEN deleted THEN ' deleted' ELSE '' END \
             || ' client ' || COALESCE(client_id, '-') || ' ' || category FROM resource",
        )
        .await;
    rows.sort();
    rows
}

/// The content of every current resource without the server's
/// `meta.versionId` and `meta.lastUpdated`.
async fn contents(db: &TestDb, store: &dyn Store) -> BTreeMap<String, Value> {
    let mut contents = BTreeMap::new();
    for row in db.rows("SELECT tenant, resource_type, id FROM resource WHERE NOT deleted").await {
        let [Some(tenant), Some(resource_type), Some(id)] = &row[..] else { panic!("{row:?}") };
        let tenant_code = TenantCode::parse(tenant).unwrap();
        let (resource_type, id) = (resource_type.parse().unwrap(), ResourceId::parse(id).unwrap());
        let stored = store.read(&tenant_code, resource_type, &id).await.unwrap();
        let mut content: Value = serde_json::from_str(&stored.content.unwrap()).unwrap();
        if let Some(meta) = content.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("versionId");
            meta.remove("lastUpdated");
        }
        contents.insert(format!("{tenant} {resource_type}/{id}"), content);
    }
    contents
}

/// What a rebuild reported.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<String>>);

impl IndexProgress for Recorded {
    fn start(&self, total: u64, done: u64) {
        self.0.lock().unwrap().push(format!("start {total} {done}"));
    }
    fn advance(&self, resources: u64) {
        self.0.lock().unwrap().push(format!("advance {resources}"));
    }
    fn finish(&self) {
        self.0.lock().unwrap().push("finish".into());
    }
}

/// Makes the database's index look as an earlier version left it: its
/// state unknown (as migration 0009 sets it), and `damage` done to its rows.
async fn forget_the_index(test_db: &TestDb, damage: &str) {
    test_db
        .execute(&format!(
            "UPDATE search_index_state SET version = 0, fingerprint = '', building = NULL, building_version = NULL, \
             done_to = 0; {damage}"
        ))
        .await;
}

async fn a_rebuild_stopped_halfway_resumes_after_the_last_batch_it_wrote(db: Db) {
    let upgraded = BEFORE_0003.load(db).await;
    drop(upgraded.open().await);
    let complete = index_rows(&upgraded).await;
    let state = upgraded.rows("SELECT fingerprint, CAST(version AS TEXT) FROM search_index_state").await;
    let (fingerprint, version) = (state[0][0].clone().unwrap(), state[0][1].clone().unwrap());
    let keys = upgraded.texts("SELECT CAST(r.pk AS TEXT) FROM resource r ORDER BY r.pk").await;
    let middle = &keys[keys.len() / 2];
    let strings_after = format!("SELECT count(*) FROM search_string WHERE resource_pk > {middle}");
    let expected_after = upgraded.count(&strings_after).await;
    assert!(expected_after > 0);

    // A rebuild of this extraction stopped after the key in the middle;
    // then every string row was lost.
    upgraded
        .execute(&format!(
            "UPDATE search_index_state SET version = 1, fingerprint = 'earlier', building = '{fingerprint}', \
             building_version = {version}, done_to = {middle}; DELETE FROM search_string"
        ))
        .await;
    let progress = Recorded::default();
    drop(store::open_with(&upgraded.url, &progress).await.unwrap());
    // Resumed after the middle: what lies before it is not written again.
    assert_eq!(upgraded.count(&strings_after).await, expected_after);
    assert_eq!(upgraded.count(&format!("SELECT count(*) FROM search_string WHERE resource_pk <= {middle}")).await, 0);
    let done = keys.len() / 2 + 1;
    assert_eq!(
        *progress.0.lock().unwrap(),
        [format!("start {} {done}", keys.len()), format!("advance {}", keys.len() - done), "finish".into()]
    );
    let state = upgraded.rows("SELECT fingerprint, building, CAST(done_to AS TEXT) FROM search_index_state").await;
    assert_eq!(state[0], [Some(fingerprint.clone()), None, Some("0".into())]);

    // A rebuild of another extraction that stopped is started over.
    upgraded
        .execute(&format!(
            "UPDATE search_index_state SET building = 'another', building_version = {version}, done_to = {middle}"
        ))
        .await;
    drop(upgraded.open().await);
    assert_same("index rows", &index_rows(&upgraded).await, &complete);
}

async fn gateways_opening_a_database_at_once_rebuild_its_index_once(db: Db) {
    let upgraded = BEFORE_0003.load(db).await;
    drop(upgraded.open().await);
    let complete = index_rows(&upgraded).await;
    forget_the_index(&upgraded, "DELETE FROM search_token; UPDATE search_string SET exact = ''").await;
    let changes = "SELECT code || ' ' || CAST(last_change AS TEXT) FROM tenant ORDER BY code";
    let before = upgraded.texts(changes).await;

    let (a, b, c) = tokio::join!(upgraded.open(), upgraded.open(), upgraded.open());
    drop((a, b, c));
    assert_same("index rows", &index_rows(&upgraded).await, &complete);
    // The resources fit one batch, and each batch takes one change number
    // of each tenant in it: one gateway rebuilt, the others found it done.
    let after = upgraded.texts(changes).await;
    let plus_one: Vec<String> = before
        .iter()
        .map(|line| {
            let (code, last) = line.split_once(' ').unwrap();
            format!("{code} {}", last.parse::<i64>().unwrap() + 1)
        })
        .collect();
    assert_eq!(after, plus_one);
}

async fn a_search_kept_in_memory_does_not_outlive_a_rebuild(db: Db) {
    let upgraded = BEFORE_0003.load(db).await;
    drop(upgraded.open().await);
    let family = upgraded
        .texts("SELECT exact FROM search_string WHERE resource_type = 'Patient' AND param = 'family' ORDER BY exact")
        .await;
    let family = family.into_iter().find(|f| f.contains('ä')).expect("the renamed client");
    let server = TestServer::start_on(upgraded.clone(), |_| {}).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let total = async || {
        let response =
            server.request(Method::GET, "Patient", &token).query(&[("family:exact", family.as_str())]).send().await;
        let (status, bundle) = json(response.unwrap()).await;
        assert_eq!(status, 200, "{bundle}");
        bundle["total"].as_u64().unwrap()
    };

    // An index as an earlier version left it: the search finds nothing,
    // and the server keeps that result.
    forget_the_index(&upgraded, "UPDATE search_string SET exact = ''").await;
    assert_eq!(total().await, 0);
    assert_eq!(total().await, 0);
    // Another gateway opens the database and rebuilds the index: the kept
    // result is not answered again.
    drop(upgraded.open().await);
    assert_eq!(total().await, 1);
}

crate::on_both_databases!(
    a_database_from_before_0003_answers_every_search_as_a_fresh_one,
    a_database_from_before_0007_answers_every_search_as_a_fresh_one,
    a_rebuild_stopped_halfway_resumes_after_the_last_batch_it_wrote,
    gateways_opening_a_database_at_once_rebuild_its_index_once,
    a_search_kept_in_memory_does_not_outlive_a_rebuild,
);
