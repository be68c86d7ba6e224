//! A person across clients (clarification "A person across clients"): a
//! Pluriform representative listed under two clients with the same
//! `relatienummer` is a RelatedPerson for each, each with its own patient
//! and grant. The two records are one person, linked by the relatienummer
//! alone (the e-mail addresses differ here), and a third record is linked
//! through the e-mail address of the second: a token for any of them,
//! with another client in context, acts as the record for that client and sees
//! what that client's grant allows; one client's grant never opens the
//! other's data; and what the representative wrote under a client names
//! their record there. Through real HTTP, and `zorgpoort token issue`.

use serde_json::{Value, json};
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::ResourceId;

use super::World;
use crate::common::{Db, TENANT, TestServer};
use crate::on_both_databases;

on_both_databases!(
    a_representative_of_two_clients_is_a_related_person_for_each,
    a_token_for_one_record_acts_for_the_other_client_as_the_record_there,
    a_grant_for_one_client_never_opens_the_other,
    what_the_representative_wrote_under_a_client_names_their_record_there,
);

const A: &str = "600001";
const B: &str = "600002";
/// Mentor with full access of A; a naaste with `beperkt` (reports) of B.
const SHARED: &str = "V-SHARED";
/// A naaste of C, with the e-mail address [`SHARED`] has under B: the same
/// person, linked through the record for B.
const C: &str = "600003";
const SHARED_AT_C: &str = "V-SHARED-C";
/// A client the person does not represent.
const STRANGER: &str = "600004";
const CHANGED: &str = "2026-11-20T09:00:00+01:00";

async fn a_representative_of_two_clients_is_a_related_person_for_each(db: Db) {
    let world = world(db).await;
    let (status, bundle) = world.get(&world.system, &format!("RelatedPerson?identifier={}", identifier(SHARED))).await;
    assert_eq!(status, 200, "{bundle}");
    let mut patients: Vec<&str> =
        entries(&bundle).iter().map(|p| p["patient"]["reference"].as_str().unwrap()).collect();
    patients.sort_unstable();
    let mut expected = vec![format!("Patient/{}", world.client(A).await), format!("Patient/{}", world.client(B).await)];
    expected.sort_unstable();
    assert_eq!(patients, expected, "one RelatedPerson per client");
    // Each has its own grant, for its own client, naming it.
    let (_, grants) = world.get(&world.system, &format!("Consent?identifier={}", identifier(SHARED))).await;
    assert_eq!(entries(&grants).len(), 2, "{grants}");
    for number in [A, B] {
        let (patient, person) = (world.client(number).await, representative(&world, number).await);
        let grant = entries(&grants)
            .into_iter()
            .find(|g| g["patient"]["reference"] == format!("Patient/{patient}"))
            .unwrap_or_else(|| panic!("a grant for {number}: {grants}"));
        assert_eq!(grant["provision"]["actor"][0]["reference"]["reference"], format!("RelatedPerson/{person}"));
    }
    // A delivery again moves nothing.
    let before = (representative(&world, A).await, representative(&world, B).await);
    world.deliver(&delivery()).await;
    assert_eq!((representative(&world, A).await, representative(&world, B).await), before);
    let (_, again) = world.get(&world.system, &format!("RelatedPerson?identifier={}", identifier(SHARED))).await;
    assert_eq!(entries(&again).len(), 2);
}

