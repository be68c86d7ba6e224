//! Paging through more than a thousand results: exact totals on every
//! page, no repeats, no gaps, in the requested order.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::common::schema::assert_valid;
use crate::common::{Db, TENANT, TestServer, json};

const OBSERVATIONS: usize = 1_050;

async fn load(server: &TestServer, token: &str) -> (String, HashSet<String>) {
    let patient = crate::common::create(server, token, json!({"resourceType": "Patient"})).await;
    let patient_id = patient["id"].as_str().unwrap().to_owned();
    let mut ids = HashSet::new();
    for chunk in 0..3 {
        let entries: Vec<Value> = (0..OBSERVATIONS / 3)
            .map(|i| {
                let n = chunk * (OBSERVATIONS / 3) + i;
                json!({"fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
                    "request": {"method": "POST", "url": "Observation"},
                    "resource": {"resourceType": "Observation", "status": "final",
                        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                        "subject": {"reference": format!("Patient/{patient_id}")},
                        // Many share a time, so that the order needs its tie-breaker.
                        "effectiveDateTime": format!("2024-01-{:02}T10:00:00+01:00", 1 + n % 28)}})
            })
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let (status, body) = json(crate::common::post_bundle(server, token, &bundle).await).await;
        assert_eq!(status, 200, "{body}");
        for entry in body["entry"].as_array().unwrap() {
            ids.insert(entry["resource"]["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), OBSERVATIONS);
    (patient_id, ids)
}

/// Follows next links from `first`, checking every page; returns the ids in order.
async fn follow(server: &TestServer, token: &str, first: String, page_size: usize) -> Vec<String> {
    let mut url = Some(first);
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(next) = url {
        let (status, bundle) = json(server.client.get(&next).bearer_auth(token).send().await.unwrap()).await;
        assert_eq!(status, 200, "{bundle}");
        assert_eq!(bundle["total"], OBSERVATIONS, "total on page {pages}");
        let entries = bundle["entry"].as_array().map(Vec::len).unwrap_or(0);
        url = crate::common::link(&bundle, "next");
        assert!(entries == page_size || url.is_none(), "a short page before the end");
        if pages == 0 {
            assert_valid(&bundle);
        }
        seen.extend(crate::common::entry_ids(&bundle));
        pages += 1;
    }
    assert_eq!(pages, OBSERVATIONS.div_ceil(page_size));
    seen
}

async fn pages_cover_every_result_once(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let (patient, ids) = load(&server, &token).await;

    let first = format!("{}/Observation?patient={patient}&_count=100", server.base(TENANT));
    let seen = follow(&server, &token, first, 100).await;
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), OBSERVATIONS, "repeats");
    assert_eq!(unique, ids, "gaps");

    // Sorted by date descending, across pages, with a stable order for ties.
    let first = format!("{}/Observation?patient={patient}&_sort=-date&_count=300", server.base(TENANT));
    let sorted = follow(&server, &token, first, 300).await;
    assert_eq!(sorted.iter().cloned().collect::<HashSet<_>>(), ids);
    let (_, all) = json(
        server
            .client
            .get(format!("{}/Observation?patient={patient}&_sort=-date&_count=1000", server.base(TENANT)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let dates: Vec<String> = all["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["effectiveDateTime"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates.len(), 1000);
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "not sorted by date descending");
    assert_eq!(sorted[..1000], crate::common::entry_ids(&all)[..]);
}

/// A search is a snapshot as of its first page: writes while paging never
/// make a record of it repeat or go missing; later pages show current
/// versions and leave out what was deleted since; the total stays.
async fn paging_under_concurrent_writes(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let patient = crate::common::create(&server, &token, json!({"resourceType": "Patient"})).await;
    let patient_id = patient["id"].as_str().unwrap().to_owned();
    let observation = |day: usize| {
        json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "subject": {"reference": format!("Patient/{patient_id}")},
            "effectiveDateTime": format!("2024-02-{:02}T08:00:00+01:00", 1 + day % 28)})
    };
    let mut original = Vec::new();
    for day in 0..120 {
        original.push(crate::common::create(&server, &token, observation(day)).await);
    }
    let first = format!("{}/Observation?patient={patient_id}&_sort=date&_count=25", server.base(TENANT));
    let (_, page) = json(server.client.get(&first).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(page["total"], 120);
    let mut seen = crate::common::entry_ids(&page);

    // Between pages: new records, an update and a deletion of records not yet seen.
    let unseen: Vec<&Value> =
        original.iter().filter(|o| !seen.contains(&o["id"].as_str().unwrap().to_owned())).collect();
    let updated_id = unseen[10]["id"].as_str().unwrap().to_owned();
    let deleted_id = unseen[20]["id"].as_str().unwrap().to_owned();
    let mut updated = unseen[10].clone();
    updated["status"] = json!("amended");
    let response = server
        .request(reqwest::Method::PUT, &format!("Observation/{updated_id}"), &token)
        .header("content-type", "application/fhir+json")
        .body(updated.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response =
        server.request(reqwest::Method::DELETE, &format!("Observation/{deleted_id}"), &token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    for day in 0..30 {
        // Days sorting before everything seen so far: with offset paging they would shift the pages.
        crate::common::create(
            &server,
            &token,
            json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "subject": {"reference": format!("Patient/{patient_id}")},
            "effectiveDateTime": format!("2024-01-{:02}T08:00:00+01:00", 1 + day % 28)}),
        )
        .await;
    }

    let mut next = crate::common::link(&page, "next");
    let mut amended_seen = false;
    while let Some(url) = next {
        assert!(url.contains("_snapshot="), "{url}");
        let (status, page) = json(server.client.get(&url).bearer_auth(&token).send().await.unwrap()).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"], 120);
        for entry in page["entry"].as_array().into_iter().flatten() {
            if entry["resource"]["id"] == updated_id.as_str() {
                assert_eq!(entry["resource"]["status"], "amended");
                amended_seen = true;
            }
        }
        seen.extend(crate::common::entry_ids(&page));
        next = crate::common::link(&page, "next");
    }
    assert!(amended_seen);
    let expected: HashSet<String> =
        original.iter().map(|o| o["id"].as_str().unwrap().to_owned()).filter(|id| *id != deleted_id).collect();
    assert_eq!(seen.len(), expected.len(), "repeats");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), expected);
}

async fn snapshots_belong_to_their_tenant(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let theirs = server.token(crate::common::OTHER_TENANT, "system/*.cruds").await;
    for _ in 0..3 {
        crate::common::create(&server, &token, json!({"resourceType": "Patient"})).await;
    }
    let (_, page) = json(
        server
            .client
            .get(format!("{}/Patient?_count=1", server.base(TENANT)))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let next = crate::common::link(&page, "next").unwrap();
    let stolen = next.replace(&format!("/{TENANT}/"), &format!("/{}/", crate::common::OTHER_TENANT));
    crate::common::expect_outcome(server.client.get(&stolen).bearer_auth(&theirs).send().await.unwrap(), 410).await;
    let wrong_type = next.replace("/Patient?", "/Observation?");
    crate::common::expect_outcome(server.client.get(&wrong_type).bearer_auth(&token).send().await.unwrap(), 410).await;
    let garbage = format!("{}/Patient?_snapshot=nope", server.base(TENANT));
    crate::common::expect_outcome(server.client.get(&garbage).bearer_auth(&token).send().await.unwrap(), 400).await;
}

crate::on_both_databases!(
    pages_cover_every_result_once,
    paging_under_concurrent_writes,
    snapshots_belong_to_their_tenant
);
