//! The representative's access grant (part `grant` of a vertegenwoordiger):
//! a Consent per representative and client, as `access-model.md` writes
//! it, level by level.

use serde_json::{Value, json};

use super::{map_pluriform, mapped, part};

fn representative(soort: &str, portaaltoegang: &str, mag_schrijven: &str) -> Value {
    json!({"relatienummer": "R-2001", "naam": {"voornamen": "Anna", "voorvoegsel": "", "achternaam": "Jansen"},
           "relatie": "moeder", "soort": soort, "volgorde": 1, "portaaltoegang": portaaltoegang,
           "mag_schrijven": mag_schrijven, "email": "anna@example.nl", "mobiel": "06-23456789",
           "geldig_van": "01-01-2024", "geldig_tot": null, "gewijzigd": "2026-11-20T09:00:00+01:00"})
}

fn codes(codings: &Value) -> Vec<&str> {
    codings.as_array().map_or_else(Vec::new, |c| c.iter().map(|c| c["code"].as_str().unwrap()).collect())
}

fn category(code: &str, display: &str) -> Value {
    json!({"system": "https://zorgpoort.nl/fhir/CodeSystem/data-category", "code": code, "display": display})
}

#[test]
fn a_mentor_with_full_access_who_may_write() {
    let outcome = map_pluriform("vertegenwoordiger", representative("mentor", "volledig", "J"));
    let record = mapped(&outcome);
    assert!(record.warnings.is_empty(), "{:?}", record.warnings);
    let action = |code: &str, display: &str| {
        json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": code,
                            "display": display}]}])
    };
    assert_eq!(
        part(record, "grant"),
        json!({
            "resourceType": "Consent",
            "identifier": [{"system": "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/vertegenwoordiger",
                            "value": "R-2001"}],
            "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                  "code": "patient-privacy", "display": "Privacy Consent"}]},
            "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/consent-category",
                                      "code": "access-grant", "display": "Toegang vertegenwoordiger"}]}],
            "patient": {"reference": "urn:zorgpoort:source:client:100234"},
            "dateTime": "2026-11-20T09:00:00+01:00",
            "organization": [{"display": "Pameijer"}],
            "policyRule": {"text": "Portaaltoegang volgens het ECD: volledig"},
            "provision": {
                "type": "permit",
                "period": {"start": "2024-01-01"},
                "actor": [{
                    "role": {"coding": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472", "code": "15",
                                         "display": "Mentor"}], "text": "mentor"},
                    "reference": {"reference": "urn:zorgpoort:source:vertegenwoordiger:R-2001@100234"}
                }],
                "action": action("access", "Access"),
                "class": [
                    category("identity", "Identiteit"), category("profile", "Persoonsgegevens"),
                    category("reports", "Rapportages"), category("measurements", "Metingen"),
                    category("plan", "Plan"), category("questionnaires", "Vragenlijsten"),
                    category("agenda", "Agenda"), category("messages", "Berichten"),
                    category("consents", "Toestemmingen"), category("finance", "Financiën"),
                    // Full access: a legal representative (not a bewindvoerder) with `volledig`.
                    category("access-log", "Inzagelog"),
                ],
                "provision": [{
                    "type": "permit",
                    "action": action("correct", "Access and Correct"),
                    "class": [category("reports", "Rapportages"), category("messages", "Berichten"),
                              category("agenda", "Agenda"), category("consents", "Toestemmingen")]
                }]
            }
        })
    );
}

/// (soort, portaaltoegang, mag_schrijven) → (status, read, write, warnings)
#[test]
fn each_level_reads_and_writes_what_the_access_model_says() {
    const ALL: &[&str] = &[
        "identity",
        "profile",
        "reports",
        "measurements",
        "plan",
        "questionnaires",
        "agenda",
        "messages",
        "consents",
        "finance",
    ];
    // Full access (access-model.md): all of it, and the access log.
    const FULL: &[&str] = &[
        "identity",
        "profile",
        "reports",
        "measurements",
        "plan",
        "questionnaires",
        "agenda",
        "messages",
        "consents",
        "finance",
        "access-log",
    ];
    type Case<'a> = ((&'a str, &'a str, &'a str), (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]));
    let cases: &[Case] = &[
        (("mentor", "volledig", "N"), ("active", FULL, &[], &[])),
        // A naaste with `volledig` reads and writes, but never the client's
        // consents, and has no full access (no access log).
        (("naaste", "volledig", "J"), ("active", ALL, &["reports", "messages", "agenda"], &[])),
        (("naaste", "volledig", "N"), ("active", ALL, &[], &[])),
        (("curator", "volledig", "J"), ("active", FULL, &["reports", "messages", "agenda", "consents"], &[])),
        (("gemachtigde", "volledig", "J"), ("active", FULL, &["reports", "messages", "agenda", "consents"], &[])),
        (("voogd", "volledig", "N"), ("active", FULL, &[], &[])),
        (("ouder_met_gezag", "volledig", "J"), ("active", FULL, &["reports", "messages", "agenda", "consents"], &[])),
        // A bewindvoerder never has full access; what else the mapping
        // gives it, the law takes out at ingest (`access::law`).
        (("bewindvoerder", "volledig", "N"), ("active", ALL, &[], &[])),
        (("bewindvoerder", "volledig", "J"), ("active", ALL, &["reports", "messages", "agenda", "consents"], &[])),
        // Only `volledig` is full access.
        (("mentor", "noodzakelijk", "J"), ("active", &["identity", "profile", "plan", "consents"], &[], &[])),
        (("voogd", "noodzakelijk", "J"), ("active", &["identity", "profile", "plan", "consents"], &[], &[])),
        (("naaste", "beperkt", "J"), ("active", &["identity", "reports"], &["reports"], &[])),
        (("naaste", "beperkt", "N"), ("active", &["identity", "reports"], &[], &[])),
        (("bewindvoerder", "financieel", "J"), ("active", &["identity", "profile", "finance"], &[], &[])),
        (("ouder_met_gezag", "geen", "J"), ("inactive", &[], &[], &[])),
        (
            ("mentor", "alles", "J"),
            ("inactive", &[], &[], &["`alles` is not a known code of `leesrechten`; taken as its otherwise"]),
        ),
        (
            ("oom", "volledig", "J"),
            ("inactive", &[], &[], &["`oom` is not a known code of `soort`; taken as its otherwise"]),
        ),
    ];
    for ((soort, level, writes), (status, read, write, warnings)) in cases {
        let outcome = map_pluriform("vertegenwoordiger", representative(soort, level, writes));
        let record = mapped(&outcome);
        let grant = part(record, "grant");
        let provision = &grant["provision"];
        let case = format!("{soort} {level} {writes}");
        assert_eq!(grant["status"], *status, "{case}");
        assert_eq!(codes(&provision["class"]), *read, "{case}");
        assert_eq!(codes(&provision["provision"][0]["class"]), *write, "{case}");
        assert_eq!(record.warnings, *warnings, "{case}: one warning, though two resources look the code up");
        // Every grant names its representative and its period, whatever it allows.
        assert_eq!(
            provision["actor"][0]["reference"]["reference"],
            "urn:zorgpoort:source:vertegenwoordiger:R-2001@100234"
        );
        assert_eq!(provision["period"], json!({"start": "2024-01-01"}), "{case}");
    }
}