async fn a_token_for_one_record_acts_for_the_other_client_as_the_record_there(db: Db) {
    let world = world(db).await;
    let (for_a, for_b) = (representative(&world, A).await, representative(&world, B).await);
    let (a, b) = (world.client(A).await, world.client(B).await);
    // `--user` names the record for A; `--patient` picks B: the token's
    // user is the record for B.
    let (header, token) = issue(&world, &format!("RelatedPerson/{for_a}"), Some(&b)).await;
    assert!(header.contains(&format!("token for RelatedPerson/{for_b} (client in context: Patient/{b})")), "{header}");
    // B's grant: who the client is and the reports; nothing of A.
    let (status, total, _) = world.search(&token, "Communication").await;
    assert_eq!((status, total), (200, 2), "B's reports");
    assert_eq!(world.get(&token, "Observation").await.0, 403, "B's grant has no measurements");
    let (status, patient) = world.get(&token, &format!("Patient/{b}")).await;
    assert_eq!(status, 200);
    assert!(patient.get("address").is_none(), "the identity view: {patient}");
    assert_eq!(world.get(&token, &format!("Patient/{a}")).await.0, 404);
    // Its own record is the one for B.
    assert_eq!(world.get(&token, &format!("RelatedPerson/{for_b}")).await.0, 200);
    assert_eq!(world.get(&token, &format!("RelatedPerson/{for_a}")).await.0, 404);

    // The other way: the record for B with A in context acts as the
    // record for A, with A's grant (full access).
    let (header, token) = issue(&world, &format!("RelatedPerson/{for_b}"), Some(&a)).await;
    assert!(header.contains(&format!("token for RelatedPerson/{for_a} (client in context: Patient/{a})")), "{header}");
    let (status, total, _) = world.search(&token, "Observation").await;
    assert_eq!((status, total), (200, 1), "A's measurement");
    let (_, patient) = world.get(&token, &format!("Patient/{a}")).await;
    assert!(patient.get("address").is_some(), "the whole Patient: {patient}");
    assert_eq!(world.get(&token, &format!("RelatedPerson/{for_a}")).await.0, 200);

    // C: linked to the record for A through the record for B (relatienummer,
    // then e-mail address).
    let (c, for_c) = (world.client(C).await, world.id("RelatedPerson", "vertegenwoordiger", SHARED_AT_C).await);
    let (header, _) = issue(&world, &format!("RelatedPerson/{for_a}"), Some(&c)).await;
    assert!(header.contains(&format!("token for RelatedPerson/{for_c} (client in context: Patient/{c})")), "{header}");

    // Without --patient the person's clients are named; a client the
    // person does not represent is refused.
    let refused = issue_fails(&world, &format!("RelatedPerson/{for_c}"), None).await;
    assert!(refused.contains("acts for 3 clients"), "{refused}");
    for number in [&a, &b, &c] {
        assert!(refused.contains(number.as_str()), "{refused}");
    }
    let stranger = world.client(STRANGER).await;
    let refused = issue_fails(&world, &format!("RelatedPerson/{for_a}"), Some(&stranger)).await;
    assert!(refused.contains("is not a record of, or for"), "{refused}");
}

async fn a_grant_for_one_client_never_opens_the_other(db: Db) {
    let world = world(db).await;
    let (for_a, for_b) = (representative(&world, A).await, representative(&world, B).await);
    let (a, b) = (world.client(A).await, world.client(B).await);
    let user = |id: &str| PersonRef::RelatedPerson(ResourceId::parse(id).unwrap());
    // B in context: A's full access counts for nothing here.
    let token = world.person_token(user(&for_b), &b, "patient/*.rs", 3600).await;
    assert_eq!(world.get(&token, "Observation").await.0, 403);
    let b_measurement = world.id("Observation", "meting", &format!("M-{B}")).await;
    let a_measurement = world.id("Observation", "meting", &format!("M-{A}")).await;
    assert_eq!(world.get(&token, &format!("Observation/{a_measurement}")).await.0, 403);
    // Every client, each by its own grant: A's measurement, not B's; A's
    // messages, none of B's (B's grant has no messages, A's full access
    // does not reach them); the reports of both.
    let token = world.person_token(user(&for_a), &a, "user/*.rs", 3600).await;
    let (status, total, ids) = world.search(&token, "Observation").await;
    assert_eq!((status, total, ids), (200, 1, vec![a_measurement.clone()]));
    assert_eq!(world.get(&token, &format!("Observation/{b_measurement}")).await.0, 404);
    let messages = "Communication?category=https://zorgpoort.nl/fhir/CodeSystem/communication-category|message";
    let (_, _, ids) = world.search(&token, messages).await;
    let mut expected = vec![
        world.id("Communication", "bericht", &format!("B-{A}-1")).await,
        world.id("Communication", "bericht", &format!("B-{A}-2")).await,
    ];
    expected.sort_unstable();
    let mut ids = ids;
    ids.sort_unstable();
    assert_eq!(ids, expected);
    let b_message = world.id("Communication", "bericht", &format!("B-{B}-1")).await;
    assert_eq!(world.get(&token, &format!("Communication/{b_message}")).await.0, 404);
    let reports = "Communication?category=https://zorgpoort.nl/fhir/CodeSystem/communication-category|report";
    assert_eq!(world.search(&token, reports).await.1, 3, "one of A, two of B");
    // The clients' Patients: the whole of A, B's identity view.
    let (_, patient) = world.get(&token, &format!("Patient/{a}")).await;
    assert!(patient.get("address").is_some(), "{patient}");
    let (_, patient) = world.get(&token, &format!("Patient/{b}")).await;
    assert!(patient.get("address").is_none(), "{patient}");
}

