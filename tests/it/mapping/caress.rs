//! The contract's Caress samples through `mappings/caress` and the XML
//! reader: zero rejections, every resource valid R4, the whole mapped
//! output equal to its golden file (`tests/golden/mapping/`), and the
//! samples' key facts checked by hand.

use serde_json::{Value, json};
use zorgpoort::fhir::model::check_structure;
use zorgpoort::mapping::engine::{Action, MappedRecord, RecordOutcome, Rejection};

use super::{describe, fixtures, map_caress_file, mapped, outcome, part, parts, written};
use crate::common::schema::assert_valid;

/// Every resource of mapped records is valid R4 (JSON schema and the
/// structure check) and of its declared type.
pub fn assert_all_valid(outcomes: &[RecordOutcome]) {
    for record in outcomes.iter().map(mapped) {
        if let Action::Write(resources) = &record.action {
            for resource in resources {
                assert_eq!(resource.resource["resourceType"], resource.resource_type.as_str());
                assert_valid(&resource.resource);
                check_structure(&resource.resource)
                    .unwrap_or_else(|e| panic!("{} {} {}: {e}", record.kind, record.source_id, resource.part));
            }
        }
    }
}

#[test]
fn caress_samples_map_as_their_golden_files() {
    let mut all = Vec::new();
    for sample in ["caress-sheerenloo.xml", "caress-sheerenloo-delta.xml"] {
        let outcomes = map_caress_file(&fixtures().join("vendor-samples").join(sample)).unwrap();
        let rejections: Vec<&Rejection> = outcomes
            .iter()
            .filter_map(|o| match o {
                RecordOutcome::Rejected(r) => Some(r),
                RecordOutcome::Mapped(_) => None,
            })
            .collect();
        assert!(rejections.is_empty(), "{sample}: {rejections:#?}");
        assert_all_valid(&outcomes);
        let described: Vec<Value> = outcomes.iter().map(|o| describe(mapped(o))).collect();
        let golden = sample.replace(".xml", ".json");
        crate::common::golden::check(&format!("mapping/{golden}"), &Value::Array(described));
        all.push(outcomes);
    }
    let (full, delta) = (&all[0], &all[1]);

    // Staff first, then each client with everything under it.
    let kinds: Vec<&str> = full.iter().map(|o| mapped(o).kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "medewerker").count(), 5);
    assert_eq!(&kinds[..6], ["medewerker"; 5].iter().copied().chain(["client"]).collect::<Vec<_>>());
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!([count("client"), count("contactpersoon"), count("doel"), count("aantekening")], [4, 4, 7, 16]);
    assert_eq!([count("vragenlijst"), count("afspraak"), count("bericht")], [1, 14, 7]);

    let resource = |kind: &str, id: &str| written(mapped(outcome(full, kind, id)));
    // The client: BSN, name parts, X is other, the parts kept per client.
    let client = mapped(outcome(full, "client", "3100042"));
    assert_eq!(parts(client), ["", "episode", "huisarts", "apotheek", "careteam"]);
    let patient = written(client);
    assert_eq!(
        patient["identifier"][0],
        json!({"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999973034"})
    );
    assert_eq!(patient["name"][0]["family"], "van der Meijer");
    assert_eq!(patient["gender"], "female");
    assert_eq!(resource("client", "3100010")["gender"], "other");
    assert_eq!(part(client, "huisarts")["identifier"][0]["value"], "01012345");
    let team = part(client, "careteam");
    assert_eq!(team["participant"][0]["member"]["reference"], "urn:zorgpoort:source:medewerker:E-3");
    assert_eq!(team["participant"][1]["member"]["reference"], "urn:zorgpoort:source:client:3100042#huisarts");
    assert_eq!(team["participant"][2]["member"]["reference"], "urn:zorgpoort:source:client:3100042#apotheek");
    // Entities and CDATA decoded.
    assert_eq!(resource("doel", "G-3100021-0")["description"]["text"], "Ik ga zelf met de bus naar mijn werk & terug.");
    assert_eq!(
        resource("aantekening", "N-3100010-0")["payload"][0]["contentString"],
        "Dag verliep <rustig> (N-3100010-0)"
    );
    // Two-digit years, winter and summer, the leap day.
    assert_eq!(resource("aantekening", "N-3100010-2")["sent"], "2024-02-29T12:10:00+01:00");
    assert_eq!(resource("aantekening", "N-3100021-0")["sent"], "2024-05-28T03:15:00+02:00");
    // A staff author, a message from the client to staff.
    assert_eq!(
        resource("aantekening", "N-3100021-0")["sender"]["reference"],
        "urn:zorgpoort:source:contactpersoon|medewerker:E-4"
    );
    let message = resource("bericht", "MSG-3100010-1");
    assert_eq!(message["sender"]["reference"], "urn:zorgpoort:source:client:3100010");
    assert_eq!(message["recipient"][0]["reference"], "urn:zorgpoort:source:contactpersoon|medewerker:E-1");
    assert_eq!(message["payload"][0]["contentString"], "Hallo 1");
    // Private agenda items are labelled, public ones are not.
    let private = resource("afspraak", "A-3100010-0");
    assert_eq!(private["meta"]["security"][0]["code"], "R");
    assert_eq!(private["start"], "2022-04-08T01:35:00+02:00");
    assert!(resource("afspraak", "A-3100010-1").get("meta").is_none());
    // Typed answers.
    let answers = &resource("vragenlijst", "Q-3100021-0")["item"][0]["item"];
    assert_eq!(answers[0]["answer"][0], json!({"valueString": "Tonisch-clonisch"}));
    assert_eq!(answers[1]["answer"][0], json!({"valueInteger": 1}));
    // "Mentor en bewindvoerder" is both.
    let both = resource("contactpersoon", "CP-3100042-0");
    let codes: Vec<&str> =
        both["relationship"][0]["coding"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["15", "14"]);
    // Records without a gewijzigd of their own have no change time (the
    // writer gives them the delivery's).
    assert_eq!(mapped(outcome(full, "aantekening", "N-3100010-0")).changed, None);
    assert_eq!(mapped(outcome(full, "client", "3100010")).changed.as_deref(), Some("2026-11-20T09:12:00+01:00"));

    // The delta, in a default namespace: a container and the tombstone of
    // the appointment its Verwijderd names.
    assert_eq!(delta.len(), 2, "{delta:#?}");
    let container = mapped(&delta[0]);
    assert_eq!(
        (container.kind.as_str(), container.source_id.as_str(), &container.action),
        ("client", "3100021", &Action::Container)
    );
    let tombstone = mapped(&delta[1]);
    assert_eq!((tombstone.kind.as_str(), tombstone.source_id.as_str()), ("afspraak", "A-3100021-2"));
    assert_eq!(tombstone.action, Action::Delete);
    assert_eq!(tombstone.client.as_deref(), Some("3100021"));
    assert_eq!(tombstone.changed.as_deref(), Some("2026-11-21T09:00:00+01:00"));
}

