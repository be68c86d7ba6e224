//! MijnEigenPlan events end to end, on both databases: events follow
//! their account to the client its `extern_id` names (a Pluriform
//! client here), are held unseen while the account is not linked and
//! attached when the link or the client appears, move when the account is
//! linked elsewhere, and go with their client's tombstone; duplicates,
//! events out of order, completed steps before their plan, unknown kinds;
//! amendments (`amends`) of any vendor.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::fhir::TenantCode;
use zorgpoort::ingest::{self, Quiet, Summary};
use zorgpoort::mapping::spec::Mapping;

use crate::common::{Db, OTHER_TENANT, TENANT, TestServer, entry_ids, json};

fn mapping(vendor: &str) -> Arc<Mapping> {
    Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings").join(vendor)).unwrap())
}

/// The counts of a summary as `[created, updated, unchanged, deleted,
/// skipped, stale, held, attached, rejected]`.
fn counts(s: &Summary) -> [u64; 9] {
    [s.created, s.updated, s.unchanged, s.deleted, s.skipped, s.stale, s.held, s.attached, s.rejected]
}

/// The test: a server, the two mappings, a folder for deliveries.
struct Setup {
    server: TestServer,
    token: String,
    mep: Arc<Mapping>,
    pluriform: Arc<Mapping>,
    dir: tempfile::TempDir,
    files: std::cell::Cell<u32>,
}

impl Setup {
    async fn start(db: Db) -> Setup {
        let server = TestServer::start(db).await;
        let token = server.token(TENANT, "system/*.rs").await;
        Setup {
            server,
            token,
            mep: mapping("mijneigenplan"),
            pluriform: mapping("pluriform"),
            dir: tempfile::tempdir().unwrap(),
            files: std::cell::Cell::new(0),
        }
    }

    fn path(&self, extension: &str) -> PathBuf {
        self.files.set(self.files.get() + 1);
        self.dir.path().join(format!("delivery-{}.{extension}", self.files.get()))
    }

