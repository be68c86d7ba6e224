//! Crash safety: a gateway killed (SIGKILL) in the middle of a large
//! ingest leaves the store consistent, and the same delivery sent again
//! completes it with nothing lost or doubled.
//!
//! The gateway is a child process (`zorgpoort serve`) that receives the
//! delivery over HTTP; it is killed at a random point of the ingest,
//! several times, each time continuing from what the last one left. The
//! points come from a seed that is printed (`ZORGPOORT_CRASH_SEED=<seed>`
//! repeats a run). The end state is compared with the same delivery
//! ingested once, without crashes, into a fresh database of the same kind:
//! in numbers ([`fingerprint`]), and row by row: every resource, version
//! and index row with what differs by nature normalised ([`stored`]).

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;
use zorgpoort::fhir::TenantCode;
use zorgpoort::ingest::{self, Quiet};
use zorgpoort::mapping::spec::Mapping;

use crate::common::{Db, TENANT, TestDb};
use crate::processes::{Running, free_port, wait_until_up, zorgpoort};

const CLIENTS: usize = 30;
const KILLS: usize = 3;
/// Source records one transaction of the ingest writes (`ingest::delivery`).
const CHUNK: i64 = 500;

fn seed() -> u64 {
    match std::env::var("ZORGPOORT_CRASH_SEED") {
        Ok(seed) => seed.parse().expect("ZORGPOORT_CRASH_SEED is a number"),
        Err(_) => rand::random(),
    }
}

/// What the store holds, in numbers that a lost or doubled write would
/// change: per resource type the current resources and the sum of their
/// versions; every version row; source records per state; part
/// identities; open rejects.
async fn fingerprint(db: &TestDb) -> Vec<String> {
    let mut lines = db
        .texts(
            "SELECT resource_type || ' ' || count(*) || ' resources, versions ' || sum(version) FROM resource \
             WHERE NOT deleted GROUP BY resource_type ORDER BY resource_type",
        )
        .await;
    lines.extend(db.texts("SELECT 'version rows ' || count(*) FROM resource_version").await);
    lines.extend(
        db.texts("SELECT 'source ' || state || ' ' || count(*) FROM source_record GROUP BY state ORDER BY state").await,
    );
    lines.extend(db.texts("SELECT 'identities ' || count(*) FROM source_identity").await);
    lines.extend(db.texts("SELECT 'open rejects ' || count(*) FROM ingest_reject WHERE resolved_at IS NULL").await);
    lines
}

