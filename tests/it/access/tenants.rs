//! Tenant isolation for every interaction. The access delivery goes into
//! tenant A as `World` ingests it, and the same delivery (the same vendor
//! numbers) into tenant B, its names and report texts marked so that the
//! two can be told apart. With B's own tokens on B's URL nothing of A is
//! found: read, vread, history, search with `_include` and `_revinclude`,
//! paging, transaction and batch entries, update, delete, create and
//! `$validate` answer for A's ids exactly what they answer for ids that
//! exist nowhere, and A's records are as they were afterwards. A's tokens,
//! system and person alike, are refused on B's URL; every token is refused
//! once it has expired, and a revoked one stays revoked.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::{ResourceId, ResourceType, TenantCode};

use super::World;
use super::delivery::*;
use crate::common::{Db, OTHER_TENANT, TENANT};
use crate::on_both_databases;

on_both_databases!(
    the_same_vendor_numbers_are_separate_records_in_each_tenant,
    another_tenants_system_token_finds_nothing_of_this_tenant,
    records_of_one_tenant_are_not_included_through_references_from_another,
    tokens_of_one_tenant_are_refused_on_another_tenants_url,
    a_person_of_one_tenant_sees_only_that_tenants_records,
    expired_tokens_are_refused,
    a_token_expires_at_its_expiry_to_the_millisecond,
    a_token_shown_to_another_tenant_stays_revoked_at_home,
);

/// Tenant A: the access delivery as `World` ingests it.
const A: &str = TENANT;
/// Tenant B: the same delivery, marked.
const B: &str = OTHER_TENANT;
/// What B's delivery calls its clients, and puts before its report texts.
const MARK: &str = "Bastiaan";

/// The access delivery for tenant B: the same vendor numbers, the clients'
/// first names and the report texts marked.
fn delivery_for_b() -> Value {
    let mut delivery = full();
    delivery["organisatie"]["code"] = json!(B);
    delivery["organisatie"]["naam"] = json!("Tweede organisatie");
    for client in delivery["clienten"].as_array_mut().unwrap() {
        client["naam"]["voornamen"] = json!(MARK);
        for report in client["rapportages"].as_array_mut().unwrap() {
            report["tekst"] = json!(format!("{MARK}: {}", report["tekst"].as_str().unwrap()));
        }
    }
    delivery
}

/// Both tenants delivered, with a system token of each that may do
/// everything, and the ids the vendor numbers became in each.
struct Tenants {
    world: World,
    a: String,
    b: String,
}

impl Tenants {
    async fn new(db: Db) -> Tenants {
        Tenants::on(World::new(db).await).await
    }

    async fn on(world: World) -> Tenants {
        world.deliver_to(B, &delivery_for_b()).await;
        let a = world.server.token(A, "system/*.cruds").await;
        let b = world.server.token(B, "system/*.cruds").await;
        Tenants { world, a, b }
    }

    fn token(&self, tenant: &str) -> &str {
        if tenant == A { &self.a } else { &self.b }
    }

    /// The server id of a vendor record in `tenant`.
    async fn id(&self, tenant: &str, resource_type: &str, kind: &str, number: &str) -> String {
        self.world.id_in(tenant, self.token(tenant), resource_type, kind, number).await
    }

    async fn client(&self, tenant: &str, number: &str) -> String {
        self.id(tenant, "Patient", "client", number).await
    }

    async fn report(&self, tenant: &str, client: &str) -> String {
        self.id(tenant, "Communication", "rapportage", &format!("RR-{client}-1")).await
    }

    async fn send(&self, tenant: &str, token: &str, call: &Call) -> Answer {
        send(&self.world, tenant, token, call).await
    }

    /// A request of `tenant`'s system token on its own URL.
    async fn system(&self, tenant: &str, call: &Call) -> Answer {
        self.send(tenant, self.token(tenant), call).await
    }

