//! Pluriform deliveries through real HTTP, one case per equivalence class:
//! a ten-year-old client with a representative for every `soort` x
//! `portaaltoegang` x `mag_schrijven`, a grant that ended, one that has not
//! begun, one revoked and one removed by a later delivery; the client; an
//! app with narrower scopes; one person representing two clients, with a
//! `patient/` and a `user/` token; and a parent whose authority ended with
//! the other (adult) client's 18th birthday. Each principal reads, vreads,
//! reads the history of and searches (totals and all pages) records of
//! every category of both clients and the staff they refer to,
//! revincludes, includes and tries to write. What it must see is worked
//! out here from the access table of `access-model.md` and `pluriform.md`,
//! not from the code. A case is one principal's read, vread or history of
//! one record, one search read to its last page, one revinclude, include
//! or write. The gateway's clock is fixed, so that "yesterday" and
//! "tomorrow" stay what they were when the grants were written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::{ResourceId, TenantCode};
use zorgpoort::http::Clock;

use crate::common::{Db, TENANT, TestServer, json};
use crate::on_both_databases;

on_both_databases!(every_pluriform_principal_sees_what_the_access_table_gives);

const NAMING: &str = "https://zorgpoort.nl/fhir/NamingSystem/pameijer/pluriform";
const COMMUNICATION_CATEGORY: &str = "https://zorgpoort.nl/fhir/CodeSystem/communication-category";
const CONSENT_CATEGORY: &str = "https://zorgpoort.nl/fhir/CodeSystem/consent-category";
const DATA_CATEGORY: &str = "https://zorgpoort.nl/fhir/CodeSystem/data-category";
const MENTOR_ROLE: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.22.472|15";

/// The minor client every representative of the table represents.
const CLIENT: &str = "610001";
/// An adult client whose records only the person representing both sees.
const OTHER_CLIENT: &str = "610002";

const SOORTEN: [&str; 7] = ["mentor", "curator", "bewindvoerder", "voogd", "ouder_met_gezag", "gemachtigde", "naaste"];
const LEVELS: [&str; 5] = ["volledig", "noodzakelijk", "beperkt", "financieel", "geen"];

/// Every category a Pluriform delivery fills (it has no questionnaires or
/// agenda; the access log is not served yet).
const ALL: [&str; 8] = ["identity", "profile", "reports", "measurements", "plan", "messages", "consents", "finance"];
/// What a bewindvoerder may ever see (WGBO).
const MONEY_ONLY: [&str; 3] = ["identity", "profile", "finance"];
/// The legal representatives whose `volledig` grant is full access.
const FULL_ACCESS_KINDS: [&str; 5] = ["mentor", "curator", "voogd", "ouder_met_gezag", "gemachtigde"];

/// What a later delivery does to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Stays,
    /// Delivered again with `portaaltoegang` `geen`.
    Revoked,
    /// Delivered again as a tombstone.
    Removed,
}

/// A representative as the ECD lists them.
#[derive(Debug, Clone)]
struct Representative {
    number: String,
    client: &'static str,
    soort: &'static str,
    level: &'static str,
    writes: bool,
    from: NaiveDate,
    until: Option<NaiveDate>,
    email: String,
    fate: Fate,
}

impl Representative {
    fn new(number: &str, client: &'static str, soort: &'static str, level: &'static str, writes: bool) -> Self {
        Representative {
            number: number.to_owned(),
            client,
            soort,
            level,
            writes,
            from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            until: None,
            email: format!("{}@example.nl", number.to_lowercase()),
            fate: Fate::Stays,
        }
    }

    /// The categories the access table gives on `today`, for a client
    /// born on `born`, once every delivery is in.
    fn categories(&self, today: NaiveDate, born: NaiveDate) -> BTreeSet<&'static str> {
        let parental = matches!(self.soort, "voogd" | "ouder_met_gezag");
        if self.fate != Fate::Stays
            || today < self.from
            || self.until.is_some_and(|until| today > until)
            || (parental && born.checked_add_months(Months::new(18 * 12)).unwrap() <= today)
        {
            return BTreeSet::new();
        }
        let level: &[&'static str] = match self.level {
            "volledig" => &ALL,
            "noodzakelijk" => &["identity", "profile", "plan", "consents"],
            "beperkt" => &["identity", "reports"],
            "financieel" => &["identity", "profile", "finance"],
            _ => &[],
        };
        let mut categories: BTreeSet<&'static str> = level.iter().copied().collect();
        if self.soort == "bewindvoerder" {
            categories.retain(|c| MONEY_ONLY.contains(c));
        }
        categories
    }

    /// Full access: a `volledig` grant, in force, of a legal representative
    /// other than a bewindvoerder.
    fn full_access(&self, today: NaiveDate, born: NaiveDate) -> bool {
        self.level == "volledig" && FULL_ACCESS_KINDS.contains(&self.soort) && !self.categories(today, born).is_empty()
    }

    fn json(&self) -> Value {
        let date = |d: NaiveDate| d.format("%d-%m-%Y").to_string();
        json!({
            "relatienummer": self.number,
            "naam": {"voornamen": "Test", "voorvoegsel": "", "achternaam": self.number},
            "relatie": "familie", "soort": self.soort,
            "volgorde": if self.soort == "naaste" { Value::Null } else { json!(1) },
            "portaaltoegang": self.level, "mag_schrijven": if self.writes { "J" } else { "N" },
            "email": self.email, "mobiel": null,
            "geldig_van": date(self.from), "geldig_tot": self.until.map(date),
            "gewijzigd": CHANGED
        })
    }
}