/// What the store holds, row by row, sorted: every resource (current
/// state and content), every version, and every index row. Two ingests of
/// one delivery differ only in what differs by nature, which is
/// normalised here:
/// - ids are random: a resource is named by its source record's part
///   (`source_identity`: vendor/kind/source id#part), a Provenance by the
///   version it describes; every id in a reference, a client or an index
///   row is replaced by that name;
/// - keys (`pk`) and change numbers follow the order of commits: left out;
/// - times of writing: `meta.lastUpdated`, a Provenance's `recorded` (and
///   its index row) and the rows' `last_updated` are left out.
///
/// Version numbers, data categories, `meta.versionId`, every other
/// element and every other index value must be equal.
async fn stored(db: &TestDb) -> Vec<String> {
    let mut names: HashMap<String, String> = HashMap::new();
    for row in db
        .rows("SELECT resource_id, vendor || '/' || kind || '/' || source_id || '#' || part FROM source_identity")
        .await
    {
        names.insert(row[0].clone().unwrap(), row[1].clone().unwrap());
    }
    let provenances = db
        .rows(
            "SELECT r.id, COALESCE(r.content, (SELECT v.content FROM resource_version v WHERE v.resource_pk = r.pk \
             AND v.content IS NOT NULL ORDER BY v.version DESC LIMIT 1)) FROM resource r WHERE r.resource_type = 'Provenance'",
        )
        .await;
    for row in provenances {
        let content: Value = serde_json::from_str(row[1].as_deref().unwrap()).unwrap();
        let target = content["target"][0]["reference"].as_str().unwrap();
        let name = format!("provenance of {}", rename(&names, target));
        names.insert(row[0].clone().unwrap(), name);
    }
    let name_of =
        |id: &str| names.get(id).cloned().unwrap_or_else(|| panic!("{id}: no source identity, no Provenance"));
    let mut lines = Vec::new();
    let resources = db
        .rows(
            "SELECT resource_type, id, CAST(version AS TEXT), CASE WHEN deleted THEN 'deleted' ELSE 'current' END, \
             client_id, category, content FROM resource",
        )
        .await;
    for row in resources {
        let [Some(resource_type), Some(id), Some(version), Some(state), client, Some(category), content] = &row[..]
        else {
            panic!("{row:?}")
        };
        let client = client.as_deref().map_or("-".into(), |c| rename(&names, c));
        let content = content.as_deref().map_or("-".into(), |c| normalised(&names, c));
        lines.push(format!(
            "resource {resource_type} {} v{version} {state} client {client} {category} {content}",
            name_of(id)
        ));
    }
    let versions = db
        .rows(
            "SELECT r.resource_type, r.id, CAST(v.version AS TEXT), v.client_id, v.category, \
             CASE WHEN v.version = r.version THEN r.content ELSE v.content END \
             FROM resource_version v JOIN resource r ON r.pk = v.resource_pk",
        )
        .await;
    for row in versions {
        let [Some(resource_type), Some(id), Some(version), client, Some(category), content] = &row[..] else {
            panic!("{row:?}")
        };
        let client = client.as_deref().map_or("-".into(), |c| rename(&names, c));
        let content = content.as_deref().map_or("-".into(), |c| normalised(&names, c));
        lines.push(format!("version {resource_type} {} v{version} client {client} {category} {content}", name_of(id)));
    }
    for (table, values) in [
        ("search_token", "x.system || '|' || x.code || ' text ' || COALESCE(x.text, '-')"),
        ("search_reference", "x.target_type || '/' || x.target_id"),
        ("search_date", "CAST(x.low AS TEXT) || '..' || CAST(x.high AS TEXT)"),
        ("search_string", "x.value || ' exact ' || x.exact"),
    ] {
        let query = format!(
            "SELECT r.resource_type, r.id, x.param, {values} FROM {table} x JOIN resource r ON r.pk = x.resource_pk"
        );
        for row in db.rows(&query).await {
            let [Some(resource_type), Some(id), Some(param), Some(value)] = &row[..] else { panic!("{row:?}") };
            if (table, resource_type.as_str(), param.as_str()) == ("search_date", "Provenance", "recorded") {
                continue;
            }
            lines.push(format!("{table} {resource_type} {} {param} {}", name_of(id), rename(&names, value)));
        }
    }
    lines.sort();
    lines
}

/// Ids replaced by names in a text: each `/`-separated part that is an id.
fn rename(names: &HashMap<String, String>, text: &str) -> String {
    text.split('/').map(|part| names.get(part).map_or(part, String::as_str)).collect::<Vec<_>>().join("/")
}

/// Stored JSON without what differs by nature (see [`stored`]), ids renamed.
fn normalised(names: &HashMap<String, String>, content: &str) -> String {
    fn walk(names: &HashMap<String, String>, value: &mut Value) {
        match value {
            Value::String(text) => *text = rename(names, text),
            Value::Array(items) => items.iter_mut().for_each(|item| walk(names, item)),
            Value::Object(map) => map.values_mut().for_each(|item| walk(names, item)),
            _ => {}
        }
    }
    let mut value: Value = serde_json::from_str(content).unwrap();
    if let Some(map) = value.as_object_mut() {
        map.remove("id");
        if map.get("resourceType").and_then(Value::as_str) == Some("Provenance") {
            map.remove("recorded");
        }
        if let Some(meta) = map.get_mut("meta").and_then(Value::as_object_mut) {
            meta.remove("lastUpdated");
        }
    }
    walk(names, &mut value);
    value.to_string()
}

/// Asserts two sorted lists of rows are equal, showing the rows that are
/// in only one of them.
fn assert_same_rows(got: &[String], expected: &[String], seed: u64) {
    if got == expected {
        return;
    }
    let only = |a: &[String], b: &[String]| {
        a.iter().filter(|row| b.binary_search(row).is_err()).take(8).cloned().collect::<Vec<_>>().join("\n  ")
    };
    panic!(
        "seed {seed}: the store differs from the one ingested once ({} rows, expected {}); only after the crashes:\n  \
         {}\nonly after the single ingest:\n  {}",
        got.len(),
        expected.len(),
        only(got, expected),
        only(expected, got)
    );
}

