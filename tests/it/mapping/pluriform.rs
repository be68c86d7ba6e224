//! The contract's Pluriform samples through `mappings/pluriform`: zero
//! rejections, every resource valid R4, the whole mapped output equal to
//! its golden file (`tests/golden/mapping/`), and the samples' key facts
//! checked by hand.

use std::path::Path;

use serde_json::{Value, json};
use zorgpoort::fhir::model::check_structure;
use zorgpoort::mapping::engine::{Action, RecordOutcome, Rejection};

use super::{describe, fixtures, mapped, part, parts, pluriform, written};
use crate::common::schema::assert_valid;

/// The contract's Pluriform samples through `mappings/pluriform`: zero
/// rejections, the whole mapped output equal to its golden file, and the
/// key facts checked by hand.
#[test]
fn pluriform_samples_map_as_their_golden_files() {
    let mapping = pluriform();
    let mut all = Vec::new();
    let mut delta = Vec::new();
    for sample in ["pluriform-pameijer.json", "pluriform-pameijer-delta.json"] {
        let text = std::fs::read_to_string(fixtures().join("vendor-samples").join(sample)).unwrap();
        let delivery: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(mapping.envelope(&delivery).unwrap().tenant, "pameijer");
        let outcomes: Vec<RecordOutcome> = mapping.map_delivery(&delivery).collect();
        let rejections: Vec<&Rejection> = outcomes
            .iter()
            .filter_map(|o| match o {
                RecordOutcome::Rejected(r) => Some(r),
                RecordOutcome::Mapped(_) => None,
            })
            .collect();
        assert!(rejections.is_empty(), "{sample}: {rejections:#?}");
        for record in outcomes.iter().map(mapped) {
            if let Action::Write(resources) = &record.action {
                for resource in resources {
                    assert_eq!(resource.resource["resourceType"], resource.resource_type.as_str());
                    assert_valid(&resource.resource);
                    check_structure(&resource.resource)
                        .unwrap_or_else(|e| panic!("{} {} {}: {e}", record.kind, record.source_id, resource.part));
                }
            }
        }
        let described: Vec<Value> = outcomes.iter().map(|o| describe(mapped(o))).collect();
        crate::common::golden::check(&format!("mapping/{sample}"), &Value::Array(described));
        if sample.contains("delta") {
            delta = outcomes.clone();
        }
        all.extend(outcomes);
    }

    let find = |kind: &str, id: &str| {
        all.iter().map(mapped).find(|r| r.kind == kind && r.source_id == id).unwrap_or_else(|| panic!("{kind} {id}"))
    };
    let resource = |kind: &str, id: &str| written(find(kind, id));
    // Summer and winter offsets, the weekday checked on the way.
    assert_eq!(resource("meting", "M-100003-0")["effectiveDateTime"], "2025-08-23T15:50:00+02:00");
    assert_eq!(resource("meting", "M-100009-0")["effectiveDateTime"], "2024-12-07T05:55:00+01:00");
    // Decimal comma, UCUM, LOINC.
    let weight = resource("meting", "M-100003-1");
    assert_eq!(
        weight["valueQuantity"],
        json!({"value": 59.6, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"})
    );
    assert_eq!(weight["code"]["coding"][0]["code"], "29463-7");
    // Blood pressure as a panel, the position as nl-core-BloodPressure has it.
    let pressure = resource("meting", "M-100003-0");
    assert_eq!(pressure["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(pressure["component"][0]["valueQuantity"]["value"], 157);
    assert_eq!(pressure["component"][1]["valueQuantity"]["value"], 67);
    assert_eq!(pressure["extension"][0]["valueCodeableConcept"]["coding"][0]["code"], "10904000");
    // Temperature: the site as a second coding; `-` records none.
    let armpit = resource("meting", "M-100003-7");
    assert_eq!(armpit["code"]["coding"][1]["code"], "415882003");
    assert_eq!(resource("meting", "M-100003-4")["code"]["coding"].as_array().unwrap().len(), 1);
    // An unknown kind is kept as given, with a warning.
    let unknown = find("meting", "M-100009-x");
    assert_eq!(written(unknown)["code"], json!({"text": "Buikomtrek"}));
    assert_eq!(written(unknown)["valueString"], "91,2");
    assert_eq!(unknown.warnings.len(), 1, "{:?}", unknown.warnings);
    // The client: BSN identifier only when there is one, name parts.
    let client = resource("client", "100009");
    assert_eq!(
        client["identifier"][0],
        json!({"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999975523"})
    );
    assert_eq!(resource("client", "100003")["identifier"].as_array().unwrap().len(), 1, "no BSN");
    assert_eq!(resource("client", "100003")["name"][0]["family"], "van den Kuipers");
    assert_eq!(resource("client", "100003")["gender"], "male");
    // Representatives: role, order, relation (known or kept as text).
    let mentor = resource("vertegenwoordiger", "R-100009-2@100009");
    assert_eq!(mentor["relationship"][0]["coding"].as_array().unwrap().len(), 2, "{mentor}");
    let neighbour = resource("vertegenwoordiger", "R-100009-1@100009");
    assert_eq!(neighbour["relationship"][1]["coding"][0]["code"], "NBOR");
    let mentor_as_relation = resource("vertegenwoordiger", "R-100003-1@100003");
    assert_eq!(mentor_as_relation["relationship"][1], json!({"text": "mentor"}));
    // The delta: a container changes nothing of the client itself, nor of
    // its persoonsbeeld when it does not name one.
    let kind_ids = |kind: &str, action: &Action| -> Vec<&str> {
        delta
            .iter()
            .map(mapped)
            .filter(|r| r.kind == kind && &r.action == action)
            .map(|r| r.source_id.as_str())
            .collect()
    };
    assert_eq!(kind_ids("client", &Action::Container), ["100009", "100015", "100026"]);
    assert_eq!(kind_ids("persoonsbeeld", &Action::Container), ["100009", "100015", "100026"]);
    // Tombstones: the client 100003 (and with it its persoonsbeeld), two reports.
    assert_eq!(kind_ids("client", &Action::Delete), ["100003"]);
    assert_eq!(kind_ids("persoonsbeeld", &Action::Delete), ["100003"]);
    assert_eq!(kind_ids("rapportage", &Action::Delete), ["RR-100009-2", "RR-100015-6"]);
    // The newer and the older update of a measurement both map; the writer
    // keeps the newer by their change times.
    let older = delta.iter().map(mapped).find(|r| r.source_id == "M-100009-7").unwrap();
    assert_eq!(older.changed.as_deref(), Some("2026-11-19T09:00:00+01:00"));

    // Not for the portal, a concept plan: skipped.
    let skipped: Vec<(&str, &str)> = all
        .iter()
        .map(mapped)
        .filter(|r| r.action == Action::Skip)
        .map(|r| (r.kind.as_str(), r.source_id.as_str()))
        .collect();
    assert_eq!(skipped, [("rapportage", "RR-100009-0"), ("clientplan", "CP-100026-0")]);
    // A full client record without a persoonsbeeld removes it; with one, it is written.
    assert_eq!(find("persoonsbeeld", "100003").action, Action::Delete);
    assert_eq!(written(find("persoonsbeeld", "100026"))["type"]["text"], "Persoonsbeeld");
    // The parts of the plan, the invoice, the evaluation, the client.
    assert_eq!(parts(find("clientplan", "CP-100003-0")), ["", "document", "binary"]);
    assert_eq!(parts(find("factuur", "F-100026-1")), ["", "document", "binary"]);
    assert_eq!(parts(find("evaluatie", "EV-100026-0")), ["", "binary"]);
    assert_eq!(parts(find("client", "100015")), ["", "careteam", "episode"]);
    assert_eq!(parts(find("vertegenwoordiger", "R-100003-1@100003")), ["", "grant"]);
    // Money, report times in winter and summer, the report's author.
    assert_eq!(resource("factuur", "F-100009-0")["totalNet"], json!({"value": 4615.16, "currency": "EUR"}));
    assert_eq!(resource("rapportage", "RR-100015-0")["sent"], "2024-12-27T04:45:00+01:00");
    assert_eq!(resource("rapportage", "RR-100015-6")["sent"], "2025-06-01T09:35:00+02:00");
    assert_eq!(resource("rapportage", "RR-100015-5")["sender"]["reference"], "urn:zorgpoort:source:medewerker:M-1");
    // Goals: a partly reached goal is still active, improving.
    assert_eq!(resource("doel", "D-100003-1")["achievementStatus"]["coding"][0]["code"], "improving");
    assert_eq!(resource("doel", "D-100015-0")["lifecycleStatus"], "cancelled");
    // Consents: not asked yet is proposed; research has its own scope.
    assert_eq!(resource("toestemming", "T-100015-0")["status"], "proposed");
    assert_eq!(resource("toestemming", "T-100009-2")["scope"]["coding"][0]["code"], "research");
    assert_eq!(resource("toestemming", "T-100026-0")["provision"]["type"], "deny");
    // A bewindvoerder with financieel: identity, profile and finance, nothing to write.
    let grant = part(find("vertegenwoordiger", "R-100015-1@100015"), "grant");
    assert_eq!(codes(&grant["provision"]["class"]), ["identity", "profile", "finance"]);
    assert!(grant["provision"].get("provision").is_none(), "{grant}");
}

fn codes(codings: &Value) -> Vec<&str> {
    codings.as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect()
}

/// Every project CodeSystem and extension the vendor mappings name is
/// published in `conformance/` (tenant-scoped systems, with `{{ }}` in
/// them, are the tenant's own), and every project code the samples map
/// to is defined there.
#[test]
fn project_code_systems_and_extensions_are_published() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut published = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(repo.join("conformance")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let resource: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let codes: Vec<String> = resource["concept"]
                .as_array()
                .map(|c| c.iter().map(|c| c["code"].as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            published.insert(resource["url"].as_str().unwrap().to_owned(), codes);
        }
    }
    let mut files = Vec::new();
    for vendor in ["pluriform", "caress", "mijneigenplan"] {
        let folder = repo.join("mappings").join(vendor);
        files.push(folder.join("mapping.toml"));
        files.extend(std::fs::read_dir(folder.join("templates")).unwrap().map(|e| e.unwrap().path()));
    }
    let mut named = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for url in text.split('"').filter(|s| s.starts_with("https://zorgpoort.nl/fhir/") && !s.contains("{{")) {
            assert!(published.contains_key(url), "{}: {url} is not in conformance/", file.display());
            named += 1;
        }
    }
    assert!(named >= 14, "only {named} project URLs named");

    // The codes of project CodeSystems in what the samples map to.
    fn walk<'a>(value: &'a Value, out: &mut Vec<(&'a str, &'a str)>) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(system)), Some(Value::String(code))) = (map.get("system"), map.get("code")) {
                    out.push((system, code));
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut codings = Vec::new();
    let goldens: Vec<Value> = ["pluriform-pameijer.json", "caress-sheerenloo.json", "mep-pameijer.json"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(repo.join("tests/golden/mapping").join(name)).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    for golden in &goldens {
        walk(golden, &mut codings);
    }
    for (system, code) in codings {
        if let Some(codes) = published.get(system) {
            assert!(codes.iter().any(|c| c == code), "{system} has no code {code}");
        }
    }
}
