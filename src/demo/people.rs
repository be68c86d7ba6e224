//! The demo's people: representatives put in the first demo delivery
//! (`deliveries/pluriform-demo-1.json`) so that every rule of the access
//! model can be shown on them, and their source identifiers, so that code
//! that issues tokens for them can find them.
//!
//! - A **mentor** with `portaaltoegang` `volledig` (full access: the access
//!   log and every message of the client) of the first client, who is also
//!   the mentor (`volledig`) of the second client. The one person is a
//!   vertegenwoordiger under each client, here with a different
//!   `relatienummer` per client and the same e-mail address: the gateway
//!   links a person's records (a RelatedPerson per client) by their
//!   normalised e-mail address, and by their identifier, the relatienummer,
//!   when Pluriform lists them with one number under both.
//! - A **naaste** (a sister) of the first client with `beperkt` (identity and
//!   reports) and `mag_schrijven` `N`.
//! - A **bewindvoerder** of the first client with `financieel` (identity,
//!   profile and invoices).
//!
//! Each has an e-mail address, `geldig_van` in the past and no `geldig_tot`.
//! The two clients have messages the mentor sends and receives, and one the
//! naaste sends, beside the generated ones between client and staff.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::pluriform_delivery::write_adjusted;

/// Who the demo delivery has beside the generated clients, by their source
/// identifiers in the Pluriform delivery: a client by its `clientnummer`, a
/// representative by its `relatienummer`. In FHIR, a client is the Patient
/// and a representative the RelatedPerson, and its access grant the
/// Consent, with that identifier in the system
/// [`pluriform_identifier_system`]`(tenant, "client")` or
/// `(tenant, "vertegenwoordiger")`; the tenant of `zorgpoort demo` is
/// `demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPeople {
    /// The client whose mentor, naaste and bewindvoerder these are.
    pub client: &'static str,
    /// The other client the mentor represents.
    pub second_client: &'static str,
    /// The mentor: one person, a vertegenwoordiger under `client` (the
    /// first) and under `second_client` (the second), each `mentor` with
    /// `volledig` and `mag_schrijven` `J`.
    pub mentor_relatienummers: [&'static str; 2],
    /// The mentor's e-mail address, the same under both clients.
    pub mentor_email: &'static str,
    /// A naaste of `client`: `beperkt`, `mag_schrijven` `N`.
    pub naaste_relatienummer: &'static str,
    /// The bewindvoerder of `client`: `financieel`.
    pub bewindvoerder_relatienummer: &'static str,
}

/// The demo's people.
const PEOPLE: DemoPeople = DemoPeople {
    client: "300000",
    second_client: "300001",
    mentor_relatienummers: ["R-300000-1", "R-300001-1"],
    mentor_email: "marieke.bos@mentorschap.example.nl",
    naaste_relatienummer: "R-300000-3",
    bewindvoerder_relatienummer: "R-300000-2",
};

/// The people of the demo delivery (see [`DemoPeople`]).
pub fn people() -> DemoPeople {
    PEOPLE
}

/// The identifier system of a Pluriform record of `kind` (`client`,
/// `vertegenwoordiger`) of `tenant`, as `mappings/pluriform` writes it.
pub fn pluriform_identifier_system(tenant: &str, kind: &str) -> String {
    format!("https://zorgpoort.nl/fhir/NamingSystem/{tenant}/pluriform/{kind}")
}

/// The tenant, the number of clients, the seed and the creation time of
/// the first demo delivery.
const DELIVERY: (&str, usize, u64, &str) = ("demo", 5, 1, "2026-11-20T10:15:00+01:00");

/// Writes the first demo delivery (`deliveries/pluriform-demo-1.json`):
/// what `zorgpoort generate-delivery --tenant demo --clients 5 --seed 1`
/// writes, with the demo's people (see the module) in place of the
/// generated representatives of the first client and the first
/// representative of the second, and their messages.
pub fn write_demo_delivery(out: &mut impl Write) -> io::Result<()> {
    let (tenant, clients, seed, created) = DELIVERY;
    write_adjusted(out, tenant, clients, seed, created, |_, client| add_people(client))
}

/// When the people's records last changed: before the delivery was made.
const CHANGED: &str = "2026-11-20T08:00:00+01:00";

