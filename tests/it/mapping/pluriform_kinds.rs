//! Each Pluriform record kind on a hand-made record, with the exact
//! resources it becomes (the access grant: `pluriform_access`).

use base64::Engine;
use serde_json::{Value, json};
use zorgpoort::mapping::engine::{Action, RecordOutcome};

use super::{map_pluriform, map_pluriform_in, mapped, part, parts, pluriform, pluriform_delivery, rejected, written};

const CLIENT: &str = "urn:zorgpoort:source:client:100234";

fn identifier(kind: &str, id: &str) -> Value {
    json!([{"system": format!("https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform/{kind}"), "value": id}])
}

fn data_category(code: &str, display: &str) -> Value {
    json!([{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/data-category", "code": code,
                        "display": display}]}])
}

fn document(name: &str) -> Value {
    json!({"bestandsnaam": name, "mediatype": "application/pdf", "inhoud_base64": "JVBERi0xLjQK"})
}

#[test]
fn a_report_is_a_communication_from_its_author() {
    let record = json!({"id": "RR-1", "datum": "03-05-2023 18:30", "auteur": {"soort": "medewerker", "nummer": "M-17"},
                        "tekst": "Tharah heeft vandaag zelf boodschappen gedaan.", "portaal": "J",
                        "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("rapportage", record.clone());
    let report = mapped(&outcome);
    assert_eq!(
        (report.source_id.as_str(), report.client.as_deref(), report.changed.as_deref()),
        ("RR-1", Some("100234"), Some("2026-11-20T09:00:00+01:00"))
    );
    assert_eq!(
        written(report),
        json!({"resourceType": "Communication", "identifier": identifier("rapportage", "RR-1"), "status": "completed",
               "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/communication-category",
                                         "code": "report", "display": "Rapportage"}]}],
               "subject": {"reference": CLIENT}, "sent": "2023-05-03T18:30:00+02:00",
               "sender": {"reference": "urn:zorgpoort:source:medewerker:M-17"},
               "payload": [{"contentString": "Tharah heeft vandaag zelf boodschappen gedaan."}]})
    );
    // (auteur, sender reference, warnings)
    let authors = [
        (json!({"soort": "client"}), Some(CLIENT), vec![]),
        (
            json!({"soort": "vertegenwoordiger", "relatienummer": "R-2001"}),
            Some("urn:zorgpoort:source:vertegenwoordiger:R-2001@100234"),
            vec![],
        ),
        (json!({"soort": "buurman"}), None, vec!["`buurman` is not a known code of `partij`; taken as its otherwise"]),
        (json!(null), None, vec![]),
    ];
    for (author, sender, warnings) in authors {
        let mut record = record.clone();
        record["auteur"] = author.clone();
        let outcome = map_pluriform("rapportage", record);
        let report = mapped(&outcome);
        assert_eq!(written(report)["sender"]["reference"].as_str(), sender, "{author}");
        assert_eq!(report.warnings, warnings, "{author}");
    }
}

#[test]
fn a_report_not_for_the_portal_is_skipped() {
    for portaal in [json!("N"), json!(null), json!(""), json!("j")] {
        let record = json!({"id": "RR-2", "datum": "03-05-2023 18:30", "auteur": {"soort": "client"}, "tekst": "x",
                            "portaal": portaal, "gewijzigd": "2026-11-20T09:00:00+01:00"});
        assert_eq!(mapped(&map_pluriform("rapportage", record)).action, Action::Skip, "{portaal}");
    }
    let tombstone = json!({"id": "RR-2", "gewijzigd": "2026-11-21T09:00:00+01:00", "verwijderd": true});
    let outcome = map_pluriform("rapportage", tombstone);
    assert_eq!(
        (&mapped(&outcome).action, mapped(&outcome).changed.as_deref()),
        (&Action::Delete, Some("2026-11-21T09:00:00+01:00"))
    );
}

