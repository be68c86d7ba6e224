//! The Caress samples ingested in the documented order (the full
//! delivery, then its incremental one in a default namespace), read back
//! through the FHIR API of the tenant `sheerenloo`: counts per client and
//! type, references resolved to whichever record exists, the delta's
//! tombstone gone with 410, and a second ingest that writes nothing.

use std::path::Path;
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use zorgpoort::fhir::TenantCode;
use zorgpoort::ingest::{self, Quiet, Summary};
use zorgpoort::mapping::spec::Mapping;

use crate::common::{Db, OTHER_TENANT, TestServer, json};

const NAMING: &str = "https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/caress";

struct Api<'a> {
    server: &'a TestServer,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("{}/{path}", self.server.base(OTHER_TENANT));
        json(self.server.client.request(Method::GET, url).bearer_auth(&self.token).send().await.unwrap()).await
    }

    async fn status(&self, path: &str) -> u16 {
        self.get(path).await.0
    }

    /// The one resource of `resource_type` with this source identifier.
    async fn by_source(&self, resource_type: &str, kind: &str, id: &str) -> Value {
        let (status, bundle) = self.get(&format!("{resource_type}?identifier={NAMING}/{kind}|{id}")).await;
        assert_eq!(status, 200, "{bundle}");
        let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
        assert_eq!(entries.len(), 1, "{kind} {id}: {bundle}");
        entries[0]["resource"].clone()
    }

    /// The id of a client's Patient.
    async fn patient(&self, id: &str) -> String {
        self.by_source("Patient", "client", id).await["id"].as_str().unwrap().to_owned()
    }

    /// How many current resources of each type the client has.
    async fn counts(&self, patient: &str) -> Vec<u64> {
        let mut counts = Vec::new();
        for t in TYPES {
            let (status, bundle) = self.get(&format!("{t}?patient={patient}&_summary=count")).await;
            assert_eq!(status, 200, "{t}: {bundle}");
            counts.push(bundle["total"].as_u64().unwrap());
        }
        counts
    }
}

const TYPES: [&str; 9] = [
    "RelatedPerson",
    "Consent",
    "Communication",
    "Goal",
    "CarePlan",
    "QuestionnaireResponse",
    "Appointment",
    "CareTeam",
    "EpisodeOfCare",
];

async fn ingest(server: &TestServer, mapping: &Arc<Mapping>, name: &str) -> Summary {
    let tenant = TenantCode::parse(OTHER_TENANT).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples").join(name);
    ingest::ingest_file(&server.store, mapping, &tenant, &path, &Quiet).await.unwrap()
}

