//! The Pluriform delivery that writes a generated world into the gateway,
//! and the vendor numbers of its records.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::world::{Case, Client, Party, Resolved, STAFF};

/// Vendor numbers of case `case`: distinct per case, so that one gateway
/// holds every case of a run side by side.
pub struct Numbers {
    pub case: usize,
}

impl Numbers {
    pub fn client(&self, c: usize) -> String {
        format!("8{:03}{c}", self.case)
    }
    pub fn representative(&self, c: usize, r: usize) -> String {
        format!("V-{}-{c}-{r}", self.case)
    }
    pub fn staff(&self, s: usize) -> String {
        format!("M-{}-{s}", self.case)
    }
    pub fn report(&self, c: usize, n: usize) -> String {
        format!("RR-{}-{c}-{n}", self.case)
    }
    pub fn measurement(&self, c: usize, n: usize) -> String {
        format!("ME-{}-{c}-{n}", self.case)
    }
    pub fn invoice(&self, c: usize, n: usize) -> String {
        format!("F-{}-{c}-{n}", self.case)
    }
    pub fn message(&self, c: usize, n: usize) -> String {
        format!("B-{}-{c}-{n}", self.case)
    }
    /// Person `p`'s e-mail address in spelling `variant` (case and
    /// spaces differ; the normalised address is the same).
    pub fn email(&self, (p, variant): (u8, u8)) -> String {
        let plain = format!("persoon{p}@case{}.example.nl", self.case);
        match variant % 4 {
            0 => plain,
            1 => plain.to_uppercase(),
            2 => format!(" {plain} "),
            _ => format!("Persoon{p}@Case{}.Example.NL", self.case),
        }
    }
}

const CHANGED: &str = "2026-11-20T09:00:00+01:00";

fn dutch(date: Option<NaiveDate>) -> Value {
    date.map_or(Value::Null, |d| Value::String(d.format("%d-%m-%Y").to_string()))
}

/// `auteur`, `van` or `aan` as the delivery writes it.
fn party(numbers: &Numbers, c: usize, client: &Client, party: Party) -> Value {
    if party == Party::Responsible && client.responsible.is_some() {
        return json!({"soort": "medewerker"});
    }
    match client.resolve(party) {
        Resolved::Staff(s) => json!({"soort": "medewerker", "nummer": numbers.staff(s)}),
        Resolved::Client => json!({"soort": "client"}),
        Resolved::Representative(r) => {
            json!({"soort": "vertegenwoordiger", "relatienummer": numbers.representative(c, r)})
        }
    }
}

fn client_json(numbers: &Numbers, today: NaiveDate, c: usize, client: &Client) -> Value {
    let representatives: Vec<Value> = client
        .representatives
        .iter()
        .enumerate()
        .map(|(r, rep)| {
            let number = numbers.representative(c, r);
            json!({
                "relatienummer": number,
                "naam": {"voornamen": "Test", "voorvoegsel": "", "achternaam": number},
                "relatie": "familie", "soort": rep.kind.soort(), "volgorde": null,
                "portaaltoegang": rep.level.portaaltoegang(), "mag_schrijven": if rep.may_write { "J" } else { "N" },
                "email": rep.email.map(|e| numbers.email(e)), "mobiel": null,
                "geldig_van": dutch(rep.from.date(today)), "geldig_tot": dutch(rep.until.date(today)),
                "gewijzigd": CHANGED
            })
        })
        .collect();
    let reports: Vec<Value> = client.reports.iter().enumerate().map(|(n, (author, portal))| {
        json!({"id": numbers.report(c, n), "datum": "03-05-2025 18:30", "auteur": party(numbers, c, client, *author),
               "tekst": "Boodschappen gedaan.", "portaal": if *portal { "J" } else { "N" }, "gewijzigd": CHANGED})
    }).collect();
    let measurements: Vec<Value> = client
        .measurements
        .iter()
        .enumerate()
        .map(|(n, staff)| {
            json!({"id": numbers.measurement(c, n), "meetsoort": "Gewicht", "waarde": "70,5", "eenheid": "kg",
               "toelichting": null, "tijdstip": "Za 23 aug 2025 | 15:50",
               "medewerker": numbers.staff(usize::from(staff % STAFF)), "gewijzigd": CHANGED})
        })
        .collect();
    let invoices: Vec<Value> = (0..usize::from(client.invoices)).map(|n| {
        json!({"id": numbers.invoice(c, n), "soort": "Factuur", "bedrag": "10,00 €", "periode": "01-01-2025 - 31-01-2025",
               "factuurdatum": "05-02-2025", "status": "verzonden", "document": null, "gewijzigd": CHANGED})
    }).collect();
    let messages: Vec<Value> = client
        .messages
        .iter()
        .enumerate()
        .map(|(n, (from, to))| {
            json!({"id": numbers.message(c, n), "verzonden": "2025-03-08T14:10:00+01:00",
               "van": party(numbers, c, client, *from), "aan": party(numbers, c, client, *to),
               "tekst": "Bericht", "in_antwoord_op": null, "gewijzigd": CHANGED})
        })
        .collect();
    let number = numbers.client(c);
    json!({
        "clientnummer": number,
        "naam": {"voornamen": "Cliënt", "voorvoegsel": "", "achternaam": number, "roepnaam": "C"},
        "geboortedatum": dutch(Some(client.birth.date(today))), "geslacht": "V",
        "adres": {"straat": "Dorpsstraat", "huisnummer": "1", "toevoeging": null, "postcode": "3511 AA", "woonplaats": "Utrecht"},
        "email": null, "mobiel": null,
        "in_zorg": {"begin": "01-01-2020", "einde": null},
        "eerstverantwoordelijke": client.responsible.map(|s| numbers.staff(usize::from(s % STAFF))),
        "gewijzigd": CHANGED,
        "vertegenwoordigers": representatives,
        "rapportages": reports, "metingen": measurements,
        "doelen": [], "clientplannen": [], "evaluaties": [],
        "facturen": invoices, "berichten": messages, "toestemmingen": []
    })
}

/// The Pluriform delivery that writes `case` (number `numbers.case`).
pub fn delivery(case: &Case, numbers: &Numbers, today: NaiveDate) -> Value {
    let staff: Vec<Value> = (0..usize::from(STAFF))
        .map(|s| {
            json!({"medewerkernummer": numbers.staff(s), "voornaam": "Sam", "voorvoegsel": "", "achternaam": "Bakker",
                   "functie": "Begeleider", "gewijzigd": CHANGED})
        })
        .collect();
    json!({
        "formaat": "pluriform-export", "versie": 1,
        "organisatie": {"code": "pameijer", "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": "2026-11-20T10:15:00+01:00",
        "medewerkers": staff,
        "clienten": case.clients.iter().enumerate().map(|(c, client)| client_json(numbers, today, c, client)).collect::<Vec<_>>(),
    })
}
