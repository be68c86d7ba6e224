//! The Caress quirks (prefixes, entities and CDATA, two-digit years,
//! whole-day items, empty = absent, the private default), containers and
//! tombstones, bad records rejected alone with field and reason, and
//! documents refused whole.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zorgpoort::mapping::engine::{Action, RecordOutcome};

use super::describe;
use super::{
    caress_export, fixtures, map_caress_bytes, map_caress_client, map_caress_xml, mapped, outcome, rejected, written,
};

const PERSOON: &str = "<c:Persoon><c:Bsn>999911120</c:Bsn><c:Voornamen>Tedje</c:Voornamen><c:Achternaam>Test</c:Achternaam>\
                       <c:Geboortedatum>1995-07-19</c:Geboortedatum><c:Geslacht code=\"M\"/></c:Persoon>";

/// A client 3100457 holding `inside` besides its Persoon.
fn client(inside: &str) -> String {
    format!("<c:Client id=\"3100457\" gewijzigd=\"2026-11-20T09:12:00+01:00\">{PERSOON}{inside}</c:Client>")
}

fn described(outcomes: &[RecordOutcome]) -> Vec<Value> {
    outcomes
        .iter()
        .map(|o| match o {
            RecordOutcome::Mapped(m) => describe(m),
            RecordOutcome::Rejected(r) => json!({"rejected": r.kind, "field": r.field, "reason": r.reason}),
        })
        .collect()
}

#[test]
fn any_prefix_or_a_default_namespace_maps_the_same() {
    let sample = std::fs::read_to_string(fixtures().join("vendor-samples/caress-sheerenloo.xml")).unwrap();
    let with_c = described(&map_caress_xml(&sample).unwrap());
    let with_ce = sample.replace("<c:", "<ce:").replace("</c:", "</ce:").replace("xmlns:c=", "xmlns:ce=");
    let default = sample.replace("<c:", "<").replace("</c:", "</").replace("xmlns:c=", "xmlns=");
    assert!(default.contains("<Export xmlns=\"urn:caress:export:2\""));
    assert_eq!(described(&map_caress_xml(&with_ce).unwrap()), with_c);
    assert_eq!(described(&map_caress_xml(&default).unwrap()), with_c);
    assert_eq!(with_c.len(), 58);
}

#[test]
fn entities_and_cdata_are_text() {
    let outcomes = map_caress_client(&client(
        "<c:Aantekeningen><c:Aantekening id=\"N-1\" datum=\"08-03-24 14:18\" soort=\"Aantekeningen cli&#235;nt/verwant\" \
         auteur=\"client\"><c:Tekst>\n  Naar de kapper &amp; de markt &lt;fijn&gt;, <![CDATA[\"zei\" ze & <lachte>]]>  \
         </c:Tekst></c:Aantekening></c:Aantekeningen>",
    ));
    let note = written(mapped(outcome(&outcomes, "aantekening", "N-1")));
    assert_eq!(note["payload"][0]["contentString"], "Naar de kapper & de markt <fijn>, \"zei\" ze & <lachte>");
    assert_eq!(note["category"][1], json!({"text": "Aantekeningen cliënt/verwant"}));
    assert_eq!(note["sent"], "2024-03-08T14:18:00+01:00");
    assert_eq!(note["sender"], json!({"reference": "urn:zorgpoort:source:client:3100457"}));
}

#[test]
fn two_digit_years_are_20jj_in_local_time() {
    let outcomes = map_caress_client(&client(
        "<c:Berichten>\
         <c:Bericht id=\"B-1\" verzonden=\"01-04-24 10:00\" van=\"client\" aan=\"E-77\">a</c:Bericht>\
         <c:Bericht id=\"B-2\" verzonden=\"31-12-99 23:59\" van=\"client\" aan=\"E-77\">b</c:Bericht>\
         <c:Bericht id=\"B-3\" verzonden=\"27-10-24 02:30\" van=\"client\" aan=\"E-77\">c</c:Bericht>\
         </c:Berichten>",
    ));
    let sent = |id: &str| written(mapped(outcome(&outcomes, "bericht", id)))["sent"].clone();
    assert_eq!(sent("B-1"), "2024-04-01T10:00:00+02:00");
    assert_eq!(sent("B-2"), "2099-12-31T23:59:00+01:00");
    // The autumn hour that comes twice takes the earlier instant.
    assert_eq!(sent("B-3"), "2024-10-27T02:30:00+02:00");
}

