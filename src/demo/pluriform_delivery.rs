//! A made-up Pluriform delivery (`pluriform-export`, version 1, as
//! `shared/vendor-formats/pluriform.md` describes it), reproducible from a
//! seed: staff, and clients with everything a client can have. For the
//! mapping benchmark and the demo. Written as it is made, one client at a
//! time: memory does not grow with the number of clients.

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Amsterdam;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Writes a full delivery of `clients` clients of `tenant`, made at
/// `created` (ISO 8601 with an offset), to `out`. The same arguments give
/// the same bytes. Client numbers count from 300000; BSNs are test numbers
/// (9999xxxxx, passing the 11-check), unique up to 10,000 clients; about
/// one client in eleven has none.
pub fn write_pluriform_delivery(
    out: &mut impl Write,
    tenant: &str,
    clients: usize,
    seed: u64,
    created: &str,
) -> io::Result<()> {
    write_adjusted(out, tenant, clients, seed, created, |_, _| {})
}

/// [`write_pluriform_delivery`], each client record passed through
/// `adjust` (with its index) before it is written; the generator's choices
/// are the same whatever `adjust` does.
pub(super) fn write_adjusted(
    out: &mut impl Write,
    tenant: &str,
    clients: usize,
    seed: u64,
    created: &str,
    mut adjust: impl FnMut(usize, &mut Value),
) -> io::Result<()> {
    let created_at = DateTime::parse_from_rfc3339(created).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("the creation time {created:?} is not ISO 8601: {e}"))
    })?;
    let mut maker = Maker::new(seed, created_at, clients);
    write!(out, "{{\"formaat\":\"pluriform-export\",\"versie\":1,\"organisatie\":")?;
    serde_json::to_writer(
        &mut *out,
        &json!({"code": tenant, "naam": format!("Zorggroep {tenant}"), "agb": "73730123"}),
    )?;
    write!(out, ",\"aangemaakt\":")?;
    serde_json::to_writer(&mut *out, created)?;
    write!(out, ",\"medewerkers\":[")?;
    for index in 0..maker.staff {
        if index > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &maker.medewerker(index))?;
    }
    write!(out, "],\"clienten\":[")?;
    for index in 0..clients {
        if index > 0 {
            out.write_all(b",\n")?;
        }
        let mut client = maker.client(index);
        adjust(index, &mut client);
        serde_json::to_writer(&mut *out, &client)?;
    }
    out.write_all(b"]}\n")
}

/// The kinds of measurement: meetsoort, eenheid, and how many of each a
/// client has (about).
const MEETSOORTEN: [(&str, Option<&str>); 8] = [
    ("Gewicht", Some("kg")),
    ("Lengte", Some("cm")),
    ("Temperatuur", Some("°C")),
    ("Bloeddruk", Some("mmHg")),
    ("Pols", Some("/min")),
    ("Saturatie", Some("%")),
    ("Bloedsuiker", Some("mmol/l")),
    ("Pijnscore", None),
];
const GIVEN: &[&str] = &[
    "Anna", "Bram", "Daan", "Emma", "Fenna", "Joris", "Lotte", "Mila", "Noah", "Sanne", "Thijs", "Yara", "Zoë",
    "Mohammed", "Iris", "Sem", "Fleur", "Ilse",
];
const PREFIXES: &[&str] = &["", "", "", "de", "van", "van der", "van den", "ter"];
const FAMILY: &[&str] =
    &["Jansen", "Berg", "Vries", "Bakker", "Visser", "Dijk", "Smit", "Meijer", "Yılmaz", "Mulder", "Kuipers", "Bos"];
