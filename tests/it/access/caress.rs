//! Caress deliveries through real HTTP, one case per equivalence class:
//! every `Vertegenwoordiging` with every class of portal rights (none,
//! identity only, each right alone, all of them), a grant that ended, one
//! that has not begun, and the client. Each principal reads, vreads, reads
//! the history of, searches (totals and all pages) and revincludes one
//! record of every kind; what it must see is worked out here from the
//! access table of `access-model.md` and `caress.md`, not from the code.

use std::collections::BTreeSet;

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::Value;
use zorgpoort::access::PersonRef;
use zorgpoort::fhir::{ResourceId, TenantCode};

use crate::common::{Db, OTHER_TENANT, TestServer, entry_ids, json};
use crate::on_both_databases;

on_both_databases!(every_caress_principal_sees_what_the_access_table_gives);

const TENANT: &str = OTHER_TENANT;
const NAMING: &str = "https://zorgpoort.nl/fhir/NamingSystem/sheerenloo/caress";
const CLIENT: &str = "C-1";
const OTHER_CLIENT: &str = "C-2";

const REPRESENTATIONS: [&str; 8] = [
    "Geen",
    "Mentor",
    "Curator",
    "Bewindvoerder",
    "Mentor en bewindvoerder",
    "Ouder met gezag",
    "Voogd",
    "Schriftelijk gemachtigde",
];

/// The classes of portal rights: `None` is a portal that is not active.
const RIGHTS: [Option<&str>; 9] = [
    None,
    Some(""),
    Some("dossier-lezen"),
    Some("dossier-schrijven"),
    Some("berichten"),
    Some("agenda"),
    Some("gegevens"),
    Some("financieel"),
    Some("dossier-lezen dossier-schrijven berichten agenda gegevens financieel"),
];

/// One contact person of the client: who they are to the client, their
/// portal rights and the period of their grant.
#[derive(Debug, Clone)]
struct ContactPerson {
    id: String,
    representation: &'static str,
    rights: Option<&'static str>,
    from: String,
    until: String,
}

impl ContactPerson {
    /// The categories the access table gives this person today.
    fn categories(&self) -> BTreeSet<&'static str> {
        let today = Utc::now().date_naive().to_string();
        let Some(rights) = self.rights else { return BTreeSet::new() };
        if self.from > today || (!self.until.is_empty() && self.until < today) {
            return BTreeSet::new();
        }
        let mut categories = BTreeSet::from(["identity"]);
        for right in rights.split_whitespace() {
            categories.extend(match right {
                "dossier-lezen" => &["reports", "plan", "questionnaires", "measurements"][..],
                "berichten" => &["messages"],
                "agenda" => &["agenda"],
                "gegevens" => &["profile"],
                "financieel" => &["finance"],
                _ => &[],
            });
        }
        if self.representation == "Bewindvoerder" {
            categories.retain(|c| ["identity", "profile", "finance"].contains(c));
        }
        categories
    }
}

fn contact_persons() -> Vec<ContactPerson> {
    let mut people = Vec::new();
    for (r, representation) in REPRESENTATIONS.into_iter().enumerate() {
        for (g, rights) in RIGHTS.into_iter().enumerate() {
            let id = format!("CP-{r}-{g}");
            people.push(ContactPerson { id, representation, rights, from: "2020-01-01".into(), until: String::new() });
        }
    }
    let all = RIGHTS[8];
    let today = Utc::now().date_naive();
    let ended = (today - chrono::Days::new(1)).to_string();
    let begins = (today + chrono::Days::new(1)).to_string();
    people.push(ContactPerson {
        id: "CP-ENDED".into(),
        representation: "Mentor",
        rights: all,
        from: "2020-01-01".into(),
        until: ended,
    });
    people.push(ContactPerson {
        id: "CP-FUTURE".into(),
        representation: "Mentor",
        rights: all,
        from: begins,
        until: String::new(),
    });
    people
}

