//! The contact person's access grant (a Consent built like Pluriform's)
//! from `Portaal/@actief` and `@rechten`, right by right, as the table in
//! `access-model.md` says; and the law on a bewindvoerder's grant.

use serde_json::{Value, json};
use zorgpoort::access::law::limit_access_grant;

use super::caress::assert_all_valid;
use super::{map_caress_client, mapped, outcome, part};

/// The grant of a contact person with this `Portaal` element (or none)
/// and this `Vertegenwoordiging`, and its warnings.
fn grant(portaal: &str, vertegenwoordiging: &str) -> (Value, Vec<String>) {
    let outcomes = map_caress_client(&format!(
        "<c:Client id=\"3100457\"><c:Contactpersonen><c:Contactpersoon id=\"CP-9\" gewijzigd=\"2026-11-20T09:12:00+01:00\">\
         <c:Naam voornamen=\"Karin\" achternaam=\"Test\"/><c:Vertegenwoordiging>{vertegenwoordiging}</c:Vertegenwoordiging>\
         {portaal}<c:Geldig van=\"2020-01-01\" tot=\"2030-12-31\"/></c:Contactpersoon></c:Contactpersonen></c:Client>"
    ));
    assert_all_valid(&outcomes);
    let record = mapped(outcome(&outcomes, "contactpersoon", "CP-9"));
    (part(record, "grant"), record.warnings.clone())
}

fn codes(classes: &Value) -> Vec<String> {
    classes.as_array().map_or_else(Vec::new, |c| c.iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect())
}

/// (status, categories read, categories written) of a grant.
fn rights(grant: &Value) -> (String, Vec<String>, Vec<String>) {
    let provision = &grant["provision"];
    let written = &provision["provision"];
    if !written.is_null() {
        assert_eq!(written.as_array().unwrap().len(), 1);
        assert_eq!(written[0]["action"][0]["coding"][0]["code"], "correct");
        assert_eq!(written[0]["type"], "permit");
    }
    (grant["status"].as_str().unwrap().to_owned(), codes(&provision["class"]), codes(&written[0]["class"]))
}

#[test]
fn rights_become_the_categories_of_the_access_model() {
    let cases: [(&str, &str, &[&str], &[&str]); 10] = [
        ("", "active", &["identity"], &[]),
        (
            "dossier-lezen",
            "active",
            &["identity", "reports", "plan", "questionnaires", "measurements", "access-log"],
            &[],
        ),
        ("dossier-schrijven", "active", &["identity"], &["reports"]),
        ("berichten", "active", &["identity", "messages"], &["messages"]),
        ("agenda", "active", &["identity", "agenda"], &["agenda"]),
        ("gegevens", "active", &["identity", "profile"], &[]),
        ("financieel", "active", &["identity", "finance"], &[]),
        (
            "dossier-lezen dossier-schrijven berichten agenda",
            "active",
            &["identity", "reports", "plan", "questionnaires", "measurements", "messages", "agenda", "access-log"],
            &["reports", "messages", "agenda"],
        ),
        ("  gegevens   gegevens financieel ", "active", &["identity", "profile", "finance"], &[]),
        ("gegevens alles", "active", &["identity", "profile"], &[]),
    ];
    for (rechten, status, read, write) in cases {
        let (grant, warnings) = grant(&format!("<c:Portaal actief=\"true\" rechten=\"{rechten}\"/>"), "Mentor");
        assert_eq!(rights(&grant), (status.to_owned(), strings(read), strings(write)), "rechten=\"{rechten}\"");
        let expected: &[&str] = if rechten.contains("alles") {
            &["`alles` is not a known code of `leesrechten`; taken as its otherwise"]
        } else {
            &[]
        };
        assert_eq!(warnings, expected, "{rechten}");
    }
}