#[test]
fn whole_day_items_cover_their_days_and_private_is_the_default() {
    let outcomes = map_caress_client(&client(
        "<c:Agenda>\
         <c:Afspraak id=\"A-1\" heleDag=\"true\" start=\"01-04-24 00:00\" eind=\"03-04-24 00:00\" auteur=\"client\"><c:Titel>Kamp</c:Titel></c:Afspraak>\
         <c:Afspraak id=\"A-2\" heleDag=\"false\" zichtbaarheid=\"Openbaar\" start=\"01-04-24 10:00\" eind=\"01-04-24 11:30\" auteur=\"E-77\"/>\
         <c:Afspraak id=\"A-3\" heleDag=\"\" zichtbaarheid=\"\" start=\"24-12-24 00:00\" eind=\"24-12-24 00:30\" auteur=\"client\"/>\
         <c:Afspraak id=\"A-4\" zichtbaarheid=\"Intern\" start=\"24-12-24 10:00\" eind=\"24-12-24 10:30\" auteur=\"client\"/>\
         <c:Afspraak id=\"A-5\" heleDag=\"true\" start=\"01-04-24 10:00\" eind=\"01-04-24 11:00\" auteur=\"client\"/>\
         </c:Agenda>",
    ));
    let appointment = |id: &str| written(mapped(outcome(&outcomes, "afspraak", id)));
    let whole = appointment("A-1");
    assert_eq!(
        (&whole["start"], &whole["end"]),
        (&json!("2024-04-01T00:00:00+02:00"), &json!("2024-04-04T00:00:00+02:00"))
    );
    let restricted = json!([{"code": "R", "display": "restricted", "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"}]);
    assert_eq!(whole["meta"]["security"], restricted, "no zichtbaarheid: private");
    let public = appointment("A-2");
    assert!(public.get("meta").is_none(), "{public}");
    assert_eq!(public["participant"][1]["actor"]["reference"], "urn:zorgpoort:source:contactpersoon|medewerker:E-77");
    // An empty heleDag is not a whole day; an empty zichtbaarheid is private.
    let empty = appointment("A-3");
    assert_eq!((&empty["end"], &empty["meta"]["security"]), (&json!("2024-12-24T00:30:00+01:00"), &restricted));
    // An unknown visibility is private too, with a warning.
    let unknown = mapped(outcome(&outcomes, "afspraak", "A-4"));
    assert_eq!(written(unknown)["meta"]["security"], restricted);
    assert_eq!(unknown.warnings, ["`Intern` is not a known code of `zichtbaarheid`; taken as its otherwise"]);
    // A whole-day item with a time of day is a bad field.
    let bad = rejected(outcome(&outcomes, "afspraak", "A-5"));
    assert_eq!(bad.field, "start");
    assert!(bad.reason.contains("00:00"), "{}", bad.reason);
}