const STREETS: &[&str] = &["Dorpsstraat", "Kerkweg", "Molenlaan", "Stationsplein", "Julianastraat", "Beukenlaan"];
const CITIES: &[&str] = &["Rotterdam", "Amersfoort", "Utrecht", "Zwolle", "Apeldoorn", "Den Haag"];
const FUNCTIES: &[&str] = &["Persoonlijk begeleider", "Arrangeur", "Gedragsdeskundige", "Verpleegkundige"];
const RELATIES: &[&str] = &["moeder", "vader", "zus", "broer", "buurvrouw", "vriend", "Mentor", "tante"];
const LEGAL_SOORTEN: &[&str] = &["mentor", "curator", "bewindvoerder", "voogd", "ouder_met_gezag", "gemachtigde"];
const TOEGANG: &[&str] = &["geen", "volledig", "noodzakelijk", "beperkt", "financieel"];
const REPORTS: &[&str] = &[
    "Heeft vandaag zelf boodschappen gedaan.",
    "Rustige dag, goed geslapen.",
    "Samen de busreis geoefend.",
    "Bezoek van moeder ging fijn.",
    "Wat onrustig na het eten, met muziek tot rust gekomen.",
];
const GOALS: &[(&str, &str)] = &[
    ("Ik wil zelf boodschappen doen", "Praktische vaardigheden"),
    ("Ik wil mijn geld zelf beheren", "Financiën"),
    ("Ik wil elke week mijn zus bellen", "Sociale contacten"),
    ("Ik wil zelfstandig met de bus reizen", "Praktische vaardigheden"),
];
const GOAL_STATUSES: &[&str] = &["actief", "actief", "behaald", "gedeeltelijk_behaald", "gestopt"];
const WEEKDAYS: [&str; 7] = ["Ma", "Di", "Wo", "Do", "Vr", "Za", "Zo"];
const MONTHS: [&str; 12] = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];

struct Maker {
    rng: StdRng,
    created: DateTime<FixedOffset>,
    /// The first day of generated history.
    since: NaiveDate,
    /// Days from `since` to the delivery.
    days: i64,
    staff: usize,
}