async fn what_the_representative_wrote_under_a_client_names_their_record_there(db: Db) {
    let world = world(db).await;
    let (for_a, for_b) = (representative(&world, A).await, representative(&world, B).await);
    let world = &world;
    let of = move |kind: &'static str, id: String| async move {
        let id = world.id("Communication", kind, &id).await;
        world.get(&world.system, &format!("Communication/{id}")).await.1
    };
    let report = of("rapportage", format!("RR-{B}-2")).await;
    assert_eq!(report["sender"]["reference"], format!("RelatedPerson/{for_b}"));
    let sent_under_b = of("bericht", format!("B-{B}-1")).await;
    assert_eq!(sent_under_b["sender"]["reference"], format!("RelatedPerson/{for_b}"));
    let sent_under_a = of("bericht", format!("B-{A}-1")).await;
    assert_eq!(sent_under_a["sender"]["reference"], format!("RelatedPerson/{for_a}"));
    let received_under_a = of("bericht", format!("B-{A}-2")).await;
    assert_eq!(received_under_a["recipient"], json!([{"reference": format!("RelatedPerson/{for_a}")}]));
    // Seen from the person: under B, their report with its author (their
    // record for B) included.
    let b = world.client(B).await;
    let user = PersonRef::RelatedPerson(ResourceId::parse(&for_b).unwrap());
    let token = world.person_token(user, &b, "patient/*.rs", 3600).await;
    let (status, bundle) = world.get(&token, "Communication?_include=Communication:sender").await;
    assert_eq!(status, 200, "{bundle}");
    let included: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| e["resource"]["id"].as_str().unwrap())
        .collect();
    assert!(included.contains(&for_b.as_str()), "{bundle}");
    assert!(!included.contains(&for_a.as_str()), "{bundle}");
}

/// A gateway with the delivery of this file ingested.
async fn world(db: Db) -> World {
    let server = TestServer::start(db).await;
    let system = server.token(TENANT, "system/*.rs").await;
    let world = World { server, system };
    world.deliver(&delivery()).await;
    world
}

fn identifier(number: &str) -> String {
    format!("https://zorgpoort.nl/fhir/NamingSystem/{TENANT}/pluriform/vertegenwoordiger|{number}")
}

fn entries(bundle: &Value) -> Vec<&Value> {
    bundle["entry"].as_array().map(|e| e.iter().map(|e| &e["resource"]).collect()).unwrap_or_default()
}

/// The RelatedPerson of [`SHARED`] for the client `number`.
async fn representative(world: &World, number: &str) -> String {
    let patient = world.client(number).await;
    let path = format!("RelatedPerson?identifier={}&patient=Patient/{patient}", identifier(SHARED));
    let (status, bundle) = world.get(&world.system, &path).await;
    assert_eq!(status, 200, "{bundle}");
    let ids = crate::common::entry_ids(&bundle);
    assert_eq!(ids.len(), 1, "{path}: {bundle}");
    ids[0].clone()
}

/// `zorgpoort token issue` for a person, as an operator runs it: its
/// header line and the token.
async fn issue(world: &World, user: &str, patient: Option<&str>) -> (String, String) {
    let output = run_issue(world, user, patient).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let mut lines = stdout.lines().rev();
    let token = lines.next().unwrap().to_owned();
    (lines.next().unwrap_or_default().to_owned(), token)
}