const CHANGED: &str = "2026-11-20T09:00:00+01:00";
const CHANGED_LATER: &str = "2026-11-21T09:00:00+01:00";

/// The table's representatives of the client, and the people around it.
fn representatives(today: NaiveDate) -> Vec<Representative> {
    let mut people = Vec::new();
    for soort in SOORTEN {
        for level in LEVELS {
            for writes in [true, false] {
                let number = format!("V-{soort}-{level}-{}", if writes { "J" } else { "N" });
                people.push(Representative::new(&number, CLIENT, soort, level, writes));
            }
        }
    }
    let mut ended = Representative::new("V-ENDED", CLIENT, "mentor", "volledig", true);
    ended.until = Some(today - chrono::Days::new(1));
    let mut future = Representative::new("V-FUTURE", CLIENT, "mentor", "volledig", true);
    future.from = today + chrono::Days::new(1);
    let mut revoked = Representative::new("V-REVOKED", CLIENT, "mentor", "volledig", true);
    revoked.fate = Fate::Revoked;
    let mut removed = Representative::new("V-REMOVED", CLIENT, "mentor", "volledig", true);
    removed.fate = Fate::Removed;
    // One person for two clients: one e-mail address, two records.
    let both = Representative::new("V-TWO-A", CLIENT, "mentor", "volledig", false);
    let mut other = Representative::new("V-TWO-B", OTHER_CLIENT, "curator", "beperkt", false);
    other.email = both.email.to_uppercase();
    // The other client is an adult: the grant of a parent ended at 18.
    let parent = Representative::new("V-ADULT-PARENT", OTHER_CLIENT, "ouder_met_gezag", "volledig", false);
    people.extend([ended, future, revoked, removed, both, other, parent]);
    people
}

/// A record the test looks for: where it sits in the access model, and
/// what the rules look at.
#[derive(Debug, Clone)]
struct Record {
    resource_type: &'static str,
    /// The identifier's kind (`.../pluriform/{kind}`) and value; a Binary
    /// is found through the DocumentReference with this kind and value.
    kind: &'static str,
    source_id: String,
    /// `None`: the directory (staff).
    client: Option<&'static str>,
    category: &'static str,
    /// A message's sender and recipients: `client`, a relatienummer or a
    /// medewerkernummer.
    parties: Vec<String>,
    /// The staff it refers to.
    staff: Vec<&'static str>,
    /// A representative's record or grant: their `soort`.
    soort: Option<&'static str>,
    /// Removed by the later delivery.
    removed: bool,
    /// The server id.
    id: String,
}

impl Record {
    fn new(resource_type: &'static str, kind: &'static str, source_id: &str, client: Option<&'static str>) -> Self {
        let category = match resource_type {
            "Patient" => "identity",
            "RelatedPerson" | "CareTeam" | "EpisodeOfCare" | "Practitioner" => "profile",
            "Observation" => "measurements",
            "Goal" | "CarePlan" => "plan",
            "Invoice" => "finance",
            "Consent" => "consents",
            other => panic!("{other} needs its category"),
        };
        Record::of(resource_type, kind, source_id, client, category)
    }

    fn of(
        resource_type: &'static str,
        kind: &'static str,
        source_id: &str,
        client: Option<&'static str>,
        category: &'static str,
    ) -> Self {
        Record {
            resource_type,
            kind,
            source_id: source_id.to_owned(),
            client,
            category,
            parties: Vec::new(),
            staff: Vec::new(),
            soort: None,
            removed: false,
            id: String::new(),
        }
    }

    fn referring_to(mut self, staff: &'static str) -> Self {
        self.staff.push(staff);
        self
    }

    fn is(&self, resource_type: &str, kind: &str, source_id: &str) -> bool {
        self.resource_type == resource_type && self.kind == kind && self.source_id == source_id
    }
}

/// Who works for the client: the first responsible (care team, reports,
/// measurements, messages), a colleague who only receives a message among
/// staff, and who last changed the client's consent.
struct Staff {
    first: &'static str,
    colleague: &'static str,
    consent_by: &'static str,
}

const PDF: &str = "JVBERi0xLjQKJSVFT0YK";

