//! Delivery files read in two passes (`Mapping::open_delivery`,
//! `DeliveryFile::for_each_record`): the same records as `map_delivery`
//! on the whole document, in the order of the mapping's lists; framing
//! errors refused before anything is mapped; the generated Pluriform
//! delivery maps without rejections.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use zorgpoort::mapping::engine::{RecordOutcome, Refusal};
use zorgpoort::mapping::spec::Mapping;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pluriform() -> Mapping {
    Mapping::load(&repository().join("mappings/pluriform")).unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repository().join("tests/fixtures/vendor-samples").join(name)).unwrap()
}

/// A delivery written to a file of its own.
struct File {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(bytes: &[u8]) -> File {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("delivery.json");
    std::fs::write(&path, bytes).unwrap();
    File { _dir: dir, path }
}

/// Both passes: every outcome in the order given.
fn read(mapping: &Mapping, bytes: &[u8]) -> Result<Vec<RecordOutcome>, Refusal> {
    let file = file(bytes);
    let delivery = mapping.open_delivery(&file.path)?;
    let mut outcomes = Vec::new();
    delivery.for_each_record(mapping, |outcome| {
        outcomes.push(outcome);
        ControlFlow::Continue(())
    })?;
    Ok(outcomes)
}

/// Outcomes as a multiset.
fn sorted(outcomes: &[RecordOutcome]) -> Vec<String> {
    let mut shown: Vec<String> = outcomes.iter().map(|outcome| format!("{outcome:?}")).collect();
    shown.sort();
    shown
}

fn kind_and_id(outcome: &RecordOutcome) -> (String, String) {
    match outcome {
        RecordOutcome::Mapped(record) => (record.kind.clone(), record.source_id.clone()),
        RecordOutcome::Rejected(rejection) => (rejection.kind.clone(), rejection.source_id.clone().unwrap_or_default()),
    }
}

/// The sample with its top-level keys in this order (and these only).
fn reordered(keys: &[&str], changes: &[(&str, Value)]) -> Vec<u8> {
    let whole: Value = serde_json::from_slice(&sample("pluriform-pameijer.json")).unwrap();
    let mut top = Map::new();
    for key in keys {
        top.insert((*key).to_owned(), whole[*key].clone());
    }
    for (key, value) in changes {
        top.insert((*key).to_owned(), value.clone());
    }
    serde_json::to_vec_pretty(&top).unwrap()
}

const ENVELOPE: [&str; 4] = ["formaat", "versie", "organisatie", "aangemaakt"];
const CLIENTS_ONLY: [&str; 5] = ["formaat", "versie", "organisatie", "aangemaakt", "clienten"];

#[test]
fn both_samples_give_what_map_delivery_gives_item_by_item() {
    let mapping = pluriform();
    for name in ["pluriform-pameijer.json", "pluriform-pameijer-delta.json"] {
        let bytes = sample(name);
        let whole: Value = serde_json::from_slice(&bytes).unwrap();
        let expected: Vec<RecordOutcome> = mapping.map_delivery(&whole).collect();
        let streamed = read(&mapping, &bytes).unwrap();
        assert!(!streamed.is_empty());
        assert_eq!(sorted(&streamed), sorted(&expected), "{name}");

        let file = file(&bytes);
        let delivery = mapping.open_delivery(&file.path).unwrap();
        assert_eq!(delivery.envelope(), &mapping.envelope(&whole).unwrap());
        let top_level = whole["medewerkers"].as_array().unwrap().len() + whole["clienten"].as_array().unwrap().len();
        assert_eq!(delivery.items(), top_level as u64);
    }
}

#[test]
fn staff_then_each_client_with_its_nested_records() {
    let mapping = pluriform();
    let outcomes = read(&mapping, &sample("pluriform-pameijer.json")).unwrap();
    let kinds: Vec<String> = outcomes.iter().map(|o| kind_and_id(o).0).collect();
    let first_client = kinds.iter().position(|k| k == "client").unwrap();
    assert!(kinds[..first_client].iter().all(|k| k == "medewerker"), "{kinds:?}");
    // After a client: its own records, kind by kind in the order of the
    // mapping file, then the next client.
    let order: Vec<&str> = mapping.records.iter().filter(|k| k.at[0] == "clienten").map(|k| k.kind.as_str()).collect();
    assert_eq!(order[0], "client");
    let mut rank_in_client = 0;
    for kind in &kinds[first_client..] {
        let rank = order.iter().position(|k| k == kind).unwrap();
        assert!(rank == 0 || rank >= rank_in_client, "{kinds:?}");
        rank_in_client = rank;
    }
}

#[test]
fn keys_in_any_order_and_lists_empty_missing_or_null() {
    let mapping = pluriform();
    let all = read(&mapping, &sample("pluriform-pameijer.json")).unwrap();
    let staff = all.iter().filter(|o| kind_and_id(o).0 == "medewerker").count();
    let lists_first = ["clienten", "medewerkers", "aangemaakt", "organisatie", "versie", "formaat"];
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("envelope after the lists, clients before staff", reordered(&lists_first, &[]), all.len()),
        ("no staff list", reordered(&CLIENTS_ONLY, &[]), all.len() - staff),
        ("empty staff list", reordered(&CLIENTS_ONLY, &[("medewerkers", json!([]))]), all.len() - staff),
        ("null clients", reordered(&ENVELOPE, &[("medewerkers", json!([])), ("clienten", Value::Null)]), 0),
        ("no lists at all", reordered(&ENVELOPE, &[]), 0),
    ];
    for (case, bytes, count) in cases {
        let outcomes = read(&mapping, &bytes).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(outcomes.len(), count, "{case}");
        if count == all.len() {
            assert_eq!(outcomes, all, "{case}: the same records in the same order");
        }
    }
}

