//! Read, vread, history, create, update and delete over HTTP; the error
//! statuses with their OperationOutcome; tenant isolation.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Db, OTHER_TENANT, TENANT, TestServer, create, expect_outcome, get, json, post_bundle};

fn patient(family: &str) -> Value {
    json!({"resourceType": "Patient", "name": [{"family": family}], "gender": "female"})
}

async fn put(server: &TestServer, token: &str, path: &str, body: &Value, if_match: Option<&str>) -> reqwest::Response {
    let mut request =
        server.request(Method::PUT, path, token).header("content-type", "application/fhir+json").body(body.to_string());
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.send().await.unwrap()
}

async fn versions_and_history(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let created = create(&server, &token, patient("Jansen")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["meta"]["versionId"], "1");

    let response = server.request(Method::GET, &format!("Patient/{id}"), &token).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    assert!(response.headers().contains_key("last-modified"));
    let (_, read) = json(response).await;
    assert_eq!(read, created);

    let mut changed = created.clone();
    changed["name"][0]["family"] = json!("de Vries");
    let (status, updated) = json(put(&server, &token, &format!("Patient/{id}"), &changed, Some("W/\"1\"")).await).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["meta"]["versionId"], "2");

    // The same content again makes no new version.
    let (_, same) = json(put(&server, &token, &format!("Patient/{id}"), &changed, None).await).await;
    assert_eq!(same["meta"]["versionId"], "2");

    // A stale If-Match is refused.
    expect_outcome(put(&server, &token, &format!("Patient/{id}"), &changed, Some("W/\"1\"")).await, 412).await;

    let (status, v1) = get(&server, &token, &format!("Patient/{id}/_history/1")).await;
    assert_eq!((status, v1["name"][0]["family"].as_str()), (200, Some("Jansen")));
    let (_, v2) = get(&server, &token, &format!("Patient/{id}/_history/2")).await;
    assert_eq!(v2["name"][0]["family"], "de Vries");
    expect_outcome(server.request(Method::GET, &format!("Patient/{id}/_history/3"), &token).send().await.unwrap(), 404)
        .await;

    let (status, history) = get(&server, &token, &format!("Patient/{id}/_history")).await;
    assert_eq!(status, 200);
    assert_eq!(history["type"], "history");
    assert_eq!(history["total"], 2);
    let versions: Vec<&str> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["meta"]["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2", "1"]);
}