/// One client as delivered, and the records that become of it.
fn client(
    number: &'static str,
    bsn: &str,
    born: NaiveDate,
    staff: Staff,
    people: &[&Representative],
) -> (Value, Vec<Record>) {
    let c = Some(number);
    let party = |p: &str| match p {
        "client" => json!({"soort": "client"}),
        p if p.starts_with("M-") => json!({"soort": "medewerker", "nummer": p}),
        p => json!({"soort": "vertegenwoordiger", "relatienummer": p}),
    };
    let document = |name: &str| json!({"bestandsnaam": name, "mediatype": "application/pdf", "inhoud_base64": PDF});
    let mut records = vec![
        Record::new("Patient", "client", number, c),
        Record::new("CareTeam", "client", number, c).referring_to(staff.first),
        Record::new("EpisodeOfCare", "client", number, c),
    ];
    for person in people {
        for resource_type in ["RelatedPerson", "Consent"] {
            let mut record = Record::new(resource_type, "vertegenwoordiger", &person.number, c);
            record.soort = Some(person.soort);
            records.push(record);
        }
    }
    // Two reports for the portal, one not (never stored).
    let report = |id: String, author: &str, portal: &str| {
        json!({"id": id, "datum": "03-05-2025 18:30", "auteur": party(author), "tekst": "Boodschappen gedaan.",
               "portaal": portal, "gewijzigd": CHANGED})
    };
    let reports = vec![
        report(format!("RR-{number}-1"), staff.first, "J"),
        report(format!("RR-{number}-2"), "client", "J"),
        report(format!("RR-{number}-3"), staff.first, "N"),
    ];
    records.push(
        Record::of("Communication", "rapportage", &format!("RR-{number}-1"), c, "reports").referring_to(staff.first),
    );
    records.push(Record::of("Communication", "rapportage", &format!("RR-{number}-2"), c, "reports"));
    records.push(Record::new("Observation", "meting", &format!("M-{number}-1"), c).referring_to(staff.first));
    records.push(Record::new("Goal", "doel", &format!("D-{number}-1"), c));
    // A signed plan (with its print) and one in concept (never stored).
    records.push(Record::new("CarePlan", "clientplan", &format!("CP-{number}-1"), c));
    records.push(Record::of("DocumentReference", "clientplan", &format!("CP-{number}-1"), c, "plan"));
    records.push(Record::of("Binary", "clientplan", &format!("CP-{number}-1"), c, "plan"));
    records.push(Record::of("DocumentReference", "evaluatie", &format!("EV-{number}-1"), c, "plan"));
    records.push(Record::of("Binary", "evaluatie", &format!("EV-{number}-1"), c, "plan"));
    records.push(Record::of("DocumentReference", "persoonsbeeld", number, c, "plan"));
    records.push(Record::new("Invoice", "factuur", &format!("F-{number}-1"), c));
    records.push(Record::of("DocumentReference", "factuur", &format!("F-{number}-1"), c, "finance"));
    records.push(Record::of("Binary", "factuur", &format!("F-{number}-1"), c, "finance"));
    records.push(Record::new("Consent", "toestemming", &format!("T-{number}-1"), c).referring_to(staff.consent_by));
    // Messages: the client with staff, staff among themselves, and one with
    // each representative (who sends it when they may write).
    let mut exchanges: Vec<(String, String, String)> = vec![
        (format!("B-{number}-CLIENT"), "client".into(), staff.first.into()),
        (format!("B-{number}-STAFF"), staff.first.into(), staff.colleague.into()),
    ];
    for person in people {
        let (from, to) = match person.writes {
            true => (person.number.clone(), staff.first.to_owned()),
            false => (staff.first.to_owned(), person.number.clone()),
        };
        exchanges.push((format!("B-{number}-{}", person.number), from, to));
    }
    let mut messages = Vec::new();
    for (id, from, to) in exchanges {
        messages.push(json!({"id": id, "verzonden": "2025-03-08T14:10:00+01:00", "van": party(&from),
            "aan": party(&to), "tekst": format!("Bericht {id}"), "in_antwoord_op": null, "gewijzigd": CHANGED}));
        let mut record = Record::of("Communication", "bericht", &id, c, "messages");
        record.staff = [&from, &to].into_iter().filter_map(|p| staff_number(p)).collect();
        record.parties = vec![from, to];
        records.push(record);
    }
    let delivered = json!({
        "clientnummer": number, "bsn": bsn,
        "naam": {"voornamen": "Cliënt", "voorvoegsel": "", "achternaam": number, "roepnaam": "C"},
        "geboortedatum": born.format("%d-%m-%Y").to_string(), "geslacht": "V",
        "adres": {"straat": "Dorpsstraat", "huisnummer": "1", "toevoeging": null, "postcode": "3511 AA", "woonplaats": "Utrecht"},
        "email": null, "mobiel": null,
        "in_zorg": {"begin": "01-01-2020", "einde": null},
        "eerstverantwoordelijke": staff.first,
        "gewijzigd": CHANGED,
        "vertegenwoordigers": people.iter().map(|p| p.json()).collect::<Vec<_>>(),
        "rapportages": reports,
        "metingen": [{"id": format!("M-{number}-1"), "meetsoort": "Gewicht", "waarde": "40,5", "eenheid": "kg",
            "toelichting": null, "tijdstip": "Za 23 aug 2025 | 15:50", "medewerker": staff.first, "gewijzigd": CHANGED}],
        "doelen": [{"id": format!("D-{number}-1"), "omschrijving": "Zelf boodschappen doen", "domein": "Praktisch",
            "status": "actief", "startdatum": "01-01-2025", "einddatum": null, "gewijzigd": CHANGED}],
        "clientplannen": [
            {"id": format!("CP-{number}-1"), "afdrukdatum": "14-04-2025", "status": "ondertekend",
             "ondertekend_op": "01-05-2025", "afwijzingsreden": null, "doelen": [format!("D-{number}-1")],
             "document": document("clientplan.pdf"), "gewijzigd": CHANGED},
            {"id": format!("CP-{number}-2"), "afdrukdatum": "14-10-2025", "status": "concept",
             "ondertekend_op": null, "afwijzingsreden": null, "doelen": [], "document": document("concept.pdf"),
             "gewijzigd": CHANGED}
        ],
        "evaluaties": [{"id": format!("EV-{number}-1"), "periode": "07-07-2024 t/m 03-02-2025",
            "afgerond_op": "10-02-2025", "document": document("evaluatie.pdf"), "gewijzigd": CHANGED}],
        "persoonsbeeld": {"hoe_gaat_het_nu": "Goed.", "aanspreekvorm": "Zeg maar je.", "gewijzigd": CHANGED},
        "facturen": [{"id": format!("F-{number}-1"), "soort": "Factuur", "bedrag": "10,00 €",
            "periode": "01-01-2025 - 31-01-2025", "factuurdatum": "05-02-2025", "status": "verzonden",
            "document": document("factuur.pdf"), "gewijzigd": CHANGED}],
        "berichten": messages,
        "toestemmingen": [{"id": format!("T-{number}-1"), "onderwerp": "foto_nieuwsbrief",
            "omschrijving": "Foto's van mij mogen in de nieuwsbrief", "waarde": "J", "client_mag_wijzigen": "J",
            "gewijzigd": CHANGED, "gewijzigd_door": party(staff.consent_by)}]
    });
    (delivered, records)
}