    /// Ingests MEP events (a header line, then one event a line).
    async fn events(&self, events: &[Value]) -> Summary {
        let path = self.path("ndjson");
        let mut text = String::from(r#"{"formaat": "mep-events", "versie": 1, "organisatie": "pameijer"}"#);
        for event in events {
            text.push('\n');
            text.push_str(&event.to_string());
        }
        std::fs::write(&path, text).unwrap();
        self.ingest(&self.mep, &path).await
    }

    /// Ingests a Pluriform delivery of these clients.
    async fn clients(&self, created: &str, clients: Value) -> Summary {
        let path = self.path("json");
        let delivery = json!({"formaat": "pluriform-export", "versie": 1,
                              "organisatie": {"code": "pameijer", "naam": "Pameijer", "agb": "73730123"},
                              "aangemaakt": created, "medewerkers": [], "clienten": clients});
        std::fs::write(&path, delivery.to_string()).unwrap();
        self.ingest(&self.pluriform, &path).await
    }

    async fn ingest(&self, mapping: &Arc<Mapping>, path: &Path) -> Summary {
        let tenant = TenantCode::parse(TENANT).unwrap();
        ingest::ingest_file(&self.server.store, mapping, &tenant, path, &Quiet).await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        json(self.server.request(Method::GET, path, &self.token).send().await.unwrap()).await
    }

    /// The Patient id of a Pluriform client number.
    async fn patient(&self, number: &str) -> String {
        let system = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/client";
        let (_, bundle) = self.get(&format!("Patient?identifier={system}|{number}")).await;
        entry_ids(&bundle).pop().unwrap_or_else(|| panic!("no client {number}"))
    }

    /// The resource a MEP record became, if it is stored and current.
    async fn mep_record(&self, resource_type: &str, kind: &str, id: &str) -> Option<Value> {
        let system = format!("https://zorgpoort.nl/fhir/NamingSystem/pameijer/mijneigenplan/{kind}");
        let (status, bundle) = self.get(&format!("{resource_type}?identifier={system}|{id}")).await;
        assert_eq!(status, 200, "{bundle}");
        bundle["entry"].as_array().and_then(|e| e.first()).map(|e| e["resource"].clone())
    }

    /// How many Observations, CarePlans and Appointments the client has.
    async fn mep_counts(&self, patient: &str) -> [u64; 3] {
        let mut counts = [0; 3];
        for (count, t) in counts.iter_mut().zip(["Observation", "CarePlan", "Appointment"]) {
            let (status, bundle) = self.get(&format!("{t}?patient={patient}&_summary=count")).await;
            assert_eq!(status, 200, "{bundle}");
            *count = bundle["total"].as_u64().unwrap();
        }
        counts
    }
}

fn client(number: &str, changed: &str) -> Value {
    json!({"clientnummer": number, "naam": {"voornamen": "Tharah", "achternaam": "Berg"},
           "geboortedatum": "19-07-1995", "geslacht": "V", "gewijzigd": changed})
}

const T: i64 = 1_732_000_000_000;

fn account(event_id: &str, tijd: i64, mep_id: &str, extern_id: Value) -> Value {
    json!({"event": "account", "event_id": event_id, "mep_id": mep_id, "tijd": T + tijd * 1000, "voornaam": "Tharah",
           "extern_id": extern_id})
}

fn emotion(event_id: &str, tijd: i64, mep_id: &str) -> Value {
    json!({"event": "emotie", "event_id": event_id, "mep_id": mep_id, "tijd": T + tijd * 1000, "emotie": "blij", "score": 5,
           "notitie": null})
}

fn plan(event_id: &str, tijd: i64, mep_id: &str, plan_id: &str, steps: &[&str]) -> Value {
    json!({"event": "stappenplan", "event_id": event_id, "mep_id": mep_id, "tijd": T + tijd * 1000, "plan_id": plan_id,
           "titel": "Tanden poetsen", "stappen": steps})
}

fn step_done(event_id: &str, tijd: i64, mep_id: &str, plan_id: &str, step: u32) -> Value {
    json!({"event": "stap_afgerond", "event_id": event_id, "mep_id": mep_id, "tijd": T + tijd * 1000, "plan_id": plan_id,
           "stap": step})
}

fn activity(event_id: &str, tijd: i64, mep_id: &str, title: &str) -> Value {
    json!({"event": "activiteit", "event_id": event_id, "mep_id": mep_id, "tijd": T + tijd * 1000, "activiteit_id": "act-1",
           "titel": title, "start": "2026-11-20T09:00", "eind": "2026-11-20T15:00", "pictogram": "werk",
           "herhaling": "ma,di,do"})
}

fn statuses(care_plan: &Value) -> Vec<&str> {
    care_plan["activity"].as_array().unwrap().iter().map(|a| a["detail"]["status"].as_str().unwrap()).collect()
}

async fn events_follow_their_account_in_order_and_once(db: Db) {
    let s = Setup::start(db).await;
    s.clients("2026-11-20T10:00:00+01:00", json!([client("100234", "2026-11-20T09:00:00+01:00")])).await;
    let p1 = s.patient("100234").await;

    let first = s
        .events(&[
            account("e-1", 0, "u-1", json!("100234")),
            emotion("e-2", 10, "u-1"),
            emotion("e-2", 10, "u-1"),
            plan("e-3", 20, "u-1", "sp-1", &["pakken", "erop", "poetsen"]),
            step_done("e-4", 30, "u-1", "sp-1", 2),
            activity("e-5", 40, "u-1", "Dagbesteding"),
            json!({"event": "zoeklicht", "event_id": "e-6", "mep_id": "u-1", "tijd": T + 50_000}),
        ])
        .await;
    // The duplicate in the delivery is the same record again; the unknown
    // kind is rejected alone.
    assert_eq!(counts(&first), [5, 0, 1, 0, 0, 0, 0, 0, 1], "{first:?}");
    assert_eq!(s.mep_counts(&p1).await, [1, 1, 1]);
    let observation = s.mep_record("Observation", "emotie", "e-2").await.unwrap();
    assert_eq!(observation["subject"]["reference"], format!("Patient/{p1}"));
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-1").await.unwrap();
    assert_eq!(statuses(&care_plan), ["not-started", "completed", "not-started"]);
    assert_eq!(care_plan["activity"][1]["progress"][0]["time"], "2024-11-19T07:07:10Z");
    let appointment = s.mep_record("Appointment", "activiteit", "act-1").await.unwrap();
    assert_eq!(appointment["participant"][0]["actor"]["reference"], format!("Patient/{p1}"));
    let tenant = TenantCode::parse(TENANT).unwrap();
    let rejects = s.server.store.rejects(&tenant, false).await.unwrap();
    let reasons: Vec<(&str, Option<&str>, &str)> = rejects
        .iter()
        .map(|r| (r.reject.kind.as_str(), r.reject.source_id.as_deref(), r.reject.reason.as_str()))
        .collect();
    assert_eq!(reasons, [("zoeklicht", Some("e-6"), "unknown event kind `zoeklicht`")]);

    let second = s
        .events(&[
            // Seen before: nothing changes.
            emotion("e-2", 10, "u-1"),
            // Older than the stored activity: stale.
            activity("e-7", 35, "u-1", "Zwemmen"),
            // The plan edited after the completed step: it starts over.
            plan("e-8", 60, "u-1", "sp-1", &["pakken", "poetsen"]),
            step_done("e-9", 70, "u-1", "sp-1", 1),
        ])
        .await;
    assert_eq!(counts(&second), [1, 1, 1, 0, 0, 1, 0, 0, 0], "{second:?}");
    assert_eq!(s.mep_record("Appointment", "activiteit", "act-1").await.unwrap()["description"], "Dagbesteding");
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-1").await.unwrap();
    assert_eq!(statuses(&care_plan), ["completed", "not-started"]);
    assert_eq!(observation, s.mep_record("Observation", "emotie", "e-2").await.unwrap(), "no new version");

    // Tombstones: the later tijd wins, and a late older event does not bring it back.
    let appointment_id = appointment["id"].as_str().unwrap().to_owned();
    let third = s
        .events(&[
            json!({"event": "activiteit_verwijderd", "event_id": "e-10", "mep_id": "u-1", "tijd": T + 80_000,
                   "activiteit_id": "act-1"}),
            activity("e-11", 75, "u-1", "Te laat"),
            json!({"event": "stappenplan_verwijderd", "event_id": "e-12", "mep_id": "u-1", "tijd": T + 90_000,
                   "plan_id": "sp-1"}),
        ])
        .await;
    assert_eq!(counts(&third), [0, 0, 0, 2, 0, 1, 0, 0, 0], "{third:?}");
    assert_eq!(s.get(&format!("Appointment/{appointment_id}")).await.0, 410);
    assert_eq!(s.mep_counts(&p1).await, [1, 0, 0]);
}

async fn unlinked_accounts_are_held_unseen_then_attached(db: Db) {
    let s = Setup::start(db).await;
    s.clients("2026-11-20T10:00:00+01:00", json!([client("100234", "2026-11-20T09:00:00+01:00")])).await;

    // No account yet, then one without extern_id, then one naming a
    // client the ECD has not delivered: held, and nobody sees anything.
    let first = s
        .events(&[
            emotion("e-1", 10, "u-9"),
            step_done("e-2", 30, "u-9", "sp-9", 1),
            plan("e-3", 20, "u-9", "sp-9", &["pakken", "poetsen"]),
            account("e-4", 40, "u-9", Value::Null),
        ])
        .await;
    assert_eq!(counts(&first), [1, 0, 0, 0, 0, 0, 3, 0, 0], "{first:?}");
    let second = s.events(&[account("e-5", 50, "u-9", json!("100777"))]).await;
    assert_eq!(counts(&second), [0, 1, 0, 0, 0, 0, 0, 0, 0], "{second:?}");
    assert_eq!(second.versions, 0);
    assert!(s.mep_record("Observation", "emotie", "e-1").await.is_none());
    assert!(s.mep_record("CarePlan", "stappenplan", "sp-9").await.is_none());
    let (_, all) = s.get("Observation?_summary=count").await;
    assert_eq!(all["total"], 0, "held records are not stored as resources");

    // The client arrives in a later ECD delivery: attached.
    let ecd = s.clients("2026-11-21T10:00:00+01:00", json!([client("100777", "2026-11-21T09:00:00+01:00")])).await;
    assert_eq!((ecd.created, ecd.attached), (1, 2), "{ecd:?}");
    let p7 = s.patient("100777").await;
    assert_eq!(s.mep_counts(&p7).await, [1, 1, 0]);
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-9").await.unwrap();
    assert_eq!(statuses(&care_plan), ["completed", "not-started"], "the step that waited counts");
    // Once attached, new events go straight to the client.
    let third = s.events(&[emotion("e-6", 60, "u-9")]).await;
    assert_eq!(counts(&third), [1, 0, 0, 0, 0, 0, 0, 0, 0], "{third:?}");
    assert_eq!(s.mep_counts(&p7).await, [2, 1, 0]);
    // The same client number linked by an account event in the same delivery.
    let fourth = s.events(&[emotion("e-7", 10, "u-8"), account("e-8", 20, "u-8", json!("100234"))]).await;
    assert_eq!(counts(&fourth), [1, 0, 0, 0, 0, 0, 1, 0, 0], "{fourth:?}");
    let p1 = s.patient("100234").await;
    assert_eq!(s.mep_counts(&p1).await, [1, 0, 0]);
}

async fn a_step_waits_for_its_plan_across_deliveries(db: Db) {
    let s = Setup::start(db).await;
    s.clients("2026-11-20T10:00:00+01:00", json!([client("100234", "2026-11-20T09:00:00+01:00")])).await;
    let first = s.events(&[account("e-1", 0, "u-1", json!("100234")), step_done("e-2", 30, "u-1", "sp-1", 3)]).await;
    assert_eq!(counts(&first), [1, 0, 0, 0, 0, 0, 1, 0, 0], "{first:?}");
    assert!(s.mep_record("CarePlan", "stappenplan", "sp-1").await.is_none());
    let second = s.events(&[plan("e-3", 20, "u-1", "sp-1", &["a", "b", "c"])]).await;
    assert_eq!(counts(&second), [1, 0, 0, 0, 0, 0, 0, 0, 0], "{second:?}");
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-1").await.unwrap();
    assert_eq!(statuses(&care_plan), ["not-started", "not-started", "completed"]);
    assert_eq!(care_plan["meta"]["versionId"], "1", "written once, with the step");
    // In one delivery: the step waits for the plan a few lines on.
    let third = s.events(&[step_done("e-4", 50, "u-1", "sp-2", 1), plan("e-5", 40, "u-1", "sp-2", &["a", "b"])]).await;
    assert_eq!(counts(&third), [1, 0, 0, 0, 0, 0, 1, 0, 0], "{third:?}");
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-2").await.unwrap();
    assert_eq!(statuses(&care_plan), ["completed", "not-started"]);
}

async fn a_relinked_account_moves_its_data(db: Db) {
    let s = Setup::start(db).await;
    let clients = json!([client("100234", "2026-11-20T09:00:00+01:00"), client("100235", "2026-11-20T09:00:00+01:00")]);
    s.clients("2026-11-20T10:00:00+01:00", clients).await;
    let (p1, p2) = (s.patient("100234").await, s.patient("100235").await);
    s.events(&[
        account("e-1", 0, "u-1", json!("100234")),
        emotion("e-2", 10, "u-1"),
        plan("e-3", 20, "u-1", "sp-1", &["a", "b"]),
        step_done("e-4", 30, "u-1", "sp-1", 1),
        activity("e-5", 40, "u-1", "Dagbesteding"),
    ])
    .await;
    assert_eq!((s.mep_counts(&p1).await, s.mep_counts(&p2).await), ([1, 1, 1], [0, 0, 0]));
    let before = s.mep_record("Observation", "emotie", "e-2").await.unwrap();

    // A tombstone that does not name its account still removes the activity
    // for good: a move does not bring it back.
    let gone =
        json!({"event": "activiteit_verwijderd", "event_id": "e-10", "tijd": T + 45_000, "activiteit_id": "act-1"});
    assert_eq!(s.events(&[gone]).await.deleted, 1);
    assert_eq!(s.mep_counts(&p1).await, [1, 1, 0]);

    // An older account event changes nothing; a newer one moves everything.
    let stale = s.events(&[account("e-6", -5, "u-1", json!("100235"))]).await;
    assert_eq!((stale.stale, stale.versions), (1, 0), "{stale:?}");
    let moved = s.events(&[account("e-7", 50, "u-1", json!("100235"))]).await;
    assert_eq!(counts(&moved), [0, 1, 0, 0, 0, 0, 0, 0, 0], "{moved:?}");
    assert_eq!((s.mep_counts(&p1).await, s.mep_counts(&p2).await), ([0, 0, 0], [1, 1, 0]));
    let after = s.mep_record("Observation", "emotie", "e-2").await.unwrap();
    assert_eq!(after["id"], before["id"], "the same resource, moved");
    assert_eq!(after["subject"]["reference"], format!("Patient/{p2}"));
    let care_plan = s.mep_record("CarePlan", "stappenplan", "sp-1").await.unwrap();
    assert_eq!(statuses(&care_plan), ["completed", "not-started"], "with its progress");

    // Unlinked (extern_id null): held again, shown nowhere.
    let id = after["id"].as_str().unwrap().to_owned();
    s.events(&[account("e-8", 60, "u-1", Value::Null)]).await;
    assert_eq!((s.mep_counts(&p1).await, s.mep_counts(&p2).await), ([0, 0, 0], [0, 0, 0]));
    assert_eq!(s.get(&format!("Observation/{id}")).await.0, 410);
    // Linked again: back, under the same id.
    s.events(&[account("e-9", 70, "u-1", json!("100234"))]).await;
    assert_eq!((s.mep_counts(&p1).await, s.mep_counts(&p2).await), ([1, 1, 0], [0, 0, 0]));
    assert_eq!(s.mep_record("Observation", "emotie", "e-2").await.unwrap()["id"], id.as_str());
}

async fn a_client_tombstone_removes_its_mep_data(db: Db) {
    let s = Setup::start(db).await;
    let clients = json!([client("100234", "2026-11-20T09:00:00+01:00"), client("100235", "2026-11-20T09:00:00+01:00")]);
    s.clients("2026-11-20T10:00:00+01:00", clients).await;
    let p1 = s.patient("100234").await;
    s.events(&[account("e-1", 0, "u-1", json!("100234")), emotion("e-2", 10, "u-1"), activity("e-3", 20, "u-1", "x")])
        .await;
    let observation = s.mep_record("Observation", "emotie", "e-2").await.unwrap();
    let tombstone = json!([{"clientnummer": "100234", "verwijderd": true, "gewijzigd": "2026-11-22T09:00:00+01:00"}]);
    let gone = s.clients("2026-11-22T10:00:00+01:00", tombstone).await;
    assert_eq!(gone.deleted, 1, "{gone:?}");
    assert_eq!(s.get(&format!("Observation/{}", observation["id"].as_str().unwrap())).await.0, 410);
    assert_eq!(s.mep_counts(&p1).await, [0, 0, 0]);
    // Later events of the account are not written under the deleted client.
    let later = s.events(&[emotion("e-4", 30, "u-1")]).await;
    assert_eq!(counts(&later), [0, 0, 0, 0, 1, 0, 0, 0, 0], "{later:?}");
    assert!(s.mep_record("Observation", "emotie", "e-4").await.is_none());
    // Linked to another client since: what went with the deleted client
    // stays gone; new events go to the new client.
    let p2 = s.patient("100235").await;
    let relinked = s.events(&[account("e-5", 40, "u-1", json!("100235")), emotion("e-6", 50, "u-1")]).await;
    assert_eq!((relinked.updated, relinked.created, relinked.versions), (1, 1, 2), "{relinked:?}");
    assert_eq!(s.mep_counts(&p2).await, [1, 0, 0]);
    assert!(s.mep_record("Observation", "emotie", "e-2").await.is_none());
}

async fn an_unknown_kind_is_kept_and_replayed_once_a_mapping_knows_it(db: Db) {
    let s = Setup::start(db).await;
    s.clients("2026-11-20T10:00:00+01:00", json!([client("100234", "2026-11-20T09:00:00+01:00")])).await;
    let light = json!({"event": "zoeklicht", "event_id": "e-2", "mep_id": "u-1", "tijd": T, "kleur": "geel"});
    let first = s.events(&[account("e-1", 0, "u-1", json!("100234")), light.clone()]).await;
    assert_eq!(counts(&first), [1, 0, 0, 0, 0, 0, 0, 0, 1], "{first:?}");
    let tenant = TenantCode::parse(TENANT).unwrap();
    let open = s.server.store.rejects(&tenant, false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&open[0].reject.record).unwrap(), light, "kept whole");

