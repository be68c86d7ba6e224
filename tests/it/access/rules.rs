//! Each rule of the access model with a case that must be allowed and one
//! that must be denied.

use reqwest::Method;

use super::World;
use super::delivery::*;
use crate::common::Db;
use crate::on_both_databases;

on_both_databases!(
    a_limited_naaste_sees_reports_and_who_the_client_is_nothing_else,
    the_identity_view_cannot_be_searched_beyond_identity,
    messages_are_served_to_their_participants,
    a_bewindvoerder_sees_money_only_whatever_the_ecd_says,
    an_ended_grant_gives_nothing_but_the_own_record,
    patient_scopes_reach_the_client_in_context_user_scopes_every_client,
    the_client_sees_their_own_record,
    the_directory_is_visible_only_through_what_refers_to_it,
    persons_cannot_write_yet,
    person_tokens_do_not_cross_tenants_or_outlive_their_expiry,
    an_app_with_narrower_scopes_sees_less_than_its_user,
    a_search_snapshot_belongs_to_who_made_it,
    a_person_token_finds_nothing_through_another_tenant,
    a_refined_scope_reaches_only_the_matching_records,
    a_search_naming_a_client_is_judged_by_that_clients_grant,
    a_deletion_is_gone_only_to_who_could_see_the_record,
);

async fn a_limited_naaste_sees_reports_and_who_the_client_is_nothing_else(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    let client = world.client(CLIENT).await;
    // Reports: both of this client, none of the other; the total counts only those.
    let (status, total, ids) = world.search(&token, "Communication").await;
    assert_eq!((status, total, ids.len()), (200, 2, 2));
    let (status, total, _) = world.search(&system_view(&world).await, "Communication").await;
    assert_eq!(status, 200);
    assert!(total > 2, "the system token sees the messages too: {total}");
    // Categories not granted: the type is refused as a whole.
    for path in ["Observation", "Invoice", "Consent?patient=x", "CarePlan"] {
        assert_eq!(world.get(&token, path).await.0, 403, "{path}");
    }
    // A record of another client is unknown, not forbidden.
    let other = world.client(OTHER_CLIENT).await;
    assert_eq!(world.get(&token, &format!("Patient/{other}")).await.0, 404);
    // The client: the identity view only.
    let (status, patient) = world.get(&token, &format!("Patient/{client}")).await;
    assert_eq!(status, 200);
    assert!(patient.get("address").is_none() && patient.get("identifier").is_none(), "{patient}");
    assert_eq!(patient["gender"], "female");
    let labels = patient["meta"]["security"].as_array().unwrap();
    assert!(labels.iter().any(|l| l["code"] == "REDACTED"), "{patient}");
    // Included Patients are the identity view too.
    let (_, bundle) = world.get(&token, "Communication?_include=Communication:subject").await;
    let included: Vec<&serde_json::Value> =
        bundle["entry"].as_array().unwrap().iter().filter(|e| e["search"]["mode"] == "include").collect();
    assert_eq!(included.len(), 1, "{bundle}");
    assert!(included[0]["resource"].get("address").is_none());
}

async fn system_view(world: &World) -> String {
    world.system.clone()
}

async fn the_identity_view_cannot_be_searched_beyond_identity(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    let (status, total, _) = world.search(&token, "Patient?gender=female").await;
    assert_eq!((status, total), (200, 1));
    for path in ["Patient?address-city=Utrecht", "Patient?identifier=999911120", "Patient?general-practitioner=x"] {
        assert_eq!(world.get(&token, path).await.0, 403, "{path}");
    }
    // With the profile category the same search is allowed.
    let mentor = world.representative_token(MENTOR, CLIENT, "patient/*.rs").await;
    let (status, total, _) = world.search(&mentor, "Patient?address-city=Utrecht").await;
    assert_eq!((status, total), (200, 1));
}

