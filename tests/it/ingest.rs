//! Ingest end to end: delivery files through the mapping into the store,
//! read back through the FHIR API, on both databases. The rules of the
//! vendor contract each have a test: identity, updates, the order rule
//! (also between two ingests at once), tombstones, the client cascade,
//! refusals that write nothing, and rejects kept and replayed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::fhir::{ChangeNumber, TenantCode};
use zorgpoort::ingest::{self, IngestError, Quiet, Summary};
use zorgpoort::mapping::spec::Mapping;
use zorgpoort::store::Store;

use crate::common::{Db, TENANT, TestServer, entry_ids, json};

pub(crate) fn tenant() -> TenantCode {
    TenantCode::parse(TENANT).unwrap()
}

pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pluriform() -> Arc<Mapping> {
    Arc::new(Mapping::load(&repo().join("mappings/pluriform")).unwrap())
}

/// A delivery written to a file of its own.
struct Deliveries(tempfile::TempDir);

impl Deliveries {
    fn new() -> Self {
        Deliveries(tempfile::tempdir().unwrap())
    }

    fn file(&self, name: &str, delivery: &Value) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(delivery).unwrap()).unwrap();
        path
    }
}

pub(crate) async fn ingest(store: &Arc<dyn Store>, mapping: &Arc<Mapping>, file: &Path) -> Summary {
    ingest::ingest_file(store, mapping, &tenant(), file, &Quiet).await.unwrap_or_else(|e| panic!("{e}"))
}

/// The counts of a summary, without its warnings, as
/// `[created, updated, unchanged, deleted, skipped, stale, containers, rejected]`.
fn counts(s: &Summary) -> [u64; 8] {
    [s.created, s.updated, s.unchanged, s.deleted, s.skipped, s.stale, s.containers, s.rejected]
}