async fn delete_then_read_is_gone(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let id = create(&server, &token, patient("Smit")).await["id"].as_str().unwrap().to_owned();
    let response = server.request(Method::DELETE, &format!("Patient/{id}"), &token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let outcome =
        expect_outcome(server.request(Method::GET, &format!("Patient/{id}"), &token).send().await.unwrap(), 410).await;
    assert_eq!(outcome["issue"][0]["code"], "deleted");
    // Deleting again changes nothing; the deletion is a version in the history.
    let response = server.request(Method::DELETE, &format!("Patient/{id}"), &token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (_, history) = get(&server, &token, &format!("Patient/{id}/_history")).await;
    assert_eq!(history["total"], 2);
    assert_eq!(history["entry"][0]["request"]["method"], "DELETE");
    assert!(history["entry"][0].get("resource").is_none());
    expect_outcome(server.request(Method::GET, &format!("Patient/{id}/_history/2"), &token).send().await.unwrap(), 410)
        .await;
    // The deleted resource is no longer found by search.
    let (_, bundle) = get(&server, &token, &format!("Patient?_id={id}")).await;
    assert_eq!(bundle["total"], 0);
}

async fn errors_are_operation_outcomes(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let url = |path: &str| format!("{}/{path}", server.base(TENANT));

    // No token, a malformed one, an unknown one: 401 with a challenge.
    let response = server.client.get(url("Patient")).send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="zorgpoort""#);
    expect_outcome(response, 401).await;
    for bad in ["Basic abc", "Bearer", "Bearer not-a-token"] {
        let response = server.client.get(url("Patient")).header("authorization", bad).send().await.unwrap();
        assert!(response.headers().contains_key("www-authenticate"), "{bad}");
        expect_outcome(response, 401).await;
    }
    let unknown = zorgpoort::auth::token::generate();
    expect_outcome(server.client.get(url("Patient")).bearer_auth(&unknown).send().await.unwrap(), 401).await;

    // Unknown type, unknown id, bad id, unknown route, unknown tenant: 404/400.
    expect_outcome(server.request(Method::GET, "Medication/1", &token).send().await.unwrap(), 404).await;
    expect_outcome(server.request(Method::GET, "Patient/unknown", &token).send().await.unwrap(), 404).await;
    expect_outcome(server.request(Method::GET, "Patient/a_b", &token).send().await.unwrap(), 400).await;
    expect_outcome(server.client.get(format!("{}/nowhere", server.origin)).send().await.unwrap(), 404).await;
    expect_outcome(
        server.client.get(format!("{}/nobody/fhir/Patient", server.origin)).bearer_auth(&token).send().await.unwrap(),
        404,
    )
    .await;

    // A read-only token may not write: 403.
    let body = patient("Visser").to_string();
    let response = server
        .request(Method::POST, "Patient", &token)
        .header("content-type", "application/fhir+json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    expect_outcome(response, 403).await;

    // Bad bodies: wrong media type 415; not JSON, not valid R4 (with the
    // path named), another resource type: 400; a rule of this server: 422.
    let writer = server.token(TENANT, "system/*.cruds").await;
    let post = |content_type: &'static str, body: String| {
        server.request(Method::POST, "Patient", &writer).header("content-type", content_type).body(body)
    };
    expect_outcome(post("text/plain", body.clone()).send().await.unwrap(), 415).await;
    expect_outcome(post("application/fhir+json", "{not json".into()).send().await.unwrap(), 400).await;
    let cases = [
        (json!({"resourceType": "Patient", "nmae": [{"family": "x"}]}), "not valid R4"),
        (
            json!({"resourceType": "Patient", "name": [{"family": "X", "given": []}]}),
            "Patient.name[0].given: empty arrays",
        ),
        (json!({"resourceType": "Patient", "gender": null}), "Patient.gender: null"),
        (json!({"resourceType": "Observation"}), "expected 'Patient'"),
    ];
    for (resource, expected) in cases {
        let outcome =
            expect_outcome(post("application/fhir+json", resource.to_string()).send().await.unwrap(), 400).await;
        let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(diagnostics.contains(expected), "{diagnostics} should contain {expected}");
    }
    let response = server
        .request(Method::POST, "Binary", &writer)
        .header("content-type", "application/fhir+json")
        .body(json!({"resourceType": "Binary", "contentType": "text/plain"}).to_string())
        .send()
        .await
        .unwrap();
    let outcome = expect_outcome(response, 422).await;
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().contains("securityContext"), "{outcome}");
    // Nothing of the refused writes was stored.
    let (_, patients) = get(&server, &writer, "Patient").await;
    assert_eq!(patients["total"], 0);

    // Update of an unknown id (ids are the server's), id mismatch, unsupported method.
    let response = put(
        &server,
        &writer,
        "Patient/does-not-exist",
        &json!({"resourceType": "Patient", "id": "does-not-exist"}),
        None,
    )
    .await;
    expect_outcome(response, 405).await;
    let id = create(&server, &writer, patient("Meijer")).await["id"].as_str().unwrap().to_owned();
    expect_outcome(
        put(&server, &writer, &format!("Patient/{id}"), &json!({"resourceType": "Patient", "id": "other"}), None).await,
        400,
    )
    .await;
    expect_outcome(server.request(Method::PATCH, &format!("Patient/{id}"), &writer).send().await.unwrap(), 405).await;
}

async fn body_size_is_limited(db: Db) {
    let server = TestServer::start_with(db, |config| config.limits.max_body_bytes = 2048).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let big = json!({"resourceType": "Patient", "name": [{"family": "x".repeat(4096)}]});
    let response = server
        .request(Method::POST, "Patient", &token)
        .header("content-type", "application/fhir+json")
        .body(big.to_string())
        .send()
        .await
        .unwrap();
    expect_outcome(response, 413).await;
}

/// A transaction of many entries: a Patient and Observations of it.
fn large_transaction(observations: usize) -> Value {
    let patient_url = "urn:uuid:5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let mut entries = vec![json!({"fullUrl": patient_url, "request": {"method": "POST", "url": "Patient"},
        "resource": patient("Tijdslimiet")})];
    entries.extend((0..observations).map(|n| {
        json!({"fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
            "request": {"method": "POST", "url": "Observation"},
            "resource": {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": {"reference": patient_url},
                "effectiveDateTime": format!("2024-03-{:02}T10:00:00+01:00", 1 + n % 28),
                "valueQuantity": {"value": 60 + n % 30, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}})
    }));
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// How many resources of a type the tenant holds, as search counts them.
async fn count(server: &TestServer, token: &str, resource_type: &str) -> u64 {
    let (status, bundle) = get(server, token, &format!("{resource_type}?_summary=count")).await;
    assert_eq!(status, 200, "{bundle}");
    bundle["total"].as_u64().unwrap()
}

/// `limits.request_timeout`: a request that takes longer gets 503 with an
/// OperationOutcome (issue `timeout`), and a transaction cut off by it
/// leaves nothing behind.
async fn slow_requests_time_out_and_write_nothing(db: Db) {
    // Several hundred entries take seconds in a test build (more than ten
    // times the limit), whether the limit cuts them off while the entries
    // are prepared or while they are written.
    const OBSERVATIONS: usize = 500;
    let limited = TestServer::start_with(db, |config| config.limits.request_timeout = Duration::from_millis(100)).await;
    let token = limited.token(TENANT, "system/*.cruds").await;
    let bundle = large_transaction(OBSERVATIONS);

    let outcome = expect_outcome(post_bundle(&limited, &token, &bundle).await, 503).await;
    assert_eq!(outcome["issue"][0]["code"], "timeout", "{outcome}");
    assert_eq!(outcome["issue"][0]["severity"], "error", "{outcome}");
    // The limit of the configuration, not some other one.
    let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(diagnostics.ends_with("the limit of 100 ms"), "{diagnostics}");

    // A server with the default limit (30 s) on the same database: nothing
    // of the cut-off transaction is there.
    let normal = limited.beside(|_| {}).await;
    drop(limited);
    assert_eq!((count(&normal, &token, "Patient").await, count(&normal, &token, "Observation").await), (0, 0));
    // The very same Bundle goes through when it has the time: it was only too slow.
    let (status, response) = json(post_bundle(&normal, &token, &bundle).await).await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["entry"].as_array().unwrap().len(), OBSERVATIONS + 1);
    // Exactly one copy: nothing of the cut-off attempt turned up late (this
    // transaction took the tenant lock after anything that still held it).
    assert_eq!(
        (count(&normal, &token, "Patient").await, count(&normal, &token, "Observation").await),
        (1, OBSERVATIONS as u64)
    );
}