/// The delivery: a ten-year-old client (so that a parent's or guardian's
/// grant holds) with every contact person, one record of each kind, a
/// message to each contact person and messages the client takes no part
/// in; and another client whose records nobody here may see.
fn delivery(people: &[ContactPerson]) -> String {
    let born = Utc::now().date_naive().with_year(Utc::now().year() - 10).unwrap();
    let contact = |p: &ContactPerson| {
        let portal = match p.rights {
            None => "<c:Portaal actief=\"false\" rechten=\"\"/>".to_owned(),
            Some(rights) => format!("<c:Portaal actief=\"true\" rechten=\"{rights}\"/>"),
        };
        format!(
            "<c:Contactpersoon id=\"{id}\" gewijzigd=\"2026-11-20T09:00:00+01:00\"><c:Naam voornamen=\"Test\" \
             voorvoegsel=\"\" achternaam=\"{id}\"/><c:Relatie>Familie</c:Relatie><c:Vertegenwoordiging>{rep}\
             </c:Vertegenwoordiging>{portal}<c:Geldig van=\"{from}\" tot=\"{until}\"/><c:Email>{id}@example.nl\
             </c:Email></c:Contactpersoon>",
            id = p.id,
            rep = p.representation,
            from = p.from,
            until = p.until
        )
    };
    let contacts: String = people.iter().map(contact).collect();
    let messages: String = people
        .iter()
        .map(|p| {
            format!(
                "<c:Bericht id=\"MSG-{id}\" verzonden=\"08-03-24 14:10\" van=\"E-1\" aan=\"{id}\">Hallo</c:Bericht>",
                id = p.id
            )
        })
        .collect();
    let client = |id: &str, born: &str, contacts: &str, messages: &str| {
        format!(
            "<c:Client id=\"{id}\" gewijzigd=\"2026-11-20T09:00:00+01:00\"><c:Persoon><c:Bsn></c:Bsn>\
             <c:Voornamen>Kim</c:Voornamen><c:Roepnaam>Kim</c:Roepnaam><c:Voorvoegsel/><c:Achternaam>{id}\
             </c:Achternaam><c:Geboortedatum>{born}</c:Geboortedatum><c:Geslacht code=\"V\"/><c:Adres \
             straat=\"Hoofdweg\" huisnummer=\"3\" postcode=\"3800 AA\" plaats=\"Amersfoort\"/></c:Persoon>\
             <c:Zorg begin=\"2015-02-01\" eind=\"\"/><c:Verzekering maatschappij=\"Zilveren Kruis\" uzovi=\"3311\" \
             polisnummer=\"P-{id}\"/><c:Zorgteam><c:Lid medewerker=\"E-1\" rol=\"Persoonlijk Begeleider\"/>\
             </c:Zorgteam><c:Contactpersonen>{contacts}</c:Contactpersonen><c:Doelen><c:Doel id=\"G-{id}\" \
             status=\"actueel\" start=\"2024-01-15\" eind=\"\"><c:Omschrijving>Zelf reizen.</c:Omschrijving>\
             <c:Actie>Busreis oefenen.</c:Actie></c:Doel></c:Doelen><c:Aantekeningen><c:Aantekening \
             id=\"N-{id}-1\" datum=\"08-03-24 14:18\" soort=\"Dagrapportage\" auteur=\"E-1\"><c:Tekst>Rustig.\
             </c:Tekst></c:Aantekening><c:Aantekening id=\"N-{id}-2\" datum=\"09-03-24 14:18\" \
             soort=\"Dagrapportage\" auteur=\"E-1\"><c:Tekst>Druk.</c:Tekst></c:Aantekening></c:Aantekeningen>\
             <c:Vragenlijsten><c:Vragenlijst id=\"Q-{id}\" naam=\"Slaap\" datum=\"12-03-24 07:45\" auteur=\"E-1\">\
             <c:Antwoord vraag=\"uren\">8</c:Antwoord></c:Vragenlijst></c:Vragenlijsten><c:Agenda><c:Afspraak \
             id=\"A-{id}-1\" heleDag=\"false\" zichtbaarheid=\"Privé\" start=\"01-04-24 10:00\" \
             eind=\"01-04-24 11:30\" auteur=\"client\"><c:Titel>Kapper</c:Titel><c:Beschrijving>Geheim\
             </c:Beschrijving></c:Afspraak><c:Afspraak id=\"A-{id}-2\" heleDag=\"false\" \
             zichtbaarheid=\"Openbaar\" start=\"02-04-24 10:00\" eind=\"02-04-24 11:30\" auteur=\"E-1\">\
             <c:Titel>Zwemmen</c:Titel></c:Afspraak></c:Agenda><c:Berichten><c:Bericht id=\"MSG-{id}-1\" \
             verzonden=\"08-03-24 14:10\" van=\"E-1\" aan=\"client\">Hallo</c:Bericht><c:Bericht \
             id=\"MSG-{id}-2\" verzonden=\"08-03-24 15:10\" van=\"E-1\" aan=\"E-2\">Over de cliënt</c:Bericht>\
             {messages}</c:Berichten></c:Client>"
        )
    };
    let other_contact = ContactPerson {
        id: "CP-OTHER".into(),
        representation: "Mentor",
        rights: RIGHTS[8],
        from: "2020-01-01".into(),
        until: String::new(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><c:Export xmlns:c=\"urn:caress:export:2\" \
         organisatie=\"{TENANT}\" aangemaakt=\"2026-11-20T10:00:00+01:00\"><c:Medewerker id=\"E-1\" \
         naam=\"Pieter Bakker\" rol=\"Persoonlijk Begeleider\"/><c:Medewerker id=\"E-2\" naam=\"Sam Jansen\" \
         rol=\"Arts\"/>{}{}</c:Export>",
        client(CLIENT, &born.to_string(), &contacts, &messages),
        client(OTHER_CLIENT, "1980-01-01", &contact(&other_contact), "")
    )
}

/// A record of each kind the probes look at: its type, its source kind
/// and id, its category, and how many of the client's records of the
/// search `query` are in that category.
struct Probe {
    resource_type: &'static str,
    kind: &'static str,
    source_id: String,
    category: &'static str,
    /// The categories any record of the type can have.
    type_categories: &'static [&'static str],
    query: String,
    /// What the search finds for someone who sees the category whole.
    matches: u64,
}