async fn caress_samples_read_back_per_client(db: Db) {
    let server = TestServer::start(db).await;
    let api = Api { server: &server, token: server.token(OTHER_TENANT, "system/*.rs").await };
    let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/caress")).unwrap());

    // Refused whole, nothing written: cut short, an entity bomb, another
    // organisation's delivery.
    let tenant = TenantCode::parse(OTHER_TENANT).unwrap();
    let empty = server.store.last_change(&tenant).await.unwrap();
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vendor-samples/caress-sheerenloo.xml"),
    )
    .unwrap();
    let bomb = sample.replacen(
        "<c:Export",
        "<!DOCTYPE c:Export [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<c:Export",
        1,
    );
    for broken in [&sample[..sample.len() - 200], bomb.as_str(), &sample.replace("\"sheerenloo\"", "\"pameijer\"")] {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), broken).unwrap();
        let refused = ingest::ingest_file(&server.store, &mapping, &tenant, file.path(), &Quiet).await;
        assert!(matches!(refused, Err(ingest::IngestError::Refused(_))), "{refused:?}");
    }
    assert_eq!(server.store.last_change(&tenant).await.unwrap(), empty);

    let full = ingest(&server, &mapping, "caress-sheerenloo.xml").await;
    assert_eq!((full.records, full.rejected, full.created), (58, 0, 58), "{full:?}");
    assert!(full.warnings.is_empty(), "{full:?}");
    let appointment = api.by_source("Appointment", "afspraak", "A-3100021-2").await;
    let appointment_id = appointment["id"].as_str().unwrap().to_owned();

    let delta = ingest(&server, &mapping, "caress-sheerenloo-delta.xml").await;
    assert_eq!((delta.records, delta.rejected, delta.containers, delta.deleted), (2, 0, 1, 1), "{delta:?}");

    // Per client: contact persons with their grants, notes and messages,
    // goals with their actions, questionnaires, agenda, care team, care period.
    let p10 = api.patient("3100010").await;
    assert_eq!(api.counts(&p10).await, [2, 2, 5, 0, 0, 0, 4, 1, 1], "3100010");
    let p21 = api.patient("3100021").await;
    assert_eq!(api.counts(&p21).await, [0, 0, 3, 3, 3, 1, 4, 1, 1], "3100021");
    let p30 = api.patient("3100030").await;
    assert_eq!(api.counts(&p30).await, [1, 1, 7, 3, 3, 0, 0, 1, 1], "3100030");
    let p42 = api.patient("3100042").await;
    assert_eq!(api.counts(&p42).await, [1, 1, 8, 1, 1, 0, 5, 1, 1], "3100042");

    // The delta's tombstone: gone with 410, the others of the client stay.
    assert_eq!(api.status(&format!("Appointment/{appointment_id}")).await, 410);

    // References resolve to whichever record exists: staff, the client, a
    // part of the client (its GP), the goal of a plan.
    let staff = api.by_source("Practitioner", "medewerker", "E-4").await;
    let note = api.by_source("Communication", "aantekening", "N-3100010-0").await;
    assert_eq!(note["sender"]["reference"], format!("Practitioner/{}", staff["id"].as_str().unwrap()));
    assert_eq!(note["subject"]["reference"], format!("Patient/{p10}"));
    let message = api.by_source("Communication", "bericht", "MSG-3100010-1").await;
    assert_eq!(message["sender"]["reference"], format!("Patient/{p10}"));
    let team = api.by_source("CareTeam", "client", "3100042").await;
    let gp = team["participant"][1]["member"]["reference"].as_str().unwrap();
    let (status, organization) = api.get(gp).await;
    assert_eq!((status, organization["name"].as_str()), (200, Some("Huisartsenpraktijk De Linde")));
    let goal = api.by_source("Goal", "doel", "G-3100021-0").await;
    let plan = api.by_source("CarePlan", "doel", "G-3100021-0").await;
    assert_eq!(plan["goal"][0]["reference"], format!("Goal/{}", goal["id"].as_str().unwrap()));
    // A private item keeps its label next to the data category.
    // Care-side readers (every system token) see only when it is, in a
    // search, a read, a history and a batch alike; a public item whole.
    let private = api.by_source("Appointment", "afspraak", "A-3100010-0").await;
    let labels: Vec<&str> =
        private["meta"]["security"].as_array().unwrap().iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(labels, ["R", "agenda", "REDACTED"]);
    let private_id = private["id"].as_str().unwrap();
    let (_, read) = api.get(&format!("Appointment/{private_id}")).await;
    let (_, history) = api.get(&format!("Appointment/{private_id}/_history")).await;
    let patient = private["participant"][0]["actor"]["reference"].as_str().unwrap().trim_start_matches("Patient/");
    let (_, search) = api.get(&format!("Appointment?patient={patient}&_revinclude=Provenance:target")).await;
    for (what, served) in [("read", &read), ("history", &history), ("search", &search)] {
        let text = served.to_string();
        assert!(!text.contains("Geheim-A-3100010-0") && !text.contains("Tandarts"), "{what}: {text}");
    }
    assert_eq!((read["start"].as_str(), read["end"].as_str()), (private["start"].as_str(), private["end"].as_str()));
    assert!(read["start"].is_string() && read.get("description").is_none());
    let public = api.by_source("Appointment", "afspraak", "A-3100010-1").await;
    assert_eq!(
        (public["description"].as_str(), public["comment"].as_str()),
        (Some("Verjaardag oma"), Some("Geheim-A-3100010-1"))
    );
    assert!(search.to_string().contains("Geheim-A-3100010-1"), "the public item of the same client is whole");
    // The mentor's grant: identity only; the bewindvoerder's: inactive.
    let grant = api.by_source("Consent", "contactpersoon", "CP-3100010-0").await;
    assert_eq!(grant["provision"]["class"].as_array().unwrap().len(), 1);
    assert_eq!(api.by_source("Consent", "contactpersoon", "CP-3100030-0").await["status"], "inactive");

    // Both deliveries again: nothing new.
    let before = server.store.last_change(&tenant).await.unwrap();
    for name in ["caress-sheerenloo.xml", "caress-sheerenloo-delta.xml"] {
        let again = ingest(&server, &mapping, name).await;
        assert_eq!((again.created, again.updated, again.deleted, again.versions), (0, 0, 0, 0), "{name}: {again:?}");
    }
    assert_eq!(server.store.last_change(&tenant).await.unwrap(), before);
}

