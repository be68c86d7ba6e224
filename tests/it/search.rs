//! Search over HTTP: every supported parameter and date prefix, each with
//! searches that must match and searches that must not; sorting, page size,
//! `_summary=count`, unknown parameters, POST `_search` and malformed values.
//!
//! Resources get short names when created; a search is checked by the names
//! it finds (`"a b"`), with `{name}` in a query standing for that resource's
//! id and `{base}` for the FHIR base URL. Query values are percent-encoded
//! before they are sent, so tables can write `|`, `:` and `+02:00` as is.

use std::time::Duration;

use chrono::{FixedOffset, Utc};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::common::{self, Db, TestServer};

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";

/// A test server, a token, and the resources created so far by name.
struct Fixture {
    server: TestServer,
    token: String,
    names: Vec<(&'static str, String)>,
}

impl Fixture {
    async fn start(db: Db) -> Fixture {
        let server = TestServer::start(db).await;
        let token = server.token(common::TENANT, "system/*.cruds").await;
        Fixture { server, token, names: Vec::new() }
    }

    /// Creates a resource known as `name` from now on; returns it as stored.
    async fn create(&mut self, name: &'static str, resource: Value) -> Value {
        let stored = common::create(&self.server, &self.token, resource).await;
        self.names.push((name, stored["id"].as_str().unwrap().to_owned()));
        stored
    }

    fn id(&self, name: &str) -> &str {
        &self.names.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no resource named {name}")).1
    }

    /// `Type?a=1&b=2` with `{name}` and `{base}` filled in, as a GET request.
    fn get(&self, query: &str) -> RequestBuilder {
        let mut query = query.replace("{base}", &self.server.base(common::TENANT));
        for (name, id) in &self.names {
            query = query.replace(&format!("{{{name}}}"), id);
        }
        let (path, params) = query.split_once('?').unwrap_or((&query, ""));
        let pairs: Vec<(&str, &str)> =
            params.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
        self.server.request(Method::GET, path, &self.token).query(&pairs)
    }