fn probes() -> Vec<Probe> {
    let category = |code: &str| {
        format!("Communication?category=https://zorgpoort.nl/fhir/CodeSystem/communication-category|{code}")
    };
    let probe = |resource_type, kind, source_id: String, category, type_categories, query: String, matches| Probe {
        resource_type,
        kind,
        source_id,
        category,
        type_categories,
        query,
        matches,
    };
    let messages: &[&str] = &["reports", "messages"];
    vec![
        probe("Communication", "aantekening", format!("N-{CLIENT}-1"), "reports", messages, category("report"), 2),
        probe("Communication", "bericht", format!("MSG-{CLIENT}-1"), "messages", messages, category("message"), 0),
        probe(
            "QuestionnaireResponse",
            "vragenlijst",
            format!("Q-{CLIENT}"),
            "questionnaires",
            &["questionnaires"],
            "QuestionnaireResponse".into(),
            1,
        ),
        probe("Goal", "doel", format!("G-{CLIENT}"), "plan", &["plan"], "Goal".into(), 1),
        probe("Appointment", "afspraak", format!("A-{CLIENT}-1"), "agenda", &["agenda"], "Appointment".into(), 2),
        probe("Coverage", "client", CLIENT.into(), "profile", &["profile"], "Coverage".into(), 1),
    ]
}

/// A gateway with the delivery ingested, and the server ids of records.
struct CaressWorld {
    server: TestServer,
    system: String,
}