/// "Full access" (caress.md) adds the access log: a mentor, curator,
/// voogd, ouder met gezag, or mentor and bewindvoerder with `dossier-lezen`.
#[test]
fn full_access_adds_the_access_log() {
    let cases = [
        ("Mentor", "dossier-lezen", true),
        ("Curator", "dossier-lezen agenda", true),
        ("Voogd", "dossier-lezen", true),
        ("Ouder met gezag", "dossier-lezen", true),
        ("Mentor en bewindvoerder", "dossier-lezen", true),
        ("Mentor", "gegevens agenda berichten dossier-schrijven", false),
        ("Schriftelijk gemachtigde", "dossier-lezen", false),
        ("Bewindvoerder", "dossier-lezen", false),
        ("Geen", "dossier-lezen", false),
        ("", "dossier-lezen", false),
    ];
    for (vertegenwoordiging, rechten, full) in cases {
        let (grant, _) = grant(&format!("<c:Portaal actief=\"true\" rechten=\"{rechten}\"/>"), vertegenwoordiging);
        let (_, read, _) = rights(&grant);
        assert_eq!(read.iter().any(|c| c == "access-log"), full, "{vertegenwoordiging}, {rechten}: {read:?}");
    }
    let (inactive, _) = grant("<c:Portaal actief=\"false\" rechten=\"dossier-lezen\"/>", "Mentor");
    assert_eq!(rights(&inactive).1, Vec::<String>::new());
}

#[test]
fn no_portal_or_an_inactive_one_gives_no_access() {
    for portaal in
        ["", "<c:Portaal actief=\"false\" rechten=\"dossier-lezen berichten\"/>", "<c:Portaal rechten=\"agenda\"/>"]
    {
        let (grant, _) = grant(portaal, "Mentor");
        assert_eq!(rights(&grant), ("inactive".to_owned(), vec![], vec![]), "{portaal}");
        assert!(grant["provision"].get("class").is_none());
        assert!(grant["provision"].get("provision").is_none());
    }
}

#[test]
fn the_grant_names_the_contact_person_with_role_period_and_rule() {
    let (grant, _) = grant("<c:Portaal actief=\"true\" rechten=\"dossier-lezen\"/>", "Ouder met gezag");
    assert_eq!(
        grant["provision"]["actor"],
        json!([{"role": {"coding": [
                    {"code": "24", "display": "Wettelijke vertegenwoordiger", "system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472"},
                    {"code": "ouder-met-gezag", "display": "Ouder met gezag", "system": "https://zorgpoort.nl/fhir/CodeSystem/representative-kind"}],
                 "text": "Ouder met gezag"},
                "reference": {"reference": "urn:zorgpoort:source:contactpersoon:CP-9"}}])
    );
    assert_eq!(grant["provision"]["period"], json!({"start": "2020-01-01", "end": "2030-12-31"}));
    assert_eq!(grant["patient"], json!({"reference": "urn:zorgpoort:source:client:3100457"}));
    assert_eq!(grant["category"][0]["coding"][0]["code"], "access-grant");
    assert_eq!(grant["policyRule"]["text"], "Portaaltoegang volgens het ECD: actief: dossier-lezen");
    assert_eq!(grant["dateTime"], "2026-11-20T09:12:00+01:00");
}

/// A bewindvoerder's grant keeps money matters only (the law, applied by
/// the writer); a mentor who is also bewindvoerder is not limited.
#[test]
fn a_bewindvoerder_keeps_money_matters_only_unless_also_mentor() {
    let rechten = "<c:Portaal actief=\"true\" rechten=\"dossier-lezen gegevens financieel berichten\"/>";
    let (mut bewindvoerder, _) = grant(rechten, "Bewindvoerder");
    let warning = limit_access_grant(&mut bewindvoerder).expect("a warning");
    assert!(warning.contains("reports"), "{warning}");
    assert_eq!(rights(&bewindvoerder), ("active".to_owned(), strings(&["identity", "profile", "finance"]), vec![]));
    let (mut both, _) = grant(rechten, "Mentor en bewindvoerder");
    let before = both.clone();
    assert_eq!(limit_access_grant(&mut both), None);
    assert_eq!(both, before);
    let roles: Vec<&str> = both["provision"]["actor"][0]["role"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["15", "14"]);
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