/// Tokens are kept in memory between requests; a revocation on another
/// instance (a second connection pool on the same database) still stops
/// the token on the very next request, while other tokens go on working.
async fn revoked_tokens_are_refused_at_once(db: Db) {
    let server = TestServer::start(db).await;
    let revoked = server.token(TENANT, "system/*.rs").await;
    let other = server.token(TENANT, "system/*.rs").await;
    let other_instance = server.db.open().await;
    for round in 0..3 {
        // Sent together, so that they share the checks of the epoch.
        let mut requests = tokio::task::JoinSet::new();
        for i in 0..16 {
            let token = if i % 2 == 0 { &revoked } else { &other };
            requests.spawn(server.request(Method::GET, "Patient?_summary=count", token).send());
        }
        for response in requests.join_all().await {
            assert_eq!(response.unwrap().status(), 200, "round {round}");
        }
    }
    other_instance.revoke_token(&zorgpoort::auth::token::hash(&revoked)).await.unwrap();
    let response = server.request(Method::GET, "Patient?_summary=count", &revoked).send().await.unwrap();
    expect_outcome(response, 401).await;
    let response = server.request(Method::GET, "Patient?_summary=count", &other).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

async fn tenants_are_isolated(db: Db) {
    let server = TestServer::start(db).await;
    let ours = server.token(TENANT, "system/*.cruds").await;
    let theirs = server.token(OTHER_TENANT, "system/*.cruds").await;
    let id = create(&server, &ours, patient("Bakker")).await["id"].as_str().unwrap().to_owned();
    let other_base = server.base(OTHER_TENANT);

    // Their token cannot read our data, through our URL or theirs.
    let response =
        server.client.get(format!("{}/Patient/{id}", server.base(TENANT))).bearer_auth(&theirs).send().await.unwrap();
    expect_outcome(response, 401).await;
    let response = server.client.get(format!("{other_base}/Patient/{id}")).bearer_auth(&theirs).send().await.unwrap();
    expect_outcome(response, 404).await;
    let (_, bundle) =
        json(server.client.get(format!("{other_base}/Patient")).bearer_auth(&theirs).send().await.unwrap()).await;
    assert_eq!(bundle["total"], 0);
    // Our token does not work on their base either.
    expect_outcome(server.client.get(format!("{other_base}/Patient")).bearer_auth(&ours).send().await.unwrap(), 401)
        .await;
    // And ours still sees it.
    let (status, _) = get(&server, &ours, &format!("Patient/{id}")).await;
    assert_eq!(status, 200);
}

async fn cors_for_browser_apps(db: Db) {
    let server = TestServer::start(db).await;
    let response = server
        .client
        .request(Method::OPTIONS, format!("{}/Patient", server.base(TENANT)))
        .header("origin", "https://app.example.nl")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.nl");
    let response = server
        .client
        .get(format!("{}/metadata", server.base(TENANT)))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!response.headers().contains_key("access-control-allow-origin"));
}

crate::on_both_databases!(
    revoked_tokens_are_refused_at_once,
    versions_and_history,
    delete_then_read_is_gone,
    errors_are_operation_outcomes,
    body_size_is_limited,
    slow_requests_time_out_and_write_nothing,
    tenants_are_isolated,
    cors_for_browser_apps,
);
