//! Each Caress element on hand-made XML, with the exact resources it
//! becomes.

use serde_json::json;
use zorgpoort::mapping::engine::Action;

use super::caress::assert_all_valid;
use super::{map_caress_client, mapped, outcome, part, parts, written};

const SYSTEM: &str = "https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/caress";

#[test]
fn medewerker_is_a_practitioner() {
    let outcomes =
        map_caress_client("<c:Medewerker id=\"E-77\" naam=\"Pieter Bakker\" rol=\"Persoonlijk Begeleider A t/m C\"/>");
    assert_all_valid(&outcomes);
    assert_eq!(
        written(mapped(&outcomes[0])),
        json!({"resourceType": "Practitioner", "identifier": [{"system": format!("{SYSTEM}/medewerker"), "value": "E-77"}],
               "name": [{"use": "official", "text": "Pieter Bakker"}],
               "qualification": [{"code": {"text": "Persoonlijk Begeleider A t/m C"}}]})
    );
}

#[test]
fn client_with_everything_kept_per_client() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\" gewijzigd=\"2026-11-20T09:12:00+01:00\">\
         <c:Persoon><c:Bsn>999911120</c:Bsn><c:Voornamen>Tedje Johannes</c:Voornamen><c:Roepnaam>Ted</c:Roepnaam>\
         <c:Voorvoegsel>van der</c:Voorvoegsel><c:Achternaam>Test</c:Achternaam><c:Geboortedatum>1995-07-19</c:Geboortedatum>\
         <c:Geslacht code=\"V\"/><c:Adres straat=\"Hoofdweg\" huisnummer=\"3\" postcode=\"3800 AA\" plaats=\"Amersfoort\"/>\
         <c:Telefoon soort=\"mobiel\">0612345678</c:Telefoon><c:Telefoon>0331234567</c:Telefoon><c:Email>tedje@example.nl</c:Email></c:Persoon>\
         <c:Zorg begin=\"2015-02-01\" eind=\"2026-12-31\"/>\
         <c:Huisarts naam=\"Huisartsenpraktijk De Linde\" agb=\"01012345\" telefoon=\"0331234567\"/>\
         <c:Apotheek naam=\"Apotheek Centrum\" agb=\"06012345\"/>\
         <c:Verzekering maatschappij=\"Zilveren Kruis\" uzovi=\"3311\" polisnummer=\"123456789\"/>\
         <c:Zorgteam><c:Lid medewerker=\"E-77\" rol=\"Persoonlijk Begeleider\"/><c:Lid medewerker=\"E-78\" rol=\"Gedragsdeskundige\"/></c:Zorgteam>\
         </c:Client>",
    );
    assert_all_valid(&outcomes);
    let client = mapped(&outcomes[0]);
    assert_eq!(parts(client), ["", "episode", "huisarts", "apotheek", "careteam", "verzekeraar", "verzekering"]);
    assert_eq!(
        written(client),
        json!({"resourceType": "Patient",
               "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"},
                              {"system": format!("{SYSTEM}/client"), "value": "3100457"}],
               "name": [{"use": "official", "family": "van der Test",
                         "_family": {"extension": [
                             {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "van der"},
                             {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": "Test"}]},
                         "given": ["Tedje", "Johannes"]},
                        {"use": "usual", "given": ["Ted"]}],
               "telecom": [{"system": "email", "value": "tedje@example.nl", "use": "home"},
                           {"system": "phone", "value": "0612345678", "use": "mobile"},
                           {"system": "phone", "value": "0331234567"}],
               "gender": "female", "birthDate": "1995-07-19",
               "address": [{"use": "home", "line": ["Hoofdweg 3"], "city": "Amersfoort", "postalCode": "3800 AA", "country": "NL"}]})
    );
    let episode = part(client, "episode");
    assert_eq!(
        (&episode["status"], &episode["period"]),
        (&json!("finished"), &json!({"start": "2015-02-01", "end": "2026-12-31"}))
    );
    let team = part(client, "careteam");
    assert_eq!(team["status"], "inactive");
    let members: Vec<&str> =
        team["participant"].as_array().unwrap().iter().map(|p| p["member"]["reference"].as_str().unwrap()).collect();
    assert_eq!(
        members,
        [
            "urn:zorgpoort:source:medewerker:E-77",
            "urn:zorgpoort:source:medewerker:E-78",
            "urn:zorgpoort:source:client:3100457#huisarts",
            "urn:zorgpoort:source:client:3100457#apotheek"
        ]
    );
    assert_eq!(
        part(client, "apotheek")["identifier"],
        json!([{"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "06012345"}])
    );
    assert_eq!(
        part(client, "verzekeraar"),
        json!({"resourceType": "Organization",
               "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/uzovi", "value": "3311"}],
               "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "ins", "display": "Insurance Company"}]}],
               "name": "Zilveren Kruis"})
    );
    assert_eq!(
        part(client, "verzekering"),
        json!({"resourceType": "Coverage", "identifier": [{"system": format!("{SYSTEM}/client"), "value": "3100457"}],
               "status": "active", "subscriberId": "123456789",
               "beneficiary": {"reference": "urn:zorgpoort:source:client:3100457"},
               "payor": [{"reference": "urn:zorgpoort:source:client:3100457#verzekeraar", "display": "Zilveren Kruis"}]})
    );
}

#[test]
fn a_client_without_gp_pharmacy_team_care_period_or_insurance_writes_the_patient_only() {
    let outcomes = map_caress_client(
        "<c:Client id=\"1\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><c:Persoon><c:Achternaam>Test</c:Achternaam></c:Persoon>\
         <c:Zorg begin=\"\" eind=\"\"/><c:Huisarts naam=\"\" agb=\"\"/><c:Verzekering polisnummer=\"\"/><c:Zorgteam/></c:Client>",
    );
    assert_eq!(parts(mapped(&outcomes[0])), [""]);
}

#[test]
fn contactpersoon_is_a_related_person() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\"><c:Contactpersonen><c:Contactpersoon id=\"CP-9\" gewijzigd=\"2026-11-20T09:12:00+01:00\">\
         <c:Naam voornamen=\"Karin\" voorvoegsel=\"de\" achternaam=\"Test\"/><c:Relatie>Zus</c:Relatie>\
         <c:Vertegenwoordiging>Curator</c:Vertegenwoordiging><c:Portaal actief=\"true\" rechten=\"dossier-lezen\"/>\
         <c:Geldig van=\"2020-01-01\" tot=\"\"/><c:Email>karin@example.nl</c:Email>\
         <c:Telefoon soort=\"mobiel\">0687654321</c:Telefoon></c:Contactpersoon>\
         <c:Contactpersoon id=\"CP-10\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><c:Naam achternaam=\"Buur\"/>\
         <c:Relatie>Goede kennis</c:Relatie><c:Vertegenwoordiging>Geen</c:Vertegenwoordiging></c:Contactpersoon>\
         </c:Contactpersonen></c:Client>",
    );
    assert_all_valid(&outcomes);
    assert_eq!(
        written(mapped(outcome(&outcomes, "contactpersoon", "CP-9"))),
        json!({"resourceType": "RelatedPerson",
               "identifier": [{"system": format!("{SYSTEM}/contactpersoon"), "value": "CP-9"}],
               "patient": {"reference": "urn:zorgpoort:source:client:3100457"},
               "relationship": [
                   {"coding": [{"code": "03", "display": "Curator (juridisch)", "system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472"}],
                    "text": "Curator"},
                   {"coding": [{"code": "SIS", "display": "sister", "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode"}],
                    "text": "Zus"}],
               "name": [{"use": "official", "family": "de Test", "given": ["Karin"]}],
               "telecom": [{"system": "email", "value": "karin@example.nl"},
                           {"system": "phone", "value": "0687654321", "use": "mobile"}],
               "period": {"start": "2020-01-01"}})
    );
    let other = written(mapped(outcome(&outcomes, "contactpersoon", "CP-10")));
    assert_eq!(
        other["relationship"],
        json!([{"coding": [{"code": "23", "display": "Contactpersoon", "system": "urn:oid:2.16.840.1.113883.2.4.3.11.22.472"}],
                "text": "Geen"},
               {"text": "Goede kennis"}])
    );
}