    // The same mapping: still unknown, still open.
    let unchanged = ingest::replay::replay(&s.server.store, &[(*s.mep).clone()], &tenant, open.clone()).await.unwrap();
    assert_eq!(unchanged.rejected, 1);
    // A later mapping learns the kind: the replay writes it, under the client.
    let folder = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/mijneigenplan");
    std::fs::create_dir(folder.path().join("templates")).unwrap();
    for name in [
        "mapping.toml",
        "templates/emotie.json",
        "templates/stappenplan.json",
        "templates/stap-afgerond.json",
        "templates/activiteit.json",
    ] {
        std::fs::copy(source.join(name), folder.path().join(name)).unwrap();
    }
    let toml = std::fs::read_to_string(folder.path().join("mapping.toml")).unwrap().replace(
        "# The emotions of the emotion meter",
        "[[records]]\nkind = \"zoeklicht\"\nat = \"zoeklicht\"\nid = \"{{ event_id }}\"\n\
         client = \"{{ mep_id | required | linked(account) }}\"\nchanged = \"{{ tijd | required | epoch_millis }}\"\n\
         resources = [{ template = \"zoeklicht.json\" }]\n\n# The emotions of the emotion meter",
    );
    std::fs::write(folder.path().join("mapping.toml"), toml).unwrap();
    let template = json!({"resourceType": "Observation", "status": "final", "code": {"text": "Zoeklicht"},
                          "identifier": [{"system": "https://zorgpoort.nl/fhir/NamingSystem/pameijer/mijneigenplan/zoeklicht",
                                          "value": "{{ event_id }}"}],
                          "subject": {"reference": "{{ mep_id | linked(account) }}"}, "valueString": "{{ kleur }}"});
    std::fs::write(folder.path().join("templates/zoeklicht.json"), template.to_string()).unwrap();
    let learned = Mapping::load(folder.path()).unwrap();
    let replayed = ingest::replay::replay(&s.server.store, &[learned], &tenant, open).await.unwrap();
    assert_eq!((replayed.created, replayed.rejected), (1, 0), "{replayed:?}");
    assert!(s.server.store.rejects(&tenant, false).await.unwrap().is_empty());
    let found = s.mep_record("Observation", "zoeklicht", "e-2").await.unwrap();
    assert_eq!(found["subject"]["reference"], format!("Patient/{}", s.patient("100234").await));
    assert_eq!(found["valueString"], "geel");
}

