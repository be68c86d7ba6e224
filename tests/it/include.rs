//! `_include` and `_revinclude` over HTTP: what each adds to a page, with
//! `:iterate`, without repeats, across pages, and only what the token may
//! read.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{self, Db, TestServer};

/// A small care record: two clients, their observations, a practitioner
/// as general practitioner and performer, and a Provenance.
struct Record {
    server: TestServer,
    token: String,
    /// `(name, "Type/id")` of everything created.
    names: Vec<(&'static str, String)>,
}

impl Record {
    async fn create(db: Db, adjust: impl FnOnce(&mut zorgpoort::config::Config)) -> Record {
        let server = TestServer::start_with(db, adjust).await;
        let token = server.token(common::TENANT, "system/*.cruds").await;
        let mut record = Record { server, token, names: Vec::new() };
        record.add("dr", json!({"resourceType": "Practitioner", "name": [{"family": "Visser"}]})).await;
        let gp = json!([{"reference": record.reference("dr")}]);
        record
            .add("anna", json!({"resourceType": "Patient", "name": [{"family": "Jansen"}], "generalPractitioner": gp}))
            .await;
        record.add("bert", json!({"resourceType": "Patient", "name": [{"family": "de Vries"}]})).await;
        for (name, client, performer) in [("a1", "anna", true), ("a2", "anna", false), ("b1", "bert", true)] {
            let mut observation = json!({
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": {"reference": record.reference(client)},
                "effectiveDateTime": "2025-03-01T10:00:00+01:00",
                "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
            });
            if performer {
                observation["performer"] = json!([{"reference": record.reference("dr")}]);
            }
            record.add(name, observation).await;
        }
        let provenance = json!({
            "resourceType": "Provenance",
            "target": [{"reference": record.reference("a1")}],
            "recorded": "2025-03-01T10:05:00+01:00",
            "agent": [{"who": {"reference": record.reference("dr")}}]
        });
        record.add("prov", provenance).await;
        record
    }

    async fn add(&mut self, name: &'static str, resource: Value) {
        let stored = common::create(&self.server, &self.token, resource).await;
        let reference = format!("{}/{}", stored["resourceType"].as_str().unwrap(), stored["id"].as_str().unwrap());
        self.names.push((name, reference));
    }

    fn reference(&self, name: &str) -> String {
        self.names.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no {name}")).1.clone()
    }

    fn name_of(&self, reference: &str) -> String {
        self.names.iter().find(|(_, r)| r == reference).map_or(format!("?{reference}"), |(n, _)| n.to_string())
    }

    fn id(&self, name: &str) -> String {
        self.reference(name).split_once('/').unwrap().1.to_owned()
    }

    /// A search with `{name}` replaced by ids, answered 200.
    async fn search(&self, token: &str, path_and_query: &str) -> Value {
        let mut query = path_and_query.to_owned();
        for (name, reference) in &self.names {
            query = query.replace(&format!("{{{name}}}"), reference.split_once('/').unwrap().1);
        }
        let (status, bundle) = common::get(&self.server, token, &query).await;
        assert_eq!(status, 200, "{query}: {bundle}");
        bundle
    }

