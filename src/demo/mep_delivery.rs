//! A made-up MijnEigenPlan event stream (`mep-events`, version 1, as
//! `shared/vendor-formats/mijneigenplan.md` describes it), reproducible
//! from a seed, with the quirks of the contract: events of every kind,
//! duplicates, events out of order, completed steps before their plan,
//! tombstones, unknown kinds, accounts not linked. For the mapping
//! benchmark. Written as it is made, one account at a time: memory does
//! not grow with the number of clients.

use std::io::{self, Write};

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The client numbers the accounts link to count from here, as in
/// [`super::write_pluriform_delivery`].
const FIRST_CLIENT: usize = 300_000;
/// 2024-11-19T07:06:40Z, in ms.
const START: i64 = 1_732_000_000_000;
const EMOTIES: [&str; 7] = ["blij", "tevreden", "neutraal", "moe", "verdrietig", "boos", "bang"];
const PLANNEN: [(&str, &[&str]); 3] = [
    ("Tanden poetsen", &["Tandenborstel pakken", "Tandpasta erop", "Twee minuten poetsen"]),
    ("Boodschappen doen", &["Lijstje maken", "Tas pakken", "Naar de winkel", "Afrekenen", "Uitpakken"]),
    ("Aankleden", &["Ondergoed", "Broek", "Trui", "Sokken"]),
];
const ACTIVITEITEN: [(&str, &str); 4] =
    [("Dagbesteding", "werk"), ("Zwemmen", "zwemmen"), ("Koken", "koken"), ("Bezoek familie", "huis")];
const HERHALINGEN: [Option<&str>; 4] = [Some("ma,di,do"), Some("wo"), Some("za,zo"), None];

/// Writes an event stream of `clients` accounts of `tenant` to `out`: per
/// account its account event (about one in twenty not linked), about a
/// dozen emotions, one or two step plans with completed steps, and a few
/// activities. The same arguments give the same bytes.
pub fn write_mep_delivery(out: &mut impl Write, tenant: &str, clients: usize, seed: u64) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &json!({"formaat": "mep-events", "versie": 1, "organisatie": tenant}))?;
    out.write_all(b"\n")?;
    let mut maker = Maker { rng: StdRng::seed_from_u64(seed), next_event: 0 };
    for index in 0..clients {
        for event in maker.account(index) {
            serde_json::to_writer(&mut *out, &event)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

struct Maker {
    rng: StdRng,
    next_event: u64,
}

impl Maker {
    fn event(&mut self, kind: &str, mep_id: &str, tijd: i64, fields: Value) -> Value {
        self.next_event += 1;
        let mut event = json!({"event_id": format!("e-{}", self.next_event), "event": kind, "mep_id": mep_id,
                               "tijd": tijd});
        if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
            event.extend(fields);
        }
        event
    }

    /// The events of one account, in the order it synchronised them.
    fn account(&mut self, index: usize) -> Vec<Value> {
        let mep_id = format!("u-{}", FIRST_CLIENT + index);
        let extern_id =
            if self.rng.random_ratio(1, 20) { Value::Null } else { json!((FIRST_CLIENT + index).to_string()) };
        let mut tijd = START + self.rng.random_range(0..86_400_000);
        let mut events = Vec::new();
        // Now and then an event before the account (it waits for the link).
        if self.rng.random_ratio(1, 10) {
            events.push(self.emotion(&mep_id, tijd - 60_000));
        }
        events.push(self.event("account", &mep_id, tijd, json!({"voornaam": "X", "extern_id": extern_id})));
        for _ in 0..self.rng.random_range(8..16) {
            tijd += self.rng.random_range(60_000..7_200_000);
            let emotion = self.emotion(&mep_id, tijd);
            if self.rng.random_ratio(1, 15) {
                events.push(emotion.clone()); // synchronised twice
            }
            events.push(emotion);
        }
        for plan in 0..self.rng.random_range(1..=2) {
            let plan_id = format!("sp-{}-{plan}", FIRST_CLIENT + index);
            let (titel, stappen) = PLANNEN[self.rng.random_range(0..PLANNEN.len())];
            tijd += 60_000;
            let created = self.event(
                "stappenplan",
                &mep_id,
                tijd,
                json!({"plan_id": plan_id, "titel": titel, "stappen": stappen}),
            );
            let mut steps = Vec::new();
            for stap in 1..=self.rng.random_range(0..=stappen.len()) {
                tijd += 30_000;
                steps.push(self.event("stap_afgerond", &mep_id, tijd, json!({"plan_id": plan_id, "stap": stap})));
            }
            // A completed step can arrive before its plan.
            if self.rng.random_ratio(1, 8) {
                events.extend(steps);
                events.push(created);
            } else {
                events.push(created);
                events.extend(steps);
            }
            if self.rng.random_ratio(1, 25) {
                tijd += 60_000;
                events.push(self.event("stappenplan_verwijderd", &mep_id, tijd, json!({"plan_id": plan_id})));
            }
        }
        for activity in 0..self.rng.random_range(2..5) {
            let activiteit_id = format!("act-{}-{activity}", FIRST_CLIENT + index);
            tijd += 120_000;
            let (titel, pictogram) = ACTIVITEITEN[self.rng.random_range(0..ACTIVITEITEN.len())];
            let day =
                NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default() + Duration::days(self.rng.random_range(0..365));
            let hour = self.rng.random_range(8..18);
            let fields = json!({"activiteit_id": activiteit_id, "titel": titel,
                "start": format!("{day}T{hour:02}:00"), "eind": format!("{day}T{:02}:30", hour + 1),
                "pictogram": pictogram, "herhaling": HERHALINGEN[self.rng.random_range(0..HERHALINGEN.len())]});
            let event = self.event("activiteit", &mep_id, tijd, fields.clone());
            events.push(event);
            // Out of order: an older change synchronised after a newer one.
            if self.rng.random_ratio(1, 10) {
                let mut older = fields;
                older["titel"] = json!(format!("{titel} (oud)"));
                events.push(self.event("activiteit", &mep_id, tijd - 60_000, older));
            }
            if self.rng.random_ratio(1, 20) {
                tijd += 60_000;
                let gone = json!({"activiteit_id": activiteit_id});
                events.push(self.event("activiteit_verwijderd", &mep_id, tijd, gone));
            }
        }
        if self.rng.random_ratio(1, 50) {
            events.push(self.event("zoeklicht", &mep_id, tijd + 1, json!({})));
        }
        events
    }

    fn emotion(&mut self, mep_id: &str, tijd: i64) -> Value {
        let emotie = EMOTIES[self.rng.random_range(0..EMOTIES.len())];
        let notitie = if self.rng.random_ratio(1, 5) { json!("Leuke dag gehad") } else { Value::Null };
        let score = self.rng.random_range(1..=5);
        self.event("emotie", mep_id, tijd, json!({"emotie": emotie, "score": score, "notitie": notitie}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream_of_json_lines() {
        let write = |seed| {
            let mut out = Vec::new();
            write_mep_delivery(&mut out, "bench", 30, seed).unwrap();
            String::from_utf8(out).unwrap()
        };
        let text = write(7);
        assert_eq!(text, write(7));
        assert_ne!(text, write(8));
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0], json!({"formaat": "mep-events", "versie": 1, "organisatie": "bench"}));
        let accounts = lines.iter().filter(|l| l["event"] == "account").count();
        assert_eq!(accounts, 30);
        assert!(lines.len() > 30 * 15, "{} lines", lines.len());
    }
}
