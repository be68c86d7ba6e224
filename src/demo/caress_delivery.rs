//! A made-up Caress delivery (`urn:caress:export:2`, as
//! `shared/vendor-formats/caress.md` describes it), reproducible from a
//! seed: staff, and clients with everything a client can have, under the
//! `ce:` prefix. For the mapping benchmark. Written as it is made, one
//! client at a time: memory does not grow with the number of clients.

use std::io::{self, Write};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::pluriform_delivery::test_bsn;

/// Writes a full delivery of `clients` clients of `tenant`, made at
/// `created` (ISO 8601 with an offset), to `out`. The same arguments give
/// the same bytes. Client numbers count from 3200000; BSNs are test
/// numbers, unique up to 10,000 clients; about one client in eleven has
/// none.
pub fn write_caress_delivery(
    out: &mut impl Write,
    tenant: &str,
    clients: usize,
    seed: u64,
    created: &str,
) -> io::Result<()> {
    let created_at = DateTime::parse_from_rfc3339(created).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("the creation time {created:?} is not ISO 8601: {e}"))
    })?;
    let mut maker = Maker::new(seed, created_at, clients);
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<ce:Export xmlns:ce=\"urn:caress:export:2\" organisatie=\"{}\" aangemaakt=\"{}\">",
        escape(tenant),
        escape(created)
    )?;
    for index in 0..maker.staff {
        let naam = format!("{} {}", maker.pick(GIVEN), maker.pick(FAMILY));
        let rol = maker.pick(ROLLEN);
        writeln!(out, "  <ce:Medewerker id=\"E-{index}\" naam=\"{}\" rol=\"{rol}\"/>", escape(&naam))?;
    }
    for index in 0..clients {
        out.write_all(maker.client(index).as_bytes())?;
    }
    writeln!(out, "</ce:Export>")
}

const GIVEN: &[&str] = &["Anna", "Bram", "Daan", "Emma", "Fenna", "Joris", "Lotte", "Mila", "Noah", "Zoë", "Jaïr"];
const PREFIXES: &[&str] = &["", "", "", "de", "van", "van der", "van den"];
const FAMILY: &[&str] = &["Jansen", "Berg", "Vries", "Bakker", "Visser", "Dijk", "Smit", "Meijer", "Yılmaz", "Bos"];
const ROLLEN: &[&str] = &["Persoonlijk Begeleider", "Gedragsdeskundige", "Verpleegkundige", "Arts VG"];
const GESLACHT: &[&str] = &["M", "V", "X", "O"];
const RELATIES: &[&str] = &["Moeder", "Vader", "Zus", "Broer", "Vriend", "Buurvrouw", "Tante"];
const VERTEGENWOORDIGING: &[&str] = &[
    "Geen",
    "Mentor",
    "Curator",
    "Bewindvoerder",
    "Mentor en bewindvoerder",
    "Ouder met gezag",
    "Voogd",
    "Schriftelijk gemachtigde",
];
const RECHTEN: &[&str] = &["dossier-lezen", "dossier-schrijven", "berichten", "agenda", "gegevens", "financieel"];
const SOORTEN: &[&str] = &["Dagrapportage", "Aantekeningen cliënt/verwant", "Dit vind ik ervan!"];
const TITELS: &[&str] = &["Kapper", "Tandarts", "Zwemmen", "Verjaardag oma", "Dagbesteding"];

struct Maker {
    rng: StdRng,
    created: DateTime<FixedOffset>,
    since: NaiveDate,
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

    fn staff_id(&mut self) -> String {
        format!("E-{}", self.rng.random_range(0..self.staff))
    }