/// Over HTTP the spool file is the delivery: `$received` is when the
/// gateway received it. Sent again (received later), it writes nothing.
async fn events_over_http_are_ingested_like_the_cli(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "ingest/pluriform ingest/mijneigenplan").await;
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples");
    let post = |vendor: &'static str, file: &'static str| {
        let url = format!("{}/{TENANT}/ingest/{vendor}?name={file}", server.origin);
        let body = std::fs::read(samples.join(file)).unwrap();
        let request = server.client.post(url).bearer_auth(&token).body(body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), reqwest::StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    post("pluriform", "pluriform-pameijer.json").await;
    let summary = |answer: &Value| -> Vec<u64> {
        ["records", "created", "unchanged", "held", "rejected", "versions"]
            .iter()
            .map(|k| answer["summary"][k].as_u64().unwrap_or_else(|| panic!("{k}: {answer}")))
            .collect()
    };
    let first = post("mijneigenplan", "mep-pameijer.ndjson").await;
    assert_eq!(summary(&first)[..5], [21, 17, 2, 1, 1], "{first}");
    let again = post("mijneigenplan", "mep-pameijer.ndjson").await;
    // Everything the same again, the held emotion too (still held, unseen).
    assert_eq!(summary(&again), [21, 0, 20, 0, 1, 0], "{again}");
}