#[test]
fn an_empty_attribute_an_empty_element_and_an_absent_one_are_the_same() {
    let shapes = [
        ("<c:Voorvoegsel/>", "voorvoegsel=\"\"", "tot=\"\"", "<c:Email></c:Email>"),
        ("<c:Voorvoegsel></c:Voorvoegsel>", "", "", ""),
        ("<c:Voorvoegsel>   </c:Voorvoegsel>", "voorvoegsel=\" \"", "tot=\" \"", "<c:Email/>"),
    ];
    let mut seen: Vec<Vec<Value>> = Vec::new();
    for (element, attribute, tot, email) in shapes {
        let xml = format!(
            "<c:Client id=\"3100457\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><c:Persoon><c:Bsn>999911120</c:Bsn>\
             <c:Voornamen>Tedje</c:Voornamen>{element}<c:Achternaam>Test</c:Achternaam>{email}</c:Persoon>\
             <c:Contactpersonen><c:Contactpersoon id=\"CP-9\" gewijzigd=\"2026-11-20T09:12:00+01:00\">\
             <c:Naam voornamen=\"Karin\" {attribute} achternaam=\"Test\"/><c:Geldig van=\"2020-01-01\" {tot}/>\
             </c:Contactpersoon></c:Contactpersonen></c:Client>"
        );
        seen.push(described(&map_caress_client(&xml)));
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0], seen[2]);
    let patient = &seen[0][0]["action"]["write"][0]["resource"];
    assert_eq!(patient["name"][0]["family"], "Test");
    assert!(patient.get("telecom").is_none(), "{patient}");
    // An address, a phone or an e-mail element without a value is none.
    let empty = map_caress_client(
        "<c:Client id=\"1\" gewijzigd=\"2026-11-20T09:12:00+01:00\"><c:Persoon><c:Achternaam>Test</c:Achternaam>\
         <c:Adres straat=\"\" huisnummer=\"\" postcode=\"\" plaats=\"\"/><c:Telefoon soort=\"mobiel\"/><c:Telefoon/>\
         <c:Email/></c:Persoon></c:Client>",
    );
    assert_eq!(
        written(mapped(&empty[0])),
        json!({"resourceType": "Patient", "identifier": [{"system": "https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/caress/client", "value": "1"}],
               "name": [{"use": "official", "family": "Test",
                         "_family": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": "Test"}]}}]})
    );
}

#[test]
fn a_client_without_persoon_is_a_container_and_verwijderd_tombstones_its_type() {
    let outcomes = map_caress_client(
        "<c:Client id=\"3100457\"><c:Aantekeningen><c:Aantekening id=\"N-1\" datum=\"08-03-24 14:18\" auteur=\"E-77\">\
         <c:Tekst>x</c:Tekst></c:Aantekening></c:Aantekeningen>\
         <c:Verwijderd type=\"Contactpersoon\" id=\"CP-9\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         <c:Verwijderd type=\"Doel\" id=\"G-1\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         <c:Verwijderd type=\"Aantekening\" id=\"N-2\"/>\
         <c:Verwijderd type=\"Vragenlijst\" id=\"Q-1\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         <c:Verwijderd type=\"Afspraak\" id=\"A-1\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         <c:Verwijderd type=\"Bericht\" id=\"MSG-1\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         <c:Verwijderd type=\"Factuur\" id=\"F-1\" gewijzigd=\"2026-11-21T09:00:00+01:00\"/>\
         </c:Client>",
    );
    assert_eq!(mapped(&outcomes[0]).action, Action::Container);
    assert!(matches!(mapped(outcome(&outcomes, "aantekening", "N-1")).action, Action::Write(_)));
    for (kind, id) in [
        ("contactpersoon", "CP-9"),
        ("doel", "G-1"),
        ("aantekening", "N-2"),
        ("vragenlijst", "Q-1"),
        ("afspraak", "A-1"),
        ("bericht", "MSG-1"),
    ] {
        let tombstone = mapped(outcome(&outcomes, kind, id));
        assert_eq!((&tombstone.action, tombstone.client.as_deref()), (&Action::Delete, Some("3100457")), "{kind}");
    }
    // Without its own gewijzigd the writer gives it the delivery's time.
    assert_eq!(mapped(outcome(&outcomes, "aantekening", "N-2")).changed, None);
    // A type no kind takes is rejected (and kept), not dropped.
    let unknown = rejected(outcome(&outcomes, "verwijderd", "F-1"));
    assert_eq!(unknown.field, "type");
    assert!(
        unknown.reason.starts_with("`Factuur` is not one of the known codes (Aantekening, Afspraak"),
        "{}",
        unknown.reason
    );
    assert_eq!(unknown.record["type"], "Factuur");
    assert_eq!(outcomes.len(), 9);
}

#[test]
fn a_client_marked_verwijderd_is_deleted() {
    let outcomes =
        map_caress_client("<c:Client id=\"3100457\" gewijzigd=\"2026-11-21T09:00:00+01:00\" verwijderd=\"true\"/>");
    let client = mapped(&outcomes[0]);
    assert_eq!((client.kind.as_str(), &client.action), ("client", &Action::Delete));
    assert_eq!(client.changed.as_deref(), Some("2026-11-21T09:00:00+01:00"));
}

#[test]
fn bad_records_are_rejected_alone_with_field_and_reason() {
    let person = |bsn: &str, birth: &str, gender: &str| {
        format!(
            "<c:Persoon><c:Bsn>{bsn}</c:Bsn><c:Achternaam>Test</c:Achternaam><c:Geboortedatum>{birth}</c:Geboortedatum>\
             <c:Geslacht code=\"{gender}\"/></c:Persoon>"
        )
    };
    let clients = [
        ("1", person("999911121", "1995-07-19", "M"), "Persoon.Bsn", "11-check"),
        ("2", person("999911120", "1995-02-30", "V"), "Persoon.Geboortedatum", "1995-02-30"),
        ("3", person("999911120", "1995-07-19", "Q"), "Persoon.Geslacht.code", "`Q` is not one of the known codes"),
        ("4", "<c:Persoon><c:Voornamen>Zonder</c:Voornamen></c:Persoon>".to_owned(), "Persoon.Achternaam", "required"),
    ];
    let mut xml = String::new();
    for (id, persoon, _, _) in &clients {
        xml.push_str(&format!("<c:Client id=\"{id}\" gewijzigd=\"2026-11-20T09:12:00+01:00\">{persoon}</c:Client>"));
    }
    xml.push_str(&client(
        "<c:Aantekeningen>\
         <c:Aantekening id=\"N-1\" datum=\"31-02-24 10:00\" auteur=\"client\"><c:Tekst>x</c:Tekst></c:Aantekening>\
         <c:Aantekening id=\"N-2\" datum=\"31-03-24 02:30\" auteur=\"client\"><c:Tekst>x</c:Tekst></c:Aantekening>\
         <c:Aantekening id=\"N-3\" datum=\"08-03-24 14:18\" auteur=\"client\"><c:Tekst/></c:Aantekening>\
         <c:Aantekening id=\"N-4\" datum=\"08-03-24 14:18\" auteur=\"client\"><c:Tekst>goed</c:Tekst></c:Aantekening>\
         </c:Aantekeningen><c:Doelen><c:Doel id=\"G-1\" status=\"gepland\"><c:Omschrijving>x</c:Omschrijving></c:Doel></c:Doelen>",
    ));
    let outcomes = map_caress_xml(&caress_export(&xml)).unwrap();
    for (id, _, field, reason) in &clients {
        let rejection = rejected(outcome(&outcomes, "client", id));
        assert_eq!(&rejection.field, field, "{rejection:?}");
        assert!(rejection.reason.contains(reason), "{rejection:?}");
    }
    let notes = [("N-1", "datum", "31-02-24 10:00"), ("N-2", "datum", "does not exist"), ("N-3", "Tekst", "required")];
    for (id, field, reason) in notes {
        let rejection = rejected(outcome(&outcomes, "aantekening", id));
        assert_eq!((rejection.field.as_str(), rejection.record["id"].as_str()), (field, Some(id)));
        assert!(rejection.reason.contains(reason), "{rejection:?}");
        assert_eq!(rejection.parent.as_ref().unwrap()["id"], "3100457");
        assert!(rejection.parent.as_ref().unwrap().get("Aantekeningen").is_none(), "the parent without its records");
    }
    let goal = rejected(outcome(&outcomes, "doel", "G-1"));
    assert_eq!(goal.field, "status");
    // The rest goes in.
    assert!(matches!(mapped(outcome(&outcomes, "client", "3100457")).action, Action::Write(_)));
    assert!(matches!(mapped(outcome(&outcomes, "aantekening", "N-4")).action, Action::Write(_)));
}

#[test]
fn documents_that_are_not_a_caress_export_or_not_well_formed_are_refused_whole() {
    let sample = std::fs::read_to_string(fixtures().join("vendor-samples/caress-sheerenloo.xml")).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (sample.replace("c:Export", "c:Exports"), "its format (`$element`) is \"Exports\", expected \"Export\""),
        (
            sample.replace("urn:caress:export:2", "urn:caress:export:1"),
            "its version (`$namespace`) is \"urn:caress:export:1\"",
        ),
        (
            sample
                .replace("xmlns:c=\"urn:caress:export:2\"", "xmlns:c=\"urn:caress:export:2\" xmlns=\"urn:x\"")
                .replace("<c:Export", "<Export")
                .replace("</c:Export>", "</Export>"),
            "its version (`$namespace`) is \"urn:x\"",
        ),
        (sample[..sample.len() / 2].to_owned(), "cut short"),
        (sample.replace("</c:Client>\n  <c:Client id=\"3100021\"", "<c:Client id=\"3100021\""), "not well-formed"),
        (sample.replace("organisatie=\"sheerenloo\" ", ""), "names no organisation"),
        (sample.replace("aangemaakt=\"2026-11-20T10:00:00+01:00\"", "aangemaakt=\"20-11-2026\""), "creation time"),
    ];
    for (xml, message) in cases {
        let error = map_caress_xml(&xml).unwrap_err();
        assert!(error.contains(message), "{message}: {error}");
    }
    let mut bytes = sample.into_bytes();
    let at = bytes.windows(5).position(|w| w == b"Tedje".as_slice()).unwrap_or(600);
    bytes[at] = 0xff;
    assert!(map_caress_bytes(&bytes).unwrap_err().contains(&format!("not UTF-8: the byte at offset {at}")));
}

/// An entity bomb and an external entity are refused at their DTD, before
/// anything after it is read: quickly, whatever follows.
#[test]
fn entity_bombs_and_external_entities_are_refused_quickly() {
    let mut levels = String::from("<!ENTITY lol0 \"lol\">");
    for level in 1..=12 {
        let previous = format!("&lol{};", level - 1).repeat(10);
        levels.push_str(&format!("\n<!ENTITY lol{level} \"{previous}\">"));
    }
    // Megabytes of records after the DTD, none of which is read.
    let tail = "<c:Medewerker id=\"E-1\" naam=\"&lol12;\" rol=\"x\"/>\n".repeat(200_000);
    let bomb = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE c:Export [{levels}]>\n<c:Export xmlns:c=\"urn:caress:export:2\" \
         organisatie=\"sheerenloo\" aangemaakt=\"2026-11-20T10:00:00+01:00\">{tail}</c:Export>"
    );
    let external = "<?xml version=\"1.0\"?><!DOCTYPE c:Export [<!ENTITY geheim SYSTEM \"file:///etc/passwd\">]>\
                    <c:Export xmlns:c=\"urn:caress:export:2\" organisatie=\"sheerenloo\" \
                    aangemaakt=\"2026-11-20T10:00:00+01:00\"><c:Medewerker id=\"&geheim;\" naam=\"x\"/></c:Export>";
    for xml in [bomb.as_str(), external] {
        let started = Instant::now();
        let error = map_caress_xml(xml).unwrap_err();
        assert!(error.contains("declares entities") && error.contains("no entity is ever expanded"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}

/// Elements the contract does not name, of its namespace or another, at
/// the top or inside a record, are ignored; staff after the clients are
/// still mapped first.
#[test]
fn unknown_elements_are_ignored_wherever_they_are() {
    let client = client(
        "<c:Aantekeningen><c:Aantekening id=\"N-1\" datum=\"08-03-24 14:18\" auteur=\"client\"><c:Tekst>x</c:Tekst></c:Aantekening></c:Aantekeningen>",
    );
    let staff = "<c:Medewerker id=\"E-77\" naam=\"Pieter Bakker\" rol=\"PB\"/>";
    let plain = described(&map_caress_xml(&caress_export(&format!("{staff}{client}"))).unwrap());
    let noisy = format!(
        "<c:Bron versie=\"7.1\"><c:Systeem>Caress</c:Systeem></c:Bron><x:Extra xmlns:x=\"urn:vendor\"><x:a><c:Client id=\"9\"/></x:a></x:Extra>\
         {}<!-- opmerking --><?verwerking klaar?>\
         <c:Toekomst xmlns:c=\"urn:caress:export:2\" xmlns:y=\"urn:y\"><y:b/><c:Client id=\"8\"/></c:Toekomst>{staff}",
        client.replace(
            "<c:Aantekeningen>",
            "<c:Nieuw a=\"1\"><c:Iets/></c:Nieuw><v:Eigen xmlns:v=\"urn:v\" v:x=\"1\"/><c:Aantekeningen>"
        )
    );
    assert_eq!(described(&map_caress_xml(&caress_export(&noisy)).unwrap()), plain);
}