    fn gewijzigd(&mut self) -> String {
        let minutes = self.rng.random_range(1..=720);
        (self.created - Duration::minutes(minutes)).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// A local time of day between 06:00 and 22:55 (never the hour that
    /// does not exist in spring), as `dd-mm-jj uu:mm`.
    fn local(&mut self) -> NaiveDateTime {
        let day = self.since + Duration::days(self.rng.random_range(0..self.days));
        let minutes = self.rng.random_range(6 * 12..23 * 12) * 5;
        day.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default()
    }

    fn client(&mut self, index: usize) -> String {
        let id = 3_200_000 + index;
        let mut x = format!("  <ce:Client id=\"{id}\" gewijzigd=\"{}\">\n    <ce:Persoon>", self.gewijzigd());
        if let Some(bsn) = test_bsn(index).filter(|_| !self.one_in(11)) {
            x.push_str(&format!("<ce:Bsn>{bsn}</ce:Bsn>"));
        }
        let (given, prefix, family) = (self.pick(GIVEN), self.pick(PREFIXES), self.pick(FAMILY));
        let born =
            NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default() + Duration::days(self.rng.random_range(0..20_000));
        x.push_str(&format!(
            "<ce:Voornamen>{given}</ce:Voornamen><ce:Roepnaam>{given}</ce:Roepnaam><ce:Voorvoegsel>{prefix}</ce:Voorvoegsel>\
             <ce:Achternaam>{family}</ce:Achternaam><ce:Geboortedatum>{}</ce:Geboortedatum><ce:Geslacht code=\"{}\"/>\
             <ce:Adres straat=\"Hoofdweg\" huisnummer=\"{}\" postcode=\"3800 AA\" plaats=\"Amersfoort\"/>\
             <ce:Telefoon soort=\"mobiel\">06{:08}</ce:Telefoon><ce:Email>c{id}@example.nl</ce:Email></ce:Persoon>\n",
            born.format("%Y-%m-%d"),
            self.pick(GESLACHT),
            self.rng.random_range(1..200),
            self.rng.random_range(0..100_000_000),
        ));
        x.push_str("    <ce:Zorg begin=\"2015-02-01\" eind=\"\"/>\n");
        x.push_str("    <ce:Huisarts naam=\"Huisartsenpraktijk De Linde\" agb=\"01012345\" telefoon=\"0331234567\"/>");
        x.push_str("<ce:Apotheek naam=\"Apotheek Centrum\" agb=\"06012345\"/>");
        x.push_str("<ce:Verzekering maatschappij=\"Zilveren Kruis\" uzovi=\"3311\" polisnummer=\"123456789\"/>\n");
        x.push_str(&format!(
            "    <ce:Zorgteam><ce:Lid medewerker=\"{}\" rol=\"Persoonlijk Begeleider\"/></ce:Zorgteam>\n",
            self.staff_id()
        ));
        let contacts = self.rng.random_range(0..=3);
        x.push_str("    <ce:Contactpersonen>");
        for n in 0..contacts {
            let rechten: Vec<&str> = RECHTEN.iter().copied().filter(|_| self.one_in(2)).collect();
            x.push_str(&format!(
                "<ce:Contactpersoon id=\"CP-{id}-{n}\" gewijzigd=\"{}\"><ce:Naam voornamen=\"{}\" voorvoegsel=\"\" achternaam=\"{}\"/>\
                 <ce:Relatie>{}</ce:Relatie><ce:Vertegenwoordiging>{}</ce:Vertegenwoordiging>\
                 <ce:Portaal actief=\"{}\" rechten=\"{}\"/><ce:Geldig van=\"2020-01-01\" tot=\"\"/>\
                 <ce:Email>cp-{id}-{n}@example.nl</ce:Email></ce:Contactpersoon>",
                self.gewijzigd(),
                self.pick(GIVEN),
                self.pick(FAMILY),
                self.pick(RELATIES),
                self.pick(VERTEGENWOORDIGING),
                !self.one_in(4),
                rechten.join(" "),
            ));
        }
        x.push_str("</ce:Contactpersonen>\n    <ce:Doelen>");
        for n in 0..self.rng.random_range(0..=4) {
            let status = if self.one_in(3) { "historisch" } else { "actueel" };
            x.push_str(&format!(
                "<ce:Doel id=\"G-{id}-{n}\" status=\"{status}\" start=\"2024-01-15\" eind=\"\">\
                 <ce:Omschrijving>Ik ga zelf met de bus naar mijn werk &amp; terug.</ce:Omschrijving>"
            ));
            for _ in 0..self.rng.random_range(0..=3) {
                x.push_str("<ce:Actie>Busreis oefenen.</ce:Actie>");
            }
            x.push_str("</ce:Doel>");
        }
        x.push_str("</ce:Doelen>\n    <ce:Aantekeningen>");
        for n in 0..self.rng.random_range(5..=15) {
            let auteur = self.author(id, contacts);
            x.push_str(&format!(
                "<ce:Aantekening id=\"N-{id}-{n}\" datum=\"{}\" soort=\"{}\" auteur=\"{auteur}\">\
                 <ce:Tekst><![CDATA[Dag verliep <rustig> (N-{id}-{n})]]></ce:Tekst></ce:Aantekening>",
                caress_time(self.local()),
                escape(self.pick(SOORTEN)),
            ));
        }
        x.push_str("</ce:Aantekeningen>\n    <ce:Vragenlijsten>");
        for n in 0..self.rng.random_range(0..=2) {
            x.push_str(&format!(
                "<ce:Vragenlijst id=\"Q-{id}-{n}\" naam=\"Aanvalsregistratie\" datum=\"{}\" auteur=\"{}\">\
                 <ce:Antwoord vraag=\"soort\">Tonisch-clonisch</ce:Antwoord><ce:Antwoord vraag=\"duur_minuten\">{}</ce:Antwoord>\
                 <ce:Antwoord vraag=\"medicatie_gegeven\">{}</ce:Antwoord></ce:Vragenlijst>",
                caress_time(self.local()),
                self.staff_id(),
                self.rng.random_range(1..10),
                self.one_in(2),
            ));
        }
        x.push_str("</ce:Vragenlijsten>\n    <ce:Agenda>");
        for n in 0..self.rng.random_range(3..=8) {
            let start = self.local();
            let whole_day = self.one_in(6);
            let (start, end) = if whole_day {
                let day = start.date().and_hms_opt(0, 0, 0).unwrap_or_default();
                (day, day + Duration::days(self.rng.random_range(0..3)))
            } else {
                (start, start + Duration::minutes(90))
            };
            let zichtbaarheid = match self.rng.random_range(0..3) {
                0 => "",
                1 => " zichtbaarheid=\"Openbaar\"",
                _ => " zichtbaarheid=\"Privé\"",
            };
            x.push_str(&format!(
                "<ce:Afspraak id=\"A-{id}-{n}\" heleDag=\"{whole_day}\"{zichtbaarheid} start=\"{}\" eind=\"{}\" auteur=\"client\">\
                 <ce:Titel>{}</ce:Titel><ce:Beschrijving>Geheim-A-{id}-{n}</ce:Beschrijving></ce:Afspraak>",
                caress_time(start),
                caress_time(end),
                self.pick(TITELS),
            ));
        }
        x.push_str("</ce:Agenda>\n    <ce:Berichten>");
        for n in 0..self.rng.random_range(1..=4) {
            let (van, aan) = if self.one_in(2) {
                ("client".to_owned(), self.staff_id())
            } else {
                (self.author(id, contacts), "client".to_owned())
            };
            x.push_str(&format!(
                "<ce:Bericht id=\"MSG-{id}-{n}\" verzonden=\"{}\" van=\"{van}\" aan=\"{aan}\">Hallo {n}</ce:Bericht>",
                caress_time(self.local()),
            ));
        }
        x.push_str("</ce:Berichten>\n  </ce:Client>\n");
        x
    }

    /// The client, one of its contact persons or a staff member.
    fn author(&mut self, client: usize, contacts: u32) -> String {
        match self.rng.random_range(0..4) {
            0 => "client".to_owned(),
            1 if contacts > 0 => format!("CP-{client}-{}", self.rng.random_range(0..contacts)),
            _ => self.staff_id(),
        }
    }
}

fn caress_time(at: NaiveDateTime) -> String {
    at.format("%d-%m-%y %H:%M").to_string()
}

/// Text as XML character data or an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