#[test]
fn a_goal_follows_nl_core_treatment_objective() {
    let record = json!({"id": "D-1", "omschrijving": "Ik wil zelf boodschappen doen",
                        "domein": "Praktische vaardigheden", "status": "actief", "startdatum": "01-01-2023",
                        "einddatum": "31-12-2023", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("doel", record.clone());
    let goal_status = |code: &str, display: &str, text: &str| {
        json!({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": code,
                            "display": display}], "text": text})
    };
    assert_eq!(
        written(mapped(&outcome)),
        json!({"resourceType": "Goal", "identifier": identifier("doel", "D-1"), "lifecycleStatus": "active",
               "achievementStatus": goal_status("in-progress", "In Progress", "Actief"),
               "category": [{"text": "Praktische vaardigheden"}],
               "description": {"text": "Ik wil zelf boodschappen doen"},
               "subject": {"reference": CLIENT}, "startDate": "2023-01-01", "target": [{"dueDate": "2023-12-31"}]})
    );
    let partly = json!({"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": "improving", "display": "Improving"},
        {"system": "https://zorgpoort.nl/fhir/CodeSystem/goal-achievement", "code": "partly-achieved",
         "display": "Gedeeltelijk behaald"}], "text": "Gedeeltelijk behaald"});
    let statuses = [
        ("behaald", "completed", goal_status("achieved", "Achieved", "Behaald")),
        ("gedeeltelijk_behaald", "active", partly),
        ("gestopt", "cancelled", goal_status("not-achieved", "Not Achieved", "Gestopt")),
    ];
    for (status, lifecycle, achievement) in statuses {
        let mut record = record.clone();
        record["status"] = json!(status);
        let goal = written(mapped(&map_pluriform("doel", record)));
        assert_eq!((&goal["lifecycleStatus"], &goal["achievementStatus"]), (&json!(lifecycle), &achievement));
    }
}

fn client_plan(status: &str) -> Value {
    json!({"id": "CP-301", "afdrukdatum": "14-04-2023", "status": status, "ondertekend_op": "01-05-2023",
           "afwijzingsreden": null, "doelen": ["D-1", "D-2"], "document": document("clientplan-2023-04-14.pdf"),
           "gewijzigd": "2026-11-20T09:00:00+01:00"})
}

#[test]
fn a_signed_client_plan_is_a_care_plan_with_its_print() {
    let outcome = map_pluriform("clientplan", client_plan("ondertekend"));
    let plan = mapped(&outcome);
    assert_eq!(parts(plan), ["", "document", "binary"], "the Binary after the DocumentReference it points to");
    assert_eq!(
        written(plan),
        json!({"resourceType": "CarePlan", "identifier": identifier("clientplan", "CP-301"), "status": "active",
               "intent": "plan", "title": "Cliëntplan", "subject": {"reference": CLIENT},
               "period": {"start": "2023-05-01"}, "created": "2023-04-14",
               "goal": [{"reference": "urn:zorgpoort:source:doel:D-1"},
                        {"reference": "urn:zorgpoort:source:doel:D-2"}]})
    );
    assert_eq!(
        part(plan, "document"),
        json!({"resourceType": "DocumentReference", "identifier": identifier("clientplan", "CP-301"),
               "status": "current", "docStatus": "final", "type": {"text": "Cliëntplan"},
               "category": data_category("plan", "Plan"), "subject": {"reference": CLIENT},
               "content": [{"attachment": {"contentType": "application/pdf", "language": "nl",
                                           "url": "urn:zorgpoort:source:clientplan:CP-301#binary",
                                           "title": "clientplan-2023-04-14.pdf", "creation": "2023-04-14"}}],
               "context": {"related": [{"reference": "urn:zorgpoort:source:clientplan:CP-301"}]}})
    );
    assert_eq!(
        part(plan, "binary"),
        json!({"resourceType": "Binary", "contentType": "application/pdf",
               "securityContext": {"reference": "urn:zorgpoort:source:clientplan:CP-301#document"},
               "data": "JVBERi0xLjQK"})
    );
}