    /// Creates a resource in `tenant` through the API; its id.
    async fn create(&self, tenant: &str, resource: Value) -> String {
        let path = resource["resourceType"].as_str().unwrap().to_owned();
        let answer = self.system(tenant, &call(Method::POST, path, Some(resource))).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    /// Every current record of `tenant` as its system token reads it, by
    /// `Type/id`.
    async fn records(&self, tenant: &str) -> BTreeMap<String, Value> {
        let mut records = BTreeMap::new();
        for resource_type in ResourceType::ALL {
            let answer = self.system(tenant, &get(format!("{resource_type}?_count=1000"))).await;
            assert_eq!(answer.status, 200, "{resource_type}: {}", answer.text);
            assert!(crate::common::link(&answer.body, "next").is_none(), "{resource_type}: one page holds them all");
            for entry in answer.body["entry"].as_array().into_iter().flatten() {
                let resource = &entry["resource"];
                records.insert(format!("{resource_type}/{}", resource["id"].as_str().unwrap()), resource.clone());
            }
        }
        records
    }
}

/// A request, its path relative to a tenant's FHIR base.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn call(method: Method, path: impl Into<String>, body: Option<Value>) -> Call {
    Call { method, path: path.into(), body }
}

fn get(path: impl Into<String>) -> Call {
    call(Method::GET, path, None)
}

/// An answer: its status, `WWW-Authenticate`, text and (FHIR JSON, checked
/// like every body the tests read) body; `Null` when it has none.
#[derive(Debug)]
struct Answer {
    status: u16,
    challenge: Option<String>,
    text: String,
    body: Value,
}