fn staff_number(party: &str) -> Option<&'static str> {
    STAFF.into_iter().find(|s| *s == party)
}

const STAFF: [&str; 6] = ["M-1", "M-2", "M-3", "M-4", "M-5", "M-6"];

fn envelope(created: &str, staff: &[&str], clients: Vec<Value>) -> Value {
    let staff: Vec<Value> = staff
        .iter()
        .map(|n| {
            json!({"medewerkernummer": n, "voornaam": "Sam", "voorvoegsel": "", "achternaam": n,
                   "functie": "Begeleider", "gewijzigd": CHANGED})
        })
        .collect();
    json!({
        "formaat": "pluriform-export", "versie": 1,
        "organisatie": {"code": TENANT, "naam": "Pameijer", "agb": "73730123"},
        "aangemaakt": created,
        "medewerkers": staff,
        "clienten": clients
    })
}

/// The first delivery, the later one that revokes and removes grants, and
/// every record that is stored of them.
fn deliveries(people: &[Representative], born: NaiveDate, other_born: NaiveDate) -> (Value, Value, Vec<Record>) {
    let of = |client: &str| people.iter().filter(|p| p.client == client).collect::<Vec<_>>();
    let (first, mut records) =
        client(CLIENT, "999911120", born, Staff { first: "M-1", colleague: "M-2", consent_by: "M-3" }, &of(CLIENT));
    let (second, other_records) = client(
        OTHER_CLIENT,
        "999900006",
        other_born,
        Staff { first: "M-4", colleague: "M-5", consent_by: "M-4" },
        &of(OTHER_CLIENT),
    );
    records.extend(other_records);
    records.extend(STAFF.map(|n| Record::new("Practitioner", "medewerker", n, None)));
    let full = envelope("2026-11-20T10:15:00+01:00", &STAFF, vec![first, second]);
    let later: Vec<Value> = people
        .iter()
        .filter_map(|p| match p.fate {
            Fate::Stays => None,
            Fate::Revoked => {
                let mut grant = p.json();
                grant["portaaltoegang"] = "geen".into();
                grant["gewijzigd"] = CHANGED_LATER.into();
                Some(grant)
            }
            Fate::Removed => Some(json!({"relatienummer": p.number, "gewijzigd": CHANGED_LATER, "verwijderd": true})),
        })
        .collect();
    let revocation =
        envelope("2026-11-21T10:15:00+01:00", &[], vec![json!({"clientnummer": CLIENT, "vertegenwoordigers": later})]);
    (full, revocation, records)
}

/// What a principal sees of one client, by the access table.
#[derive(Debug, Clone, Default)]
struct Sight {
    categories: BTreeSet<&'static str>,
    /// The person's own records for the client (`client`, relatienummers):
    /// the messages they take part in.
    parties: BTreeSet<String>,
    /// Full access: every message of the client (Pluriform).
    every_message: bool,
}

#[derive(Debug, Clone)]
enum User {
    Client(&'static str),
    Representative(String),
}

/// A token: its user, client in context and scopes, and what the access
/// table says it sees of each client it reaches.
#[derive(Debug, Clone)]
struct Principal {
    who: String,
    user: User,
    context: &'static str,
    scope: String,
    /// The types its resource scopes name; `None`: every type.
    types: Option<Vec<&'static str>>,
    sight: BTreeMap<&'static str, Sight>,
}

/// The categories a record of a type can be in (`access-model.md`).
fn type_categories(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "Patient" => &["identity"],
        "RelatedPerson" | "CareTeam" | "EpisodeOfCare" | "Practitioner" => &["profile"],
        "Communication" => &["reports", "messages"],
        "Observation" => &["measurements"],
        "Goal" | "CarePlan" => &["plan"],
        "DocumentReference" | "Binary" => &["plan", "finance"],
        "Invoice" => &["finance"],
        "Consent" => &["consents"],
        other => panic!("{other}"),
    }
}

impl Principal {
    fn client(number: &'static str) -> Principal {
        let sight = Sight {
            categories: ALL.into_iter().collect(),
            parties: BTreeSet::from(["client".to_owned()]),
            every_message: false,
        };
        Principal {
            who: format!("client {number}"),
            user: User::Client(number),
            context: number,
            scope: "patient/*.rs openid fhirUser".into(),
            types: None,
            sight: BTreeMap::from([(number, sight)]),
        }
    }