    /// "matches | included" by name, each part sorted.
    fn entries(&self, bundle: &Value) -> String {
        let mut parts = [Vec::new(), Vec::new()];
        for entry in bundle["entry"].as_array().into_iter().flatten() {
            let resource = &entry["resource"];
            let reference =
                format!("{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
            let part = match entry["search"]["mode"].as_str() {
                Some("match") => 0,
                Some("include") => 1,
                other => panic!("search mode {other:?} in {entry}"),
            };
            parts[part].push(self.name_of(&reference));
        }
        for part in &mut parts {
            part.sort();
        }
        format!("{} | {}", parts[0].join(" "), parts[1].join(" "))
    }
}

async fn includes_follow_references_of_the_matches(db: Db) {
    let r = Record::create(db, |_| {}).await;
    let cases = [
        ("Observation?_id={a1}", "a1 | "),
        ("Observation?_id={a1}&_include=Observation:patient", "a1 | anna"),
        ("Observation?_id={a1},{a2},{b1}&_include=Observation:patient", "a1 a2 b1 | anna bert"),
        ("Observation?_id={a1}&_include=Observation:performer", "a1 | dr"),
        ("Observation?_id={a1}&_include=Observation:subject:Patient", "a1 | anna"),
        ("Observation?_id={a1}&_include=Observation:subject:Group", "a1 | "),
        ("Observation?_id={a1}&_include=Observation:*", "a1 | anna dr"),
        // The performer is included once although two matches name it.
        ("Observation?_id={a1},{b1}&_include=Observation:performer", "a1 b1 | dr"),
        // A reference between two matches adds nothing.
        ("Patient?_id={anna}&_include=Patient:general-practitioner", "anna | dr"),
        // Not iterated: a Patient inclusion does not start from the Observations.
        ("Observation?_id={a1}&_include=Observation:patient&_include=Patient:general-practitioner", "a1 | anna"),
        (
            "Observation?_id={a2}&_include=Observation:patient&_include:iterate=Patient:general-practitioner",
            "a2 | anna dr",
        ),
        ("Patient?_id={anna}&_revinclude=Observation:patient", "anna | a1 a2"),
        ("Patient?_revinclude=Observation:patient", "anna bert | a1 a2 b1"),
        ("Observation?_id={a1},{a2}&_revinclude=Provenance:target", "a1 a2 | prov"),
        ("Observation?_id={a1}&_revinclude=Provenance:target:Patient", "a1 | "),
        (
            "Patient?_id={anna}&_revinclude=Observation:patient&_revinclude:iterate=Provenance:target",
            "anna | a1 a2 prov",
        ),
        ("Practitioner?_revinclude=Observation:performer&_include:iterate=Observation:patient", "dr | a1 anna b1 bert"),
        // Unknown inclusions are ignored (lenient) and left out of the self link.
        ("Observation?_id={a1}&_include=Observation:nonsense", "a1 | "),
    ];
    let mut failures = Vec::new();
    for (query, expected) in cases {
        let bundle = r.search(&r.token, query).await;
        let found = r.entries(&bundle);
        if found != expected {
            failures.push(format!("{query}: expected [{expected}], found [{found}]"));
        }
        let matches = expected.split(" | ").next().unwrap().split_whitespace().count();
        assert_eq!(bundle["total"], matches, "total counts the matches only: {query}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    let bundle = r.search(&r.token, "Observation?_id={a1}&_include=Observation:patient&_include=Observation:x").await;
    let self_link = bundle["link"][0]["url"].as_str().unwrap();
    assert!(self_link.contains("_include=Observation%3Apatient"), "{self_link}");
    assert!(!self_link.contains("Observation%3Ax"), "{self_link}");
}

async fn includes_leave_out_deleted_and_unreadable_resources(db: Db) {
    let r = Record::create(db, |_| {}).await;
    let observations_only = r.server.token(common::TENANT, "system/Observation.rs").await;
    let bundle = r.search(&observations_only, "Observation?_id={a1}&_include=Observation:patient").await;
    assert_eq!(r.entries(&bundle), "a1 | ", "a Patient is not included for a token that cannot read Patients");
    let bundle = r.search(&observations_only, "Observation?_id={a1}&_revinclude=Provenance:target").await;
    assert_eq!(r.entries(&bundle), "a1 | ", "nor a Provenance");
    let bundle =
        r.search(&r.token, "Observation?_id={a1}&_include=Observation:patient&_revinclude=Provenance:target").await;
    assert_eq!(r.entries(&bundle), "a1 | anna prov", "while a token that may read them gets both");

    let deleted = r.server.request(Method::DELETE, &r.reference("anna"), &r.token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let bundle = r.search(&r.token, "Observation?_id={a1},{b1}&_include=Observation:patient").await;
    assert_eq!(r.entries(&bundle), "a1 b1 | bert", "a deleted Patient is not included");
    let bundle = r.search(&r.token, "Observation?_id={a1}&_revinclude:iterate=Provenance:target").await;
    assert_eq!(r.entries(&bundle), "a1 | prov");
    let deleted = r.server.request(Method::DELETE, &r.reference("prov"), &r.token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let bundle = r.search(&r.token, "Observation?_id={a1}&_revinclude=Provenance:target").await;
    assert_eq!(r.entries(&bundle), "a1 | ", "a deleted Provenance is not included");
}

async fn every_page_includes_what_its_own_matches_need(db: Db) {
    let r = Record::create(db, |_| {}).await;
    let mut query = format!(
        "Observation?_sort=_id&_count=1&_include=Observation:patient&_id={},{},{}",
        r.id("a1"),
        r.id("a2"),
        r.id("b1")
    );
    let mut pages = Vec::new();
    loop {
        let bundle = r.search(&r.token, &query).await;
        assert_eq!(bundle["total"], 3);
        pages.push(r.entries(&bundle));
        let Some(url) = common::link(&bundle, "next") else { break };
        assert!(url.contains("_include=Observation%3Apatient"), "the next link keeps the inclusion: {url}");
        query = url.strip_prefix(&format!("{}/", r.server.base(common::TENANT))).unwrap().to_owned();
    }
    let mut expected: Vec<(String, String)> =
        [("a1", "anna"), ("a2", "anna"), ("b1", "bert")].iter().map(|(o, p)| (r.id(o), format!("{o} | {p}"))).collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, page)| page).collect();
    assert_eq!(pages, expected);
}

async fn inclusions_stop_at_the_page_size_limit_with_a_warning(db: Db) {
    let r = Record::create(db, |config| config.limits.max_page_size = 2).await;
    let bundle =
        r.search(&r.token, "Practitioner?_revinclude=Observation:performer&_revinclude=Provenance:agent").await;
    let entries = bundle["entry"].as_array().unwrap();
    let included = entries.iter().filter(|e| e["search"]["mode"] == "include").count();
    assert_eq!(included, 2, "{bundle}");
    let outcome = entries.iter().find(|e| e["search"]["mode"] == "outcome").expect("a warning entry");
    assert_eq!(outcome["resource"]["issue"][0]["severity"], "warning");
    assert_eq!(outcome["resource"]["issue"][0]["code"], "too-costly");
    let bundle = r.search(&r.token, "Practitioner?_revinclude=Observation:performer").await;
    assert_eq!(r.entries(&bundle), "dr | a1 b1", "two fit without a warning: {bundle}");
}

crate::on_both_databases!(
    includes_follow_references_of_the_matches,
    includes_leave_out_deleted_and_unreadable_resources,
    every_page_includes_what_its_own_matches_need,
    inclusions_stop_at_the_page_size_limit_with_a_warning,
);