/// `amends` is not MEP's own: a made-up JSON vendor whose ticks complete
/// the activities of a plan, the plan's client named directly.
async fn any_vendor_can_amend_its_records(db: Db) {
    let s = Setup::start(db).await;
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("templates")).unwrap();
    let toml = r#"vendor = "ticks"
version = "1"
[delivery]
reader = "json"
format = { at = "type", is = "ticks" }
version = { at = "schema", is = 1 }
tenant = "tenant"
created = "{{ made | required | offset_datetime }}"

[[records]]
kind = "person"
at = "people"
id = "{{ ref }}"
client = "{{ ref }}"
resources = [{ template = "person.json" }]

[[records]]
kind = "plan"
at = "plans"
id = "{{ ref }}"
client = "{{ person | required }}"
changed = "{{ updated | offset_datetime }}"
resources = [{ template = "plan.json" }]

[[records]]
kind = "tick"
at = "ticks"
id = "{{ ref }}"
client = "{{ person | required }}"
changed = "{{ updated | offset_datetime }}"
amends = "{{ plan | required | ref(plan) }}"
resources = [{ template = "tick.json" }]
"#;
    std::fs::write(folder.path().join("mapping.toml"), toml).unwrap();
    let templates = [
        (
            "person.json",
            json!({"resourceType": "Patient", "identifier": [{"system": "urn:ticks:person", "value": "{{ ref }}"}]}),
        ),
        (
            "plan.json",
            json!({"resourceType": "CarePlan", "status": "active", "intent": "plan",
            "identifier": [{"system": "urn:ticks:plan", "value": "{{ ref }}"}],
            "subject": {"reference": "{{ person | ref(person) }}"},
            "activity": [{"$each": "{{ steps }}", "$as": "step", "$number": "n", "id": "step-{{ n }}",
                          "detail": {"status": "not-started", "description": "{{ step }}"}}]}),
        ),
        (
            "tick.json",
            json!({"resourceType": "CarePlan",
            "activity": [{"id": "step-{{ step }}", "detail": {"status": "completed"}}]}),
        ),
    ];
    for (name, template) in templates {
        std::fs::write(folder.path().join("templates").join(name), template.to_string()).unwrap();
    }
    let mapping = Arc::new(Mapping::load(folder.path()).unwrap());
    let deliver = |made: &str, lists: Value| {
        let mut delivery = json!({"type": "ticks", "schema": 1, "tenant": TENANT, "made": made});
        delivery.as_object_mut().unwrap().extend(lists.as_object().unwrap().clone());
        let path = s.path("json");
        std::fs::write(&path, delivery.to_string()).unwrap();
        path
    };
    let first = deliver(
        "2026-11-20T10:00:00+01:00",
        json!({"people": [{"ref": "P-1"}],
               "ticks": [{"ref": "T-1", "person": "P-1", "plan": "PL-1", "step": 2, "updated": "2026-11-20T09:00:00+01:00"}]}),
    );
    let summary = s.ingest(&mapping, &first).await;
    assert_eq!((summary.created, summary.held), (1, 1), "the tick waits for its plan: {summary:?}");
    let second = deliver(
        "2026-11-21T10:00:00+01:00",
        json!({"plans": [{"ref": "PL-1", "person": "P-1", "steps": ["a", "b"], "updated": "2026-11-19T09:00:00+01:00"}]}),
    );
    assert_eq!(s.ingest(&mapping, &second).await.created, 1);
    let (_, bundle) = s.get("CarePlan?identifier=urn:ticks:plan|PL-1").await;
    assert_eq!(statuses(&bundle["entry"][0]["resource"]), ["not-started", "completed"], "{bundle}");
}