/// A hand-made delivery: authors and recipients that are contact persons
/// or staff, one that is neither (a warning), a Verwijderd of a type no
/// kind takes (kept as a reject), then a client tombstone that takes
/// everything of the client with it.
async fn contact_persons_staff_rejects_and_a_client_tombstone(db: Db) {
    let server = TestServer::start(db).await;
    let api = Api { server: &server, token: server.token(OTHER_TENANT, "system/*.rs").await };
    let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/caress")).unwrap());
    let export = |created: &str, inside: &str| {
        format!(
            "<ce:Export xmlns:ce=\"urn:caress:export:2\" organisatie=\"sheerenloo\" aangemaakt=\"{created}\">{inside}</ce:Export>"
        )
    };
    let first = export(
        "2026-11-20T10:00:00+01:00",
        "<ce:Medewerker id=\"E-77\" naam=\"Pieter Bakker\" rol=\"PB\"/>\
         <ce:Client id=\"3100457\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><ce:Persoon><ce:Achternaam>Test</ce:Achternaam></ce:Persoon>\
         <ce:Contactpersonen><ce:Contactpersoon id=\"CP-9\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><ce:Naam achternaam=\"Zus\"/>\
         <ce:Portaal actief=\"true\" rechten=\"berichten\"/></ce:Contactpersoon></ce:Contactpersonen>\
         <ce:Berichten><ce:Bericht id=\"MSG-1\" verzonden=\"08-03-24 14:10\" van=\"CP-9\" aan=\"E-77\">Hallo</ce:Bericht>\
         <ce:Bericht id=\"MSG-2\" verzonden=\"08-03-24 14:12\" van=\"E-99\" aan=\"client\">Wie?</ce:Bericht></ce:Berichten>\
         <ce:Verwijderd type=\"Factuur\" id=\"F-1\" gewijzigd=\"2026-11-20T09:00:00+01:00\"/></ce:Client>",
    );
    let summary = ingest_text(&server, &mapping, &first).await;
    assert_eq!((summary.created, summary.rejected), (5, 1), "{summary:?}");
    assert_eq!(summary.warnings.len(), 1, "{summary:?}");
    assert!(
        summary.warnings[0].message.contains("the reference to contactpersoon or medewerker E-99 resolves to nothing"),
        "{summary:?}"
    );
    let person = api.by_source("RelatedPerson", "contactpersoon", "CP-9").await;
    let staff = api.by_source("Practitioner", "medewerker", "E-77").await;
    let hello = api.by_source("Communication", "bericht", "MSG-1").await;
    assert_eq!(hello["sender"]["reference"], format!("RelatedPerson/{}", person["id"].as_str().unwrap()));
    assert_eq!(hello["recipient"][0]["reference"], format!("Practitioner/{}", staff["id"].as_str().unwrap()));
    assert!(api.by_source("Communication", "bericht", "MSG-2").await.get("sender").is_none());
    let tenant = TenantCode::parse(OTHER_TENANT).unwrap();
    let rejects = server.store.rejects(&tenant, false).await.unwrap();
    assert_eq!(rejects.len(), 1);
    let kept = &rejects[0].reject;
    assert_eq!(
        (kept.kind.as_str(), kept.source_id.as_deref(), kept.field.as_str()),
        ("verwijderd", Some("F-1"), "type")
    );
    assert!(kept.record.contains("Factuur"), "{}", kept.record);

    let patient = api.patient("3100457").await;
    let tombstone = export(
        "2026-11-21T10:00:00+01:00",
        "<ce:Client id=\"3100457\" gewijzigd=\"2026-11-21T09:00:00+01:00\" verwijderd=\"true\"/>",
    );
    let summary = ingest_text(&server, &mapping, &tombstone).await;
    assert_eq!((summary.deleted, summary.rejected), (1, 0), "{summary:?}");
    assert_eq!(api.status(&format!("Patient/{patient}")).await, 410);
    assert_eq!(api.status(&format!("RelatedPerson/{}", person["id"].as_str().unwrap())).await, 410);
    assert_eq!(api.status(&format!("Communication/{}", hello["id"].as_str().unwrap())).await, 410);
    assert_eq!(api.counts(&patient).await, [0; 9]);
    // Staff are no one's: they stay.
    assert_eq!(api.status(&format!("Practitioner/{}", staff["id"].as_str().unwrap())).await, 200);
}

async fn ingest_text(server: &TestServer, mapping: &Arc<Mapping>, xml: &str) -> Summary {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), xml).unwrap();
    let tenant = TenantCode::parse(OTHER_TENANT).unwrap();
    ingest::ingest_file(&server.store, mapping, &tenant, file.path(), &Quiet).await.unwrap()
}

crate::on_both_databases!(caress_samples_read_back_per_client, contact_persons_staff_rejects_and_a_client_tombstone);