fn add_people(client: &mut Value) {
    let number = client["clientnummer"].as_str().unwrap_or_default().to_owned();
    // Messages of the client side go to (and come from) the staff member
    // who receives the client's messages.
    let staff = json!({"soort": "medewerker", "nummer": client["eerstverantwoordelijke"]});
    let [mentor_here, mentor_there] = PEOPLE.mentor_relatienummers;
    let mut messages = Vec::new();
    if number == PEOPLE.client {
        client["vertegenwoordigers"] = json!([
            mentor(mentor_here),
            representative(
                PEOPLE.bewindvoerder_relatienummer,
                ("Hans", "", "Kuipers"),
                (None, "bewindvoerder", Some(2)),
                ("financieel", "N"),
                ("h.kuipers@bewindvoering.example.nl", "06-31415926"),
            ),
            representative(
                PEOPLE.naaste_relatienummer,
                ("Fleur", "ter", "Dijk"),
                (Some("zus"), "naaste", None),
                ("beperkt", "N"),
                ("fleur.terdijk@example.nl", "06-27182818"),
            ),
        ]);
        messages.extend([
            message(
                &number,
                10,
                ("2026-11-18T10:05:00+01:00", None),
                (vertegenwoordiger(mentor_here), staff.clone()),
                "Kunnen we het clientplan volgende week samen bespreken?",
            ),
            message(
                &number,
                11,
                ("2026-11-18T14:30:00+01:00", Some(10)),
                (staff.clone(), vertegenwoordiger(mentor_here)),
                "Dat is goed, dinsdag om 10 uur?",
            ),
            message(
                &number,
                12,
                ("2026-11-19T19:45:00+01:00", None),
                (vertegenwoordiger(PEOPLE.naaste_relatienummer), staff.clone()),
                "Ik kom zaterdag op bezoek, is dat goed?",
            ),
        ]);
    } else if number == PEOPLE.second_client {
        if let Some(list) = client["vertegenwoordigers"].as_array_mut()
            && let Some(first) = list.first_mut()
        {
            *first = mentor(mentor_there);
        }
        messages.extend([
            message(
                &number,
                10,
                ("2026-11-17T09:15:00+01:00", None),
                (staff.clone(), vertegenwoordiger(mentor_there)),
                "De nieuwe rolstoel is besteld.",
            ),
            message(
                &number,
                11,
                ("2026-11-17T11:20:00+01:00", Some(10)),
                (vertegenwoordiger(mentor_there), staff.clone()),
                "Fijn, dank voor het laten weten.",
            ),
        ]);
    }
    if let Some(list) = client["berichten"].as_array_mut() {
        list.extend(messages);
    }
}

/// The mentor under one client: the same person under each.
fn mentor(relatienummer: &str) -> Value {
    representative(
        relatienummer,
        ("Marieke", "", "Bos"),
        (Some("Mentor"), "mentor", Some(1)),
        ("volledig", "J"),
        (PEOPLE.mentor_email, "06-16180339"),
    )
}

/// A vertegenwoordiger: (voornamen, voorvoegsel, achternaam), (relatie,
/// soort, volgorde), (portaaltoegang, mag_schrijven), (email, mobiel).
fn representative(
    relatienummer: &str,
    (voornamen, voorvoegsel, achternaam): (&str, &str, &str),
    (relatie, soort, volgorde): (Option<&str>, &str, Option<u8>),
    (portaaltoegang, mag_schrijven): (&str, &str),
    (email, mobiel): (&str, &str),
) -> Value {
    json!({
        "relatienummer": relatienummer,
        "naam": {"voornamen": voornamen, "voorvoegsel": voorvoegsel, "achternaam": achternaam},
        "relatie": relatie, "soort": soort, "volgorde": volgorde,
        "portaaltoegang": portaaltoegang, "mag_schrijven": mag_schrijven,
        "email": email, "mobiel": mobiel,
        "geldig_van": "01-01-2024", "geldig_tot": null,
        "gewijzigd": CHANGED
    })
}

fn vertegenwoordiger(relatienummer: &str) -> Value {
    json!({"soort": "vertegenwoordiger", "relatienummer": relatienummer})
}

