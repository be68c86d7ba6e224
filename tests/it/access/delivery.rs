//! The delivery the access tests ingest: two clients; a mentor of both
//! (two records, one e-mail address), a naaste with `beperkt`, a naaste
//! with `volledig`, a bewindvoerder whose ECD grant says `volledig`, a
//! mentor whose grant ended; reports, measurements, an invoice and
//! messages with representatives taking part.

use serde_json::{Value, json};

pub const CLIENT: &str = "500001";
pub const OTHER_CLIENT: &str = "500002";
pub const MENTOR: &str = "V-MENTOR-1";
pub const MENTOR_OF_OTHER: &str = "V-MENTOR-2";
pub const NAASTE_LIMITED: &str = "V-NAASTE-B";
pub const NAASTE_FULL: &str = "V-NAASTE-V";
pub const BEWINDVOERDER: &str = "V-BEWIND";
pub const ENDED: &str = "V-ENDED";
/// A naaste whose grant's last day is 20 June 2027.
pub const ENDS_MIDSUMMER: &str = "V-MIDSUMMER";

const CHANGED: &str = "2026-11-20T09:00:00+01:00";

fn representative(number: &str, soort: &str, access: &str, email: &str, until: Option<&str>) -> Value {
    json!({
        "relatienummer": number,
        "naam": {"voornamen": "Test", "voorvoegsel": "", "achternaam": number},
        "relatie": "familie", "soort": soort, "volgorde": null,
        "portaaltoegang": access, "mag_schrijven": "N",
        "email": email, "mobiel": null,
        "geldig_van": "01-01-2024", "geldig_tot": until,
        "gewijzigd": CHANGED
    })
}

fn message(id: &str, from: Value, to: Value) -> Value {
    json!({"id": id, "verzonden": "2025-03-08T14:10:00+01:00", "van": from, "aan": to,
           "tekst": format!("Bericht {id}"), "in_antwoord_op": null, "gewijzigd": CHANGED})
}

fn representative_party(number: &str) -> Value {
    json!({"soort": "vertegenwoordiger", "relatienummer": number})
}

fn client(number: &str, born: &str, representatives: Vec<Value>, messages: Vec<Value>) -> Value {
    json!({
        "clientnummer": number,
        "naam": {"voornamen": "Cliënt", "voorvoegsel": "", "achternaam": number, "roepnaam": "C"},
        "geboortedatum": born, "geslacht": "V",
        "adres": {"straat": "Dorpsstraat", "huisnummer": "1", "toevoeging": null, "postcode": "3511 AA", "woonplaats": "Utrecht"},
        "email": null, "mobiel": null,
        "in_zorg": {"begin": "01-01-2020", "einde": null},
        "eerstverantwoordelijke": "M-1",
        "gewijzigd": CHANGED,
        "vertegenwoordigers": representatives,
        "rapportages": [
            {"id": format!("RR-{number}-1"), "datum": "03-05-2025 18:30", "auteur": {"soort": "medewerker", "nummer": "M-1"},
             "tekst": "Boodschappen gedaan.", "portaal": "J", "gewijzigd": CHANGED},
            {"id": format!("RR-{number}-2"), "datum": "04-05-2025 18:30", "auteur": {"soort": "medewerker", "nummer": "M-1"},
             "tekst": "Goed geslapen.", "portaal": "J", "gewijzigd": CHANGED}
        ],
        "metingen": [
            {"id": format!("M-{number}-1"), "meetsoort": "Gewicht", "waarde": "70,5", "eenheid": "kg", "toelichting": null,
             "tijdstip": "Za 23 aug 2025 | 15:50", "medewerker": "M-1", "gewijzigd": CHANGED}
        ],
        "doelen": [], "clientplannen": [], "evaluaties": [],
        "facturen": [
            {"id": format!("F-{number}-1"), "soort": "Factuur", "bedrag": "10,00 €", "periode": "01-01-2025 - 31-01-2025",
             "factuurdatum": "05-02-2025", "status": "verzonden", "document": null, "gewijzigd": CHANGED}
        ],
        "berichten": messages,
        "toestemmingen": []
    })
}

/// The delivery, with the grants as the ECD has them.
pub fn full() -> Value {
    with_limited_naaste("beperkt")
}

/// The same delivery with another access level for the limited naaste.
pub fn with_limited_naaste(access: &str) -> Value {
    let medewerker = |n: &str| json!({"soort": "medewerker", "nummer": n});
    json!({
        "formaat": "pluriform-export", "versie": 1,
        "organisatie": {"code": "pameijer", "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": "2026-11-20T10:15:00+01:00",
        "medewerkers": [
            {"medewerkernummer": "M-1", "voornaam": "Jesse", "voorvoegsel": "", "achternaam": "Yılmaz", "functie": "Begeleider", "gewijzigd": CHANGED},
            {"medewerkernummer": "M-2", "voornaam": "Sam", "voorvoegsel": "", "achternaam": "Bakker", "functie": "Arts", "gewijzigd": CHANGED}
        ],
        "clienten": [
            client(CLIENT, "01-02-1990", vec![
                representative(MENTOR, "mentor", "volledig", "Mentor@Example.nl", None),
                representative(NAASTE_LIMITED, "naaste", access, "naaste-b@example.nl", None),
                representative(NAASTE_FULL, "naaste", "volledig", "naaste-v@example.nl", None),
                representative(BEWINDVOERDER, "bewindvoerder", "volledig", "bewind@example.nl", None),
                representative(ENDED, "mentor", "volledig", "ended@example.nl", Some("31-12-2024")),
                representative(ENDS_MIDSUMMER, "naaste", "beperkt", "midsummer@example.nl", Some("20-06-2027")),
            ], vec![
                message(&format!("B-{CLIENT}-1"), medewerker("M-1"), representative_party(NAASTE_FULL)),
                message(&format!("B-{CLIENT}-2"), medewerker("M-1"), json!({"soort": "client"})),
                message(&format!("B-{CLIENT}-3"), representative_party(MENTOR), medewerker("M-1")),
            ]),
            client(OTHER_CLIENT, "02-03-1985", vec![
                representative(MENTOR_OF_OTHER, "mentor", "volledig", "mentor@example.nl ", None),
            ], vec![]),
        ]
    })
}
