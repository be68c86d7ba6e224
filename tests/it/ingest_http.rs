//! `POST /{tenant}/ingest/{vendor}`: deliveries over HTTP, with their own
//! scope, size and time limits; the answer is the CLI's summary, and a
//! spooled delivery never outlives its request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{Db, OTHER_TENANT, TENANT, TestServer, fhir_json};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples").join(name)).unwrap()
}

/// A server whose spool folder the test can look into.
async fn server_with_spool(db: Db, adjust: impl FnOnce(&mut zorgpoort::config::Config)) -> (TestServer, Spool) {
    let spool = Spool(tempfile::tempdir().unwrap());
    let dir = spool.0.path().to_owned();
    let server = TestServer::start_with(db, |config| {
        config.spool_dir = dir;
        adjust(config);
    })
    .await;
    (server, spool)
}

struct Spool(tempfile::TempDir);

impl Spool {
    /// The files left in the spool folder (there must be none after a request).
    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.0.path()).unwrap().map(|e| e.unwrap().path()).collect()
    }
}

async fn deliver(
    server: &TestServer,
    tenant: &str,
    vendor: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = server.client.post(format!("{}/{tenant}/ingest/{vendor}", server.origin)).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The diagnostics of an OperationOutcome answer with `status`.
async fn refused(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let outcome = fhir_json(&response.text().await.unwrap());
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    outcome["issue"][0]["diagnostics"].as_str().unwrap().to_owned()
}

async fn patients(server: &TestServer) -> u64 {
    let token = server.token(TENANT, "system/*.rs").await;
    let response = server.request(Method::GET, "Patient?_summary=count", &token).send().await.unwrap();
    fhir_json(&response.text().await.unwrap())["total"].as_u64().unwrap()
}

async fn a_delivery_over_http_is_ingested_like_the_cli(db: Db) {
    let (server, spool) = server_with_spool(db, |_| {}).await;
    let token = server.token(TENANT, "ingest/pluriform").await;
    let url = format!("{}/{TENANT}/ingest/pluriform?name=pluriform-pameijer.json", server.origin);
    let response =
        server.client.post(&url).bearer_auth(&token).body(sample("pluriform-pameijer.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["delivery"], "pluriform-pameijer.json");
    assert_eq!(answer["bytes"], sample("pluriform-pameijer.json").len());
    let summary = &answer["summary"];
    // The same counts as the library's ingest of the file (ingest_samples.rs).
    assert_eq!(
        (&summary["records"], &summary["created"], &summary["skipped"], &summary["rejected"]),
        (&Value::from(110), &Value::from(106), &Value::from(2), &Value::from(0)),
        "{answer}"
    );
    assert_eq!(patients(&server).await, 4);
    assert!(spool.files().is_empty(), "{:?}", spool.files());

    // The same delivery again writes nothing; without a name it gets one.
    let again = deliver(&server, TENANT, "pluriform", Some(&token), sample("pluriform-pameijer.json")).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!((&again["summary"]["created"], &again["summary"]["versions"]), (&Value::from(0), &Value::from(0)));
    let name = again["delivery"].as_str().unwrap();
    assert!(name.starts_with("pluriform-") && name.ends_with(&again["sha256"].as_str().unwrap()[..12]), "{name}");
    assert!(spool.files().is_empty());
}

async fn deliveries_need_an_ingest_scope_for_their_vendor(db: Db) {
    let (server, spool) = server_with_spool(db, |_| {}).await;
    // Refused before the body is read: a small one, so that the client is
    // not still sending when the gateway answers and closes.
    let body = || b"{}".to_vec();
    let response = deliver(&server, TENANT, "pluriform", None, body()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let reader = server.token(TENANT, "system/*.cruds").await;
    let diagnostics =
        refused(deliver(&server, TENANT, "pluriform", Some(&reader), body()).await, StatusCode::FORBIDDEN).await;
    assert!(diagnostics.contains("ingest/pluriform"), "{diagnostics}");
    let other_vendor = server.token(TENANT, "ingest/caress").await;
    refused(deliver(&server, TENANT, "pluriform", Some(&other_vendor), body()).await, StatusCode::FORBIDDEN).await;
    let other_tenant = server.token(OTHER_TENANT, "ingest/*").await;
    let response = deliver(&server, TENANT, "pluriform", Some(&other_tenant), body()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let any = server.token(TENANT, "ingest/*").await;
    let diagnostics =
        refused(deliver(&server, TENANT, "nosuchvendor", Some(&any), body()).await, StatusCode::NOT_FOUND).await;
    assert!(diagnostics.contains("nosuchvendor"), "{diagnostics}");
    assert_eq!(patients(&server).await, 0, "nothing written by refused requests");
    let whole = sample("pluriform-pameijer.json");
    assert_eq!(deliver(&server, TENANT, "pluriform", Some(&any), whole).await.status(), StatusCode::OK);
    assert_eq!(patients(&server).await, 4);
    assert!(spool.files().is_empty());
}

async fn a_refused_delivery_writes_nothing_and_says_why(db: Db) {
    let (server, spool) = server_with_spool(db, |config| config.limits.max_delivery_bytes = 30_000).await;
    let token = server.token(TENANT, "ingest/pluriform").await;
    let delta = sample("pluriform-pameijer-delta.json");
    assert!(delta.len() < 30_000);

    let truncated = delta[..delta.len() / 2].to_vec();
    let why =
        refused(deliver(&server, TENANT, "pluriform", Some(&token), truncated).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert!(why.contains("ends too soon"), "{why}");
    let other_token = server.token(OTHER_TENANT, "ingest/pluriform").await;
    let why = refused(
        deliver(&server, OTHER_TENANT, "pluriform", Some(&other_token), delta.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(why.contains("'pameijer', not 'sheerenloo'"), "{why}");

    // Too large: told by Content-Length, and found while streaming a body
    // without one (chunked).
    let full = sample("pluriform-pameijer.json");
    assert!(full.len() > 30_000);
    // (Refused on its headers: only they are sent, as a client that waits
    // for `100 Continue` would.)
    let address = server.origin.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /{TENANT}/ingest/pluriform HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        full.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("30000 bytes"), "{answer}");
    let (status, text) = chunked_post(&server, &format!("/{TENANT}/ingest/pluriform"), &token, &full, None).await;
    assert_eq!(status, 413, "{text}");

    assert_eq!(patients(&server).await, 0);
    assert!(spool.files().is_empty(), "{:?}", spool.files());
}

/// A delivery that takes longer than `limits.ingest_timeout` (here: one
/// that stops arriving half-way) is answered 503, and its spool file goes.
async fn a_delivery_that_takes_too_long_is_cut_off(db: Db) {
    let (server, spool) =
        server_with_spool(db, |config| config.limits.ingest_timeout = Duration::from_millis(500)).await;
    let token = server.token(TENANT, "ingest/pluriform").await;
    let full = sample("pluriform-pameijer.json");
    let (status, text) = chunked_post(
        &server,
        &format!("/{TENANT}/ingest/pluriform"),
        &token,
        &full[..4096],
        Some(Duration::from_secs(5)),
    )
    .await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("longer than the limit"), "{text}");
    assert!(spool.files().is_empty(), "{:?}", spool.files());
    assert_eq!(patients(&server).await, 0);
}

/// Sends `body` as one chunk of a chunked request; with `stall`, leaves the
/// request unfinished and waits that long for the answer. Returns the
/// status and the whole answer.
async fn chunked_post(
    server: &TestServer,
    path: &str,
    token: &str,
    body: &[u8],
    stall: Option<Duration>,
) -> (u16, String) {
    let address = server.origin.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(format!("{:x}\r\n", body.len()).as_bytes()).await.unwrap();
    // The server may answer (413) and close before taking it all.
    let _ = stream.write_all(body).await;
    let _ = stream.write_all(b"\r\n").await;
    if stall.is_none() {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(stall.unwrap_or(Duration::from_secs(30)), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer in time");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

crate::on_both_databases!(
    a_delivery_over_http_is_ingested_like_the_cli,
    deliveries_need_an_ingest_scope_for_their_vendor,
    a_refused_delivery_writes_nothing_and_says_why,
    a_delivery_that_takes_too_long_is_cut_off,
);