    /// `POST [base]/{resource_type}/_search` with `form` as the body.
    fn post_search(&self, resource_type: &str, form: &[(&str, &str)]) -> RequestBuilder {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.server
            .request(Method::POST, &format!("{resource_type}/_search"), &self.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    /// The searchset a request answers with; asserts 200.
    async fn searchset(&self, what: &str, request: RequestBuilder) -> Value {
        let (status, bundle) = common::json(request.send().await.unwrap()).await;
        assert_eq!(status, 200, "{what}: {bundle}");
        assert_eq!(bundle["type"], "searchset", "{what}: {bundle}");
        bundle
    }

    /// The names of the entries of one page, in order (unknown ids as `?id`).
    fn page_names(&self, bundle: &Value) -> Vec<String> {
        let name =
            |id: String| self.names.iter().find(|(_, i)| *i == id).map_or(format!("?{id}"), |(n, _)| n.to_string());
        common::entry_ids(bundle).into_iter().map(name).collect()
    }

    /// The names of the entries, in order; asserts that `total` counts exactly them.
    fn all_names(&self, what: &str, bundle: &Value) -> Vec<String> {
        let names = self.page_names(bundle);
        assert_eq!(bundle["total"], names.len(), "total of {what}: {bundle}");
        names
    }

    /// What a GET search finds, in the order found.
    async fn found_in_order(&self, query: &str) -> String {
        let bundle = self.searchset(query, self.get(query)).await;
        self.all_names(query, &bundle).join(" ")
    }

    /// What a GET search finds, sorted by name.
    async fn found(&self, query: &str) -> String {
        sorted(&self.found_in_order(query).await)
    }

    /// Checks that each `path?query` finds exactly the named resources
    /// (in any order); reports every mismatch at once.
    async fn check(&self, path: &str, cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (query, expected) in cases {
            let query = format!("{path}?{query}");
            let found = self.found(&query).await;
            if found != sorted(expected) {
                failures.push(format!("{query}: expected [{expected}], found [{found}]"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }
}

/// Asserts a 400 with an OperationOutcome (a wrong answer's self link names the query).
async fn refused(request: RequestBuilder) {
    common::expect_outcome(request.send().await.unwrap(), 400).await;
}

fn sorted(names: &str) -> String {
    let mut names: Vec<&str> = names.split_whitespace().collect();
    names.sort_unstable();
    names.join(" ")
}

fn self_link(bundle: &Value) -> &str {
    let links = bundle["link"].as_array().expect("links");
    links.iter().find(|l| l["relation"] == "self").and_then(|l| l["url"].as_str()).expect("a self link")
}

/// An Observation with `fields` added to the required ones.
fn observation(fields: Value) -> Value {
    let mut resource = json!({"resourceType": "Observation", "status": "final", "code": {"text": "meting"}});
    resource.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    resource
}

fn patient(family: &str, given: &[&str]) -> Value {
    let mut name = json!({"family": family});
    if !given.is_empty() {
        name["given"] = json!(given);
    }
    json!({"resourceType": "Patient", "name": [name]})
}

fn with_bsn(mut patient: Value, bsn: &str) -> Value {
    patient["identifier"] = json!([{"system": BSN_SYSTEM, "value": bsn}]);
    patient
}

fn subject(patient_name: &str, fx: &Fixture) -> Value {
    json!({"reference": format!("Patient/{}", fx.id(patient_name))})
}

/// Long enough for the next write to get a later `lastUpdated`.
const PAUSE: Duration = Duration::from_millis(20);

async fn ids_and_last_updated(db: Db) {
    let mut fx = Fixture::start(db).await;
    let first = fx.create("a", patient("Eerst", &[])).await;
    tokio::time::sleep(PAUSE).await;
    let between = Utc::now().with_timezone(&FixedOffset::east_opt(2 * 3600).unwrap());
    let between = between.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
    tokio::time::sleep(PAUSE).await;
    fx.create("b", patient("Daarna", &[])).await;
    fx.create("c", patient("Laatst", &[])).await;
    let a_updated = first["meta"]["lastUpdated"].as_str().unwrap();
    fx.check(
        "Patient",
        &[
            ("_id={a}", "a"),
            ("_id={a},{c}", "a c"),
            ("_id=unknown-id", ""),
            ("_id={a}&_id={b}", ""),
            (&format!("_lastUpdated=gt{between}"), "b c"),
            (&format!("_lastUpdated=ge{between}"), "b c"),
            (&format!("_lastUpdated=lt{between}"), "a"),
            (&format!("_lastUpdated=le{between}"), "a"),
            (&format!("_lastUpdated=eq{a_updated}"), "a"),
            (&format!("_lastUpdated=gt{between}&_id={{a}}"), ""),
            ("_lastUpdated=lt2020-01-01", ""),
        ],
    )
    .await;
}

async fn identifiers(db: Db) {
    let mut fx = Fixture::start(db).await;
    for (name, identifier) in [
        ("sys100", json!({"system": "urn:oid:1.2.3", "value": "c-100"})),
        ("bare100", json!({"value": "c-100"})),
        ("sys200", json!({"system": "urn:oid:1.2.3", "value": "c-200"})),
        ("other100", json!({"system": "urn:oid:9.9", "value": "c-100"})),
    ] {
        fx.create(name, json!({"resourceType": "Patient", "identifier": [identifier]})).await;
    }
    fx.check(
        "Patient",
        &[
            ("identifier=urn:oid:1.2.3|c-100", "sys100"),
            ("identifier=urn:oid:1.2.3|c-300", ""),
            ("identifier=c-100", "sys100 bare100 other100"),
            ("identifier=c-1", ""),
            ("identifier=|c-100", "bare100"),
            ("identifier=|c-200", ""),
            ("identifier=urn:oid:1.2.3|", "sys100 sys200"),
            ("identifier=urn:oid:7.7|", ""),
            ("identifier=urn:oid:9.9|c-100,|c-100", "bare100 other100"),
        ],
    )
    .await;
}

async fn references(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("p", patient("Pietersen", &[])).await;
    fx.create("q", patient("Quint", &[])).await;
    fx.create("of_p", observation(json!({"subject": subject("p", &fx)}))).await;
    fx.create("of_q", observation(json!({"subject": subject("q", &fx)}))).await;
    // A Group that happens to have the same id as Patient p.
    let group = json!({"reference": format!("Group/{}", fx.id("p"))});
    fx.create("of_group", observation(json!({"subject": group}))).await;
    fx.check(
        "Observation",
        &[
            ("patient={p}", "of_p"),
            ("patient=Patient/{p}", "of_p"),
            ("patient={base}/Patient/{p}", "of_p"),
            ("patient=Patient/{q}", "of_q"),
            ("patient={p},Patient/{q}", "of_p of_q"),
            ("patient=Patient/unknown-id", ""),
            ("patient={p}&patient={q}", ""),
            ("subject=Patient/{p}", "of_p"),
            ("subject=Group/{p}", "of_group"),
            ("subject={p}", "of_p of_group"),
            ("subject:Patient={p}", "of_p"),
            ("subject:Group={p}", "of_group"),
        ],
    )
    .await;
}

async fn tokens(db: Db) {
    let mut fx = Fixture::start(db).await;
    let category = |codes: &[&str]| -> Value {
        codes.iter().map(|c| json!({"coding": [{"system": OBS_CATEGORY, "code": c}]})).collect()
    };
    let weight = json!({"coding": [{"system": LOINC, "code": "29463-7"}]});
    let height = json!({"coding": [{"system": LOINC, "code": "8302-2"}, {"system": SNOMED, "code": "50373000"}]});
    let local_weight = json!({"coding": [{"code": "29463-7"}]});
    fx.create("weight", observation(json!({"code": weight, "category": category(&["vital-signs"])}))).await;
    let fields = json!({"status": "preliminary", "code": height, "category": category(&["vital-signs", "laboratory"])});
    fx.create("height", observation(fields)).await;
    let fields = json!({"status": "amended", "code": local_weight, "category": category(&["laboratory"])});
    fx.create("local", observation(fields)).await;
    fx.check(
        "Observation",
        &[
            ("code=29463-7", "weight local"),
            ("code=http://loinc.org|29463-7", "weight"),
            ("code=http://snomed.info/sct|29463-7", ""),
            ("code=|29463-7", "local"),
            ("code=|8302-2", ""),
            ("code=http://loinc.org|", "weight height"),
            ("code=29463-7,8302-2", "weight height local"),
            ("code=http://loinc.org|8302-2&code=http://snomed.info/sct|50373000", "height"),
            ("code=29463-7&code=8302-2", ""),
            ("category=vital-signs", "weight height"),
            ("category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", "height local"),
            ("category=http://example.org/other|laboratory", ""),
            ("category=vital-signs&category=laboratory", "height"),
            ("category=vital-signs,laboratory", "weight height local"),
            ("status=final", "weight"),
            ("status=final,amended", "weight local"),
            ("status=final&status=amended", ""),
            ("status=cancelled", ""),
            ("status=preliminary&code=http://loinc.org|8302-2", "height"),
            ("status=final&code=8302-2", ""),
        ],
    )
    .await;
}

async fn observation_dates(db: Db) {
    let mut fx = Fixture::start(db).await;
    // a: a whole day, 2024-05-02T22:00Z to 2024-05-03T22:00Z.
    // b: one second inside that day. c: one second in January, given in -05:00.
    // d: a whole day in 2025. e: late on 2 May in UTC, early on 3 May in Amsterdam.
    for (name, effective) in [
        ("a", "2024-05-03"),
        ("b", "2024-05-03T18:30:00+02:00"),
        ("c", "2024-01-10T08:00:00-05:00"),
        ("d", "2025-02-01"),
        ("e", "2024-05-02T23:30:00Z"),
    ] {
        fx.create(name, observation(json!({"effectiveDateTime": effective}))).await;
    }
    fx.check(
        "Observation",
        &[
            ("date=2024-05-03", "a b e"),
            ("date=eq2024-05-03", "a b e"),
            ("date=eq2024-05-02", ""),
            ("date=eq2024", "a b c e"),
            ("date=eq2024-05-03T18:30:00+02:00", "b"),
            ("date=eq2024-05-03T16:30:00Z", "b"),
            ("date=eq2024-05-03T18:30:00", "b"),
            ("date=eq2024-05-03T16:30:00", ""),
            ("date=eq2024-01-10T14:00:00+01:00", "c"),
            ("date=eq2024-01-10T14:00:00", "c"),
            ("date=ne2024-05-03", "c d"),
            ("date=ne2024-05-03T18:30:00+02:00", "a c d e"),
            ("date=gt2024-05-03", "d"),
            ("date=gt2024-05-03T18:30:00+02:00", "a d"),
            ("date=gt2025-02-01", ""),
            ("date=lt2024-05-03", "c"),
            ("date=lt2024-05-03T18:30:00+02:00", "a c e"),
            ("date=lt2024-01-10T13:00:00Z", ""),
            ("date=ge2024-05-03", "a b d e"),
            ("date=ge2024-05-03T18:30:00+02:00", "a b d"),
            ("date=ge2025-02-02", ""),
            ("date=le2024-05-03", "a b c e"),
            ("date=le2024-05-03T18:30:00+02:00", "a b c e"),
            ("date=le2024-01-09", ""),
            ("date=sa2024-05-03", "d"),
            ("date=sa2024-05-03T18:30:00+02:00", "d"),
            ("date=sa2025", ""),
            ("date=eb2024-05-03", "c"),
            ("date=eb2024-05-03T18:30:00+02:00", "c e"),
            ("date=eb2024-01-10", ""),
            ("date=ap2024-05", "a b e"),
            ("date=ap2024-05-03T18:30:00+02:00", "a b"),
            ("date=ap2024-01-10", "c"),
            ("date=ap2024-06", ""),
            ("date=ge2024-05-01&date=lt2024-06-01", "a b e"),
            ("date=lt2024-02-01,gt2025-01-01", "c d"),
        ],
    )
    .await;
}

async fn period_dates(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("x", patient("Periode", &[])).await;
    let plan = |period: Value, fx: &Fixture| {
        json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "subject": subject("x", fx), "period": period})
    };
    fx.create("open", plan(json!({"start": "2024-01-01"}), &fx)).await;
    fx.create("closed", plan(json!({"start": "2024-01-01", "end": "2024-06-30"}), &fx)).await;
    fx.check(
        "CarePlan",
        &[
            ("date=gt2030-01-01", "open"),
            ("date=ap2030", "open"),
            ("date=ge2024-07-01", "open"),
            ("date=eq2024", "closed"),
            ("date=ne2024", "open"),
            ("date=eb2024-07-01", "closed"),
            ("date=sa2023-12-31", "open closed"),
            ("date=ap2024-03", "open closed"),
            ("date=lt2024-01-01", ""),
            ("date=le2024-01-01", ""),
            ("date=sa2024-01-01", ""),
            ("date=eb2024-06-30", ""),
            ("patient={x}&date=gt2030-01-01", "open"),
        ],
    )
    .await;
}

async fn communication_and_appointment_dates(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("x", patient("Xander", &[])).await;
    fx.create("y", patient("Ypma", &[])).await;
    for (name, who, sent) in [
        ("c1", "x", "2024-03-01T10:00:00+01:00"),
        ("c2", "x", "2023-12-31T22:30:00Z"), // 23:30 on 31 December in Amsterdam
        ("c3", "x", "2023-12-31T23:30:00Z"), // 00:30 on 1 January in Amsterdam
        ("c4", "y", "2024-03-01T10:00:00+01:00"),
    ] {
        let message = json!({"resourceType": "Communication", "status": "completed",
            "subject": subject(who, &fx), "sent": sent});
        fx.create(name, message).await;
    }
    fx.check(
        "Communication",
        &[
            ("patient={x}&date=ge2024-01-01", "c1 c3"),
            ("patient={x}&date=lt2024-01-01", "c2"),
            ("patient={y}&date=ge2024-01-01", "c4"),
            ("patient={y}&date=lt2024-01-01", ""),
            ("patient={x}&sent=ge2024-01-01", "c1 c3"),
        ],
    )
    .await;

    for (name, who, status, start, end) in [
        ("a1", "x", "booked", "2024-06-10T09:00:00+02:00", "2024-06-10T09:30:00+02:00"),
        ("a2", "x", "booked", "2024-07-01T09:00:00+02:00", "2024-07-01T09:30:00+02:00"),
        ("a3", "y", "booked", "2024-06-10T09:00:00+02:00", "2024-06-10T09:30:00+02:00"),
        ("a4", "x", "fulfilled", "2024-05-31T23:30:00Z", "2024-06-01T00:00:00Z"),
        ("a5", "x", "cancelled", "2024-06-30T23:30:00+02:00", "2024-07-01T00:00:00+02:00"),
        ("a6", "x", "booked", "2024-05-31T21:30:00Z", "2024-05-31T21:45:00Z"),
    ] {
        let participant = json!([{"actor": subject(who, &fx), "status": "accepted"}]);
        let appointment = json!({"resourceType": "Appointment", "status": status,
            "start": start, "end": end, "participant": participant});
        fx.create(name, appointment).await;
    }
    fx.check(
        "Appointment",
        &[
            ("patient={x}&date=ge2024-06-01&date=le2024-06-30", "a1 a4 a5"),
            ("patient={y}&date=ge2024-06-01&date=le2024-06-30", "a3"),
            ("patient={x}&date=ge2024-06-01&date=le2024-06-30&status=booked", "a1"),
            ("patient={x}&date=lt2024-06-01", "a6"),
            ("patient={y}&date=ge2024-06-11", ""),
            ("status=booked", "a1 a2 a3 a6"),
            ("status=booked,fulfilled", "a1 a2 a3 a4 a6"),
            ("status=booked&status=fulfilled", ""),
            ("status=noshow", ""),
            ("actor=Patient/{x}&status=cancelled", "a5"),
        ],
    )
    .await;
}

async fn strings(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("bakker", patient("Bäkker", &["Anna", "Maria"])).await;
    fx.create("bakkum", patient("Bakkum", &["Jan"])).await;
    fx.create("vries", patient("de Vries", &["Ånne"])).await;
    fx.check(
        "Patient",
        &[
            ("name=bak", "bakker bakkum"),
            ("name=bakke", "bakker"),
            ("name=BÄKKER", "bakker"),
            ("name=bakkers", ""),
            ("name=ann", "bakker vries"),
            ("name=anne", "vries"),
            ("name=bakkum,anne", "bakkum vries"),
            ("name=b_k", ""),
            ("name=%", ""),
            ("family=bak", "bakker bakkum"),
            ("family=DE v", "vries"),
            ("family=vries", ""),
            ("family=anna", ""),
            ("given=mar", "bakker"),
            ("given=ÅNNE", "vries"),
            ("given=bak", ""),
            ("family=bak&given=jan", "bakkum"),
            ("family=bak&given=anne", ""),
        ],
    )
    .await;
}

async fn modifiers(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("bakker", patient("Bäkker", &["Anna"])).await;
    fx.create("dijk", patient("van Dijk", &["Jan"])).await;
    fx.create("nameless", json!({"resourceType": "Patient", "gender": "other"})).await;
    let weight = json!({"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}], "text": "Gewicht"});
    fx.create("weight", observation(json!({"code": weight, "effectiveDateTime": "2024-05-03"}))).await;
    fx.create(
        "pulse",
        observation(json!({"code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]}})),
    )
    .await;
    fx.create("free", observation(json!({"code": {"text": "Pijnscore"}, "status": "preliminary"}))).await;
    fx.check(
        "Patient",
        &[
            ("name:contains=akk", "bakker"),
            ("name:contains=DIJ", "dijk"),
            ("name:contains=xyz", ""),
            ("family:exact=Bäkker", "bakker"),
            ("family:exact=bakker", ""),
            ("family:exact=Bäk", ""),
            ("name:missing=true", "nameless"),
            ("name:missing=false", "bakker dijk"),
            ("gender:missing=true", "bakker dijk"),
        ],
    )
    .await;
    fx.check(
        "Observation",
        &[
            ("code:not=http://loinc.org|29463-7", "pulse free"),
            ("code:not=29463-7,8867-4", "free"),
            ("status:not=final", "free"),
            ("status:not=preliminary&code=8867-4", "pulse"),
            ("code:text=gewi", "weight"),
            ("code:text=body", "weight"),
            ("code:text=HEART", "pulse"),
            ("code:text=pijn", "free"),
            ("code:text=bloed", ""),
            ("date:missing=true", "pulse free"),
            ("date:missing=false", "weight"),
            ("code:missing=true", "free"),
            ("code:missing=false", "weight pulse"),
        ],
    )
    .await;
    refused(fx.get("Observation?date:missing=maybe")).await;
    refused(fx.get("Observation?date:not=2024")).await;
    refused(fx.get("Patient?family:text=x")).await;
}

async fn elements(db: Db) {
    let mut fx = Fixture::start(db).await;
    let owner = fx.create("anna", patient("Bakker", &["Anna"])).await;
    let subject = json!({"reference": format!("Patient/{}", owner["id"].as_str().unwrap())});
    for _ in 0..3 {
        fx.create("o", observation(json!({"subject": subject, "valueQuantity": {"value": 56.0, "unit": "kg"}}))).await;
    }
    let bundle = fx.searchset("_elements", fx.get("Observation?_elements=status,value&_count=2")).await;
    crate::common::schema::assert_valid(&bundle);
    let mut pages = vec![bundle];
    let next = common::link(&pages[0], "next").expect("a next link");
    assert!(next.contains("_elements=status,value"), "{next}");
    pages.push(fx.searchset("next page", fx.server.client.get(&next).bearer_auth(&fx.token)).await);
    for page in &pages {
        for entry in page["entry"].as_array().unwrap() {
            let resource = &entry["resource"];
            let mut keys: Vec<&str> = resource.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            // `code` is mandatory in R4, so it stays.
            assert_eq!(keys, ["code", "id", "meta", "resourceType", "status", "valueQuantity"], "{resource}");
            assert_eq!(resource["meta"]["tag"][0]["code"], "SUBSETTED");
        }
    }
}

async fn sorting(db: Db) {
    let mut fx = Fixture::start(db).await;
    for (name, effective) in [("s1", "2024-03-01"), ("s2", "2024-01-01T10:00:00+01:00"), ("s3", "2024-02-01T10:00:00Z")]
    {
        fx.create(name, observation(json!({"effectiveDateTime": effective}))).await;
        tokio::time::sleep(PAUSE).await;
    }
    fx.create("s4", observation(json!({}))).await;
    // Resources without a date come last in either direction.
    assert_eq!(fx.found_in_order("Observation?_sort=date").await, "s2 s3 s1 s4");
    assert_eq!(fx.found_in_order("Observation?_sort=-date").await, "s1 s3 s2 s4");
    assert_eq!(fx.found_in_order("Observation?_sort=_lastUpdated").await, "s1 s2 s3 s4");
    assert_eq!(fx.found_in_order("Observation?_sort=-_lastUpdated").await, "s4 s3 s2 s1");
    let mut by_id = fx.names.clone();
    by_id.sort_by(|x, y| x.1.cmp(&y.1));
    let ascending: Vec<&str> = by_id.iter().map(|(name, _)| *name).collect();
    assert_eq!(fx.found_in_order("Observation?_sort=_id").await, ascending.join(" "));
    let descending: Vec<&str> = ascending.into_iter().rev().collect();
    assert_eq!(fx.found_in_order("Observation?_sort=-_id").await, descending.join(" "));
    assert_eq!(fx.found_in_order("Observation?_sort=-date&date=ge2024-02-01").await, "s1 s3");
}

async fn count_and_summary(db: Db) {
    let mut fx = Fixture::start(db).await;
    for name in ["p1", "p2", "p3"] {
        fx.create(name, patient(name, &[])).await;
    }
    let bundle = fx.searchset("_count=5000", fx.get("Patient?_count=5000")).await;
    assert_eq!(fx.all_names("_count=5000", &bundle), ["p1", "p2", "p3"]);
    assert!(self_link(&bundle).contains("_count=1000"), "{}", self_link(&bundle));
    for query in ["Patient?_count=0", "Patient?_summary=count"] {
        let bundle = fx.searchset(query, fx.get(query)).await;
        assert_eq!(bundle["total"], 3, "{query}: {bundle}");
        assert!(bundle.get("entry").is_none(), "{query}: {bundle}");
    }
}

async fn unknown_parameters(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("bakker", patient("Bakker", &[])).await;
    fx.create("jansen", patient("Jansen", &[])).await;
    let query = "Patient?foo=bar&family=bak";
    let bundle = fx.searchset(query, fx.get(query)).await;
    assert_eq!(fx.all_names(query, &bundle), ["bakker"]);
    let link = self_link(&bundle);
    assert!(!link.contains("foo"), "{link}");
    assert!(link.contains("family=bak"), "{link}");
    refused(fx.get(query).header("prefer", "handling=strict")).await;
    let bundle = fx.searchset("strict, known", fx.get("Patient?family=bak").header("prefer", "handling=strict")).await;
    assert_eq!(fx.all_names("strict, known", &bundle), ["bakker"]);
}

async fn post_search(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("bakker", with_bsn(patient("Bakker", &["Anna"]), "999999990")).await;
    fx.create("bakkum", patient("Bakkum", &["Jan"])).await;
    fx.create("jansen", patient("Jansen", &["Anna"])).await;
    for query in ["family=bak", "given=anna&_sort=-_id", "family=bak&given=jan"] {
        let form: Vec<(&str, &str)> = query.split('&').map(|pair| pair.split_once('=').unwrap()).collect();
        let bundle = fx.searchset(query, fx.post_search("Patient", &form)).await;
        let by_post = sorted(&fx.all_names(query, &bundle).join(" "));
        assert_eq!(by_post, fx.found(&format!("Patient?{query}")).await, "POST {query}");
    }
    let bsn = format!("{BSN_SYSTEM}|999999990");
    let bundle = fx.searchset("BSN", fx.post_search("Patient", &[("identifier", &bsn)])).await;
    assert_eq!(fx.all_names("BSN", &bundle), ["bakker"]);
    assert!(!self_link(&bundle).contains("999999990"), "{}", self_link(&bundle));
    let other = format!("{BSN_SYSTEM}|111222333");
    let bundle = fx.searchset("other BSN", fx.post_search("Patient", &[("identifier", &other)])).await;
    assert!(fx.all_names("other BSN", &bundle).is_empty());
}

/// The links of a search by BSN must page through that same search, even
/// though the BSN stays out of them.
async fn bsn_search_pages(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("b1", with_bsn(patient("Een", &[]), "999999990")).await;
    fx.create("b2", with_bsn(patient("Twee", &[]), "111222333")).await;
    fx.create("none", patient("Geen", &[])).await;
    let any_bsn = format!("{BSN_SYSTEM}|");
    let mut bundle = fx.searchset("BSN", fx.post_search("Patient", &[("identifier", &any_bsn), ("_count", "1")])).await;
    let mut found = Vec::new();
    loop {
        assert_eq!(bundle["total"], 2, "every page has the total of the BSN search: {bundle}");
        found.extend(fx.page_names(&bundle));
        let links = bundle["link"].as_array().unwrap();
        let Some(next) = links.iter().find(|l| l["relation"] == "next") else { break };
        let next = next["url"].as_str().unwrap();
        assert!(!next.contains("999999990") && !next.contains("111222333"), "{next}");
        assert!(found.len() < 3, "paging does not end: {found:?}");
        bundle = fx.searchset(next, fx.server.client.get(next).bearer_auth(&fx.token)).await;
    }
    found.sort();
    assert_eq!(found, ["b1", "b2"]);
}

/// The query values of a link, decoded.
fn link_params(link: &str) -> Vec<(String, String)> {
    url::Url::parse(link).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A BSN searched for without its system (`identifier=999911120`), alone
/// or in an OR list, finds the patient, and neither the self link nor the
/// next links (which page through the same search) name it; another
/// identifier stays in the self link.
async fn bsn_without_system_stays_out_of_links(db: Db) {
    let mut fx = Fixture::start(db).await;
    fx.create("b1", with_bsn(patient("Een", &[]), "999911120")).await;
    fx.create("b2", with_bsn(patient("Twee", &[]), "999990019")).await;
    let mut other = patient("Drie", &[]);
    other["identifier"] = json!([{"system": "urn:x", "value": "R-1"}, {"system": "urn:y", "value": "999911121"}]);
    fx.create("other", other).await;
    let no_bsn = |link: &str| !link.contains("999911120") && !link.contains("999990019");

    for (query, found) in [
        ("Patient?identifier=999911120", "b1"),
        ("Patient?identifier=999911120&family=een", "b1"),
        ("Patient?identifier=other,999990019", "b2"),
        // `|code`: an identifier without a system; none has that.
        ("Patient?identifier=|999911120", ""),
    ] {
        let bundle = fx.searchset(query, fx.get(query)).await;
        assert_eq!(fx.all_names(query, &bundle).join(" "), found, "{query}");
        assert!(no_bsn(self_link(&bundle)), "{query}: {}", self_link(&bundle));
    }
    let bundle = fx.searchset("family", fx.get("Patient?identifier=999911120&family=een")).await;
    assert!(link_params(self_link(&bundle)).contains(&("family".into(), "een".into())), "{bundle}");

    // Two BSNs ORed, a page of one: every page is of the same search.
    let query = "Patient?identifier=999911120,http://fhir.nl/fhir/NamingSystem/bsn|999990019&_count=1";
    let mut bundle = fx.searchset(query, fx.get(query)).await;
    let mut found = Vec::new();
    loop {
        assert_eq!(bundle["total"], 2, "every page has the total of the BSN search: {bundle}");
        for link in bundle["link"].as_array().unwrap() {
            assert!(no_bsn(link["url"].as_str().unwrap()), "{link}");
        }
        found.extend(fx.page_names(&bundle));
        let links = bundle["link"].as_array().unwrap();
        let Some(next) = links.iter().find(|l| l["relation"] == "next") else { break };
        let next = next["url"].as_str().unwrap();
        assert!(found.len() < 3, "paging does not end: {found:?}");
        bundle = fx.searchset(next, fx.server.client.get(next).bearer_auth(&fx.token)).await;
    }
    found.sort();
    assert_eq!(found, ["b1", "b2"]);

    // Identifiers that are no BSN stay in the link.
    for (query, value) in [("Patient?identifier=urn:x|R-1", "urn:x|R-1"), ("Patient?identifier=999911121", "999911121")]
    {
        let bundle = fx.searchset(query, fx.get(query)).await;
        assert_eq!(fx.all_names(query, &bundle), ["other"], "{query}");
        assert!(link_params(self_link(&bundle)).contains(&("identifier".into(), value.into())), "{bundle}");
    }
}

async fn malformed_values(db: Db) {
    let fx = Fixture::start(db).await;
    for query in [
        "Observation?date=xx2024",
        "Observation?date=2024-13-01",
        "Observation?_lastUpdated=yesterday",
        "Observation?_count=abc",
        "Observation?_count=-1",
        "Observation?code:below=x",
        "Observation?_sort=code",
        "Observation?patient=Group/1",
        "Observation?subject:Patient=Group/1",
    ] {
        refused(fx.get(query)).await;
    }
}

crate::on_both_databases!(
    ids_and_last_updated,
    identifiers,
    references,
    tokens,
    observation_dates,
    period_dates,
    communication_and_appointment_dates,
    strings,
    modifiers,
    elements,
    sorting,
    count_and_summary,
    unknown_parameters,
    post_search,
    bsn_search_pages,
    bsn_without_system_stays_out_of_links,
    malformed_values,
);