#[test]
fn doel_is_a_goal_and_its_actions_a_care_plan() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\"><c:Doelen>\
         <c:Doel id=\"G-11\" status=\"actueel\" start=\"2024-01-15\" eind=\"2024-12-31\">\
         <c:Omschrijving>Ik ga twee keer per week zelf met de bus naar mijn werk.</c:Omschrijving>\
         <c:Actie>Samen de busreis oefenen op maandag.</c:Actie><c:Actie>Reiskaart opladen met begeleider.</c:Actie></c:Doel>\
         <c:Doel id=\"G-12\" status=\"historisch\" start=\"2023-01-15\"><c:Omschrijving>Zwemdiploma A.</c:Omschrijving></c:Doel>\
         </c:Doelen></c:Client>",
    );
    assert_all_valid(&outcomes);
    let goal = mapped(outcome(&outcomes, "doel", "G-11"));
    assert_eq!(
        written(goal),
        json!({"resourceType": "Goal", "identifier": [{"system": format!("{SYSTEM}/doel"), "value": "G-11"}],
               "lifecycleStatus": "active",
               "description": {"text": "Ik ga twee keer per week zelf met de bus naar mijn werk."},
               "subject": {"reference": "urn:zorgpoort:source:client:3100457"},
               "startDate": "2024-01-15", "target": [{"dueDate": "2024-12-31"}]})
    );
    let activity = |text: &str| {
        json!({"detail": {"status": "unknown", "description": text,
                          "goal": [{"reference": "urn:zorgpoort:source:doel:G-11"}]}})
    };
    assert_eq!(
        part(goal, "acties"),
        json!({"resourceType": "CarePlan", "identifier": [{"system": format!("{SYSTEM}/doel"), "value": "G-11"}],
               "status": "active", "intent": "plan", "title": "Acties bij het doel",
               "description": "Ik ga twee keer per week zelf met de bus naar mijn werk.",
               "subject": {"reference": "urn:zorgpoort:source:client:3100457"},
               "goal": [{"reference": "urn:zorgpoort:source:doel:G-11"}],
               "activity": [activity("Samen de busreis oefenen op maandag."), activity("Reiskaart opladen met begeleider.")]})
    );
    let past = mapped(outcome(&outcomes, "doel", "G-12"));
    assert_eq!(parts(past), [""], "no actions, no plan");
    assert_eq!(written(past)["lifecycleStatus"], "completed");
}