#[test]
fn framing_errors_refuse_the_delivery_before_anything_is_mapped() {
    let mapping = pluriform();
    let good = sample("pluriform-pameijer.json");
    let text = String::from_utf8(good.clone()).unwrap();
    let in_the_middle = text.find("\"M-100003-4\"").unwrap();
    let cut_in_character = text.find("Yılmaz").unwrap();
    let mut bad_utf8 = good.clone();
    bad_utf8[in_the_middle] = 0xff;
    let mut malformed = good.clone();
    malformed[in_the_middle - 1] = b'}';
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), "ends too soon".into()),
        ("truncated after the object", good[..good.len() - 2].to_vec(), "ends too soon".into()),
        ("empty", Vec::new(), "ends too soon".into()),
        ("invalid UTF-8", bad_utf8, format!("not UTF-8: the byte at offset {in_the_middle}")),
        ("cut inside a character", good[..cut_in_character + 2].to_vec(), format!("offset {}", cut_in_character + 1)),
        ("malformed JSON in the middle of a list", malformed, "not valid JSON".into()),
        (
            "nesting too deep inside a list (IgnoredAny would pass it)",
            good.clone().replacen(b"\"59,6\"", format!("{}1{}", "[".repeat(200), "]".repeat(200)).as_bytes()),
            "recursion limit".into(),
        ),
        (
            "a top-level array",
            b"[{\"formaat\": \"pluriform-export\"}]".to_vec(),
            "expected a JSON object at the top".into(),
        ),
        ("trailing garbage", [&good[..], &b"{}"[..]].concat(), "not valid JSON".into()),
        ("a key twice", reordered(&ENVELOPE, &[]).replacen(b"{", b"{\"versie\": 1,"), "`versie` comes twice".into()),
        (
            "nesting too deep",
            reordered(&ENVELOPE, &[])
                .replacen(b"{", format!("{{\"x\": {}1{},", "[".repeat(200), "]".repeat(200)).as_bytes()),
            "recursion limit".into(),
        ),
        ("another format", reordered(&ENVELOPE, &[("formaat", json!("caress"))]), "not a pluriform delivery".into()),
        ("no tenant", reordered(&ENVELOPE, &[("organisatie", json!({"naam": "X"}))]), "names no organisation".into()),
    ];
    for (case, bytes, expected) in cases {
        let file = file(&bytes);
        match mapping.open_delivery(&file.path) {
            Ok(_) => panic!("{case}: not refused"),
            Err(Refusal(message)) => assert!(message.contains(&expected), "{case}: {message}"),
        }
    }
}

trait ReplaceFirst {
    fn replacen(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn replacen(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = self.windows(from.len()).position(|w| w == from).unwrap();
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

#[test]
fn each_can_stop_early_and_a_changed_file_is_refused() {
    let mapping = pluriform();
    let file = file(&sample("pluriform-pameijer.json"));
    let delivery = mapping.open_delivery(&file.path).unwrap();
    let mut seen = 0;
    delivery
        .for_each_record(&mapping, |_| {
            seen += 1;
            if seen == 5 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
    assert_eq!(seen, 5);

    std::fs::write(&file.path, sample("pluriform-pameijer-delta.json")).unwrap();
    let refusal = delivery.for_each_record(&mapping, |_| ControlFlow::Continue(())).unwrap_err();
    assert!(refusal.0.contains("changed"), "{refusal}");
}

#[test]
fn a_generated_delivery_maps_without_rejections() {
    let mapping = pluriform();
    let mut bytes = Vec::new();
    zorgpoort::demo::write_pluriform_delivery(&mut bytes, "pameijer", 20, 42, "2026-11-20T10:15:00+01:00").unwrap();
    let outcomes = read(&mapping, &bytes).unwrap();
    let rejected: Vec<_> = outcomes.iter().filter(|o| matches!(o, RecordOutcome::Rejected(_))).collect();
    assert!(rejected.is_empty(), "{rejected:#?}");
    let count = |kind: &str| outcomes.iter().filter(|o| kind_and_id(o).0 == kind).count();
    assert_eq!(count("client"), 20);
    assert_eq!(count("vertegenwoordiger"), 40);
    assert!(count("meting") >= 20 * 8 * 8, "{}", count("meting"));
    assert_eq!(count("medewerker"), 5);
    let whole: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(sorted(&outcomes), sorted(&mapping.map_delivery(&whole).collect::<Vec<_>>()));
}