/// A bericht `B-<client>-<n>`: (sent, the number of the one it answers),
/// (from, to).
fn message(
    client: &str,
    n: u32,
    (sent, answers): (&str, Option<u32>),
    (from, to): (Value, Value),
    text: &str,
) -> Value {
    json!({
        "id": format!("B-{client}-{n}"), "verzonden": sent, "van": from, "aan": to, "tekst": text,
        "in_antwoord_op": answers.map(|a| format!("B-{client}-{a}")), "gewijzigd": CHANGED
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn delivery() -> Value {
        let mut out = Vec::new();
        write_demo_delivery(&mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    fn client(delivery: &Value, number: &str) -> Value {
        let clients = delivery["clienten"].as_array().unwrap();
        clients.iter().find(|c| c["clientnummer"] == number).unwrap().clone()
    }

    fn representative(client: &Value, relatienummer: &str) -> Value {
        let list = client["vertegenwoordigers"].as_array().unwrap();
        list.iter().find(|r| r["relatienummer"] == relatienummer).unwrap_or_else(|| panic!("{relatienummer}")).clone()
    }

    /// The committed delivery is what [`write_demo_delivery`] writes. After
    /// a deliberate change: `ZORGPOORT_BLESS=1 cargo test --lib demo::`,
    /// then review and commit the file.
    #[test]
    fn the_committed_demo_delivery_is_the_written_one() {
        let mut written = Vec::new();
        write_demo_delivery(&mut written).unwrap();
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/demo/deliveries/pluriform-demo-1.json");
        if std::env::var_os("ZORGPOORT_BLESS").is_some() {
            std::fs::write(&path, &written).unwrap();
            return;
        }
        let committed = std::fs::read(&path).unwrap();
        assert!(
            committed == written,
            "{} is not what write_demo_delivery writes: ZORGPOORT_BLESS=1 cargo test --lib demo::, review, commit",
            path.display()
        );
        assert_eq!(include_str!("deliveries/pluriform-demo-1.json").as_bytes(), written.as_slice());
    }

    #[test]
    fn only_the_people_and_their_messages_differ_from_the_generated_delivery() {
        let (tenant, clients, seed, created) = DELIVERY;
        let mut generated = Vec::new();
        super::super::write_pluriform_delivery(&mut generated, tenant, clients, seed, created).unwrap();
        let mut generated: Value = serde_json::from_slice(&generated).unwrap();
        let mut demo = delivery();
        for delivery in [&mut generated, &mut demo] {
            for client in delivery["clienten"].as_array_mut().unwrap() {
                let fields = client.as_object_mut().unwrap();
                fields.remove("vertegenwoordigers");
                if let Some(Value::Array(messages)) = fields.get_mut("berichten") {
                    let added =
                        |m: &Value| ["-10", "-11", "-12"].iter().any(|n| m["id"].as_str().unwrap().ends_with(n));
                    messages.retain(|m| !added(m));
                }
            }
        }
        assert_eq!(demo, generated);
    }

    #[test]
    fn the_people_are_in_the_delivery() {
        let delivery = delivery();
        let (first, second) = (client(&delivery, PEOPLE.client), client(&delivery, PEOPLE.second_client));
        let [here, there] = PEOPLE.mentor_relatienummers;
        let (mentor_here, mentor_there) = (representative(&first, here), representative(&second, there));
        let naaste = representative(&first, PEOPLE.naaste_relatienummer);
        let bewindvoerder = representative(&first, PEOPLE.bewindvoerder_relatienummer);
        for (person, soort, level, writes) in [
            (&mentor_here, "mentor", "volledig", "J"),
            (&mentor_there, "mentor", "volledig", "J"),
            (&naaste, "naaste", "beperkt", "N"),
            (&bewindvoerder, "bewindvoerder", "financieel", "N"),
        ] {
            assert_eq!((person["soort"].as_str(), person["portaaltoegang"].as_str()), (Some(soort), Some(level)));
            assert_eq!(person["mag_schrijven"], writes);
            assert!(person["email"].as_str().is_some_and(|e| e.contains('@')), "{person}");
            // In force from a day in the past, without an end.
            assert_eq!((&person["geldig_van"], &person["geldig_tot"]), (&json!("01-01-2024"), &Value::Null));
        }
        // One person under two clients: a number each, one e-mail address.
        assert_ne!(here, there);
        assert_eq!(mentor_here["email"], PEOPLE.mentor_email);
        assert_eq!(mentor_there["email"], PEOPLE.mentor_email);
        assert_eq!(mentor_here["naam"], mentor_there["naam"]);
        // Relatienummers are unique in the delivery.
        let mut numbers: Vec<&str> = delivery["clienten"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["vertegenwoordigers"].as_array().unwrap())
            .map(|r| r["relatienummer"].as_str().unwrap())
            .collect();
        let count = numbers.len();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), count);
        // Messages to and from the mentor under both clients, and from the naaste.
        let party = |client: &Value, relatienummer: &str| {
            let messages = client["berichten"].as_array().unwrap();
            let by = |side: &str| messages.iter().filter(|m| m[side]["relatienummer"] == relatienummer).count();
            (by("van") > 0, by("aan") > 0)
        };
        assert_eq!(party(&first, here), (true, true));
        assert_eq!(party(&second, there), (true, true));
        assert!(party(&first, PEOPLE.naaste_relatienummer).0);
        for message in first["berichten"].as_array().unwrap().iter().chain(second["berichten"].as_array().unwrap()) {
            for side in ["van", "aan"] {
                assert!(message[side]["soort"].is_string(), "{message}");
            }
        }
        assert_eq!(people(), PEOPLE);
        assert_eq!(
            pluriform_identifier_system("demo", "vertegenwoordiger"),
            "https://zorgpoort.nl/fhir/NamingSystem/demo/pluriform/vertegenwoordiger"
        );
    }
}