#[test]
fn aantekening_vragenlijst_and_bericht_name_their_author_sender_and_recipient() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\">\
         <c:Aantekeningen><c:Aantekening id=\"N-501\" datum=\"08-03-24 14:18\" soort=\"Dit vind ik ervan!\" auteur=\"CP-9\">\
         <c:Tekst>Vandaag naar de kapper geweest.</c:Tekst></c:Aantekening></c:Aantekeningen>\
         <c:Vragenlijsten><c:Vragenlijst id=\"Q-7\" naam=\"Aanvalsregistratie\" datum=\"12-03-24 07:45\" auteur=\"E-77\">\
         <c:Antwoord vraag=\"soort\">Tonisch-clonisch</c:Antwoord><c:Antwoord vraag=\"duur_minuten\">3</c:Antwoord>\
         <c:Antwoord vraag=\"medicatie_gegeven\">true</c:Antwoord><c:Antwoord vraag=\"hersteld\">false</c:Antwoord>\
         <c:Antwoord vraag=\"temperatuur\">37,8</c:Antwoord><c:Antwoord vraag=\"gewicht\">61.5</c:Antwoord>\
         <c:Antwoord vraag=\"opmerking\"/></c:Vragenlijst></c:Vragenlijsten>\
         <c:Berichten><c:Bericht id=\"MSG-3\" verzonden=\"08-03-24 14:10\" van=\"E-77\" aan=\"CP-9\">Hallo &amp; tot morgen</c:Bericht></c:Berichten>\
         </c:Client>",
    );
    assert_all_valid(&outcomes);
    let note = written(mapped(outcome(&outcomes, "aantekening", "N-501")));
    assert_eq!(
        note,
        json!({"resourceType": "Communication", "identifier": [{"system": format!("{SYSTEM}/aantekening"), "value": "N-501"}],
               "status": "completed",
               "category": [{"coding": [{"system": "https://zorgpoort.nl/fhir/CodeSystem/communication-category", "code": "report", "display": "Rapportage"}]},
                            {"text": "Dit vind ik ervan!"}],
               "subject": {"reference": "urn:zorgpoort:source:client:3100457"},
               "sent": "2024-03-08T14:18:00+01:00",
               "sender": {"reference": "urn:zorgpoort:source:contactpersoon|medewerker:CP-9"},
               "payload": [{"contentString": "Vandaag naar de kapper geweest."}]})
    );
    let answers = written(mapped(outcome(&outcomes, "vragenlijst", "Q-7")));
    assert_eq!(answers["author"], json!({"reference": "urn:zorgpoort:source:contactpersoon|medewerker:E-77"}));
    assert_eq!(answers["authored"], "2024-03-12T07:45:00+01:00");
    assert_eq!(
        answers["item"],
        json!([{"linkId": "Aanvalsregistratie", "text": "Aanvalsregistratie", "item": [
            {"linkId": "soort", "text": "soort", "answer": [{"valueString": "Tonisch-clonisch"}]},
            {"linkId": "duur_minuten", "text": "duur_minuten", "answer": [{"valueInteger": 3}]},
            {"linkId": "medicatie_gegeven", "text": "medicatie_gegeven", "answer": [{"valueBoolean": true}]},
            {"linkId": "hersteld", "text": "hersteld", "answer": [{"valueBoolean": false}]},
            {"linkId": "temperatuur", "text": "temperatuur", "answer": [{"valueDecimal": 37.8}]},
            {"linkId": "gewicht", "text": "gewicht", "answer": [{"valueDecimal": 61.5}]},
            {"linkId": "opmerking", "text": "opmerking"}]}])
    );
    let message = written(mapped(outcome(&outcomes, "bericht", "MSG-3")));
    assert_eq!(message["sender"], json!({"reference": "urn:zorgpoort:source:contactpersoon|medewerker:E-77"}));
    assert_eq!(message["recipient"], json!([{"reference": "urn:zorgpoort:source:contactpersoon|medewerker:CP-9"}]));
    assert_eq!(message["category"][0]["coding"][0]["code"], "message");
    assert_eq!(message["payload"], json!([{"contentString": "Hallo & tot morgen"}]));
    // Caress shows every message in the client's file to the client (caress.md).
    assert_eq!(
        message["meta"]["tag"],
        json!([{"system": "https://zorgpoort.nl/fhir/CodeSystem/message-audience", "code": "client-and-participants"}])
    );
}

