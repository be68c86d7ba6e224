//! Wire formats and conditional reads: FHIR XML with the same content as
//! JSON for every served type, `Accept`/`_format` negotiation and 406,
//! ETag and Last-Modified with 304, Binary as raw bytes, and the limits.

use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::fhir::ResourceType;
use zorgpoort::fhir::model::xml_to_json;

use crate::common::schema::assert_valid;
use crate::common::{Db, TENANT, TestServer, expect_outcome, json};

/// One resource of every served type (`ResourceType::ALL`), as the demo
/// generator makes them; fails when the demo data lacks a type.
async fn one_of_each(server: &TestServer) -> Vec<(ResourceType, String)> {
    let size = zorgpoort::demo::DemoSize::demo(1);
    let written =
        zorgpoort::demo::load(server.store.as_ref(), &zorgpoort::fhir::TenantCode::parse(TENANT).unwrap(), &size)
            .await
            .unwrap();
    assert_eq!(written, size.resources());
    let token = server.token(TENANT, "system/*.rs").await;
    let mut found = Vec::new();
    for t in ResourceType::ALL {
        let (status, bundle) = crate::common::get(server, &token, &format!("{t}?_count=1")).await;
        assert_eq!(status, 200, "{bundle}");
        let id = bundle["entry"][0]["resource"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("the demo data holds no {t}: {bundle}"));
        found.push((t, id.to_owned()));
    }
    found
}

