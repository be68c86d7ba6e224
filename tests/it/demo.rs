//! The demo deliveries (`src/demo/deliveries/`) through the real ingest:
//! the demo's people (`zorgpoort::demo::people`) become what the access
//! model needs to be shown on them.

use reqwest::Method;
use serde_json::Value;
use zorgpoort::config::Tenant;
use zorgpoort::demo::{people, pluriform_identifier_system};
use zorgpoort::fhir::TenantCode;

use crate::common::{Db, TestServer, json};

const DEMO: &str = "demo";

/// The one resource of `type_name` with this identifier.
async fn by_identifier(server: &TestServer, token: &str, type_name: &str, kind: &str, value: &str) -> Value {
    let system = pluriform_identifier_system(DEMO, kind);
    let url = format!("{}/{type_name}", server.base(DEMO));
    let response = server
        .client
        .request(Method::GET, url)
        .query(&[("identifier", format!("{system}|{value}"))])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, bundle) = json(response).await;
    assert_eq!((status, bundle["total"].as_u64()), (200, Some(1)), "{type_name} {value}: {bundle}");
    bundle["entry"][0]["resource"].clone()
}

fn classes(provision: &Value) -> Vec<&str> {
    provision["class"].as_array().map_or_else(Vec::new, |c| c.iter().map(|c| c["code"].as_str().unwrap()).collect())
}

async fn the_demo_people_and_their_grants(db: Db) {
    let demo = TenantCode::parse(DEMO).unwrap();
    let tenant = Tenant { code: demo.clone(), name: "Demo".into() };
    let server = TestServer::start_with(db, |config| config.tenants.push(tenant)).await;
    let token = server.token(DEMO, "system/*.rs").await;
    let summaries = zorgpoort::demo::deliveries::load(&server.store, None, &demo).await.unwrap();
    assert_eq!(summaries.len(), 3);
    let people = people();
    let [here, there] = people.mentor_relatienummers;
    let ours = [here, there, people.naaste_relatienummer, people.bewindvoerder_relatienummer];
    for (name, summary) in &summaries {
        assert_eq!(summary.rejected, 0, "{name}: {summary:?}");
        // The law has nothing to take out of their grants.
        assert!(summary.warnings.iter().all(|w| !ours.contains(&w.source_id.as_str())), "{name}: {summary:?}");
    }

    // The mentor: one person under two clients, full access under both.
    let client = by_identifier(&server, &token, "Patient", "client", people.client).await;
    let second = by_identifier(&server, &token, "Patient", "client", people.second_client).await;
    let mut mentors = Vec::new();
    for (number, patient) in [(here, &client), (there, &second)] {
        let person = by_identifier(&server, &token, "RelatedPerson", "vertegenwoordiger", number).await;
        assert_eq!(person["patient"]["reference"], format!("Patient/{}", patient["id"].as_str().unwrap()));
        let email: Vec<&Value> = person["telecom"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["system"] == "email")
            .map(|t| &t["value"])
            .collect();
        assert_eq!(email, [people.mentor_email], "{person}");
        let grant = by_identifier(&server, &token, "Consent", "vertegenwoordiger", number).await;
        assert_eq!(grant["status"], "active");
        assert!(classes(&grant["provision"]).contains(&"access-log"), "{grant}");
        assert_eq!(classes(&grant["provision"]["provision"][0]), ["reports", "messages", "agenda", "consents"]);
        assert!(grant["provision"]["period"].get("end").is_none(), "{grant}");
        mentors.push(person["id"].as_str().unwrap().to_owned());
    }
    assert_ne!(mentors[0], mentors[1], "a RelatedPerson per client");

    let naaste = by_identifier(&server, &token, "Consent", "vertegenwoordiger", people.naaste_relatienummer).await;
    assert_eq!(
        (naaste["status"].as_str(), classes(&naaste["provision"])),
        (Some("active"), vec!["identity", "reports"])
    );
    assert!(naaste["provision"].get("provision").is_none(), "mag_schrijven N: {naaste}");
    let bewindvoerder =
        by_identifier(&server, &token, "Consent", "vertegenwoordiger", people.bewindvoerder_relatienummer).await;
    assert_eq!(classes(&bewindvoerder["provision"]), ["identity", "profile", "finance"]);

    // Messages the mentor sends and receives, under both clients.
    for mentor in &mentors {
        for parameter in ["sender", "recipient"] {
            let url = format!("{}/Communication", server.base(DEMO));
            let response = server
                .client
                .get(url)
                .query(&[(parameter, format!("RelatedPerson/{mentor}"))])
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let (status, bundle) = json(response).await;
            assert!(status == 200 && bundle["total"].as_u64() > Some(0), "{parameter} {mentor}: {bundle}");
        }
    }
}

crate::on_both_databases!(the_demo_people_and_their_grants);