impl CaressWorld {
    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let url = format!("{}/{path}", self.server.base(TENANT));
        json(self.server.client.request(Method::GET, url).bearer_auth(token).send().await.unwrap()).await
    }

    /// The server id of the resource of `resource_type` with this source id.
    async fn id(&self, resource_type: &str, kind: &str, source_id: &str) -> String {
        let (status, bundle) =
            self.get(&self.system, &format!("{resource_type}?identifier={NAMING}/{kind}|{source_id}")).await;
        assert_eq!(status, 200, "{bundle}");
        let ids = entry_ids(&bundle);
        assert_eq!(ids.len(), 1, "{resource_type} {kind} {source_id}: {bundle}");
        ids[0].clone()
    }

    async fn person_token(&self, user: PersonRef, patient: &str) -> String {
        let (record, token) = zorgpoort::cli::token::new_person_token(
            TenantCode::parse(TENANT).unwrap(),
            &user,
            &ResourceId::parse(patient).unwrap(),
            "patient/*.rs openid fhirUser",
            Some("test-app".into()),
            3600,
        );
        self.server.store.insert_token(&record).await.unwrap();
        token
    }

    /// Every match of a search, all pages read (two per page), and the
    /// totals the pages gave.
    async fn search_all(&self, token: &str, query: &str) -> (u16, Vec<String>, BTreeSet<u64>) {
        let separator = if query.contains('?') { '&' } else { '?' };
        let (status, mut page) = self.get(token, &format!("{query}{separator}_count=2")).await;
        if status != 200 {
            return (status, Vec::new(), BTreeSet::new());
        }
        let (mut ids, mut totals) = (Vec::new(), BTreeSet::new());
        loop {
            totals.insert(page["total"].as_u64().unwrap());
            ids.extend(entry_ids(&page));
            let Some(next) = crate::common::link(&page, "next") else { break };
            let path = next.split_once("/fhir/").unwrap().1.to_owned();
            let (status, following) = self.get(token, &path).await;
            assert_eq!(status, 200, "{path}: {following}");
            page = following;
        }
        (status, ids, totals)
    }
}