/// A Pluriform delivery of `pameijer` made at `created`.
fn delivery(created: &str, clients: Value) -> Value {
    json!({
        "formaat": "pluriform-export",
        "versie": 1,
        "organisatie": {"code": "pameijer", "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": created,
        "medewerkers": [{"medewerkernummer": "M-1", "voornaam": "Ilse", "achternaam": "Vries",
                         "gewijzigd": "2026-01-01T09:00:00+01:00"}],
        "clienten": clients
    })
}

fn client(number: &str, changed: &str, extra: Value) -> Value {
    let mut client = json!({
        "clientnummer": number,
        "naam": {"voornamen": "Tharah", "achternaam": "Berg"},
        "geboortedatum": "19-07-1995",
        "geslacht": "V",
        "gewijzigd": changed
    });
    if let (Some(c), Value::Object(extra)) = (client.as_object_mut(), extra) {
        c.extend(extra);
    }
    client
}

fn weight(id: &str, value: &str, changed: &str) -> Value {
    json!({"id": id, "meetsoort": "Gewicht", "waarde": value, "eenheid": "kg", "tijdstip": "Wo 3 mei 2023 | 18:30",
           "medewerker": "M-1", "gewijzigd": changed})
}

/// The Observations of the client with this client number, by the API.
async fn weights_of(server: &TestServer, token: &str, number: &str) -> Vec<f64> {
    let patient = patient_id(server, token, number).await.expect("the client is there");
    let (status, bundle) = json(
        server.request(Method::GET, &format!("Observation?patient={patient}&_sort=_id"), token).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{bundle}");
    let mut values: Vec<f64> = bundle["entry"]
        .as_array()
        .map(|entries| entries.iter().map(|e| e["resource"]["valueQuantity"]["value"].as_f64().unwrap()).collect())
        .unwrap_or_default();
    values.sort_by(f64::total_cmp);
    values
}

/// The Patient id of a client number, found by its source identifier.
async fn patient_id(server: &TestServer, token: &str, number: &str) -> Option<String> {
    let system = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/client";
    let path = format!("Patient?identifier={system}|{number}");
    let (status, bundle) = json(server.request(Method::GET, &path, token).send().await.unwrap()).await;
    assert_eq!(status, 200, "{bundle}");
    entry_ids(&bundle).into_iter().next()
}

async fn made_up_vendor_with_flat_lists(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let mapping = Arc::new(Mapping::load(&repo().join("tests/fixtures/mappings/zorgdorp")).unwrap());
    let file = repo().join("tests/fixtures/deliveries/zorgdorp-1.json");
    let summary = ingest(&server.store, &mapping, &file).await;
    // P-1 and R-1 created; tombstones of P-3 and R-4, never written,
    // remembered (nothing to delete); R-3 not shared; rejected: P-2 (29
    // February 1981), R-2 (week 53 of 2024), R-5 (an unknown kind).
    assert_eq!(summary.records, 8);
    assert_eq!(counts(&summary), [2, 0, 2, 0, 1, 0, 0, 3]);
    // Each of the two with its Provenance.
    assert_eq!(summary.versions, 4);

    let (_, people) =
        json(server.request(Method::GET, "Patient?family=van%20Dijk", &token).send().await.unwrap()).await;
    let anna = entry_ids(&people);
    assert_eq!(anna.len(), 1);
    let (_, readings) = json(
        server.request(Method::GET, &format!("Observation?subject=Patient/{}", anna[0]), &token).send().await.unwrap(),
    )
    .await;
    let codes: Vec<&str> = readings["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["29463-7"], "{readings}");
    // Ids are not the source ids.
    assert_ne!(anna[0], "P-1");

    let (_, provenance) = json(
        server.request(Method::GET, &format!("Provenance?target=Patient/{}", anna[0]), &token).send().await.unwrap(),
    )
    .await;
    let entity = &provenance["entry"][0]["resource"]["entity"][0]["what"];
    assert_eq!(entity["identifier"]["system"], "https://zorgpoort.nl/fhir/NamingSystem/pameijer/zorgdorp/person");
    assert_eq!(entity["identifier"]["value"], "P-1");
    assert_eq!(entity["display"], "person P-1 in delivery zorgdorp-1.json of 2026-11-20T10:15:00+01:00");
}

async fn the_same_delivery_twice_writes_nothing_new(db: Db) {
    let server = TestServer::start(db).await;
    let deliveries = Deliveries::new();
    let d = delivery(
        "2026-02-01T10:00:00+01:00",
        json!([client(
            "1",
            "2026-01-10T09:00:00+01:00",
            json!({"metingen": [weight("W-1", "56,0", "2026-01-10T09:00:00+01:00")]})
        )]),
    );
    let file = deliveries.file("d.json", &d);
    let first = ingest(&server.store, &pluriform(), &file).await;
    // Staff member, client, meting; the client has no persoonsbeeld (a
    // tombstone with nothing to delete).
    assert_eq!(counts(&first), [3, 0, 1, 0, 0, 0, 0, 0], "{first:?}");
    let change = server.store.last_change(&tenant()).await.unwrap();
    let again = ingest(&server.store, &pluriform(), &file).await;
    assert_eq!(counts(&again), [0, 0, 4, 0, 0, 0, 0, 0], "{again:?}");
    assert_eq!(again.versions, 0);
    assert_eq!(server.store.last_change(&tenant()).await.unwrap(), change, "no version written");
}

async fn older_changes_never_overwrite_newer_ones(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    let mapping = pluriform();
    let one = |created: &str, value: &str, changed: &str| {
        delivery(
            created,
            json!([client("1", "2026-01-10T09:00:00+01:00", json!({"metingen": [weight("W-1", value, changed)]}))]),
        )
    };
    let newer = deliveries.file("newer.json", &one("2026-02-02T10:00:00+01:00", "60,0", "2026-02-02T09:00:00+01:00"));
    let older = deliveries.file("older.json", &one("2026-02-03T10:00:00+01:00", "50,0", "2026-02-01T09:00:00+01:00"));
    ingest(&server.store, &mapping, &newer).await;
    let late = ingest(&server.store, &mapping, &older).await;
    assert_eq!(late.stale, 1, "{late:?}");
    assert_eq!(weights_of(&server, &token, "1").await, vec![60.0]);

    // Changed at the same time with other content: the later delivery wins,
    // an earlier one does not.
    let same_time = "2026-02-02T09:00:00+01:00";
    let later = deliveries.file("later.json", &one("2026-02-04T10:00:00+01:00", "70,0", same_time));
    let earlier = deliveries.file("earlier.json", &one("2026-02-01T10:00:00+01:00", "80,0", same_time));
    assert_eq!(ingest(&server.store, &mapping, &later).await.updated, 1);
    // Stale too: the earlier delivery's word that the client has no
    // persoonsbeeld (a tombstone as of that delivery).
    assert_eq!(ingest(&server.store, &mapping, &earlier).await.stale, 2);
    assert_eq!(weights_of(&server, &token, "1").await, vec![70.0]);
}

async fn tombstones_are_remembered_and_a_client_tombstone_cascades(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    let mapping = pluriform();
    let full = delivery(
        "2026-02-01T10:00:00+01:00",
        json!([
            client(
                "1",
                "2026-01-10T09:00:00+01:00",
                json!({"metingen": [
                    weight("W-1", "56,0", "2026-01-10T09:00:00+01:00"),
                    weight("W-2", "57,0", "2026-01-10T09:00:00+01:00")
                ]})
            ),
            client(
                "2",
                "2026-01-10T09:00:00+01:00",
                json!({"metingen": [weight("W-3", "80,0", "2026-01-10T09:00:00+01:00")]})
            )
        ]),
    );
    ingest(&server.store, &mapping, &deliveries.file("full.json", &full)).await;
    let patient_1 = patient_id(&server, &token, "1").await.unwrap();
    let observations_1 = {
        let path = format!("Observation?patient={patient_1}");
        let (_, bundle) = json(server.request(Method::GET, &path, &token).send().await.unwrap()).await;
        entry_ids(&bundle)
    };
    assert_eq!(observations_1.len(), 2);

    // A tombstone for W-2, then (late) an older version of it.
    let tombstone = delivery(
        "2026-02-02T10:00:00+01:00",
        json!([{"clientnummer": "1", "metingen": [{"id": "W-2", "verwijderd": true, "gewijzigd": "2026-02-02T09:00:00+01:00"}]}]),
    );
    let summary = ingest(&server.store, &mapping, &deliveries.file("tombstone.json", &tombstone)).await;
    // The client comes as a container, and so does its persoonsbeeld.
    assert_eq!((summary.deleted, summary.containers), (1, 2), "{summary:?}");
    let late = delivery(
        "2026-02-03T10:00:00+01:00",
        json!([{"clientnummer": "1", "metingen": [weight("W-2", "57,5", "2026-01-20T09:00:00+01:00")]}]),
    );
    assert_eq!(ingest(&server.store, &mapping, &deliveries.file("late.json", &late)).await.stale, 1);
    assert_eq!(weights_of(&server, &token, "1").await, vec![56.0]);

    // The client's tombstone takes everything of the client, nothing of another.
    let gone = delivery(
        "2026-02-04T10:00:00+01:00",
        json!([{"clientnummer": "1", "verwijderd": true, "gewijzigd": "2026-02-04T09:00:00+01:00"}]),
    );
    assert_eq!(ingest(&server.store, &mapping, &deliveries.file("gone.json", &gone)).await.deleted, 1);
    let status = |path: String| {
        let request = server.request(Method::GET, &path, &token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("Patient/{patient_1}")).await, 410);
    for observation in &observations_1 {
        assert_eq!(status(format!("Observation/{observation}")).await, 410);
    }
    assert_eq!(weights_of(&server, &token, "2").await, vec![80.0]);

    // A newer record under the deleted client does not bring anything back.
    let orphan = delivery(
        "2026-02-05T10:00:00+01:00",
        json!([{"clientnummer": "1", "metingen": [weight("W-9", "50,0", "2026-02-05T09:00:00+01:00")]}]),
    );
    let summary = ingest(&server.store, &mapping, &deliveries.file("orphan.json", &orphan)).await;
    assert_eq!(summary.skipped, 1, "{summary:?}");
    assert_eq!(summary.warnings[0].message, "its client 1 is deleted");
    let (_, bundle) = json(server.request(Method::GET, "Observation", &token).send().await.unwrap()).await;
    assert_eq!(bundle["total"], 1, "only the other client's");
}

async fn two_ingests_at_once_keep_the_order_rule(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    let mapping = pluriform();
    for round in 0..4 {
        let number = format!("{round}");
        let one = |value: &str, changed: &str| {
            delivery(
                "2026-02-01T10:00:00+01:00",
                json!([client(
                    &number,
                    "2026-01-10T09:00:00+01:00",
                    json!({"metingen": [weight(&format!("W-{round}"), value, changed)]})
                )]),
            )
        };
        let newer = deliveries.file(&format!("newer-{round}.json"), &one("60,0", "2026-02-02T09:00:00+01:00"));
        let older = deliveries.file(&format!("older-{round}.json"), &one("50,0", "2026-02-01T09:00:00+01:00"));
        let (a, b) = (Arc::clone(&server.store), Arc::clone(&server.store));
        let (m1, m2) = (Arc::clone(&mapping), Arc::clone(&mapping));
        // Started in either order, at the same time.
        let (first, second) = if round % 2 == 0 { (newer, older) } else { (older, newer) };
        let (x, y) = tokio::join!(
            tokio::spawn(async move { ingest(&a, &m1, &first).await }),
            tokio::spawn(async move { ingest(&b, &m2, &second).await })
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.rejected + y.rejected, 0);
        assert_eq!(weights_of(&server, &token, &number).await, vec![60.0], "round {round}");
    }
}

async fn a_refused_delivery_writes_nothing(db: Db) {
    let server = TestServer::start(db).await;
    let deliveries = Deliveries::new();
    let mapping = pluriform();
    let good = delivery("2026-02-01T10:00:00+01:00", json!([client("1", "2026-01-10T09:00:00+01:00", json!({}))]));
    let mut other_org = good.clone();
    other_org["organisatie"]["code"] = json!("sheerenloo");
    let mut other_version = good.clone();
    other_version["versie"] = json!(2);
    let text = serde_json::to_string(&good).unwrap();
    let truncated = deliveries.0.path().join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() - 40]).unwrap();
    let cases = [
        (
            deliveries.file("other-org.json", &other_org),
            "this delivery is for organisation 'sheerenloo', not 'pameijer'",
        ),
        (deliveries.file("other-version.json", &other_version), "its version (`versie`) is 2, expected 1"),
        (truncated, "the delivery ends too soon (is it cut short?)"),
    ];
    for (file, expected) in cases {
        let error = ingest::ingest_file(&server.store, &mapping, &tenant(), &file, &Quiet).await.unwrap_err();
        assert!(matches!(&error, IngestError::Refused(r) if r.0.contains(expected)), "{file:?}: {error}");
    }
    assert_eq!(server.store.last_change(&tenant()).await.unwrap(), ChangeNumber(0));
    assert!(server.store.rejects(&tenant(), true).await.unwrap().is_empty());
}

async fn a_rejected_record_is_kept_and_replayed_after_the_mapping_is_fixed(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    // A copy of the made-up vendor's mapping, to fix.
    let folder = tempfile::tempdir().unwrap();
    let source = repo().join("tests/fixtures/mappings/zorgdorp");
    copy_dir(&source, folder.path());
    let mapping = Arc::new(Mapping::load(folder.path()).unwrap());
    let file = repo().join("tests/fixtures/deliveries/zorgdorp-1.json");
    assert_eq!(ingest(&server.store, &mapping, &file).await.rejected, 3);

    let open = server.store.rejects(&tenant(), false).await.unwrap();
    let ids: Vec<_> = open.iter().map(|r| r.reject.source_id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["P-2", "R-2", "R-5"]);
    let r = &open[2].reject;
    assert_eq!(
        (r.vendor.as_str(), r.delivery.as_str(), r.kind.as_str(), r.source_id.as_deref(), r.field.as_str()),
        ("zorgdorp", "zorgdorp-1.json", "reading", Some("R-5"), "kind")
    );
    assert!(r.reason.contains("`temperature` is not one of the known codes"), "{}", r.reason);
    // The same delivery again (or again after a crash): each reject kept once.
    assert_eq!(ingest(&server.store, &mapping, &file).await.rejected, 3);
    let numbers = |rejects: &[zorgpoort::store::StoredReject]| rejects.iter().map(|r| r.number).collect::<Vec<_>>();
    assert_eq!(numbers(&server.store.rejects(&tenant(), true).await.unwrap()), numbers(&open));

    // Without a mapping of its vendor here, a replay leaves them open.
    let none = ingest::replay::replay(&server.store, &[], &tenant(), open.clone()).await.unwrap();
    assert_eq!((none.records, none.rejected, none.created), (3, 3, 0));
    assert_eq!(server.store.rejects(&tenant(), false).await.unwrap().len(), 3);

    // Replaying with the mapping unchanged: still rejected, still open.
    let mappings = [Mapping::load(folder.path()).unwrap()];
    let again = ingest::replay::replay(&server.store, &mappings, &tenant(), open.clone()).await.unwrap();
    assert_eq!(again.rejected, 3);
    assert_eq!(server.store.rejects(&tenant(), false).await.unwrap().len(), 3);

    // The integration specialist adds the code; the replay writes the record.
    let toml = folder.path().join("mapping.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace(
        "[tables.reading]\n",
        "[tables.reading]\ntemperature = { system = \"http://loinc.org\", code = \"8310-5\", display = \"Body temperature\" }\n",
    );
    std::fs::write(&toml, text.replace("pulse = \"/min\"", "pulse = \"/min\"\ntemperature = \"Cel\"")).unwrap();
    let mappings = [Mapping::load(folder.path()).unwrap()];
    let replayed = ingest::replay::replay(&server.store, &mappings, &tenant(), open.clone()).await.unwrap();
    assert_eq!((replayed.created, replayed.rejected), (1, 2), "{replayed:?}");
    // Its person (P-2) is still rejected: the reading goes in without it.
    assert_eq!(replayed.warnings[0].message, "the reference to person P-2 resolves to nothing: left out");
    let still_open = server.store.rejects(&tenant(), false).await.unwrap();
    assert_eq!(still_open.iter().map(|r| r.number).collect::<Vec<_>>(), [open[0].number, open[1].number]);
    let all = server.store.rejects(&tenant(), true).await.unwrap();
    assert_eq!(
        all[2].resolution.as_deref(),
        Some("replayed from delivery zorgdorp-1.json of 2026-11-20T10:15:00+01:00")
    );
    let (_, bundle) =
        json(server.request(Method::GET, "Observation?code=http://loinc.org|8310-5", &token).send().await.unwrap())
            .await;
    assert_eq!(bundle["total"], 1);
    assert_eq!(bundle["entry"][0]["resource"]["valueQuantity"]["value"], 37.2);
}

async fn a_bewindvoerder_is_granted_money_matters_only(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    let representative = json!({
        "relatienummer": "R-1", "naam": {"voornamen": "Bert", "achternaam": "Bos"}, "relatie": null,
        "soort": "bewindvoerder", "volgorde": 1, "portaaltoegang": "volledig", "mag_schrijven": "J",
        "geldig_van": "01-01-2024", "geldig_tot": null, "gewijzigd": "2026-01-10T09:00:00+01:00"
    });
    let d = delivery(
        "2026-02-01T10:00:00+01:00",
        json!([client("1", "2026-01-10T09:00:00+01:00", json!({"vertegenwoordigers": [representative]}))]),
    );
    let summary = ingest(&server.store, &pluriform(), &deliveries.file("d.json", &d)).await;
    let warning = summary.warnings.iter().find(|w| w.kind == "vertegenwoordiger").expect("a warning");
    // A representative is a record per client: its relatienummer within the client.
    assert_eq!(warning.source_id, "R-1@1");
    assert_eq!(
        warning.message,
        "a bewindvoerder manages money only: access to agenda, consents, measurements, messages, plan, \
         questionnaires, reports left out of the grant"
    );
    let (_, bundle) = json(server.request(Method::GET, "Consent", &token).send().await.unwrap()).await;
    let grant = &bundle["entry"][0]["resource"];
    assert_eq!(grant["status"], "active");
    let classes: Vec<&str> =
        grant["provision"]["class"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(classes, ["identity", "profile", "finance"]);
    assert_eq!(grant["provision"].get("provision"), None, "no writing beyond money matters: {grant}");
    assert_eq!(grant["provision"]["actor"][0]["role"]["coding"][0]["code"], "14");
    assert_eq!(grant["provision"]["period"]["start"], "2024-01-01");
}

/// The grant of `relatienummer`, by the API.
async fn grant_of(server: &TestServer, token: &str, relatienummer: &str) -> Value {
    let system = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/vertegenwoordiger";
    let path = format!("Consent?identifier={system}|{relatienummer}");
    let (status, bundle) = json(server.request(Method::GET, &path, token).send().await.unwrap()).await;
    assert_eq!((status, bundle["total"].as_u64()), (200, Some(1)), "{bundle}");
    bundle["entry"][0]["resource"].clone()
}

/// Parental authority ends at 18 (access-model.md): a grant of an ouder
/// met gezag or a voogd ends the day before the client's 18th birthday,
/// whatever the delivery says, with a warning; the client's birth date
/// comes from the same delivery or, for a container, from the store.
async fn parental_authority_ends_at_18(db: Db) {
    use chrono::Datelike;
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    // Born on 1 January 17 years ago: 17 all this year, 18 on the first
    // day of the next.
    let year = chrono::Utc::now().year() - 17;
    let last_day = format!("{}-12-31", year + 17);
    let representative = |number: &str, soort: &str, until: Option<&str>| {
        json!({
            "relatienummer": number, "naam": {"voornamen": "Anna", "achternaam": "Berg"}, "relatie": "moeder",
            "soort": soort, "volgorde": 1, "portaaltoegang": "volledig", "mag_schrijven": "J",
            "email": format!("{number}@example.nl"), "geldig_van": "01-01-2024", "geldig_tot": until,
            "gewijzigd": "2026-01-10T09:00:00+01:00"
        })
    };
    let minor = json!({"geboortedatum": format!("01-01-{year}"), "vertegenwoordigers": [
        representative("R-1", "ouder_met_gezag", None),
        representative("R-2", "gemachtigde", None),
    ]});
    let d = delivery("2026-02-01T10:00:00+01:00", json!([client("1", "2026-01-10T09:00:00+01:00", minor)]));
    let summary = ingest(&server.store, &pluriform(), &deliveries.file("d.json", &d)).await;
    // The staff member, the client, R-1 and R-2.
    assert_eq!((summary.created, summary.rejected), (4, 0), "{summary:?}");
    let warnings: Vec<(&str, &str)> =
        summary.warnings.iter().map(|w| (w.source_id.as_str(), w.message.as_str())).collect();
    let expected = |kind: &str| {
        format!(
            "parental authority ends at 18: the grant of {kind} ends on {last_day}, the day before the client's 18th birthday"
        )
    };
    assert_eq!(warnings, [("R-1@1", expected("ouder met gezag").as_str())]);
    let ouder = grant_of(&server, &token, "R-1").await;
    assert_eq!(ouder["status"], "active");
    assert_eq!(ouder["provision"]["period"], json!({"start": "2024-01-01", "end": last_day}));
    // A schriftelijk gemachtigde (also COD472 24) holds on.
    let gemachtigde = grant_of(&server, &token, "R-2").await;
    assert_eq!(gemachtigde["provision"]["period"], json!({"start": "2024-01-01"}));

    // An incremental delivery: the client comes as a container, with a
    // voogd whose end the ECD put after the 18th birthday, and an ouder
    // met gezag whose end is earlier (kept). The birth date is the stored
    // client's.
    let container = json!({"clientnummer": "1", "vertegenwoordigers": [
        representative("R-3", "voogd", Some("01-01-2040")),
        representative("R-4", "ouder_met_gezag", Some(&format!("30-06-{}", year + 17))),
    ]});
    let d = delivery("2026-02-02T10:00:00+01:00", json!([container]));
    let summary = ingest(&server.store, &pluriform(), &deliveries.file("d2.json", &d)).await;
    assert_eq!((summary.created, summary.rejected), (2, 0), "{summary:?}");
    let warnings: Vec<(&str, &str)> =
        summary.warnings.iter().map(|w| (w.source_id.as_str(), w.message.as_str())).collect();
    assert_eq!(warnings, [("R-3@1", expected("voogd").as_str())]);
    let voogd = grant_of(&server, &token, "R-3").await;
    assert_eq!(voogd["provision"]["period"], json!({"start": "2024-01-01", "end": last_day}));
    let earlier = grant_of(&server, &token, "R-4").await;
    assert_eq!(earlier["provision"]["period"]["end"], format!("{}-06-30", year + 17));
}

async fn a_record_twice_in_one_delivery_is_one_resource(db: Db) {
    let server = TestServer::start(db).await;
    let token = server.token(TENANT, "system/*.rs").await;
    let deliveries = Deliveries::new();
    let changed = "2026-01-10T09:00:00+01:00";
    let d = delivery(
        "2026-02-01T10:00:00+01:00",
        json!([client(
            "1",
            changed,
            json!({"metingen": [weight("W-1", "56,0", changed), weight("W-1", "57,0", changed)]})
        )]),
    );
    let summary = ingest(&server.store, &pluriform(), &deliveries.file("twice.json", &d)).await;
    assert_eq!((summary.created, summary.updated), (3, 1), "{summary:?}");
    assert_eq!(weights_of(&server, &token, "1").await, vec![57.0]);
    let (_, bundle) = json(server.request(Method::GET, "Observation", &token).send().await.unwrap()).await;
    assert_eq!(bundle["entry"][0]["resource"]["meta"]["versionId"], "2");
}

async fn a_record_the_store_cannot_take_is_kept_and_the_others_go_in(db: Db) {
    let server = TestServer::start(db).await;
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/mappings/zorgdorp"), folder.path());
    // A mapping mistake the engine cannot see: an element R4 does not have.
    let template = folder.path().join("templates/reading.json");
    let good = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, good.replace("\"valueQuantity\"", "\"valueAmount\"")).unwrap();
    let mapping = Arc::new(Mapping::load(folder.path()).unwrap());
    let file = repo().join("tests/fixtures/deliveries/zorgdorp-1.json");
    let summary = ingest(&server.store, &mapping, &file).await;
    // P-1 still goes in; R-1 joins the three the mapping rejects.
    assert_eq!((summary.created, summary.rejected), (1, 4), "{summary:?}");

    let open = server.store.rejects(&tenant(), false).await.unwrap();
    let r1 = open.iter().find(|r| r.reject.source_id.as_deref() == Some("R-1")).expect("R-1 kept");
    assert_eq!((r1.reject.kind.as_str(), r1.reject.field.as_str()), ("reading", "Observation"));
    assert!(r1.reject.reason.starts_with("Observation is not valid R4"), "{}", r1.reject.reason);
    let kept: Value = serde_json::from_str(&r1.reject.record).unwrap();
    assert_eq!(kept["ref"], "R-1");
    assert_eq!(kept["value"], 56.0);

    // The template mended, a replay writes it.
    std::fs::write(&template, good).unwrap();
    let mappings = [Mapping::load(folder.path()).unwrap()];
    let replayed = ingest::replay::replay(&server.store, &mappings, &tenant(), vec![r1.clone()]).await.unwrap();
    assert_eq!((replayed.created, replayed.rejected), (1, 0), "{replayed:?}");
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

crate::on_both_databases!(
    made_up_vendor_with_flat_lists,
    the_same_delivery_twice_writes_nothing_new,
    older_changes_never_overwrite_newer_ones,
    tombstones_are_remembered_and_a_client_tombstone_cascades,
    two_ingests_at_once_keep_the_order_rule,
    a_refused_delivery_writes_nothing,
    a_rejected_record_is_kept_and_replayed_after_the_mapping_is_fixed,
    a_bewindvoerder_is_granted_money_matters_only,
    parental_authority_ends_at_18,
    a_record_twice_in_one_delivery_is_one_resource,
    a_record_the_store_cannot_take_is_kept_and_the_others_go_in,
);