#[test]
fn afspraak_is_an_appointment_with_its_author() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\"><c:Agenda><c:Afspraak id=\"A-1\" heleDag=\"false\" zichtbaarheid=\"Privé\" \
         start=\"01-04-24 10:00\" eind=\"01-04-24 11:30\" auteur=\"CP-9\"><c:Titel>Kapper</c:Titel>\
         <c:Beschrijving>Knippen en verven.</c:Beschrijving></c:Afspraak></c:Agenda></c:Client>",
    );
    assert_all_valid(&outcomes);
    let author = json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "AUT", "display": "author (originator)"}]}]);
    assert_eq!(
        written(mapped(outcome(&outcomes, "afspraak", "A-1"))),
        json!({"resourceType": "Appointment",
               "meta": {"security": [{"code": "R", "display": "restricted", "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"}]},
               "identifier": [{"system": format!("{SYSTEM}/afspraak"), "value": "A-1"}],
               "status": "booked", "description": "Kapper",
               "start": "2024-04-01T10:00:00+02:00", "end": "2024-04-01T11:30:00+02:00",
               "comment": "Knippen en verven.",
               "participant": [
                   {"actor": {"reference": "urn:zorgpoort:source:client:3100457"}, "status": "accepted"},
                   {"type": author, "actor": {"reference": "urn:zorgpoort:source:contactpersoon|medewerker:CP-9"}, "status": "accepted"}]})
    );
    assert!(matches!(mapped(&outcomes[0]).action, Action::Container));
}
