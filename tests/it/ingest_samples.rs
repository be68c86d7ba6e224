//! The vendor's own samples, ingested in the documented order (the full
//! Pluriform delivery, the MijnEigenPlan events, then the incremental
//! Pluriform delivery), read back through the
//! FHIR API: what each client has, the facts the contract singles out, and
//! a second ingest that writes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use zorgpoort::fhir::TenantCode;
use zorgpoort::ingest::{self, Quiet, Summary};
use zorgpoort::mapping::spec::Mapping;

use crate::common::{Db, TENANT, TestServer, entry_ids, json};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples").join(name)
}

const NAMING: &str = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform";
const MEP_NAMING: &str = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/mijneigenplan";

struct Api<'a> {
    server: &'a TestServer,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> (u16, Value) {
        json(self.server.request(Method::GET, path, &self.token).send().await.unwrap()).await
    }

    async fn status(&self, path: &str) -> u16 {
        self.server.request(Method::GET, path, &self.token).send().await.unwrap().status().as_u16()
    }

    /// The one resource of `resource_type` with this source identifier.
    async fn by_source(&self, resource_type: &str, kind: &str, id: &str) -> Option<Value> {
        self.by_identifier(resource_type, NAMING, kind, id).await
    }

    /// The one resource of `resource_type` a MijnEigenPlan record became.
    async fn by_mep(&self, resource_type: &str, kind: &str, id: &str) -> Option<Value> {
        self.by_identifier(resource_type, MEP_NAMING, kind, id).await
    }

    async fn by_identifier(&self, resource_type: &str, naming: &str, kind: &str, id: &str) -> Option<Value> {
        let (status, bundle) = self.get(&format!("{resource_type}?identifier={naming}/{kind}|{id}")).await;
        assert_eq!(status, 200, "{bundle}");
        let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
        assert!(entries.len() <= 1, "{kind} {id}: {bundle}");
        entries.first().map(|e| e["resource"].clone())
    }

    /// How many current resources of each type the client has.
    async fn counts(&self, patient: &str, types: &[&str]) -> Vec<u64> {
        let mut counts = Vec::new();
        for t in types {
            let (status, bundle) = self.get(&format!("{t}?patient={patient}&_summary=count")).await;
            assert_eq!(status, 200, "{t}: {bundle}");
            counts.push(bundle["total"].as_u64().unwrap());
        }
        counts
    }
}

async fn ingest(server: &TestServer, mapping: &Arc<Mapping>, name: &str) -> Summary {
    let tenant = TenantCode::parse(TENANT).unwrap();
    ingest::ingest_file(&server.store, mapping, &tenant, &sample(name), &Quiet).await.unwrap()
}

const TYPES: [&str; 11] = [
    "RelatedPerson",
    "Consent",
    "Communication",
    "Observation",
    "Goal",
    "CarePlan",
    "DocumentReference",
    "Invoice",
    "CareTeam",
    "EpisodeOfCare",
    "Provenance",
];