async fn send(world: &World, tenant: &str, token: &str, call: &Call) -> Answer {
    let base = world.server.base(tenant);
    let url = if call.path.is_empty() { base } else { format!("{base}/{}", call.path) };
    let mut request = world.server.client.request(call.method.clone(), &url).bearer_auth(token);
    if let Some(body) = &call.body {
        request = request.header("content-type", "application/fhir+json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let content_type = crate::common::content_type(&response);
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        assert!(content_type.starts_with("application/fhir+json"), "{} {url}: {content_type}: {text}", call.method);
        crate::common::fhir_json(&text)
    };
    Answer { status, challenge, text, body }
}

/// Every interaction, naming the Patient `patient` and the Communication
/// `report` (the report of that client, when they are known).
fn interactions(patient: &str, report: &str) -> Vec<Call> {
    let bundle = |kind: &str, entries: Value| json!({"resourceType": "Bundle", "type": kind, "entry": entries});
    let changed = json!({"resourceType": "Patient", "id": patient, "active": false,
        "name": [{"family": "Overschreven"}]});
    let read = json!({"request": {"method": "GET", "url": format!("Patient/{patient}")}});
    let vread = json!({"request": {"method": "GET", "url": format!("Communication/{report}")}});
    let update = json!({"resource": changed, "request": {"method": "PUT", "url": format!("Patient/{patient}")}});
    let delete = json!({"request": {"method": "DELETE", "url": format!("Patient/{patient}")}});
    let search = json!({"request": {"method": "GET",
        "url": format!("Communication?subject=Patient/{patient}&_include=Communication:subject")}});
    let observation = json!({"resourceType": "Observation", "status": "final", "code": {"text": "Gewicht"},
        "subject": {"reference": format!("Patient/{patient}")}});
    let provenance = json!({"resourceType": "Provenance", "recorded": "2026-11-20T10:00:00+01:00",
        "target": [{"reference": format!("Communication/{report}")}],
        "agent": [{"who": {"display": "Koppeling"}}]});
    vec![
        get(format!("Patient/{patient}")),
        get(format!("Patient/{patient}/_history/1")),
        get(format!("Patient/{patient}/_history/2")),
        get(format!("Patient/{patient}/_history")),
        get(format!("Communication/{report}")),
        get(format!("Communication/{report}/_history")),
        get(format!("Patient?_id={patient}")),
        get(format!("Patient?_id={patient}&_revinclude=Communication:subject&_revinclude=Observation:subject")),
        get(format!("Communication?_id={report}&_include=Communication:subject")),
        get(format!("Communication?subject=Patient/{patient}")),
        get(format!("Observation?patient={patient}&_include=Observation:subject")),
        call(Method::POST, "", Some(bundle("transaction", json!([read])))),
        call(Method::POST, "", Some(bundle("transaction", json!([vread])))),
        call(Method::POST, "", Some(bundle("transaction", json!([update])))),
        call(Method::POST, "", Some(bundle("transaction", json!([delete])))),
        call(Method::POST, "", Some(bundle("transaction", json!([search])))),
        call(Method::POST, "", Some(bundle("batch", json!([read, vread, update, delete, search])))),
        call(Method::PUT, format!("Patient/{patient}"), Some(changed.clone())),
        call(Method::DELETE, format!("Patient/{patient}"), None),
        call(Method::DELETE, format!("Communication/{report}"), None),
        call(Method::POST, "Provenance", Some(provenance)),
        call(Method::POST, "Observation/$validate", Some(observation)),
        call(Method::POST, format!("Patient/{patient}/$validate"), Some(changed)),
    ]
}

/// What an answer says, with `ids` read as placeholders and what differs
/// between any two answers (Bundle ids, times, links) left out.
fn gist(answer: &Answer, ids: &[&str]) -> (u16, Value) {
    fn strip(value: &Value, ids: &[&str]) -> Value {
        match value {
            Value::String(s) => {
                let mut s = s.clone();
                for (i, id) in ids.iter().enumerate() {
                    s = s.replace(id, &format!("{{id{i}}}"));
                }
                Value::String(s)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| strip(v, ids)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "id" | "meta" | "timestamp" | "link" | "lastModified"))
                    .map(|(k, v)| (k.clone(), strip(v, ids)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    (answer.status, strip(&answer.body, ids))
}

/// Asserts that an answer through B names none of A's records.
fn names_none_of(answer: &Answer, records: &BTreeMap<String, Value>, asked: &[&str], what: &str) {
    for key in records.keys() {
        let id = key.split_once('/').unwrap().1;
        assert!(asked.contains(&id) || !answer.text.contains(id), "{what} names {key}: {}", answer.text);
    }
}

async fn the_same_vendor_numbers_are_separate_records_in_each_tenant(db: Db) {
    let tenants = Tenants::new(db).await;
    let (in_a, in_b) = (tenants.records(A).await, tenants.records(B).await);
    // The same records in both, each tenant's own.
    let count = |records: &BTreeMap<String, Value>| {
        let mut counts = BTreeMap::new();
        for key in records.keys() {
            *counts.entry(key.split_once('/').unwrap().0.to_owned()).or_insert(0) += 1;
        }
        counts
    };
    assert_eq!(count(&in_a), count(&in_b));
    assert!(in_a.len() > 20, "{}", in_a.len());
    let ids = |records: &BTreeMap<String, Value>| -> BTreeSet<String> {
        records.keys().map(|k| k.split_once('/').unwrap().1.to_owned()).collect()
    };
    assert!(ids(&in_a).is_disjoint(&ids(&in_b)), "the same vendor numbers, other server ids");
    for (key, resource) in &in_b {
        assert!(!resource.to_string().contains("Pameijer"), "{key}: {resource}");
    }
    // By vendor number: one record in each tenant, its own.
    for (resource_type, kind, number) in [
        ("Patient", "client", CLIENT),
        ("Patient", "client", OTHER_CLIENT),
        ("RelatedPerson", "vertegenwoordiger", MENTOR),
        ("Practitioner", "medewerker", "M-1"),
        ("Communication", "rapportage", &format!("RR-{CLIENT}-1")),
        ("Communication", "bericht", &format!("B-{CLIENT}-1")),
        ("Observation", "meting", &format!("M-{CLIENT}-1")),
        ("Invoice", "factuur", &format!("F-{CLIENT}-1")),
    ] {
        let (a, b) =
            (tenants.id(A, resource_type, kind, number).await, tenants.id(B, resource_type, kind, number).await);
        assert!(
            in_a.contains_key(&format!("{resource_type}/{a}")) && in_b.contains_key(&format!("{resource_type}/{b}"))
        );
        // Each tenant finds only its own, by id and by number.
        for (tenant, own, other) in [(A, &a, &b), (B, &b, &a)] {
            let answer = tenants.system(tenant, &get(format!("{resource_type}/{own}"))).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            let answer = tenants.system(tenant, &get(format!("{resource_type}/{other}"))).await;
            assert_eq!(answer.status, 404, "{tenant} {resource_type} {number}: {}", answer.text);
            let answer = tenants.system(tenant, &get(format!("{resource_type}?identifier={number}"))).await;
            assert_eq!(crate::common::entry_ids(&answer.body), vec![own.clone()], "{tenant} {number}");
            let identifier = format!(
                "{resource_type}?identifier=https://zorgpoort.nl/fhir/NamingSystem/{}/pluriform/{kind}|{number}",
                if tenant == A { B } else { A }
            );
            let answer = tenants.system(tenant, &get(identifier)).await;
            assert_eq!((answer.status, answer.body["total"].as_u64()), (200, Some(0)), "{}", answer.text);
        }
    }
    // Told apart by content: B's client and reports are B's.
    let (a, b) = (tenants.client(A, CLIENT).await, tenants.client(B, CLIENT).await);
    let patient_a = tenants.system(A, &get(format!("Patient/{a}"))).await.body;
    let patient_b = tenants.system(B, &get(format!("Patient/{b}"))).await.body;
    assert_eq!(patient_a["name"][0]["given"][0], "Cliënt", "{patient_a}");
    assert_eq!(patient_b["name"][0]["given"][0], MARK, "{patient_b}");
    let answer = tenants.system(B, &get(format!("Communication?subject=Patient/{b}"))).await;
    let reports = answer.body["entry"].as_array().unwrap();
    assert_eq!(reports.len(), 2 + 3, "two reports and three messages: {}", answer.text);
    for entry in reports {
        let text = entry["resource"]["payload"][0]["contentString"].as_str().unwrap_or_default();
        assert!(!text.contains("Boodschappen") || text.starts_with(MARK), "{entry}");
    }
    let answer = tenants.system(A, &get(format!("Communication?subject=Patient/{a}"))).await;
    assert!(!answer.text.contains(MARK), "{}", answer.text);
}

async fn another_tenants_system_token_finds_nothing_of_this_tenant(db: Db) {
    let tenants = Tenants::new(db).await;
    // A's records: the delivered ones, one with two versions created
    // through the API and one deleted.
    let client = tenants.client(A, CLIENT).await;
    let report = tenants.report(A, CLIENT).await;
    let made = tenants.create(A, json!({"resourceType": "Patient", "name": [{"family": "Alleen-in-A"}]})).await;
    let changed = json!({"resourceType": "Patient", "id": made, "name": [{"family": "Alleen-in-A"}], "active": true});
    assert_eq!(tenants.system(A, &call(Method::PUT, format!("Patient/{made}"), Some(changed))).await.status, 200);
    let gone = tenants.create(A, json!({"resourceType": "Patient", "name": [{"family": "Weg-in-A"}]})).await;
    assert_eq!(tenants.system(A, &call(Method::DELETE, format!("Patient/{gone}"), None)).await.status, 204);
    let before = tenants.records(A).await;
    let tenants = &tenants;
    let history = |id: String| async move { tenants.system(A, &get(format!("Patient/{id}/_history"))).await.body };
    let histories = [history(client.clone()).await, history(made.clone()).await, history(gone.clone()).await];
    assert_eq!(histories.iter().map(|h| h["total"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 2], "{histories:?}");
    // Through B's URL, with B's token, A's ids are as unknown as ids
    // that exist nowhere: the same answer to every interaction.
    let nowhere = || ResourceId::generate().to_string();
    let expected: [u16; 23] = [
        404, 404, 404, 404, 404, 404, 200, 200, 200, 200, 200, 404, 404, 404, 404, 200, 200, 405, 404, 404, 422, 200,
        404,
    ];
    for (patient, report) in [(&client, &report), (&made, &report), (&gone, &report)] {
        let mut statuses = vec![];
        let (other_patient, other_report) = (nowhere(), nowhere());
        let of_a = interactions(patient, report);
        let of_nowhere = interactions(&other_patient, &other_report);
        for (a, n) in of_a.iter().zip(&of_nowhere) {
            let answer_a = tenants.system(B, a).await;
            let answer_n = tenants.system(B, n).await;
            let what = format!("{} {}", a.method, a.path);
            names_none_of(&answer_a, &before, &[patient, report], &what);
            assert_eq!(
                gist(&answer_a, &[patient, report]),
                gist(&answer_n, &[&other_patient, &other_report]),
                "{what}: {a:?}"
            );
            statuses.push(answer_a.status);
            if answer_a.status == 200 && answer_a.body["resourceType"] == "Bundle" {
                for entry in answer_a.body["entry"].as_array().into_iter().flatten() {
                    assert!(entry.get("resource").is_none_or(|r| r["resourceType"] == "Bundle"), "{what}: {entry}");
                }
            }
        }
        assert_eq!(
            statuses,
            expected,
            "{:?}",
            of_a.iter().map(|c| format!("{} {}", c.method, c.path)).collect::<Vec<_>>()
        );
    }
    // Searches of B's own records never reach A's, whatever they include.
    for (path, found) in [
        ("Communication?_include=Communication:subject&_include=Communication:sender&_count=1000", true),
        ("Patient?_revinclude=Communication:subject&_revinclude=Observation:subject&_count=1000", true),
        ("Patient?identifier=500001&_revinclude=Consent:actor&_count=1000", true),
        ("Provenance?_include=Provenance:target&_count=1000", true),
        // Type and system history are not served: nothing either.
        ("Patient/_history", false),
        ("_history", false),
    ] {
        let answer = tenants.system(B, &get(path)).await;
        if found {
            assert_eq!(answer.status, 200, "{path}: {}", answer.text);
            assert!(!crate::common::entry_ids(&answer.body).is_empty(), "{path}: B's own records");
        } else {
            assert!((400..500).contains(&answer.status), "{path}: {}", answer.text);
        }
        names_none_of(&answer, &before, &[], path);
    }
    // A page of A's search is not B's, nor is any of A's versions.
    let answer = tenants.system(A, &get("Communication?_count=1")).await;
    let next = crate::common::link(&answer.body, "next").expect("a next link");
    let page = next.split_once("/fhir/").unwrap().1;
    let answer = tenants.system(B, &get(page)).await;
    assert_eq!(answer.status, 410, "{}", answer.text);
    names_none_of(&answer, &before, &[], page);
    // A is exactly as it was.
    assert_eq!(tenants.records(A).await, before);
    let after = [history(client.clone()).await, history(made.clone()).await, history(gone.clone()).await];
    let versions =
        |h: &Value| -> Vec<Value> { h["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect() };
    for (before, after) in histories.iter().zip(&after) {
        assert_eq!(versions(before), versions(after));
        assert_eq!(before["total"], after["total"]);
    }
    assert_eq!(tenants.system(A, &get(format!("Patient/{gone}"))).await.status, 410);
    // The same requests through A's own URL do find A's records.
    for (path, status) in [
        (format!("Patient/{made}/_history/1"), 200),
        (format!("Patient/{gone}/_history/1"), 200),
        (format!("Communication/{report}"), 200),
        (format!("Patient?_id={client}&_revinclude=Communication:subject"), 200),
    ] {
        let answer = tenants.system(A, &get(&path)).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        assert!(answer.text.contains(&client) || answer.text.contains(&made) || answer.text.contains(&gone));
    }
}

async fn records_of_one_tenant_are_not_included_through_references_from_another(db: Db) {
    let tenants = Tenants::new(db).await;
    let client = tenants.client(A, CLIENT).await;
    let report = tenants.report(A, CLIENT).await;
    let before = tenants.records(A).await;
    // B refers to A's records by their ids: it can (references are not
    // checked on create), and finds nothing by them.
    let observation = tenants
        .create(
            B,
            json!({"resourceType": "Observation", "status": "final", "code": {"text": "Gewicht"},
                "subject": {"reference": format!("Patient/{client}")}}),
        )
        .await;
    let communication = tenants
        .create(
            B,
            json!({"resourceType": "Communication", "status": "completed",
                "subject": {"reference": format!("Patient/{client}")},
                "inResponseTo": [{"reference": format!("Communication/{report}")}]}),
        )
        .await;
    for path in [
        format!("Observation?_id={observation}&_include=Observation:subject&_include=Observation:patient"),
        format!("Observation?patient={client}&_include=Observation:subject"),
        format!("Communication?_id={communication}&_include=Communication:subject&_include=Communication:part-of"),
        format!("Communication?subject={client}&_include=Communication:subject"),
    ] {
        let answer = tenants.system(B, &get(&path)).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        let entries = answer.body["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "only B's own record, nothing included: {path}: {}", answer.text);
        assert!(entries.iter().all(|e| e["search"]["mode"] == "match"), "{path}: {}", answer.text);
    }
    // From A, B's records referring to A's are not there either.
    for (path, total) in [
        (format!("Patient?_id={client}&_revinclude=Observation:subject&_revinclude=Communication:subject"), 1),
        (format!("Observation?patient={client}"), 1),
        (format!("Communication?subject={client}"), 2 + 3),
    ] {
        let answer = tenants.system(A, &get(&path)).await;
        assert_eq!((answer.status, answer.body["total"].as_u64()), (200, Some(total)), "{path}: {}", answer.text);
        assert!(!answer.text.contains(&observation) && !answer.text.contains(&communication), "{path}");
        for entry in answer.body["entry"].as_array().unwrap() {
            let key = format!("{}/{}", entry["resource"]["resourceType"].as_str().unwrap(), entry["resource"]["id"]);
            assert!(before.contains_key(&key.replace('"', "")), "{path}: {key}");
        }
    }
    assert_eq!(tenants.records(A).await, before);
}

async fn tokens_of_one_tenant_are_refused_on_another_tenants_url(db: Db) {
    let tenants = Tenants::new(db).await;
    let world = &tenants.world;
    let before = tenants.records(A).await;
    let (client_a, report_a) = (tenants.client(A, CLIENT).await, tenants.report(A, CLIENT).await);
    let (client_b, report_b) = (tenants.client(B, CLIENT).await, tenants.report(B, CLIENT).await);
    let mentor = world.id("RelatedPerson", "vertegenwoordiger", MENTOR).await;
    let representative = world.person_token(
        PersonRef::RelatedPerson(ResourceId::parse(&mentor).unwrap()),
        &client_a,
        "user/*.cruds",
        3600,
    );
    let client =
        world.person_token(PersonRef::Patient(ResourceId::parse(&client_a).unwrap()), &client_a, "patient/*.rs", 3600);
    let tokens = [
        ("A's system token", tenants.a.clone()),
        ("A's read-only system token", world.server.token(A, "system/*.rs").await),
        ("A's representative", representative.await),
        ("A's client", client.await),
    ];
    let mut calls = interactions(&client_a, &report_a);
    calls.extend(interactions(&client_b, &report_b));
    calls.push(get("Patient"));
    calls.push(get("Patient?_revinclude=Communication:subject"));
    for (who, token) in &tokens {
        for call in &calls {
            let answer = send(world, B, token, call).await;
            let what = format!("{who}: {} {}", call.method, call.path);
            if call.path.split('/').count() == 3 && call.path.ends_with("/$validate") {
                // No such operation here: nothing at that path, whoever asks.
                assert_eq!(answer.status, 404, "{what}: {}", answer.text);
                continue;
            }
            assert_eq!(answer.status, 401, "{what}: {}", answer.text);
            let challenge = answer.challenge.unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"));
            assert!(challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#), "{what}");
            assert!(!answer.text.contains(&client_a) && !answer.text.contains(&client_b), "{what}: {}", answer.text);
        }
        // Nor may it deliver into B.
        let response = world
            .server
            .client
            .post(format!("{}/{B}/ingest/pluriform", world.server.origin))
            .bearer_auth(token)
            .body(delivery_for_b().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{who}: ingest");
    }
    let ingest = world.server.token(A, "ingest/pluriform").await;
    let response = world
        .server
        .client
        .post(format!("{}/{B}/ingest/pluriform", world.server.origin))
        .bearer_auth(ingest)
        .body(delivery_for_b().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "A's ingest token on B");
    // The other way round as well.
    for call in interactions(&client_a, &report_a).iter().take(2) {
        assert_eq!(send(world, A, &tenants.b, call).await.status, 401, "{call:?}");
    }
    // Each token works on its own tenant's URL, and nothing changed.
    for (who, token) in &tokens {
        let answer = send(world, A, token, &get(format!("Patient/{client_a}"))).await;
        assert_eq!(answer.status, 200, "{who}: {}", answer.text);
    }
    assert_eq!(tenants.records(A).await, before);
}

async fn a_person_of_one_tenant_sees_only_that_tenants_records(db: Db) {
    let tenants = Tenants::new(db).await;
    let world = &tenants.world;
    let in_a = tenants.records(A).await;
    let in_b = tenants.records(B).await;
    let (client_a, client_b) = (tenants.client(A, CLIENT).await, tenants.client(B, CLIENT).await);
    let other_b = tenants.client(B, OTHER_CLIENT).await;
    // The same mentor (the same relatienummer) in both tenants.
    let mentor = |tenant| tenants.id(tenant, "RelatedPerson", "vertegenwoordiger", MENTOR);
    let user = |id: &str| PersonRef::RelatedPerson(ResourceId::parse(id).unwrap());
    let (mentor_a, mentor_b) = (mentor(A).await, mentor(B).await);
    for (scope, observations) in [("patient/*.rs", 1), ("user/*.rs", 2)] {
        let token_a = world.person_token_in(A, user(&mentor_a), &client_a, scope, 3600).await;
        let token_b = world.person_token_in(B, user(&mentor_b), &client_b, scope, 3600).await;
        for path in [
            "Observation?_include=Observation:subject",
            "Invoice",
            "Patient?_revinclude=Observation:subject&_revinclude=Communication:subject",
            "Communication?_include=Communication:subject&_include=Communication:sender",
            "RelatedPerson",
            "Practitioner",
        ] {
            // As much as the same person sees in A, all of it B's.
            let of_a = send(world, A, &token_a, &get(path)).await;
            let answer = send(world, B, &token_b, &get(path)).await;
            assert_eq!(answer.status, 200, "{path}: {}", answer.text);
            assert_eq!(answer.body["total"], of_a.body["total"], "{scope} {path}: {}", answer.text);
            let entries = answer.body["entry"].as_array().unwrap();
            assert_eq!(entries.len(), of_a.body["entry"].as_array().unwrap().len(), "{scope} {path}");
            for entry in entries {
                let resource = &entry["resource"];
                let key =
                    format!("{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
                assert!(in_b.contains_key(&key) && !in_a.contains_key(&key), "{scope} {path}: {key}");
            }
            names_none_of(&answer, &in_a, &[], path);
        }
        let answer = send(world, B, &token_b, &get("Observation")).await;
        assert_eq!(answer.body["total"].as_u64(), Some(observations), "{scope}: {}", answer.text);
        // B's client, as B has it; A's is unknown here.
        let answer = send(world, B, &token_b, &get(format!("Patient/{client_b}"))).await;
        assert_eq!((answer.status, &answer.body["name"][0]["given"][0]), (200, &json!(MARK)), "{}", answer.text);
        for path in [
            format!("Patient/{client_a}"),
            format!("Patient/{client_a}/_history/1"),
            format!("Patient/{client_a}/_history"),
            format!("RelatedPerson/{mentor_a}"),
        ] {
            assert_eq!(send(world, B, &token_b, &get(&path)).await.status, 404, "{scope} {path}");
        }
        for path in [format!("Observation?patient={client_a}"), format!("Communication?subject=Patient/{client_a}")] {
            // A search naming a client is judged by that client's grant: A's
            // client has none in B, as any unknown id (403, existence unsaid).
            let answer = send(world, B, &token_b, &get(&path)).await;
            assert_eq!(answer.status, 403, "{}", answer.text);
        }
        // And each is refused on the other's URL, for the same vendor numbers.
        for (tenant, token) in [(A, &token_b), (B, &token_a)] {
            for client in [&client_a, &client_b] {
                assert_eq!(send(world, tenant, token, &get(format!("Patient/{client}"))).await.status, 401);
            }
        }
    }
    let token_b = world.person_token_in(B, user(&mentor_b), &client_b, "user/*.rs", 3600).await;
    let answer = send(world, B, &token_b, &get(format!("Patient/{other_b}"))).await;
    assert_eq!(answer.status, 200, "the mentor's other client in B: {}", answer.text);
}

async fn expired_tokens_are_refused(db: Db) {
    let tenants = Tenants::new(db).await;
    let world = &tenants.world;
    let client = tenants.client(B, CLIENT).await;
    let (record, system) =
        zorgpoort::cli::token::new_system_token(TenantCode::parse(B).unwrap(), "kort", "system/*.rs", 1);
    world.server.store.insert_token(&record).await.unwrap();
    let person = PersonRef::Patient(ResourceId::parse(&client).unwrap());
    let person = world.person_token_in(B, person, &client, "patient/*.rs", 1).await;
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{client}")}}]});
    let calls = [
        get(format!("Patient/{client}")),
        get("Observation"),
        call(Method::POST, "", Some(bundle)),
        call(Method::POST, "Patient/$validate", Some(json!({"resourceType": "Patient"}))),
    ];
    for token in [&system, &person] {
        assert_eq!(send(world, B, token, &calls[0]).await.status, 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for (who, token) in [("system", &system), ("person", &person)] {
        for call in &calls {
            let answer = send(world, B, token, call).await;
            let what = format!("{who}: {} {}", call.method, call.path);
            assert_eq!(answer.status, 401, "{what}: {}", answer.text);
            let challenge = answer.challenge.unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"));
            assert!(challenge.contains(r#"error="invalid_token""#), "{what}: {challenge}");
        }
    }
    // A token of the same tenant issued for longer still works.
    assert_eq!(send(world, B, &tenants.b, &calls[0]).await.status, 200);
}

async fn a_token_expires_at_its_expiry_to_the_millisecond(db: Db) {
    use chrono::{TimeZone, Utc};
    let clock = zorgpoort::http::Clock::fixed(Utc::now());
    let tenants = Tenants::on(World::with_clock(db, clock.clone()).await).await;
    let world = &tenants.world;
    let client = tenants.client(B, CLIENT).await;
    let (system, token) =
        zorgpoort::cli::token::new_system_token(TenantCode::parse(B).unwrap(), "kort", "system/*.rs", 60);
    world.server.store.insert_token(&system).await.unwrap();
    let (mut person, person_token) = zorgpoort::cli::token::new_person_token(
        TenantCode::parse(B).unwrap(),
        &PersonRef::Patient(ResourceId::parse(&client).unwrap()),
        &ResourceId::parse(&client).unwrap(),
        "patient/*.rs",
        None,
        60,
    );
    person.expires_at = system.expires_at;
    world.server.store.insert_token(&person).await.unwrap();
    let read = get(format!("Patient/{client}"));
    let last = Utc.timestamp_millis_opt(system.expires_at - 1).unwrap();
    clock.set(last);
    for token in [&token, &person_token] {
        assert_eq!(send(world, B, token, &read).await.status, 200);
    }
    clock.set(last + chrono::Duration::milliseconds(1));
    for token in [&token, &person_token] {
        let answer = send(world, B, token, &read).await;
        assert_eq!(answer.status, 401, "{}", answer.text);
        assert!(answer.challenge.is_some_and(|c| c.contains("invalid_token")));
    }
}

async fn a_token_shown_to_another_tenant_stays_revoked_at_home(db: Db) {
    let tenants = Tenants::new(db).await;
    let world = &tenants.world;
    let store = &world.server.store;
    let hash = zorgpoort::auth::token::hash;
    let read = get("Patient");
    // A revocation in B: B's access epoch moves on.
    let revoked_in_b = world.server.token(B, "system/*.rs").await;
    store.revoke_token(&hash(&revoked_in_b)).await.unwrap();
    assert_eq!(send(world, B, &revoked_in_b, &read).await.status, 401);
    let mentor = world.id("RelatedPerson", "vertegenwoordiger", MENTOR).await;
    let client = tenants.client(A, CLIENT).await;
    let person = world.person_token(
        PersonRef::RelatedPerson(ResourceId::parse(&mentor).unwrap()),
        &client,
        "patient/*.rs",
        3600,
    );
    for token in [world.server.token(A, "system/*.rs").await, person.await] {
        assert_eq!(send(world, A, &token, &read).await.status, 200);
        // Shown to B, refused there; then revoked in A (A's epoch moves
        // on as well, to the number B's has).
        assert_eq!(send(world, B, &token, &read).await.status, 401);
        store.revoke_token(&hash(&token)).await.unwrap();
        let answer = send(world, A, &token, &read).await;
        assert_eq!(answer.status, 401, "a revoked token: {}", answer.text);
        // Revoke once more in B for the next token.
        let another = world.server.token(B, "system/*.rs").await;
        store.revoke_token(&hash(&another)).await.unwrap();
    }
}