async fn messages_are_served_to_their_participants(db: Db) {
    let world = World::new(db).await;
    let message = |n: u32| format!("B-{CLIENT}-{n}");
    let naaste = world.representative_token(NAASTE_FULL, CLIENT, "patient/*.rs").await;
    let (status, _, ids) = world
        .search(&naaste, "Communication?category=https://zorgpoort.nl/fhir/CodeSystem/communication-category|message")
        .await;
    assert_eq!(status, 200);
    let mine = world.id("Communication", "bericht", &message(1)).await;
    assert_eq!(ids, vec![mine.clone()], "a naaste sees only the message sent to them");
    let not_mine = world.id("Communication", "bericht", &message(2)).await;
    assert_eq!(world.get(&naaste, &format!("Communication/{not_mine}")).await.0, 404);
    assert_eq!(world.get(&naaste, &format!("Communication/{mine}")).await.0, 200);
    // The client sees the message they take part in.
    let client = world.client_token(CLIENT, "patient/*.rs").await;
    assert_eq!(world.get(&client, &format!("Communication/{not_mine}")).await.0, 200);
    assert_eq!(world.get(&client, &format!("Communication/{mine}")).await.0, 404);
}

async fn a_bewindvoerder_sees_money_only_whatever_the_ecd_says(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(BEWINDVOERDER, CLIENT, "patient/*.rs").await;
    let (status, total, _) = world.search(&token, "Invoice").await;
    assert_eq!((status, total), (200, 1));
    for path in ["Observation", "Communication", "CarePlan", "AuditEvent"] {
        let status = world.get(&token, path).await.0;
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
    // Profile is money's context: the whole Patient.
    let client = world.client(CLIENT).await;
    let (_, patient) = world.get(&token, &format!("Patient/{client}")).await;
    assert!(patient.get("address").is_some(), "{patient}");
}

async fn an_ended_grant_gives_nothing_but_the_own_record(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(ENDED, CLIENT, "patient/*.rs").await;
    assert_eq!(world.get(&token, "Observation").await.0, 403);
    let client = world.client(CLIENT).await;
    assert_eq!(world.get(&token, &format!("Patient/{client}")).await.0, 403);
    let own = world.id("RelatedPerson", "vertegenwoordiger", ENDED).await;
    assert_eq!(world.get(&token, &format!("RelatedPerson/{own}")).await.0, 200);
    let mentor = world.id("RelatedPerson", "vertegenwoordiger", MENTOR).await;
    assert_eq!(world.get(&token, &format!("RelatedPerson/{mentor}")).await.0, 404);
}

async fn patient_scopes_reach_the_client_in_context_user_scopes_every_client(db: Db) {
    let world = World::new(db).await;
    let client = world.client(CLIENT).await;
    let other = world.client(OTHER_CLIENT).await;
    let patient_scoped = world.representative_token(MENTOR, CLIENT, "patient/*.rs").await;
    let (_, total, _) = world.search(&patient_scoped, "Observation").await;
    assert_eq!(total, 1);
    assert_eq!(world.get(&patient_scoped, &format!("Patient/{other}")).await.0, 404);
    // The mentor's two records share an e-mail address (in other case and
    // spacing): one person, two clients.
    let user_scoped = world.representative_token(MENTOR, CLIENT, "user/*.rs").await;
    let (_, total, _) = world.search(&user_scoped, "Observation").await;
    assert_eq!(total, 2);
    let (_, total, _) = world.search(&user_scoped, &format!("Observation?patient={other}")).await;
    assert_eq!(total, 1);
    assert_eq!(world.get(&user_scoped, &format!("Patient/{other}")).await.0, 200);
    assert_eq!(world.get(&user_scoped, &format!("Patient/{client}")).await.0, 200);
}

async fn the_client_sees_their_own_record(db: Db) {
    let world = World::new(db).await;
    let token = world.client_token(CLIENT, "patient/*.rs").await;
    let client = world.client(CLIENT).await;
    let (status, patient) = world.get(&token, &format!("Patient/{client}")).await;
    assert_eq!(status, 200);
    assert!(patient.get("address").is_some());
    for (path, expected) in [("Observation", 1), ("Invoice", 1)] {
        let (status, total, _) = world.search(&token, path).await;
        assert_eq!((status, total), (200, expected), "{path}");
    }
    let other = world.client(OTHER_CLIENT).await;
    assert_eq!(world.get(&token, &format!("Patient/{other}")).await.0, 404);
    let (_, total, _) = world.search(&token, &format!("Observation?patient={other}")).await;
    assert_eq!(total, 0);
}

async fn the_directory_is_visible_only_through_what_refers_to_it(db: Db) {
    let world = World::new(db).await;
    let token = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    let author = world.id("Practitioner", "medewerker", "M-1").await;
    let stranger = world.id("Practitioner", "medewerker", "M-2").await;
    assert_eq!(world.get(&token, &format!("Practitioner/{author}")).await.0, 200);
    assert_eq!(world.get(&token, &format!("Practitioner/{stranger}")).await.0, 404);
    let (status, total, ids) = world.search(&token, "Practitioner").await;
    assert_eq!((status, total, ids), (200, 1, vec![author]));
}

async fn persons_cannot_write_yet(db: Db) {
    let world = World::new(db).await;
    let token = world.client_token(CLIENT, "patient/*.cruds").await;
    let client = world.client(CLIENT).await;
    let report = serde_json::json!({"resourceType": "Communication", "status": "completed",
        "subject": {"reference": format!("Patient/{client}")}});
    let response = world.server.request(Method::POST, "Communication", &token).json(&report).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let response = world.server.request(Method::DELETE, &format!("Patient/{client}"), &token).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let response = world
        .server
        .request(Method::POST, "Patient/$validate", &token)
        .json(&serde_json::json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The record is still there for the system.
    assert_eq!(world.get(&world.system, &format!("Patient/{client}")).await.0, 200);
}

async fn person_tokens_do_not_cross_tenants_or_outlive_their_expiry(db: Db) {
    let world = World::new(db).await;
    let token = world.client_token(CLIENT, "patient/*.rs").await;
    let client = world.client(CLIENT).await;
    let other_tenant = format!("{}/Patient/{client}", world.server.base(crate::common::OTHER_TENANT));
    let response = world.server.client.get(other_tenant).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let user = zorgpoort::access::PersonRef::parse(&format!("Patient/{client}")).unwrap();
    let short = world.person_token(user, &client, "patient/*.rs", 1).await;
    assert_eq!(world.get(&short, &format!("Patient/{client}")).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = world.server.request(Method::GET, &format!("Patient/{client}"), &short).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

async fn an_app_with_narrower_scopes_sees_less_than_its_user(db: Db) {
    let world = World::new(db).await;
    let token =
        world.representative_token(MENTOR, CLIENT, "patient/Observation.rs launch/patient openid fhirUser").await;
    let (status, total, _) = world.search(&token, "Observation").await;
    assert_eq!((status, total), (200, 1));
    assert_eq!(world.get(&token, "Invoice").await.0, 403);
    assert_eq!(world.get(&token, "Communication").await.0, 403);
    // A scope naming a type not served here is left out, not a refusal.
    let token = world.representative_token(MENTOR, CLIENT, "patient/Medication.rs patient/Invoice.rs").await;
    assert_eq!(world.get(&token, "Invoice").await.0, 200);
}

async fn a_search_snapshot_belongs_to_who_made_it(db: Db) {
    let world = World::new(db).await;
    let naaste = world.representative_token(NAASTE_LIMITED, CLIENT, "patient/*.rs").await;
    let (status, first) = world.get(&naaste, "Communication?_count=1").await;
    assert_eq!((status, first["total"].as_u64()), (200, Some(2)));
    let next = crate::common::link(&first, "next").expect("a next link");
    let path = next.split_once("/fhir/").unwrap().1.to_owned();
    let (status, second) = world.get(&naaste, &path).await;
    assert_eq!(status, 200);
    assert_eq!(crate::common::entry_ids(&second).len(), 1);
    // Another person with the same kind of grant on another client, and a
    // system token: the snapshot is not theirs.
    let mentor = world.representative_token(MENTOR, CLIENT, "patient/*.rs").await;
    assert_eq!(world.get(&mentor, &path).await.0, 410);
    assert_eq!(world.get(&world.system, &path).await.0, 410);
}

async fn a_person_token_finds_nothing_through_another_tenant(db: Db) {
    let world = World::new(db).await;
    let token = world.client_token(CLIENT, "patient/*.cruds").await;
    let client = world.client(CLIENT).await;
    let other = world.server.base(crate::common::OTHER_TENANT);
    let report = world.id("Communication", "rapportage", &format!("RR-{CLIENT}-1")).await;
    let bundle = serde_json::json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{client}")}}]});
    let requests = [
        (Method::GET, format!("{other}/Patient/{client}"), None),
        (Method::GET, format!("{other}/Patient/{client}/_history/1"), None),
        (Method::GET, format!("{other}/Patient/{client}/_history"), None),
        (Method::GET, format!("{other}/Communication?_include=Communication:subject"), None),
        (Method::GET, format!("{other}/Patient?_revinclude=Communication:subject"), None),
        (Method::GET, format!("{other}/Communication/{report}"), None),
        (Method::POST, other.clone(), Some(bundle)),
        (
            Method::PUT,
            format!("{other}/Patient/{client}"),
            Some(serde_json::json!({"resourceType": "Patient", "id": client})),
        ),
        (Method::DELETE, format!("{other}/Patient/{client}"), None),
        (Method::POST, format!("{other}/Patient/$validate"), Some(serde_json::json!({"resourceType": "Patient"}))),
    ];
    for (method, url, body) in requests {
        let mut request = world.server.client.request(method.clone(), &url).bearer_auth(&token);
        if let Some(body) = body {
            request = request.header("content-type", "application/fhir+json").body(body.to_string());
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, 401, "{method} {url}");
    }
    // The same requests on the token's own tenant do reach the record.
    assert_eq!(world.get(&token, &format!("Patient/{client}/_history/1")).await.0, 200);
}

async fn a_refined_scope_reaches_only_the_matching_records(db: Db) {
    const CATEGORY: &str = "https://zorgpoort.nl/fhir/CodeSystem/communication-category";
    let world = World::new(db).await;
    let report = world.id("Communication", "rapportage", &format!("RR-{CLIENT}-1")).await;
    let message = world.id("Communication", "bericht", &format!("B-{CLIENT}-3")).await;
    // The mentor has full access: every report and message of the client.
    let whole = world.representative_token(MENTOR, CLIENT, "patient/Communication.rs").await;
    assert_eq!(world.search(&whole, "Communication").await.1, 5);
    let reports = world
        .representative_token(MENTOR, CLIENT, &format!("patient/Communication.rs?category={CATEGORY}|report"))
        .await;
    let (status, total, ids) = world.search(&reports, "Communication").await;
    let second = world.id("Communication", "rapportage", &format!("RR-{CLIENT}-2")).await;
    assert_eq!((status, total), (200, 2));
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>(), [&report, &second].into_iter().collect());
    assert_eq!(world.get(&reports, &format!("Communication/{report}")).await.0, 200);
    assert_eq!(world.get(&reports, &format!("Communication/{report}/_history/1")).await.0, 200);
    assert_eq!(world.get(&reports, &format!("Communication/{message}")).await.0, 404);
    assert_eq!(world.get(&reports, &format!("Communication/{message}/_history/1")).await.0, 404);
    let (status, history) = world.get(&reports, &format!("Communication/{message}/_history")).await;
    assert!(status == 404 || history["total"] == 0, "{status} {history}");
    // Without a system, the code alone; a revinclude is refined as well.
    let by_code = world
        .representative_token(MENTOR, CLIENT, "patient/Communication.rs?category=message patient/Patient.rs")
        .await;
    let (status, bundle) = world.get(&by_code, "Patient?_revinclude=Communication:subject").await;
    assert_eq!(status, 200, "{bundle}");
    let included: Vec<String> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["search"]["mode"] == "include")
        .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(included.len(), 3, "the three messages, no report: {bundle}");
    assert!(included.contains(&message) && !included.contains(&report));
    // A system token's refined scope is applied too.
    let system = world
        .server
        .token(crate::common::TENANT, &format!("system/Communication.rs?category={CATEGORY}|message"))
        .await;
    assert_eq!(world.search(&system, "Communication").await.1, 3);
    assert_eq!(world.get(&system, &format!("Communication/{report}")).await.0, 404);
    // A refinement not applied here leaves the scope out: nothing, not more.
    let unknown = world.representative_token(MENTOR, CLIENT, "patient/Communication.rs?status=completed").await;
    assert_eq!(world.get(&unknown, "Communication").await.0, 403);
}

async fn a_search_naming_a_client_is_judged_by_that_clients_grant(db: Db) {
    let world = World::new(db).await;
    // The mentor's grant for the other client now gives reports only.
    let mut delivery = super::delivery::full();
    delivery["clienten"][1]["vertegenwoordigers"][0]["portaaltoegang"] = "beperkt".into();
    delivery["clienten"][1]["vertegenwoordigers"][0]["gewijzigd"] = "2026-11-21T09:00:00+01:00".into();
    delivery["aangemaakt"] = "2026-11-21T10:15:00+01:00".into();
    world.deliver(&delivery).await;
    let client = world.client(CLIENT).await;
    let other = world.client(OTHER_CLIENT).await;
    let user = world.representative_token(MENTOR, CLIENT, "user/*.rs").await;
    // Naming a client whose grant does not give the type: refused.
    assert_eq!(world.get(&user, &format!("Observation?patient={other}")).await.0, 403);
    assert_eq!(world.get(&user, &format!("Observation?subject=Patient/{client},Patient/{other}")).await.0, 403);
    assert_eq!(world.get(&user, "Observation?patient=no-such-client").await.0, 403);
    // Naming a client whose grant does: that client's records.
    let (status, total, _) = world.search(&user, &format!("Observation?patient={client}")).await;
    assert_eq!((status, total), (200, 1));
    let (status, total, _) = world.search(&user, &format!("Communication?patient={other}")).await;
    assert_eq!((status, total), (200, 2), "the other client's reports");
    // Naming none: what all represented clients allow together.
    let (status, total, _) = world.search(&user, "Observation").await;
    assert_eq!((status, total), (200, 1));
    // A patient/ token reaches the client in context only.
    let patient = world.representative_token(MENTOR, CLIENT, "patient/*.rs").await;
    assert_eq!(world.get(&patient, &format!("Communication?patient={other}")).await.0, 403);
    let (status, total, _) = world.search(&patient, &format!("Communication?patient={client}")).await;
    assert_eq!((status, total), (200, 5));
}

async fn a_deletion_is_gone_only_to_who_could_see_the_record(db: Db) {
    let world = World::new(db).await;
    let report = world.id("Communication", "rapportage", &format!("RR-{CLIENT}-1")).await;
    let message = world.id("Communication", "bericht", &format!("B-{CLIENT}-1")).await;
    let writer = world.server.token(crate::common::TENANT, "system/*.cruds").await;
    for id in [&report, &message] {
        let response =
            world.server.request(Method::DELETE, &format!("Communication/{id}"), &writer).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    let naaste = world.representative_token(NAASTE_FULL, CLIENT, "patient/*.rs").await;
    let client = world.client_token(CLIENT, "patient/*.rs").await;
    let stranger = world.representative_token(MENTOR_OF_OTHER, OTHER_CLIENT, "patient/*.rs").await;
    // Who saw the report: gone, and its deletion version too; the version
    // they saw stays readable.
    for token in [&naaste, &client] {
        assert_eq!(world.get(token, &format!("Communication/{report}")).await.0, 410);
        assert_eq!(world.get(token, &format!("Communication/{report}/_history/2")).await.0, 410);
        assert_eq!(world.get(token, &format!("Communication/{report}/_history/1")).await.0, 200);
    }
    // Who never could: unknown.
    assert_eq!(world.get(&stranger, &format!("Communication/{report}")).await.0, 404);
    assert_eq!(world.get(&stranger, &format!("Communication/{report}/_history/2")).await.0, 404);
    // The message was the naaste's (a recipient), never the client's (Pluriform).
    assert_eq!(world.get(&naaste, &format!("Communication/{message}")).await.0, 410);
    assert_eq!(world.get(&client, &format!("Communication/{message}")).await.0, 404);
}