#[test]
fn client_plan_statuses_and_a_plan_without_its_print() {
    assert_eq!(mapped(&map_pluriform("clientplan", client_plan("concept"))).action, Action::Skip);
    let offered = written(mapped(&map_pluriform("clientplan", client_plan("ter_ondertekening"))));
    assert_eq!(offered["status"], "draft");
    let mut rejected = client_plan("afgekeurd");
    rejected["ondertekend_op"] = Value::Null;
    rejected["afwijzingsreden"] = json!("Doel over geld klopt niet.");
    let rejected = written(mapped(&map_pluriform("clientplan", rejected)));
    assert_eq!(rejected["status"], "revoked");
    assert_eq!(rejected["note"], json!([{"text": "Afgekeurd: Doel over geld klopt niet."}]));
    assert!(rejected.get("period").is_none(), "{rejected}");
    let mut without_print = client_plan("ondertekend");
    without_print.as_object_mut().unwrap().remove("document");
    assert_eq!(parts(mapped(&map_pluriform("clientplan", without_print))), [""]);
}

#[test]
fn an_evaluation_is_a_plan_document_with_its_period() {
    let record = json!({"id": "EV-12", "periode": "07-07-2021 t/m 03-02-2022", "afgerond_op": "10-02-2022",
                        "document": document("evaluatie-2022-02.pdf"), "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("evaluatie", record.clone());
    let evaluation = mapped(&outcome);
    assert_eq!(
        written(evaluation),
        json!({"resourceType": "DocumentReference", "identifier": identifier("evaluatie", "EV-12"),
               "status": "current", "docStatus": "final", "type": {"text": "Evaluatie"},
               "category": data_category("plan", "Plan"), "subject": {"reference": CLIENT},
               "content": [{"attachment": {"contentType": "application/pdf", "language": "nl",
                                           "url": "urn:zorgpoort:source:evaluatie:EV-12#binary",
                                           "title": "evaluatie-2022-02.pdf", "creation": "2022-02-10"}}],
               "context": {"period": {"start": "2021-07-07", "end": "2022-02-03"}}})
    );
    assert_eq!(
        part(evaluation, "binary")["securityContext"],
        json!({"reference": "urn:zorgpoort:source:evaluatie:EV-12"})
    );
    // Not yet completed, no document: a document that says so, nothing to download.
    let open = json!({"id": "EV-13", "periode": "01-03-2022 - 01-09-2022", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("evaluatie", open);
    let open = mapped(&outcome);
    assert_eq!(parts(open), [""]);
    let open = written(open);
    assert_eq!(open["docStatus"], "preliminary");
    assert_eq!(open["content"], json!([{"attachment": {"language": "nl", "title": "Evaluatie"}}]));
    assert_eq!(open["context"]["period"], json!({"start": "2022-03-01", "end": "2022-09-01"}));
}

#[test]
fn an_invoice_with_its_period_and_its_print() {
    let record = json!({"id": "F-2024-10-0042", "soort": "Samengestelde factuur", "bedrag": "3.578,54 €",
                        "periode": "01-10-2024 - 31-10-2024", "factuurdatum": "05-11-2024", "status": "verzonden",
                        "document": document("factuur.pdf"), "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("factuur", record.clone());
    let invoice = mapped(&outcome);
    assert_eq!(parts(invoice), ["", "document", "binary"]);
    let money = json!({"value": 3578.54, "currency": "EUR"});
    assert_eq!(
        written(invoice),
        json!({"resourceType": "Invoice", "identifier": identifier("factuur", "F-2024-10-0042"),
               "extension": [{"url": "https://zorgpoort.nl/fhir/StructureDefinition/invoice-period",
                              "valuePeriod": {"start": "2024-10-01", "end": "2024-10-31"}}],
               "status": "issued", "type": {"text": "Samengestelde factuur"}, "subject": {"reference": CLIENT},
               "date": "2024-11-05", "issuer": {"display": "Pameijer"}, "totalNet": money, "totalGross": money})
    );
    let print = part(invoice, "document");
    assert_eq!(print["category"], data_category("finance", "Financiën"));
    assert_eq!(print["content"][0]["attachment"]["url"], "urn:zorgpoort:source:factuur:F-2024-10-0042#binary");
    assert_eq!(print["context"]["period"], json!({"start": "2024-10-01", "end": "2024-10-31"}));
    let binary = part(invoice, "binary");
    assert_eq!(binary["securityContext"]["reference"], "urn:zorgpoort:source:factuur:F-2024-10-0042#document");
    for (status, fhir) in [("betaald", "balanced"), ("gecrediteerd", "cancelled")] {
        let mut record = record.clone();
        record["status"] = json!(status);
        assert_eq!(written(mapped(&map_pluriform("factuur", record)))["status"], fhir);
    }
}

#[test]
fn a_message_between_the_client_side_and_the_care_team() {
    let record = json!({"id": "B-9002", "verzonden": "2024-03-08T14:10:00+01:00", "van": {"soort": "client"},
                        "aan": {"soort": "medewerker", "nummer": "M-17"}, "tekst": "Hallo",
                        "in_antwoord_op": "B-9001", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let outcome = map_pluriform("bericht", record);
    assert_eq!(
        written(mapped(&outcome)),
        json!({"resourceType": "Communication",
               "meta": {"tag": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/message-audience",
                                 "code": "participants-and-full-access"}]},
               "identifier": identifier("bericht", "B-9002"),
               "inResponseTo": [{"reference": "urn:zorgpoort:source:bericht:B-9001"}], "status": "completed",
               "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/communication-category",
                                         "code": "message", "display": "Bericht"}]}],
               "subject": {"reference": CLIENT}, "sent": "2024-03-08T14:10:00+01:00",
               "recipient": [{"reference": "urn:zorgpoort:source:medewerker:M-17"}],
               "sender": {"reference": CLIENT}, "payload": [{"contentString": "Hallo"}]})
    );
    let from_representative = json!({"id": "B-9003", "verzonden": "2024-03-08T14:10:00+01:00",
        "van": {"soort": "vertegenwoordiger", "relatienummer": "R-2001"}, "aan": {"soort": "client"}, "tekst": "Hoi",
        "in_antwoord_op": null, "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let message = written(mapped(&map_pluriform("bericht", from_representative)));
    assert_eq!(message["sender"], json!({"reference": "urn:zorgpoort:source:vertegenwoordiger:R-2001@100234"}));
    assert_eq!(message["recipient"], json!([{"reference": CLIENT}]));
    assert!(message.get("inResponseTo").is_none());
    // To the care team without a name: the client's eerstverantwoordelijke
    // receives the client's messages.
    let to_the_team = json!({"id": "B-9004", "verzonden": "2024-03-08T14:10:00+01:00", "van": {"soort": "client"},
                             "aan": {"soort": "medewerker"}, "tekst": "Hoi", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    let parent = json!({"clientnummer": "100234", "eerstverantwoordelijke": "M-17"});
    let message = written(mapped(&map_pluriform_in("bericht", to_the_team.clone(), &parent)));
    assert_eq!(message["recipient"], json!([{"reference": "urn:zorgpoort:source:medewerker:M-17"}]));
    let outcome = map_pluriform("bericht", to_the_team);
    let rejection = rejected(&outcome);
    assert_eq!(
        (rejection.field.as_str(), rejection.reason.as_str()),
        ("aan.nummer", "is required but missing or empty")
    );
}

#[test]
fn a_consent_of_the_client() {
    let record = json!({"id": "T-3", "onderwerp": "foto_nieuwsbrief",
                        "omschrijving": "Foto's van mij mogen in de nieuwsbrief", "waarde": "J",
                        "client_mag_wijzigen": "J", "gewijzigd": "2026-11-20T09:00:00+01:00",
                        "gewijzigd_door": {"soort": "client"}});
    let outcome = map_pluriform("toestemming", record.clone());
    assert_eq!(
        written(mapped(&outcome)),
        json!({"resourceType": "Consent", "identifier": identifier("toestemming", "T-3"),
               "extension": [{"url": "https://zorgpoort.nl/fhir/StructureDefinition/consent-client-may-change",
                              "valueBoolean": true}],
               "status": "active",
               "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                     "code": "patient-privacy", "display": "Privacy Consent"}]},
               "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/consent-category",
                                         "code": "client-consent", "display": "Toestemming"}]}],
               "patient": {"reference": CLIENT}, "dateTime": "2026-11-20T09:00:00+01:00",
               "performer": [{"reference": CLIENT}],
               "policyRule": {"coding": [{"system":
                   "https://zorgpoort.nl/fhir/CodeSystem/pameijer/pluriform/toestemming-onderwerp",
                   "code": "foto_nieuwsbrief"}], "text": "Foto's van mij mogen in de nieuwsbrief"},
               "provision": {"type": "permit"}})
    );
    // (waarde, onderwerp, gewijzigd_door) → (status, provision, scope, performer)
    let cases = [
        (
            json!("N"),
            "foto_nieuwsbrief",
            json!({"soort": "client"}),
            "active",
            json!({"type": "deny"}),
            "patient-privacy",
            json!([{"reference": CLIENT}]),
        ),
        (
            json!(null),
            "onderzoek",
            json!({"soort": "vertegenwoordiger", "relatienummer": "R-1"}),
            "proposed",
            Value::Null,
            "research",
            json!([{"reference": "urn:zorgpoort:source:vertegenwoordiger:R-1@100234"}]),
        ),
        (
            json!("J"),
            "onderzoek",
            json!({"soort": "medewerker", "nummer": "M-1"}),
            "active",
            json!({"type": "permit"}),
            "research",
            json!([{"reference": "urn:zorgpoort:source:medewerker:M-1"}]),
        ),
    ];
    for (waarde, onderwerp, by, status, provision, scope, performer) in cases {
        let mut record = record.clone();
        record["waarde"] = waarde.clone();
        record["onderwerp"] = json!(onderwerp);
        record["gewijzigd_door"] = by;
        record["client_mag_wijzigen"] = json!("N");
        let consent = written(mapped(&map_pluriform("toestemming", record)));
        assert_eq!(consent["status"], status, "{waarde}");
        assert_eq!(consent["provision"], provision, "{waarde}");
        assert_eq!(consent["scope"]["coding"][0]["code"], scope, "{waarde}");
        assert_eq!(consent["performer"], performer, "{waarde}");
        assert_eq!(consent["extension"][0]["valueBoolean"], false);
    }
}

fn client(extra: Value) -> Value {
    let mut client = json!({"clientnummer": "100234", "naam": {"voornamen": "Tharah", "achternaam": "Berg"},
                            "geboortedatum": "19-07-1995", "geslacht": "V", "gewijzigd": "2026-11-20T09:00:00+01:00"});
    client.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    client
}

#[test]
fn the_care_team_and_the_care_period_of_a_client() {
    let outcome = map_pluriform(
        "client",
        client(json!({"in_zorg": {"begin": "01-03-2019", "einde": null}, "eerstverantwoordelijke": "M-17"})),
    );
    let record = mapped(&outcome);
    assert_eq!(parts(record), ["", "careteam", "episode"]);
    assert_eq!(
        part(record, "careteam"),
        json!({"resourceType": "CareTeam", "identifier": identifier("client", "100234"), "status": "active",
               "subject": {"reference": CLIENT},
               "participant": [{"role": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                                      "code": "RESP", "display": "responsible party"}],
                                          "text": "Eerstverantwoordelijke"}],
                                "member": {"reference": "urn:zorgpoort:source:medewerker:M-17"}}],
               "managingOrganization": [{"display": "Pameijer"}]})
    );
    assert_eq!(
        part(record, "episode"),
        json!({"resourceType": "EpisodeOfCare", "identifier": identifier("client", "100234"), "status": "active",
               "patient": {"reference": CLIENT}, "managingOrganization": {"display": "Pameijer"},
               "period": {"start": "2019-03-01"}})
    );
    // Care ended: the period closes, the team is no longer active.
    let ended = map_pluriform(
        "client",
        client(json!({"in_zorg": {"begin": "01-03-2019", "einde": "31-12-2025"},
                                                       "eerstverantwoordelijke": "M-17"})),
    );
    let ended = mapped(&ended);
    assert_eq!(part(ended, "episode")["status"], "finished");
    assert_eq!(part(ended, "episode")["period"], json!({"start": "2019-03-01", "end": "2025-12-31"}));
    assert_eq!(part(ended, "careteam")["status"], "inactive");
    // Neither: only the Patient (what the client wrote before goes).
    assert_eq!(parts(mapped(&map_pluriform("client", client(json!({}))))), [""]);
}