    /// A representative's token: `patient/` scopes reach the client of
    /// `rep`, `user/` ones every client the person (one e-mail address)
    /// represents.
    fn representative(
        rep: &Representative,
        people: &[Representative],
        scope: &str,
        today: NaiveDate,
        born: impl Fn(&str) -> NaiveDate,
    ) -> Principal {
        let every_client = scope.starts_with("user/");
        let mut sight: BTreeMap<&'static str, Sight> = BTreeMap::new();
        let person = people.iter().filter(|p| p.email.eq_ignore_ascii_case(&rep.email));
        for record in person.filter(|p| every_client || p.client == rep.client) {
            let categories = record.categories(today, born(record.client));
            if categories.is_empty() {
                continue;
            }
            let seen = sight.entry(record.client).or_default();
            seen.categories.extend(categories);
            seen.parties.insert(record.number.clone());
            seen.every_message |= record.full_access(today, born(record.client));
        }
        let resource_scopes: Vec<&str> = scope.split_whitespace().filter(|s| s.contains('/')).collect();
        let types = (!resource_scopes.iter().any(|s| s.contains("/*."))).then(|| {
            resource_scopes
                .iter()
                .filter_map(|s| s.split_once('/')?.1.split_once('.').map(|(t, _)| t))
                .map(|t| *ALL_TYPES.iter().find(|known| **known == t).unwrap())
                .collect()
        });
        Principal {
            who: format!(
                "{} {} mag_schrijven {} ({}, {scope})",
                rep.soort,
                rep.level,
                if rep.writes { "J" } else { "N" },
                rep.number
            ),
            user: User::Representative(rep.number.clone()),
            context: rep.client,
            scope: scope.to_owned(),
            types,
            sight,
        }
    }

    fn is_own(&self, record: &Record) -> bool {
        match &self.user {
            User::Client(number) => record.resource_type == "Patient" && record.source_id == *number,
            User::Representative(number) => record.resource_type == "RelatedPerson" && &record.source_id == number,
        }
    }

    fn in_scope(&self, resource_type: &str) -> bool {
        self.types.as_ref().is_none_or(|types| types.contains(&resource_type))
    }

    /// Whether the principal sees a record (`records`: the world, for what
    /// refers to staff).
    fn sees(&self, record: &Record, records: &[Record]) -> bool {
        !record.removed && self.saw(record, records)
    }

    /// Whether the principal, with the rights of today, sees the record or
    /// its last version before it was removed.
    fn saw(&self, record: &Record, records: &[Record]) -> bool {
        if self.is_own(record) {
            return true;
        }
        if !self.in_scope(record.resource_type) {
            return false;
        }
        let Some(client) = record.client else {
            // Staff: only through a visible record that refers to them.
            return records
                .iter()
                .any(|r| r.client.is_some() && r.staff.contains(&record.source_id.as_str()) && self.sees(r, records));
        };
        let Some(sight) = self.sight.get(client) else { return false };
        sight.categories.contains(record.category)
            && (record.category != "messages"
                || sight.every_message
                || record.parties.iter().any(|p| sight.parties.contains(p)))
    }

    /// Whether the principal may read and search the type at all (else 403).
    fn reaches(&self, resource_type: &str) -> bool {
        let own = match self.user {
            User::Client(_) => "Patient",
            User::Representative(_) => "RelatedPerson",
        };
        if resource_type == own {
            return true;
        }
        if !self.in_scope(resource_type) {
            return false;
        }
        if resource_type == "Practitioner" {
            return self.sight.values().any(|s| !s.categories.is_empty());
        }
        let possible = type_categories(resource_type);
        self.sight.values().any(|s| possible.iter().any(|c| s.categories.contains(c)))
    }

    /// Whether the client's Patient is served whole (else the identity view).
    fn sees_whole(&self, client: &str) -> bool {
        matches!(self.user, User::Client(c) if c == client)
            || self.sight.get(client).is_some_and(|s| s.categories.contains("profile"))
    }

    /// The status a read of the record answers: a removed record is gone
    /// to who saw it, unknown to anyone else.
    fn read_status(&self, record: &Record, records: &[Record]) -> u16 {
        if self.sees(record, records) {
            200
        } else if self.saw(record, records) {
            410
        } else if self.reaches(record.resource_type) {
            404
        } else {
            403
        }
    }
}

const ALL_TYPES: [&str; 12] = [
    "Patient",
    "RelatedPerson",
    "CareTeam",
    "EpisodeOfCare",
    "Practitioner",
    "Communication",
    "Observation",
    "Goal",
    "CarePlan",
    "DocumentReference",
    "Binary",
    "Invoice",
];

/// A search every principal makes: its query and which records of its
/// type match it (before access).
struct Search {
    query: String,
    resource_type: &'static str,
    matches: Box<dyn Fn(&Record) -> bool>,
}

fn searches(records: &[Record]) -> Vec<Search> {
    let every = |query: &str, resource_type: &'static str| Search {
        query: query.to_owned(),
        resource_type,
        matches: Box::new(|_| true),
    };
    let id_of = |resource_type: &str, kind: &str, source_id: &str| {
        records.iter().find(|r| r.is(resource_type, kind, source_id)).unwrap().id.clone()
    };
    // Three grants (in force, not in force, and another's) rather than all
    // seventy-odd: paging is looked at everywhere else.
    let grants = ["V-mentor-volledig-J", "V-naaste-geen-N", "V-ENDED"];
    let actors: Vec<String> =
        grants.iter().map(|n| format!("RelatedPerson/{}", id_of("RelatedPerson", "vertegenwoordiger", n))).collect();
    vec![
        every("Patient", "Patient"),
        Search {
            query: format!("RelatedPerson?relationship={MENTOR_ROLE}"),
            resource_type: "RelatedPerson",
            matches: Box::new(|r| r.soort == Some("mentor")),
        },
        every("CareTeam", "CareTeam"),
        every("EpisodeOfCare", "EpisodeOfCare"),
        every("Practitioner", "Practitioner"),
        Search {
            query: format!("Communication?category={COMMUNICATION_CATEGORY}|report"),
            resource_type: "Communication",
            matches: Box::new(|r| r.category == "reports"),
        },
        Search {
            query: format!("Communication?category={COMMUNICATION_CATEGORY}|message"),
            resource_type: "Communication",
            matches: Box::new(|r| r.category == "messages"),
        },
        every("Observation", "Observation"),
        every("Goal", "Goal"),
        every("CarePlan", "CarePlan"),
        every("DocumentReference", "DocumentReference"),
        Search {
            query: format!("DocumentReference?category={DATA_CATEGORY}|finance"),
            resource_type: "DocumentReference",
            matches: Box::new(|r| r.category == "finance"),
        },
        every("Binary", "Binary"),
        every("Invoice", "Invoice"),
        Search {
            query: format!("Consent?category={CONSENT_CATEGORY}|client-consent"),
            resource_type: "Consent",
            matches: Box::new(|r| r.kind == "toestemming"),
        },
        Search {
            query: format!("Consent?category={CONSENT_CATEGORY}|access-grant&actor={}", actors.join(",")),
            resource_type: "Consent",
            matches: Box::new(move |r| r.kind == "vertegenwoordiger" && grants.contains(&r.source_id.as_str())),
        },
    ]
}