/// The generated delivery of the benchmark maps without rejections or
/// warnings, every resource valid, the same bytes for the same seed.
#[test]
fn a_generated_caress_delivery_maps_without_rejections() {
    let mut bytes = Vec::new();
    zorgpoort::demo::write_caress_delivery(&mut bytes, "sheerenloo", 25, 42, "2026-11-20T10:00:00+01:00").unwrap();
    let outcomes = super::map_caress_bytes(&bytes).unwrap();
    assert_all_valid(&outcomes);
    let records: Vec<&MappedRecord> = outcomes.iter().map(mapped).collect();
    assert!(records.iter().all(|r| r.warnings.is_empty()), "{records:#?}");
    let count = |kind: &str| records.iter().filter(|r| r.kind == kind).count();
    assert_eq!((count("medewerker"), count("client")), (6, 25));
    assert!(count("aantekening") >= 25 * 5 && count("afspraak") >= 25 * 3, "{}", outcomes.len());
    assert!(count("contactpersoon") > 0 && count("doel") > 0 && count("vragenlijst") > 0 && count("bericht") >= 25);
    let mut again = Vec::new();
    zorgpoort::demo::write_caress_delivery(&mut again, "sheerenloo", 25, 42, "2026-11-20T10:00:00+01:00").unwrap();
    assert_eq!(again, bytes);
}