/// The persoonsbeeld's four cases, on whole deliveries: with the client,
/// absent from a full client, absent from a container, null in a
/// container; its identity is the client's number in each.
#[test]
fn the_persoonsbeeld_comes_and_goes_with_its_client() {
    let picture = json!({"samenvatting_voorgeschiedenis": "Woont sinds 2019 op de groep.",
                         "aanspreekvorm": "Noem me Tharah, zeg maar je.", "gewijzigd": "2026-11-19T09:00:00+01:00"});
    let cases = [
        (
            "with the client",
            client(json!({"persoonsbeeld": picture.clone()})),
            "write",
            Some("2026-11-19T09:00:00+01:00"),
        ),
        ("a full client without one", client(json!({})), "delete", None),
        ("a full client with null", client(json!({"persoonsbeeld": null})), "delete", None),
        ("a container without one", json!({"clientnummer": "100234", "rapportages": []}), "container", None),
        ("a container with null", json!({"clientnummer": "100234", "persoonsbeeld": null}), "delete", None),
        (
            "alone in a container",
            json!({"clientnummer": "100234", "persoonsbeeld": picture}),
            "write",
            Some("2026-11-19T09:00:00+01:00"),
        ),
        (
            "a client tombstone",
            json!({"clientnummer": "100234", "gewijzigd": "2026-11-21T09:00:00+01:00",
                                      "verwijderd": true}),
            "delete",
            None,
        ),
    ];
    for (case, client, action, changed) in cases {
        let delivery = pluriform_delivery(json!([client]));
        let outcomes: Vec<RecordOutcome> = pluriform().map_delivery(&delivery).collect();
        let record = outcomes.iter().map(mapped).find(|r| r.kind == "persoonsbeeld").unwrap();
        assert_eq!((record.source_id.as_str(), record.client.as_deref()), ("100234", Some("100234")), "{case}");
        let found = match &record.action {
            Action::Write(_) => "write",
            Action::Delete => "delete",
            Action::Container => "container",
            Action::Skip => "skip",
        };
        assert_eq!((found, record.changed.as_deref()), (action, changed), "{case}");
        if action == "write" {
            let resource = written(record);
            assert_eq!(resource["date"], "2026-11-19T09:00:00+01:00", "{case}");
            let attachment = &resource["content"][0]["attachment"];
            let text = base64::engine::general_purpose::STANDARD.decode(attachment["data"].as_str().unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(text).unwrap(),
                "Samenvatting voorgeschiedenis\nWoont sinds 2019 op de groep.\n\nAanspreekvorm\nNoem me Tharah, zeg maar je.",
                "{case}"
            );
            assert_eq!(attachment["contentType"], "text/plain; charset=utf-8");
        }
    }
}

#[test]
fn an_empty_persoonsbeeld_is_a_document_without_text() {
    let outcome = map_pluriform_in("persoonsbeeld", client(json!({"persoonsbeeld": {}})), &Value::Null);
    let resource = written(mapped(&outcome));
    assert_eq!(
        resource["content"],
        json!([{"attachment": {"contentType": "text/plain; charset=utf-8",
                                                          "language": "nl", "title": "Persoonsbeeld"}}])
    );
    assert_eq!(resource["category"], data_category("plan", "Plan"));
}