/// The records each principal reads, vreads and reads the history of: one
/// of every kind of the client, the staff, and some of the other client.
fn probes<'a>(records: &'a [Record], principal: &Principal) -> Vec<&'a Record> {
    let pick = |resource_type: &str, kind: &str, source_id: &str| {
        records.iter().find(|r| r.is(resource_type, kind, source_id)).unwrap_or_else(|| panic!("{source_id}"))
    };
    let mut probes: Vec<&Record> = records
        .iter()
        .filter(|r| r.client == Some(CLIENT))
        .filter(|r| !matches!(r.kind, "vertegenwoordiger" | "bericht"))
        .collect();
    probes.extend(records.iter().filter(|r| r.client.is_none()));
    let c = CLIENT;
    probes.extend([
        // Another representative's record and grant.
        pick("RelatedPerson", "vertegenwoordiger", "V-curator-financieel-N"),
        pick("Consent", "vertegenwoordiger", "V-naaste-beperkt-J"),
        // Messages: the client's with staff, among staff, another
        // representative's.
        pick("Communication", "bericht", &format!("B-{c}-CLIENT")),
        pick("Communication", "bericht", &format!("B-{c}-STAFF")),
        pick("Communication", "bericht", &format!("B-{c}-V-naaste-volledig-J")),
        // The other client's.
        pick("Patient", "client", OTHER_CLIENT),
        pick("Communication", "rapportage", &format!("RR-{OTHER_CLIENT}-1")),
        pick("Invoice", "factuur", &format!("F-{OTHER_CLIENT}-1")),
        pick("Consent", "toestemming", &format!("T-{OTHER_CLIENT}-1")),
        pick("RelatedPerson", "vertegenwoordiger", "V-TWO-B"),
    ]);
    // Their own record and message, and the grant and record removed by
    // the later delivery.
    if let User::Representative(number) = &principal.user {
        probes.push(pick("RelatedPerson", "vertegenwoordiger", number));
        probes.push(pick("Communication", "bericht", &format!("B-{}-{number}", principal.context)));
    }
    probes.push(pick("RelatedPerson", "vertegenwoordiger", "V-REMOVED"));
    probes.push(pick("Consent", "vertegenwoordiger", "V-REMOVED"));
    let mut seen = BTreeSet::new();
    probes.retain(|r| seen.insert((r.resource_type, r.kind, r.source_id.as_str())));
    probes
}

/// A gateway with the deliveries ingested.
struct PluriformWorld {
    server: TestServer,
    system: String,
}