impl Maker {
    fn new(seed: u64, created: DateTime<FixedOffset>, clients: usize) -> Maker {
        let since = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or_default();
        let days = (created.date_naive() - since).num_days().max(365);
        Maker { rng: StdRng::seed_from_u64(seed), created, since, days, staff: 5 + clients / 25 }
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn one_in(&mut self, n: u32) -> bool {
        self.rng.random_range(0..n) == 0
    }

    /// When a record last changed: up to half a day before the delivery.
    fn gewijzigd(&mut self) -> String {
        let minutes = self.rng.random_range(1..=720);
        (self.created - Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    fn day(&mut self) -> NaiveDate {
        self.since + Duration::days(self.rng.random_range(0..self.days))
    }

    /// A local time between 06:00 and 22:55 (never in the hour the clocks
    /// skip), on any day: winter and summer alike.
    fn moment(&mut self) -> NaiveDateTime {
        let (hour, minute) = (self.rng.random_range(6..23), self.rng.random_range(0..12) * 5);
        self.day().and_hms_opt(hour, minute, 0).unwrap_or_default()
    }

    fn staff_member(&mut self) -> String {
        format!("M-{}", self.rng.random_range(1..=self.staff))
    }

    fn name(&mut self) -> (String, &'static str, &'static str) {
        let first = self.pick(GIVEN);
        let given = if self.one_in(3) { format!("{first} {}", self.pick(GIVEN)) } else { first.to_owned() };
        (given, self.pick(PREFIXES), self.pick(FAMILY))
    }

    fn mobiel(&mut self) -> String {
        format!("06-{:08}", self.rng.random_range(10_000_000..100_000_000))
    }

    fn medewerker(&mut self, index: usize) -> Value {
        let (voornaam, voorvoegsel, achternaam) = (self.pick(GIVEN), self.pick(PREFIXES), self.pick(FAMILY));
        json!({
            "medewerkernummer": format!("M-{}", index + 1), "voornaam": voornaam, "voorvoegsel": voorvoegsel,
            "achternaam": achternaam, "functie": self.pick(FUNCTIES), "gewijzigd": self.gewijzigd()
        })
    }

    fn client(&mut self, index: usize) -> Value {
        let number = (300_000 + index).to_string();
        let (voornamen, voorvoegsel, achternaam) = self.name();
        let roepnaam = voornamen.split(' ').next().unwrap_or_default().to_owned();
        let born =
            NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default() + Duration::days(self.rng.random_range(0..24_000));
        let care_begins = self.day() - Duration::days(self.rng.random_range(0..3_000));
        let care_ends = self.one_in(20).then(|| dutch_date(self.day()));
        let mut client = json!({
            "clientnummer": number,
            "bsn": test_bsn(index),
            "naam": {"voornamen": voornamen, "roepnaam": roepnaam, "voorvoegsel": voorvoegsel, "achternaam": achternaam},
            "geboortedatum": dutch_date(born),
            "geslacht": self.pick(&["M", "V", "V", "M", "X", "O"]),
            "adres": {
                "straat": self.pick(STREETS), "huisnummer": self.rng.random_range(1..200).to_string(),
                "toevoeging": self.pick(&["", "", "a", "bis"]),
                "postcode": format!("{} {}{}", self.rng.random_range(1000..10_000), self.letter(), self.letter()),
                "woonplaats": self.pick(CITIES)
            },
            "email": format!("client{number}@example.nl"),
            "mobiel": self.mobiel(),
            "in_zorg": {"begin": dutch_date(care_begins), "einde": care_ends},
            "eerstverantwoordelijke": self.staff_member(),
            "gewijzigd": self.gewijzigd(),
        });
        let lists = [
            ("vertegenwoordigers", (1..=2).map(|j| self.vertegenwoordiger(&number, j)).collect::<Vec<_>>()),
            ("rapportages", (0..self.rng.random_range(8..=12)).map(|j| self.rapportage(&number, j)).collect()),
            ("metingen", self.metingen(&number, index)),
            ("doelen", (0..3).map(|j| self.doel(&number, j)).collect()),
            ("clientplannen", vec![self.clientplan(&number)]),
            ("evaluaties", vec![self.evaluatie(&number)]),
            ("facturen", (0..2).map(|j| self.factuur(&number, j)).collect()),
            ("berichten", (0..3).map(|j| self.bericht(&number, j)).collect()),
            ("toestemmingen", self.toestemmingen(&number)),
        ];
        for (name, list) in lists {
            client[name] = Value::Array(list);
        }
        client["persoonsbeeld"] = json!({
            "samenvatting_voorgeschiedenis": "Woont sinds 2019 op de groep.", "hoe_gaat_het_nu": "Het gaat goed.",
            "toekomstwensen": "Zelfstandig wonen.", "aanspreekvorm": format!("Noem me {roepnaam}, zeg maar je."),
            "gewijzigd": self.gewijzigd()
        });
        client
    }

    fn letter(&mut self) -> char {
        char::from(b'A' + self.rng.random_range(0..26u8))
    }

    fn vertegenwoordiger(&mut self, client: &str, j: usize) -> Value {
        let (voornamen, voorvoegsel, achternaam) = self.name();
        let soort = if j == 2 && !self.one_in(3) { "naaste" } else { self.pick(LEGAL_SOORTEN) };
        let volgorde = (soort != "naaste").then_some(j);
        let nummer = format!("R-{client}-{j}");
        json!({
            "relatienummer": nummer,
            "naam": {"voornamen": voornamen, "voorvoegsel": voorvoegsel, "achternaam": achternaam},
            "relatie": self.pick(RELATIES), "soort": soort, "volgorde": volgorde,
            "portaaltoegang": self.pick(TOEGANG), "mag_schrijven": self.pick(&["J", "N"]),
            "email": format!("{}@example.nl", nummer.to_lowercase()), "mobiel": self.mobiel(),
            "geldig_van": dutch_date(self.day()),
            "geldig_tot": self.one_in(4).then(|| dutch_date(self.created.date_naive() + Duration::days(365))),
            "gewijzigd": self.gewijzigd()
        })
    }

    /// Who wrote something on the client side or the care side.
    fn someone(&mut self, client: &str) -> Value {
        match self.rng.random_range(0..4) {
            0 => json!({"soort": "client"}),
            1 => json!({"soort": "vertegenwoordiger", "relatienummer": format!("R-{client}-1")}),
            _ => json!({"soort": "medewerker", "nummer": self.staff_member()}),
        }
    }

    fn rapportage(&mut self, client: &str, j: usize) -> Value {
        let id = format!("RR-{client}-{j}");
        json!({
            "id": id, "datum": self.moment().format("%d-%m-%Y %H:%M").to_string(), "auteur": self.someone(client),
            "tekst": format!("{} ({id})", self.pick(REPORTS)),
            "portaal": if self.one_in(5) { "N" } else { "J" }, "gewijzigd": self.gewijzigd()
        })
    }

    /// About ten measurements of every kind; every seventh client also one
    /// of a kind the gateway does not know.
    fn metingen(&mut self, client: &str, index: usize) -> Vec<Value> {
        let mut metingen = Vec::new();
        for (meetsoort, eenheid) in MEETSOORTEN {
            for _ in 0..self.rng.random_range(8..=12) {
                let (waarde, toelichting) = self.measured(meetsoort);
                metingen.push((meetsoort, waarde, eenheid, toelichting));
            }
        }
        if index % 7 == 3 {
            metingen.push(("Vochtbalans", "+350".to_owned(), Some("ml"), None));
        }
        let mut out = Vec::with_capacity(metingen.len());
        for (j, (meetsoort, waarde, eenheid, toelichting)) in metingen.into_iter().enumerate() {
            out.push(json!({
                "id": format!("M-{client}-{j}"), "meetsoort": meetsoort, "waarde": waarde, "eenheid": eenheid,
                "toelichting": toelichting, "tijdstip": measurement_time(self.moment()),
                "medewerker": self.staff_member(), "gewijzigd": self.gewijzigd()
            }));
        }
        out
    }

    /// A plausible value (decimal comma) and remark for a kind.
    fn measured(&mut self, meetsoort: &str) -> (String, Option<&'static str>) {
        let tenths = |rng: &mut StdRng, from: u32, to: u32| decimal(rng.random_range(from..to));
        match meetsoort {
            "Gewicht" => (tenths(&mut self.rng, 450, 1100), None),
            "Lengte" => (tenths(&mut self.rng, 1500, 1950), None),
            "Temperatuur" => {
                let site = self.pick(&["Rectaal", "Oraal", "Oor", "Oksel", "Voorhoofd", "-"]);
                (tenths(&mut self.rng, 355, 395), Some(site))
            }
            "Bloeddruk" => {
                let (systolic, diastolic) = (self.rng.random_range(100..170), self.rng.random_range(60..100));
                (format!("{systolic}/{diastolic}"), Some(self.pick(&["Zittend", "Liggend", "Staand", "-"])))
            }
            "Pols" => (self.rng.random_range(50..120).to_string(), None),
            "Saturatie" => (self.rng.random_range(88..=100).to_string(), None),
            "Bloedsuiker" => {
                let remark = if self.one_in(3) { None } else { Some(self.pick(&["Nuchter", "-"])) };
                (tenths(&mut self.rng, 35, 120), remark)
            }
            _ => (self.rng.random_range(0..=10).to_string(), None),
        }
    }

    fn doel(&mut self, client: &str, j: usize) -> Value {
        let (omschrijving, domein) = GOALS[self.rng.random_range(0..GOALS.len())];
        let status = self.pick(GOAL_STATUSES);
        let einddatum = (status != "actief").then(|| dutch_date(self.day()));
        json!({
            "id": format!("D-{client}-{j}"), "omschrijving": omschrijving, "domein": domein, "status": status,
            "startdatum": dutch_date(self.day()), "einddatum": einddatum, "gewijzigd": self.gewijzigd()
        })
    }

    fn clientplan(&mut self, client: &str) -> Value {
        let printed = self.day();
        let status =
            self.pick(&["ondertekend", "ondertekend", "ondertekend", "ter_ondertekening", "afgekeurd", "concept"]);
        json!({
            "id": format!("CP-{client}-0"), "afdrukdatum": dutch_date(printed), "status": status,
            "ondertekend_op": (status == "ondertekend").then(|| dutch_date(printed + Duration::days(14))),
            "afwijzingsreden": (status == "afgekeurd").then_some("Het doel over geld klopt niet."),
            "doelen": (0..3).map(|j| format!("D-{client}-{j}")).collect::<Vec<_>>(),
            "document": document(&format!("clientplan-{}.pdf", printed.format("%Y-%m-%d")), &format!("clientplan {client}")),
            "gewijzigd": self.gewijzigd()
        })
    }

    fn evaluatie(&mut self, client: &str) -> Value {
        let start = self.day();
        let end = start + Duration::days(self.rng.random_range(90..240));
        json!({
            "id": format!("EV-{client}-0"), "periode": format!("{} t/m {}", dutch_date(start), dutch_date(end)),
            "afgerond_op": dutch_date(end + Duration::days(7)),
            "document": document("evaluatie.pdf", &format!("evaluatie {client}")), "gewijzigd": self.gewijzigd()
        })
    }

    fn factuur(&mut self, client: &str, j: usize) -> Value {
        let month = self.day().with_day(1).unwrap_or_default();
        let next = month.checked_add_months(chrono::Months::new(1)).unwrap_or(month);
        json!({
            "id": format!("F-{client}-{j}"), "soort": self.pick(&["Samengestelde factuur", "Eigen bijdrage"]),
            "bedrag": money(self.rng.random_range(2_000..500_000)),
            "periode": format!("{} - {}", dutch_date(month), dutch_date(next - Duration::days(1))),
            "factuurdatum": dutch_date(next + Duration::days(4)),
            "status": self.pick(&["verzonden", "betaald", "gecrediteerd"]),
            "document": document("factuur.pdf", &format!("factuur {client} {j}")), "gewijzigd": self.gewijzigd()
        })
    }

    fn bericht(&mut self, client: &str, j: usize) -> Value {
        let care_side = json!({"soort": "medewerker", "nummer": self.staff_member()});
        let client_side = if self.one_in(3) {
            json!({"soort": "vertegenwoordiger", "relatienummer": format!("R-{client}-1")})
        } else {
            json!({"soort": "client"})
        };
        let (van, aan) = if j.is_multiple_of(2) { (client_side, care_side) } else { (care_side, client_side) };
        let sent = self.moment();
        json!({
            "id": format!("B-{client}-{j}"), "verzonden": amsterdam(sent), "van": van, "aan": aan,
            "tekst": format!("Bericht {j}"), "in_antwoord_op": (j > 0).then(|| format!("B-{client}-{}", j - 1)),
            "gewijzigd": self.gewijzigd()
        })
    }

    fn toestemmingen(&mut self, client: &str) -> Vec<Value> {
        let subjects = [
            ("foto_nieuwsbrief", "Foto's van mij mogen in de nieuwsbrief"),
            ("gegevens_huisarts", "Mijn gegevens mogen naar de huisarts"),
        ];
        let mut out = Vec::new();
        for (j, (onderwerp, omschrijving)) in subjects.into_iter().enumerate() {
            let waarde = [Some("J"), Some("N"), None][self.rng.random_range(0..3)];
            out.push(json!({
                "id": format!("T-{client}-{j}"), "onderwerp": onderwerp, "omschrijving": omschrijving, "waarde": waarde,
                "client_mag_wijzigen": self.pick(&["J", "N"]), "gewijzigd": self.gewijzigd(),
                "gewijzigd_door": if self.one_in(2) { json!({"soort": "client"}) } else { json!({"soort": "medewerker", "nummer": self.staff_member()}) }
            }));
        }
        out
    }
}

/// A test BSN (9999xxxxx) passing the 11-check, one per index below
/// 10,000; none where the check digit would have to be 10.
pub(super) fn test_bsn(index: usize) -> Option<String> {
    let digits = format!("9999{:04}", index % 10_000);
    let sum: u32 = digits.bytes().zip([9, 8, 7, 6, 5, 4, 3, 2]).map(|(d, w)| u32::from(d - b'0') * w).sum();
    let check = sum % 11;
    (check < 10).then(|| format!("{digits}{check}"))
}

fn dutch_date(date: NaiveDate) -> String {
    date.format("%d-%m-%Y").to_string()
}

/// `Wo 3 mei 2023 | 18:30`.
fn measurement_time(at: NaiveDateTime) -> String {
    let weekday = WEEKDAYS[at.weekday().num_days_from_monday() as usize];
    let month = MONTHS[at.month0() as usize];
    format!("{weekday} {} {month} {} | {}", at.day(), at.year(), at.format("%H:%M"))
}

/// A local time as ISO 8601 with the Amsterdam offset of that day.
fn amsterdam(at: NaiveDateTime) -> String {
    match Amsterdam.from_local_datetime(&at).earliest() {
        Some(time) => time.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => at.format("%Y-%m-%dT%H:%M:%S+01:00").to_string(),
    }
}

/// Tenths as a Dutch decimal: 565 → `56,5`.
fn decimal(tenths: u32) -> String {
    format!("{},{}", tenths / 10, tenths % 10)
}

/// Cents as Pluriform writes money: 357854 → `3.578,54 €`.
fn money(cents: u32) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{grouped},{:02} €", cents % 100)
}

/// A one-page PDF that says what it is, as a Pluriform document.
fn document(file_name: &str, label: &str) -> Value {
    let pdf = format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
         3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n% {label}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    );
    json!({"bestandsnaam": file_name, "mediatype": "application/pdf", "inhoud_base64": STANDARD.encode(pdf)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::value;

    #[test]
    fn test_bsns_pass_the_11_check_and_differ() {
        let bsns: Vec<String> = (0..10_000).filter_map(test_bsn).collect();
        assert!(bsns.len() > 9_000, "{}", bsns.len());
        for bsn in &bsns {
            assert!(bsn.starts_with("9999"));
            assert!(value::bsn(bsn).is_ok(), "{bsn}");
        }
        assert_eq!(bsns.iter().collect::<std::collections::HashSet<_>>().len(), bsns.len());
    }

    #[test]
    fn dutch_ways_of_writing() {
        assert_eq!(money(357_854), "3.578,54 €");
        assert_eq!(money(26_501), "265,01 €");
        assert_eq!(money(123_456_789), "1.234.567,89 €");
        assert_eq!(decimal(565), "56,5");
        let at = NaiveDate::from_ymd_opt(2023, 5, 3).and_then(|d| d.and_hms_opt(18, 30, 0)).unwrap();
        assert_eq!(measurement_time(at), "Wo 3 mei 2023 | 18:30");
        assert_eq!(amsterdam(at), "2023-05-03T18:30:00+02:00");
        let winter = NaiveDate::from_ymd_opt(2024, 1, 7).and_then(|d| d.and_hms_opt(9, 5, 0)).unwrap();
        assert_eq!(measurement_time(winter), "Zo 7 jan 2024 | 09:05");
        assert_eq!(amsterdam(winter), "2024-01-07T09:05:00+01:00");
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let write = |seed| {
            let mut out = Vec::new();
            write_pluriform_delivery(&mut out, "pameijer", 3, seed, "2026-11-20T10:15:00+01:00").unwrap();
            out
        };
        assert_eq!(write(7), write(7));
        assert_ne!(write(7), write(8));
        let delivery: Value = serde_json::from_slice(&write(7)).unwrap();
        assert_eq!(delivery["clienten"].as_array().map(Vec::len), Some(3));
        assert_eq!(delivery["organisatie"]["code"], "pameijer");
    }
}