async fn a_gateway_killed_in_the_middle_of_an_ingest_loses_and_doubles_nothing(db: Db) {
    let seed = seed();
    eprintln!("crash test on {db:?}: seed {seed} (ZORGPOORT_CRASH_SEED={seed} repeats it)");
    let mut random = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("pluriform-crash.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&delivery).unwrap());
    zorgpoort::demo::write_pluriform_delivery(&mut out, TENANT, CLIENTS, 20261124, "2026-11-24T06:00:00+01:00")
        .unwrap();
    std::io::Write::flush(&mut out).unwrap();
    drop(out);
    let body = std::fs::read(&delivery).unwrap();

    // The same delivery, once and whole, in a database of its own.
    let reference = TestDb::new(db).await;
    let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/pluriform")).unwrap());
    let tenant = TenantCode::parse(TENANT).unwrap();
    let whole = ingest::ingest_file(&reference.open().await, &mapping, &tenant, &delivery, &Quiet).await.unwrap();
    assert!(whole.records > 3000 && whole.rejected == 0, "{whole:?}");
    let expected = fingerprint(&reference).await;
    let expected_rows = stored(&reference).await;
    assert!(expected_rows.iter().filter(|row| row.starts_with("search_")).count() > 10_000, "index rows compared");

    let crashed = TestDb::new(db).await;
    let store = crashed.open().await;
    let token = {
        let (record, token) =
            zorgpoort::cli::token::new_system_token(tenant.clone(), "vendor", "ingest/pluriform", 3600);
        store.insert_token(&record).await.unwrap();
        token
    };
    let records_total = whole.records as i64 - whole.containers as i64;
    let mut killed_in_the_middle = 0;
    for round in 1..=KILLS {
        // The point: once the store holds a random number of the records
        // still to come (a chunk of 500 commits at a time), and a random
        // moment later, inside the next chunk's transaction or between two.
        // At least two chunks must be left to write, so that the kill can
        // land before the ingest ends.
        let before = crashed.count("SELECT count(*) FROM source_record").await;
        let last_target = records_total - 2 * CHUNK;
        if before >= last_target {
            break;
        }
        let target = random.random_range(before..last_target);
        let then = Duration::from_millis(random.random_range(0..150));
        let mut gateway = start_gateway(&crashed, dir.path()).await;
        let post = tokio::spawn(deliver(gateway.port, token.clone(), body.clone()));
        let deadline = Instant::now() + Duration::from_secs(300);
        while crashed.count("SELECT count(*) FROM source_record").await < target && !post.is_finished() {
            assert!(Instant::now() < deadline, "the ingest made no progress (seed {seed})");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(then).await;
        gateway.process.0.kill().unwrap(); // SIGKILL
        gateway.process.0.wait().unwrap();
        let answered = post.await.unwrap() == Some(200);
        let written = crashed.count("SELECT count(*) FROM source_record").await;
        eprintln!(
            "round {round}: killed {} ms after {target} records; {written} of {records_total} source records \
             written{}",
            then.as_millis(),
            if answered { " (the ingest had finished)" } else { "" }
        );
        if !answered && written < records_total {
            killed_in_the_middle += 1;
        }
    }
    assert!(killed_in_the_middle > 0, "no round killed the gateway in the middle of the ingest (seed {seed})");

    // Started again, the gateway takes the same delivery and completes it.
    let mut gateway = start_gateway(&crashed, dir.path()).await;
    assert_eq!(deliver(gateway.port, token, body).await, Some(200), "seed {seed}");
    gateway.process.0.kill().unwrap();
    gateway.process.0.wait().unwrap();

    assert_eq!(fingerprint(&crashed).await, expected, "seed {seed}");
    assert_same_rows(&stored(&crashed).await, &expected_rows, seed);
    let once_more = ingest::ingest_file(&store, &mapping, &tenant, &delivery, &Quiet).await.unwrap();
    assert_eq!((once_more.created, once_more.updated, once_more.versions), (0, 0, 0), "seed {seed}: {once_more:?}");
}

struct Gateway {
    process: Running,
    port: u16,
}

async fn start_gateway(db: &TestDb, dir: &Path) -> Gateway {
    let port = free_port();
    let mut process = Running(
        zorgpoort(&db.url, port, dir)
            .env("ZORGPOORT_SPOOL_DIR", dir.join("spool"))
            .arg("serve")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until_up(port, &mut process).await;
    Gateway { process, port }
}

/// Posts the delivery; the status, or `None` when the gateway died first.
async fn deliver(port: u16, token: String, body: Vec<u8>) -> Option<u16> {
    let url = format!("http://127.0.0.1:{port}/{TENANT}/ingest/pluriform?name=pluriform-crash.json");
    let client = reqwest::Client::new();
    let sent = client.post(url).bearer_auth(token).body(body).timeout(Duration::from_secs(600)).send().await;
    sent.ok().map(|response| response.status().as_u16())
}

crate::on_both_databases!(a_gateway_killed_in_the_middle_of_an_ingest_loses_and_doubles_nothing);