impl PluriformWorld {
    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        json(self.server.request(Method::GET, path, token).send().await.unwrap()).await
    }

    async fn deliver(&self, delivery: &Value) {
        let token = self.server.token(TENANT, "ingest/pluriform").await;
        let response = self
            .server
            .client
            .post(format!("{}/{TENANT}/ingest/pluriform", self.server.origin))
            .bearer_auth(token)
            .body(delivery.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let summary: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(status.is_success(), "{status}: {summary}");
        assert_eq!(summary["summary"]["rejected"], 0, "{summary}");
    }

    /// Fills in the server ids of the records, as the system finds them.
    async fn resolve(&self, records: &mut [Record]) {
        let mut ids: BTreeMap<(String, String, String), String> = BTreeMap::new();
        let mut documents = BTreeMap::new();
        for resource_type in ALL_TYPES.iter().chain(&["Consent"]).filter(|t| **t != "Binary") {
            let (status, bundle) = self.get(&self.system, &format!("{resource_type}?_count=1000")).await;
            assert_eq!(status, 200, "{bundle}");
            assert!(crate::common::link(&bundle, "next").is_none(), "one page");
            for entry in bundle["entry"].as_array().unwrap() {
                let resource = &entry["resource"];
                let id = resource["id"].as_str().unwrap().to_owned();
                for identifier in resource["identifier"].as_array().into_iter().flatten() {
                    let Some(kind) = identifier["system"].as_str().and_then(|s| s.strip_prefix(NAMING)) else {
                        continue;
                    };
                    let key = (
                        resource_type.to_string(),
                        kind[1..].to_owned(),
                        identifier["value"].as_str().unwrap().to_owned(),
                    );
                    assert!(ids.insert(key.clone(), id.clone()).is_none(), "{key:?}");
                    if *resource_type == "DocumentReference" {
                        documents.insert(key, resource["content"][0]["attachment"]["url"].clone());
                    }
                }
            }
        }
        for record in records.iter_mut() {
            let value = record.source_id.clone();
            record.id = match record.resource_type {
                "Binary" => {
                    let key = ("DocumentReference".into(), record.kind.to_owned(), value);
                    let url = documents[&key].as_str().unwrap();
                    url.strip_prefix("Binary/").unwrap_or_else(|| panic!("{url}")).to_owned()
                }
                resource_type => {
                    let key = (resource_type.to_owned(), record.kind.to_owned(), value);
                    ids.get(&key).unwrap_or_else(|| panic!("not stored: {key:?}")).clone()
                }
            };
        }
    }

    async fn token(&self, principal: &Principal, records: &[Record], scope: &str) -> String {
        let find = |resource_type: &str, kind: &str, source_id: &str| {
            records.iter().find(|r| r.is(resource_type, kind, source_id)).unwrap().id.clone()
        };
        let user = match &principal.user {
            User::Client(number) => PersonRef::Patient(ResourceId::parse(&find("Patient", "client", number)).unwrap()),
            User::Representative(number) => PersonRef::RelatedPerson(
                ResourceId::parse(&find("RelatedPerson", "vertegenwoordiger", number)).unwrap(),
            ),
        };
        let patient = find("Patient", "client", principal.context);
        let (record, token) = zorgpoort::cli::token::new_person_token(
            TenantCode::parse(TENANT).unwrap(),
            &user,
            &ResourceId::parse(&patient).unwrap(),
            scope,
            Some("test-app".into()),
            3600,
        );
        self.server.store.insert_token(&record).await.unwrap();
        token
    }

    /// Every match of a search, all pages read (`count` per page), the
    /// totals the pages gave, and what they included.
    async fn search_all(&self, token: &str, query: &str, count: u32) -> SearchResult {
        let separator = if query.contains('?') { '&' } else { '?' };
        let (status, mut page) = self.get(token, &format!("{query}{separator}_count={count}")).await;
        let mut result = SearchResult { status, ..SearchResult::default() };
        if status != 200 {
            return result;
        }
        loop {
            result.totals.insert(page["total"].as_u64().unwrap());
            for entry in page["entry"].as_array().into_iter().flatten() {
                match entry["search"]["mode"].as_str() {
                    Some("include") => result.included.push(entry["resource"].clone()),
                    _ => result.ids.push(entry["resource"]["id"].as_str().unwrap().to_owned()),
                }
            }
            let Some(next) = crate::common::link(&page, "next") else { break };
            let path = next.split_once("/fhir/").unwrap().1.to_owned();
            let (status, following) = self.get(token, &path).await;
            assert_eq!(status, 200, "{path}: {following}");
            page = following;
        }
        result
    }
}

#[derive(Debug, Default)]
struct SearchResult {
    status: u16,
    ids: Vec<String>,
    totals: BTreeSet<u64>,
    included: Vec<Value>,
}

fn sorted(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids
}

/// Whether a Patient as served is the whole record (else the identity view).
fn is_whole(patient: &Value) -> bool {
    let redacted = patient["meta"]["security"].as_array().into_iter().flatten().any(|l| l["code"] == "REDACTED");
    let whole = patient.get("address").is_some() && patient.get("identifier").is_some();
    assert_ne!(whole, redacted, "whole or marked as redacted: {patient}");
    whole
}