async fn pluriform_samples_read_back_per_client(db: Db) {
    let server = TestServer::start(db).await;
    let api = Api { server: &server, token: server.token(TENANT, "system/*.rs").await };
    let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/pluriform")).unwrap());

    let full = ingest(&server, &mapping, "pluriform-pameijer.json").await;
    assert_eq!((full.records, full.rejected), (110, 0), "{full:?}");
    // Two not for the portal (RR-100009-0 and the concept plan CP-100026-0);
    // two clients without a persoonsbeeld (its tombstone, with nothing to delete).
    assert_eq!((full.created, full.skipped, full.unchanged), (106, 2, 2), "{full:?}");
    let report_2 = api.by_source("Communication", "rapportage", "RR-100009-2").await.unwrap();
    let client_3 = api.by_source("Patient", "client", "100003").await.unwrap();
    let client_3_id = client_3["id"].as_str().unwrap();

    // The MijnEigenPlan events: accounts u-50000 and u-50001 link to
    // clients 100003 and 100009; u-99999 has no extern_id.
    let mep = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/mijneigenplan")).unwrap());
    let mep_types = ["Observation", "CarePlan", "Appointment"];
    let before = api.counts(client_3_id, &mep_types).await;
    let events = ingest(&server, &mep, "mep-pameijer.ndjson").await;
    // Created: three accounts, eight emotions, two plans, two completed
    // steps, two activities; unchanged: the two duplicate lines; held: the
    // emotion of u-99999; rejected: the unknown kind `zoeklicht`.
    assert_eq!(
        (events.records, events.created, events.unchanged, events.held, events.rejected),
        (21, 17, 2, 1, 1),
        "{events:?}"
    );
    assert!(api.by_mep("Observation", "emotie", "e-17").await.is_none(), "held: seen by nobody");
    let plan_3 = api.by_mep("CarePlan", "stappenplan", "sp-0").await.unwrap();
    assert_eq!(plan_3["subject"]["reference"], format!("Patient/{client_3_id}"));
    assert_eq!(plan_3["activity"][1]["detail"]["status"], "completed");
    let emotion_3 = api.by_mep("Observation", "emotie", "e-4").await.unwrap();
    // Five emotions, one plan, one activity more.
    let after = api.counts(client_3_id, &mep_types).await;
    assert_eq!([after[0] - before[0], after[1] - before[1], after[2] - before[2]], [5, 1, 1]);

    let delta = ingest(&server, &mapping, "pluriform-pameijer-delta.json").await;
    assert_eq!(delta.rejected, 0, "{delta:?}");
    // Updated: the three metingen changed on the 21st; stale: the three
    // changed on the 19th; deleted: two reports and client 100003.
    assert_eq!((delta.updated, delta.stale, delta.deleted), (3, 3, 3), "{delta:?}");

    // Client 100009: two representatives (each with an access grant), four
    // reports of which one was deleted since, one message, eleven
    // measurements, one consent, a persoonsbeeld and an invoice with its PDF;
    // its care team and care period; `Provenance?patient=` finds the
    // Provenance of the Patient itself (R4: a target that is the Patient).
    let p9 = api.by_source("Patient", "client", "100009").await.unwrap();
    let p9_id = p9["id"].as_str().unwrap();
    assert_eq!(p9["identifier"][0]["system"], "http://fhir.nl/fhir/NamingSystem/bsn");
    // Three of its Observations are emotions and its one CarePlan a step
    // plan, with an activity, from MijnEigenPlan.
    assert_eq!(api.counts(p9_id, &TYPES).await, [2, 3, 4, 14, 0, 1, 2, 1, 1, 1, 1], "100009");
    assert_eq!(api.counts(p9_id, &["Appointment"]).await, [1]);
    let plan_9 = api.by_mep("CarePlan", "stappenplan", "sp-1").await.unwrap();
    assert_eq!(plan_9["subject"]["reference"], format!("Patient/{p9_id}"));
    let p15 = api.by_source("Patient", "client", "100015").await.unwrap();
    let p15_id = p15["id"].as_str().unwrap();
    assert_eq!(api.counts(p15_id, &TYPES).await, [1, 4, 13, 10, 2, 1, 2, 1, 1, 1, 1], "100015");
    let p26 = api.by_source("Patient", "client", "100026").await.unwrap();
    let p26_id = p26["id"].as_str().unwrap();
    assert_eq!(api.counts(p26_id, &TYPES).await, [0, 3, 4, 14, 1, 1, 5, 2, 1, 1, 1], "100026");

    // The newer update applied, the older one ignored; decimal commas.
    let m0 = api.by_source("Observation", "meting", "M-100009-0").await.unwrap();
    assert_eq!(m0["valueQuantity"]["value"], 77.7);
    assert_eq!(m0["meta"]["versionId"], "2");
    let m7 = api.by_source("Observation", "meting", "M-100009-7").await.unwrap();
    assert_eq!(m7["valueQuantity"]["value"], 66.9);
    assert_eq!(m7["meta"]["versionId"], "1");
    assert_eq!((m7["valueQuantity"]["unit"].as_str(), m7["valueQuantity"]["code"].as_str()), (Some("kg"), Some("kg")));
    assert_eq!(m7["code"]["coding"][0]["code"], "29463-7");
    // Winter and summer time.
    assert_eq!(m0["effectiveDateTime"], "2024-12-07T05:55:00+01:00");
    let summer = api.by_source("Observation", "meting", "M-100026-11").await.unwrap();
    assert_eq!(summer["effectiveDateTime"], "2021-07-04T15:40:00+02:00");
    assert_eq!(summer["subject"]["reference"], format!("Patient/{p26_id}"));

    // Never stored: the report not for the portal, the concept plan.
    assert!(api.by_source("Communication", "rapportage", "RR-100009-0").await.is_none());
    assert!(api.by_source("CarePlan", "clientplan", "CP-100026-0").await.is_none());

    // Tombstoned: gone with 410, also everything of the deleted client.
    assert_eq!(api.status(&format!("Communication/{}", report_2["id"].as_str().unwrap())).await, 410);
    assert_eq!(api.status(&format!("Patient/{client_3_id}")).await, 410);
    assert_eq!(api.counts(client_3_id, &TYPES).await, [0; 11]);
    // Its MijnEigenPlan data went with it.
    assert_eq!(api.counts(client_3_id, &["Appointment"]).await, [0]);
    assert_eq!(api.status(&format!("CarePlan/{}", plan_3["id"].as_str().unwrap())).await, 410);
    assert_eq!(api.status(&format!("Observation/{}", emotion_3["id"].as_str().unwrap())).await, 410);

    // A Provenance for every written resource, visible with it.
    let (_, provenance) = api.get(&format!("Provenance?target=Observation/{}", m0["id"].as_str().unwrap())).await;
    let ids = entry_ids(&provenance);
    assert_eq!(ids.len(), 1, "{provenance}");
    let target = provenance["entry"][0]["resource"]["target"][0]["reference"].as_str().unwrap();
    assert_eq!(target, format!("Observation/{}/_history/2", m0["id"].as_str().unwrap()));

    // Both deliveries again: nothing new.
    let tenant = TenantCode::parse(TENANT).unwrap();
    let before = server.store.last_change(&tenant).await.unwrap();
    for (name, mapping) in [
        ("pluriform-pameijer.json", &mapping),
        ("mep-pameijer.ndjson", &mep),
        ("pluriform-pameijer-delta.json", &mapping),
    ] {
        let again = ingest(&server, mapping, name).await;
        assert_eq!((again.created, again.updated, again.deleted, again.versions), (0, 0, 0, 0), "{name}: {again:?}");
    }
    assert_eq!(server.store.last_change(&tenant).await.unwrap(), before);
}

crate::on_both_databases!(pluriform_samples_read_back_per_client);