async fn xml_and_json_carry_the_same_content(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let resources = one_of_each(&server).await;
    assert_eq!(resources.len(), ResourceType::ALL.len());
    for (t, id) in &resources {
        for path in [format!("{t}/{id}"), format!("{t}/{id}/_history/1")] {
            // Valid R4 JSON (the helper checks it), and the same content in XML.
            let (status, as_json) = crate::common::get(&server, &token, &path).await;
            assert_eq!((status, as_json["resourceType"].as_str()), (200, Some(t.as_str())), "{as_json}");
            let response = server
                .request(Method::GET, &path, &token)
                .header("accept", "application/fhir+xml")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/fhir+xml"));
            let xml = response.text().await.unwrap();
            assert_eq!(xml_to_json(&xml).unwrap_or_else(|e| panic!("{path}: {e}: {xml}")), as_json, "{path}: {xml}");
        }
        // A searchset of the type, by _format.
        let query = format!("{t}?_id={id}");
        let (_, bundle_json) = crate::common::get(&server, &token, &query).await;
        let response = server.request(Method::GET, &format!("{query}&_format=xml"), &token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let xml = response.text().await.unwrap();
        let bundle_xml = xml_to_json(&xml).unwrap_or_else(|e| panic!("{query}: {e}: {xml}"));
        assert_valid(&bundle_xml);
        assert_eq!(bundle_xml["total"], 1, "{query}: {xml}");
        assert_eq!(bundle_xml["entry"], bundle_json["entry"], "{query}");
    }
    // A searchset Bundle of several entries, by _format.
    let (_, bundle_json) = crate::common::get(&server, &token, "Observation?_count=3").await;
    let response = server.request(Method::GET, "Observation?_count=3&_format=xml", &token).send().await.unwrap();
    let bundle_xml = xml_to_json(&response.text().await.unwrap()).unwrap();
    assert_valid(&bundle_xml);
    assert_eq!(bundle_xml["total"], bundle_json["total"]);
    assert_eq!(bundle_xml["entry"], bundle_json["entry"]);
    // Errors too.
    let response = server
        .request(Method::GET, "Patient/unknown", &token)
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let text = response.text().await.unwrap();
    let outcome = xml_to_json(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_valid(&outcome);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
}

async fn xml_bodies_are_accepted(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let xml =
        r#"<Patient xmlns="http://hl7.org/fhir"><name><family value="Visser"/></name><gender value="male"/></Patient>"#;
    let response = server
        .request(Method::POST, "Patient", &token)
        .header("content-type", "application/fhir+xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    let (status, created) = json(response).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"][0]["family"], "Visser");
    let broken = r#"<Patient xmlns="http://hl7.org/fhir"><name><family value="Visser"/></nam></Patient>"#;
    let response = server
        .request(Method::POST, "Patient", &token)
        .header("content-type", "application/fhir+xml")
        .body(broken)
        .send()
        .await
        .unwrap();
    expect_outcome(response, 400).await;
}

async fn unacceptable_formats_get_406(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    for (accept, format) in [("text/html", None), ("application/fhir+json", Some("text/turtle"))] {
        let mut request = server.request(Method::GET, "Patient", &token).header("accept", accept);
        if let Some(format) = format {
            request = request.query(&[("_format", format)]);
        }
        expect_outcome(request.send().await.unwrap(), 406).await;
    }
}

async fn conditional_reads(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.cruds").await;
    let created = crate::common::create(&server, &token, json!({"resourceType": "Patient"})).await;
    let path = format!("Patient/{}", created["id"].as_str().unwrap());
    let response = server.request(Method::GET, &path, &token).send().await.unwrap();
    let last_modified = response.headers()["last-modified"].to_str().unwrap().to_owned();
    let get_with = |name: &'static str, value: String| server.request(Method::GET, &path, &token).header(name, value);
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(get_with("if-none-match", "W/\"1\"".into()).send().await.unwrap()), 304);
    assert_eq!(status(get_with("if-none-match", "\"1\"".into()).send().await.unwrap()), 304);
    assert_eq!(status(get_with("if-none-match", "W/\"2\"".into()).send().await.unwrap()), 200);
    assert_eq!(status(get_with("if-modified-since", last_modified.clone()).send().await.unwrap()), 304);
    assert_eq!(
        status(get_with("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT".into()).send().await.unwrap()),
        200
    );
    let response = get_with("if-none-match", "W/\"1\"".into()).send().await.unwrap();
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    assert!(response.text().await.unwrap().is_empty());
    // After an update the old ETag no longer matches.
    let mut changed = created.clone();
    changed["gender"] = json!("other");
    let response = server
        .request(Method::PUT, &path, &token)
        .header("content-type", "application/fhir+json")
        .body(changed.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(status(get_with("if-none-match", "W/\"1\"".into()).send().await.unwrap()), 200);
    assert_eq!(status(get_with("if-none-match", "W/\"2\"".into()).send().await.unwrap()), 304);
    // vread answers 304 for its version too.
    let response = server
        .request(Method::GET, &format!("{path}/_history/1"), &token)
        .header("if-none-match", "W/\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
}

async fn binary_content_by_accept(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let resources = one_of_each(&server).await;
    let (_, id) = resources.iter().find(|(t, _)| *t == ResourceType::Binary).unwrap();
    let response = server
        .request(Method::GET, &format!("Binary/{id}"), &token)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.headers()["etag"], "W/\"1\"");
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{bytes:?}");
    let (status, resource): (u16, Value) = json(
        server
            .request(Method::GET, &format!("Binary/{id}"), &token)
            .header("accept", "application/fhir+json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, resource["resourceType"].as_str()), (200, Some("Binary")));
    let response = server
        .request(Method::GET, &format!("Binary/{id}"), &token)
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    expect_outcome(response, 406).await;
}

async fn long_queries_are_refused(db: Db) {
    let server = TestServer::start_with(db, |config| config.limits.max_query_bytes = 100).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let long = format!("Patient?_id={}", "a".repeat(200));
    let outcome = expect_outcome(server.request(Method::GET, &long, &token).send().await.unwrap(), 414).await;
    assert_eq!(outcome["issue"][0]["code"], "too-long");
}

crate::on_both_databases!(
    xml_and_json_carry_the_same_content,
    xml_bodies_are_accepted,
    unacceptable_formats_get_406,
    conditional_reads,
    binary_content_by_accept,
    long_queries_are_refused,
);