/// The link names the client whichever ECD delivered it: here a Caress
/// `Client/@id` of 's Heeren Loo.
async fn an_account_links_to_a_caress_client(db: Db) {
    let server = TestServer::start(db).await;
    let tenant = TenantCode::parse(OTHER_TENANT).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples");
    let caress =
        ingest::ingest_file(&server.store, &mapping("caress"), &tenant, &samples.join("caress-sheerenloo.xml"), &Quiet)
            .await
            .unwrap();
    assert_eq!(caress.rejected, 0, "{caress:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.ndjson");
    let lines = [
        json!({"formaat": "mep-events", "versie": 1, "organisatie": OTHER_TENANT}),
        account("e-1", 0, "u-1", json!("3100010")),
        emotion("e-2", 10, "u-1"),
    ];
    std::fs::write(&path, lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).unwrap();
    let events = ingest::ingest_file(&server.store, &mapping("mijneigenplan"), &tenant, &path, &Quiet).await.unwrap();
    assert_eq!((events.created, events.held), (2, 0), "{events:?}");
    let token = server.token(OTHER_TENANT, "system/*.rs").await;
    let get = |path: String| {
        let request = server.client.get(format!("{}/{path}", server.base(OTHER_TENANT))).bearer_auth(&token);
        async move { json(request.send().await.unwrap()).await.1 }
    };
    let patient =
        get("Patient?identifier=https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/caress/client|3100010".into()).await;
    let system = "https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/mijneigenplan/emotie";
    let emotion = get(format!("Observation?identifier={system}|e-2")).await;
    assert_eq!(
        emotion["entry"][0]["resource"]["subject"]["reference"],
        format!("Patient/{}", patient["entry"][0]["resource"]["id"].as_str().unwrap())
    );
}

crate::on_both_databases!(
    an_account_links_to_a_caress_client,
    any_vendor_can_amend_its_records,
    events_over_http_are_ingested_like_the_cli,
    an_unknown_kind_is_kept_and_replayed_once_a_mapping_knows_it,
    events_follow_their_account_in_order_and_once,
    unlinked_accounts_are_held_unseen_then_attached,
    a_step_waits_for_its_plan_across_deliveries,
    a_relinked_account_moves_its_data,
    a_client_tombstone_removes_its_mep_data,
);