/// What `zorgpoort token issue` says when it refuses.
async fn issue_fails(world: &World, user: &str, patient: Option<&str>) -> String {
    let output = run_issue(world, user, patient).await;
    assert!(!output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn run_issue(world: &World, user: &str, patient: Option<&str>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = crate::processes::zorgpoort(&world.server.db.url, crate::processes::free_port(), dir.path());
    command.args(["token", "issue", "--tenant", TENANT, "--user", user, "--scope", "patient/*.rs openid fhirUser"]);
    if let Some(patient) = patient {
        command.args(["--patient", patient]);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

fn party(number: &str) -> Value {
    json!({"soort": "vertegenwoordiger", "relatienummer": number})
}

/// Clients A and B with [`SHARED`] under each (another e-mail address
/// under each: only the relatienummer links them), C with
/// [`SHARED_AT_C`], and a client they do not represent; a report and a
/// message by the representative under B, messages from and to them
/// under A.
fn delivery() -> Value {
    let staff = json!({"soort": "medewerker", "nummer": "M-1"});
    let representative = |number: &str, soort: &str, access: &str, email: &str| {
        json!({
            "relatienummer": number,
            "naam": {"voornamen": "Sam", "voorvoegsel": "", "achternaam": "Gedeeld"},
            "relatie": "broer", "soort": soort, "volgorde": null,
            "portaaltoegang": access, "mag_schrijven": "J",
            "email": email, "mobiel": null,
            "geldig_van": "01-01-2024", "geldig_tot": null, "gewijzigd": CHANGED
        })
    };
    let report = |id: String, author: Value| {
        json!({"id": id, "datum": "03-05-2025 18:30", "auteur": author, "tekst": "Rapportage.", "portaal": "J",
               "gewijzigd": CHANGED})
    };
    let message = |id: String, from: &Value, to: &Value| {
        json!({"id": id, "verzonden": "2025-03-08T14:10:00+01:00", "van": from, "aan": to,
               "tekst": "Bericht.", "in_antwoord_op": null, "gewijzigd": CHANGED})
    };
    let client = |number: &str, representatives: Vec<Value>, reports: Vec<Value>, messages: Vec<Value>| {
        json!({
            "clientnummer": number,
            "naam": {"voornamen": "Cliënt", "voorvoegsel": "", "achternaam": number, "roepnaam": "C"},
            "geboortedatum": "01-02-1990", "geslacht": "V",
            "adres": {"straat": "Dorpsstraat", "huisnummer": "1", "toevoeging": null, "postcode": "3511 AA",
                      "woonplaats": "Utrecht"},
            "email": null, "mobiel": null,
            "in_zorg": {"begin": "01-01-2020", "einde": null},
            "eerstverantwoordelijke": "M-1",
            "gewijzigd": CHANGED,
            "vertegenwoordigers": representatives,
            "rapportages": reports,
            "metingen": [{"id": format!("M-{number}"), "meetsoort": "Gewicht", "waarde": "70,5", "eenheid": "kg",
                          "toelichting": null, "tijdstip": "Za 23 aug 2025 | 15:50", "medewerker": "M-1",
                          "gewijzigd": CHANGED}],
            "berichten": messages
        })
    };
    json!({
        "formaat": "pluriform-export", "versie": 1,
        "organisatie": {"code": TENANT, "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": "2026-11-20T10:15:00+01:00",
        "medewerkers": [{"medewerkernummer": "M-1", "voornaam": "Jesse", "voorvoegsel": "", "achternaam": "Yılmaz",
                         "functie": "Begeleider", "gewijzigd": CHANGED}],
        "clienten": [
            client(
                A,
                vec![representative(SHARED, "mentor", "volledig", "sam@example.nl")],
                vec![report(format!("RR-{A}-1"), staff.clone())],
                vec![
                    message(format!("B-{A}-1"), &party(SHARED), &staff),
                    message(format!("B-{A}-2"), &staff, &party(SHARED)),
                ],
            ),
            client(
                B,
                vec![representative(SHARED, "naaste", "beperkt", "sam.gedeeld@example.nl")],
                vec![report(format!("RR-{B}-1"), staff.clone()), report(format!("RR-{B}-2"), party(SHARED))],
                vec![message(format!("B-{B}-1"), &party(SHARED), &staff)],
            ),
            client(C, vec![representative(SHARED_AT_C, "naaste", "beperkt", " Sam.Gedeeld@Example.nl")], vec![], vec![]),
            client(STRANGER, vec![], vec![], vec![]),
        ]
    })
}