async fn every_pluriform_principal_sees_what_the_access_table_gives(db: Db) {
    let clock = Clock::fixed(Utc::now());
    let today = clock.today_in_amsterdam();
    let born = today.checked_sub_months(Months::new(10 * 12)).unwrap();
    let other_born = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    let birth = |client: &str| if client == CLIENT { born } else { other_born };
    let server = TestServer::start_with_clock(db, clock).await;
    let system = server.token(TENANT, "system/*.rs").await;
    let world = PluriformWorld { server, system };
    let people = representatives(today);
    let (delivery, revocation, mut records) = deliveries(&people, born, other_born);
    world.deliver(&delivery).await;
    world.resolve(&mut records).await;

    // Every kind of principal.
    let mut principals = vec![Principal::client(CLIENT)];
    let scope = "patient/*.rs openid fhirUser";
    for rep in &people {
        principals.push(Principal::representative(rep, &people, scope, today, birth));
    }
    let find = |number: &str| people.iter().find(|p| p.number == number).unwrap();
    let narrow = "patient/Observation.rs launch/patient openid fhirUser";
    principals.push(Principal::representative(find("V-mentor-volledig-N"), &people, narrow, today, birth));
    principals.push(Principal::representative(find("V-TWO-A"), &people, "user/*.rs openid fhirUser", today, birth));

    // A grant revoked and one removed by a later delivery: the very next
    // request is denied.
    let report = records.iter().find(|r| r.is("Communication", "rapportage", &format!("RR-{CLIENT}-1"))).unwrap();
    let report = format!("Communication/{}", report.id);
    let mut tokens = Vec::new();
    for principal in &principals {
        tokens.push(world.token(principal, &records, &principal.scope).await);
    }
    let later: Vec<usize> = (0..principals.len())
        .filter(|&i| matches!(&principals[i].user, User::Representative(n) if find(n).fate != Fate::Stays))
        .collect();
    for &i in &later {
        let status = world.get(&tokens[i], &report).await.0;
        assert_eq!(status, 200, "before the later delivery: {}", principals[i].who);
    }
    world.deliver(&revocation).await;
    for record in records.iter_mut() {
        let removed = |n: &str| find(n).fate == Fate::Removed;
        record.removed |= record.kind == "vertegenwoordiger" && removed(&record.source_id);
    }
    for &i in &later {
        let status = world.get(&tokens[i], &report).await.0;
        assert_eq!(status, 403, "the very next request: {}", principals[i].who);
    }

    let searches = searches(&records);
    let mut cases = 0;
    for (principal, token) in principals.iter().zip(&tokens) {
        let who = &principal.who;
        // Records of every kind: read, vread and history.
        for record in probes(&records, principal) {
            let path = format!("{}/{}", record.resource_type, record.id);
            let expected = principal.read_status(record, &records);
            let (status, body) = world.get(token, &path).await;
            assert_eq!(status, expected, "read {path} ({} {}): {who}: {body}", record.kind, record.source_id);
            if status == 200 && record.resource_type == "Patient" {
                let client = record.client.unwrap();
                assert_eq!(is_whole(&body), principal.sees_whole(client), "{path}: {who}");
            }
            // The version they saw stays theirs; a history shows no deletion.
            let expected = if expected == 410 { 200 } else { expected };
            let (status, _) = world.get(token, &format!("{path}/_history/1")).await;
            assert_eq!(status, expected, "vread {path}: {who}");
            let (status, history) = world.get(token, &format!("{path}/_history")).await;
            assert_eq!(status, expected, "history {path}: {who}: {history}");
            if status == 200 {
                assert_eq!(history["total"], 1, "history {path}: {who}: {history}");
            }
            cases += 3;
        }

        // Searches: every page, one total on each, exactly what is visible.
        for search in &searches {
            cases += 1;
            let result = world.search_all(token, &search.query, 2).await;
            let expected: Vec<String> = sorted(
                records
                    .iter()
                    .filter(|r| r.resource_type == search.resource_type && (search.matches)(r))
                    .filter(|r| principal.sees(r, &records))
                    .map(|r| r.id.clone()),
            );
            let reaches = principal.reaches(search.resource_type);
            assert_eq!(result.status, if reaches { 200 } else { 403 }, "search {}: {who}", search.query);
            if reaches {
                assert_eq!(sorted(result.ids), expected, "search {}: {who}", search.query);
                assert_eq!(result.totals, BTreeSet::from([expected.len() as u64]), "{}: {who}", search.query);
            }
        }

        // A revinclude brings along the Communications the principal sees
        // of the Patients they see whole; with the identity view only, a
        // Patient search cannot reach beyond it.
        cases += 1;
        let patients: Vec<&Record> =
            records.iter().filter(|r| r.resource_type == "Patient" && principal.sees(r, &records)).collect();
        let identity_only = patients.iter().any(|p| !principal.sees_whole(p.client.unwrap()));
        let result = world.search_all(token, "Patient?_revinclude=Communication:subject", 50).await;
        if principal.reaches("Patient") && !identity_only {
            assert_eq!(result.status, 200, "revinclude: {who}");
            assert_eq!(sorted(result.ids), sorted(patients.iter().map(|p| p.id.clone())), "revinclude: {who}");
            let expected = sorted(
                records
                    .iter()
                    .filter(|r| r.resource_type == "Communication" && principal.sees(r, &records))
                    .filter(|r| patients.iter().any(|p| p.client == r.client))
                    .map(|r| r.id.clone()),
            );
            let included = sorted(result.included.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
            assert_eq!(included, expected, "revinclude: {who}");
        } else {
            assert_eq!(result.status, 403, "revinclude: {who}");
        }

        // An include from the Communications they see brings their clients
        // in, as they may see them.
        cases += 1;
        let result = world.search_all(token, "Communication?_include=Communication:subject", 50).await;
        if principal.reaches("Communication") {
            assert_eq!(result.status, 200, "include: {who}");
            let subjects: BTreeSet<&str> = records
                .iter()
                .filter(|r| r.resource_type == "Communication" && principal.sees(r, &records))
                .map(|r| r.client.unwrap())
                .collect();
            let expected = sorted(
                subjects.iter().map(|c| records.iter().find(|r| r.is("Patient", "client", c)).unwrap().id.clone()),
            );
            // Each page includes what its matches refer to: once per page.
            let included: BTreeSet<String> =
                result.included.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
            let included: Vec<String> = included.into_iter().collect();
            assert_eq!(included, expected, "include: {who}");
            for patient in &result.included {
                let client = records.iter().find(|r| r.resource_type == "Patient" && r.id == patient["id"]).unwrap();
                assert_eq!(is_whole(patient), principal.sees_whole(client.client.unwrap()), "include: {who}");
            }
        } else {
            assert_eq!(result.status, 403, "include: {who}");
        }

        // Persons cannot write yet, whatever their grant or scopes say.
        cases += 1;
        let write_scope = principal.scope.replace(".rs", ".cruds");
        let writer = world.token(principal, &records, &write_scope).await;
        let resource_type = principal.types.as_ref().map_or("Communication", |t| t[0]);
        let client = records.iter().find(|r| r.is("Patient", "client", principal.context)).unwrap();
        let subject = json!({"reference": format!("Patient/{}", client.id)});
        let body = match resource_type {
            "Communication" => json!({"resourceType": "Communication", "status": "completed", "subject": subject}),
            _ => json!({"resourceType": resource_type, "status": "final", "code": {"text": "Gewicht"},
                        "subject": subject}),
        };
        let response = world.server.request(Method::POST, resource_type, &writer).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 403, "write {resource_type}: {who}");
    }
    println!(
        "every_pluriform_principal_sees_what_the_access_table_gives: {} principals, {cases} cases checked",
        principals.len()
    );
}