async fn every_caress_principal_sees_what_the_access_table_gives(db: Db) {
    let server = TestServer::start(db).await;
    let system = server.token(TENANT, "system/*.rs").await;
    let world = CaressWorld { server, system };
    let people = contact_persons();
    let ingest = world.server.token(TENANT, "ingest/caress").await;
    let response = world
        .server
        .client
        .post(format!("{}/{TENANT}/ingest/caress", world.server.origin))
        .bearer_auth(ingest)
        .header("content-type", "application/xml")
        .body(delivery(&people))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let summary: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(status.is_success(), "{status}: {summary}");
    assert_eq!(summary["summary"]["rejected"], 0, "{summary}");

    let client = world.id("Patient", "client", CLIENT).await;
    let other_client = world.id("Patient", "client", OTHER_CLIENT).await;
    let other_report = world.id("Communication", "aantekening", &format!("N-{OTHER_CLIENT}-1")).await;
    let mut records = Vec::new();
    for probe in probes() {
        let id = match probe.kind {
            "client" => {
                let (_, bundle) = world.get(&world.system, &format!("Coverage?beneficiary=Patient/{client}")).await;
                entry_ids(&bundle).pop().expect("the client's Coverage")
            }
            kind => world.id(probe.resource_type, kind, &probe.source_id).await,
        };
        records.push((probe, id));
    }
    let mut cases = 0;

    // The client sees every record of their own, every message included.
    let client_token = world.person_token(PersonRef::Patient(ResourceId::parse(&client).unwrap()), &client).await;
    let (status, messages, _) = world.search_all(&client_token, &probes()[1].query).await;
    assert_eq!((status, messages.len()), (200, 2 + people.len()), "the client sees every message");
    for (probe, id) in &records {
        cases += 1;
        assert_eq!(world.get(&client_token, &format!("{}/{id}", probe.resource_type)).await.0, 200);
    }
    let (status, patient) = world.get(&client_token, &format!("Patient/{client}")).await;
    assert_eq!(status, 200);
    assert!(patient.get("address").is_some(), "{patient}");
    assert_eq!(world.get(&client_token, &format!("Patient/{other_client}")).await.0, 404);

    for person in &people {
        let user = world.id("RelatedPerson", "contactpersoon", &person.id).await;
        let token = world.person_token(PersonRef::RelatedPerson(ResourceId::parse(&user).unwrap()), &client).await;
        let own_message = world.id("Communication", "bericht", &format!("MSG-{}", person.id)).await;
        let sees = person.categories();
        let who = format!("{} {:?} ({})", person.representation, person.rights, person.id);

        // Their own record, whatever the grant.
        assert_eq!(world.get(&token, &format!("RelatedPerson/{user}")).await.0, 200, "{who}");
        // The client: the whole Patient with the profile category, the
        // identity view with identity only, 403 without any grant.
        let (status, patient) = world.get(&token, &format!("Patient/{client}")).await;
        match (sees.contains("identity"), sees.contains("profile")) {
            (false, _) => assert_eq!(status, 403, "{who}: {patient}"),
            (true, whole) => {
                assert_eq!(status, 200, "{who}");
                assert_eq!(patient.get("address").is_some(), whole, "{who}: {patient}");
            }
        }
        // Nothing of the other client, ever.
        let status = world.get(&token, &format!("Patient/{other_client}")).await.0;
        assert!(status == 404 || status == 403, "{who}: {status}");
        let status = world.get(&token, &format!("Communication/{other_report}")).await.0;
        assert!(status == 404 || status == 403, "{who}: {status}");

        for (probe, id) in &records {
            cases += 1;
            let type_granted = probe.type_categories.iter().any(|c| sees.contains(c));
            // The probed message is between the care team and the client:
            // no contact person's own, so none sees it (Caress).
            let visible = probe.category != "messages" && sees.contains(probe.category);
            let path = format!("{}/{id}", probe.resource_type);
            let expected = if visible {
                200
            } else if type_granted {
                404
            } else {
                403
            };
            let (status, body) = world.get(&token, &path).await;
            assert_eq!(status, expected, "read {path}: {who}: {body}");
            if visible && probe.resource_type == "Appointment" {
                assert!(body.to_string().contains("Geheim"), "a private item is whole client-side: {body}");
            }
            assert_eq!(world.get(&token, &format!("{path}/_history/1")).await.0, expected, "vread {path}: {who}");
            let (status, history) = world.get(&token, &format!("{path}/_history")).await;
            match expected {
                200 => assert_eq!((status, history["total"].as_u64()), (200, Some(1)), "history {path}: {who}"),
                404 => assert!(status == 404 || history["total"] == 0, "history {path}: {who}: {history}"),
                _ => assert_eq!(status, 403, "history {path}: {who}"),
            }
            // The search: every page, one total on each.
            let (status, found, totals) = world.search_all(&token, &probe.query).await;
            let matches = match (probe.category, sees.contains(probe.category)) {
                ("messages", true) => 1,
                (_, true) => probe.matches,
                (_, false) => 0,
            };
            assert_eq!(status, if type_granted { 200 } else { 403 }, "search {}: {who}", probe.query);
            if type_granted {
                assert_eq!(found.len() as u64, matches, "search {}: {who}", probe.query);
                assert_eq!(totals, BTreeSet::from([matches]), "totals of {}: {who}", probe.query);
                if probe.category == "messages" && matches == 1 {
                    assert_eq!(found, vec![own_message.clone()], "{who}");
                }
            }
        }
        // What a revinclude brings along is what the person sees; with the
        // identity view only, a Patient search cannot reach beyond it.
        cases += 1;
        let (status, bundle) = world.get(&token, "Patient?_revinclude=Communication:subject").await;
        if sees.contains("profile") {
            assert_eq!(status, 200, "{who}: {bundle}");
            let entries = bundle["entry"].as_array().unwrap();
            let included = entries.iter().filter(|e| e["search"]["mode"] == "include").count();
            let expected = if sees.contains("reports") { 2 } else { 0 } + usize::from(sees.contains("messages"));
            assert_eq!(included, expected, "revinclude: {who}: {bundle}");
        } else {
            assert_eq!(status, 403, "{who}");
        }
        // An include from what they see brings the client in, as they may see them.
        cases += 1;
        if sees.contains("reports") || sees.contains("messages") {
            let (status, bundle) = world.get(&token, "Communication?_include=Communication:subject").await;
            assert_eq!(status, 200, "{who}: {bundle}");
            let entries = bundle["entry"].as_array().unwrap();
            let included: Vec<&Value> =
                entries.iter().filter(|e| e["search"]["mode"] == "include").map(|e| &e["resource"]).collect();
            assert_eq!(included.len(), 1, "include: {who}: {bundle}");
            assert_eq!(included[0]["id"], client.as_str());
            assert_eq!(included[0].get("address").is_some(), sees.contains("profile"), "{who}");
        }
    }
    println!(
        "every_caress_principal_sees_what_the_access_table_gives: {} principals, {cases} cases checked",
        people.len() + 1
    );
}