#[test]
fn an_unknown_kind_of_representative_keeps_its_text_as_role() {
    let outcome = map_pluriform("vertegenwoordiger", representative("oom", "volledig", "J"));
    let grant = part(mapped(&outcome), "grant");
    assert_eq!(grant["provision"]["actor"][0]["role"], json!({"text": "oom"}));
}

#[test]
fn the_grant_holds_only_inside_its_period() {
    let mut record = representative("mentor", "volledig", "N");
    record["geldig_tot"] = json!("30-06-2025");
    let grant = part(mapped(&map_pluriform("vertegenwoordiger", record)), "grant");
    assert_eq!(grant["provision"]["period"], json!({"start": "2024-01-01", "end": "2025-06-30"}));
}

/// COD472 has one code (24) for several legal representatives: the exact
/// kind rides along as a project coding, on the person and on the grant.
#[test]
fn the_exact_kind_of_a_legal_representative_beside_its_cod472_code() {
    let outcome = map_pluriform("vertegenwoordiger", representative("gemachtigde", "noodzakelijk", "N"));
    let record = mapped(&outcome);
    let roles = json!([
        {"system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472", "code": "24", "display": "Wettelijke vertegenwoordiger"},
        {"system": "https://zorgpoort.nl/fhir/CodeSystem/representative-kind", "code": "schriftelijk-gemachtigde",
         "display": "Schriftelijk gemachtigde"},
    ]);
    let person = super::written(record);
    let first = json!({"system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472", "code": "01",
                       "display": "Eerste relatie/contactpersoon"});
    assert_eq!(person["relationship"][0]["coding"], json!([roles[0], roles[1], first]));
    assert_eq!(part(record, "grant")["provision"]["actor"][0]["role"]["coding"], roles);
}

/// Full access is one marker: the grant lists `access-log`. A mentor with
/// `volledig` has it; a naaste or a bewindvoerder with `volledig` never.
#[test]
fn full_access_is_the_access_log_category() {
    let access_log = category("access-log", "Inzagelog");
    let lists_it = |soort: &str, level: &str| {
        let outcome = map_pluriform("vertegenwoordiger", representative(soort, level, "N"));
        let grant = part(mapped(&outcome), "grant");
        grant["provision"]["class"].as_array().is_some_and(|c| c.contains(&access_log))
    };
    assert!(lists_it("mentor", "volledig"));
    assert!(!lists_it("naaste", "volledig"));
    assert!(!lists_it("bewindvoerder", "volledig"));
    for soort in ["curator", "voogd", "ouder_met_gezag", "gemachtigde"] {
        assert!(lists_it(soort, "volledig"), "{soort}");
    }
    for level in ["noodzakelijk", "beperkt", "financieel", "geen"] {
        assert!(!lists_it("mentor", level), "{level}");
    }
}

#[test]
fn a_representative_is_one_record_per_client() {
    // The same relatienummer under two clients: two records, each a
    // RelatedPerson of its own client with the vendor's number as its
    // identifier, and a grant naming that one.
    for client in ["100234", "100235"] {
        let outcome = super::map_pluriform_in(
            "vertegenwoordiger",
            representative("mentor", "volledig", "J"),
            &json!({"clientnummer": client}),
        );
        let record = mapped(&outcome);
        assert_eq!(
            (record.source_id.as_str(), record.client.as_deref()),
            (format!("R-2001@{client}").as_str(), Some(client))
        );
        let person = part(record, "");
        assert_eq!(person["patient"]["reference"], format!("urn:zorgpoort:source:client:{client}"));
        assert_eq!(person["identifier"][0]["value"], "R-2001");
        let grant = part(record, "grant");
        assert_eq!(
            grant["provision"]["actor"][0]["reference"]["reference"],
            format!("urn:zorgpoort:source:vertegenwoordiger:R-2001@{client}")
        );
    }
}
