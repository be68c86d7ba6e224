//! Feeds every parser awkward and pseudo-random input (multi-byte characters, near-misses, long strings) to show
//! that none of them panics, and that every error message names (the start of) its input.

use super::*;

/// Runs every string parser on `value`, returning each error message together with the parser's name.
fn run_all(value: &str) -> Vec<(&'static str, String)> {
    fn message<T>(result: Result<T>) -> Option<String> {
        result.err().map(|error| error.to_string())
    }
    let results = [
        ("dutch_date", message(dutch_date(value))),
        ("iso_date", message(iso_date(value))),
        ("compact", message(date_with_pattern(value, "yyyyMMdd"))),
        ("short", message(date_with_pattern(value, "dd-MM-yy"))),
        ("week", message(date_with_pattern(value, "YYYY-Www-D"))),
        ("pattern", message(check_date_pattern(value))),
        ("amsterdam_local", message(amsterdam_local(value))),
        ("caress_local", message(caress_local(value))),
        ("mep_local", message(mep_local(value))),
        ("offset_datetime", message(offset_datetime(value))),
        ("measurement_time", message(measurement_time(value))),
        ("decimal_comma", message(decimal_comma(value))),
        ("money", message(money(value))),
        ("integer", message(integer(value))),
        ("integer_in_range", message(integer_in_range(value, 0..=10))),
        ("blood_pressure", message(blood_pressure(value))),
        ("yes_no", message(yes_no(value))),
        ("boolean_word", message(boolean_word(value))),
        ("date_period", message(date_period(value))),
        ("agenda", message(caress_agenda_period(value, value, true))),
        ("herhaling", message(herhaling(value))),
        ("bsn", message(bsn(value))),
    ];
    results.into_iter().filter_map(|(name, message)| message.map(|message| (name, message))).collect()
}

/// Deterministic pseudo-random strings built from characters that the parsers care about.
fn generated_inputs() -> Vec<String> {
    const ALPHABET: [&str; 24] = [
        "0", "1", "2", "3", "9", "-", ":", " ", ",", ".", "|", "€", "T", "Z", "+", "W", "t/m", "Wo", "mei", "é", "😀",
        "\u{0}", "ma", "/",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..3000)
        .map(|_| {
            let length = next() % 24;
            (0..length).map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize]).collect()
        })
        .collect()
}

#[test]
fn no_parser_panics_and_errors_name_their_input() {
    let mut inputs: Vec<String> = [
        "",
        " ",
        "€",
        "😀",
        "é-é-éééé",
        "19-07-1995😀",
        "Wo 3 mei 2023 | 18:😀",
        "ééé,éé €",
        "99991112é",
        "ma,😀",
        "2026-11-20T09:00:00.😀",
        "2026-11-20T09:00:00+😀",
        "2026-11-20T09:00:00+01:0😀",
        "t/m",
        " - ",
        "-",
        "--",
    ]
    .iter()
    .map(|value| value.to_string())
    .collect();
    inputs.push("9".repeat(500));
    inputs.push("é".repeat(500));
    inputs.extend(generated_inputs());
    for value in &inputs {
        let expected = format!("{:?}", value.chars().take(40).collect::<String>());
        let expected = expected.trim_end_matches('"');
        for (name, message) in run_all(value) {
            if name == "agenda" {
                continue; // names "<start> to <end>", checked in period.rs
            }
            assert!(message.contains(expected), "{name}({value:?}): {message:?} does not contain {expected:?}");
        }
    }
}

#[test]
fn epoch_millis_accepts_exactly_its_range() {
    for millis in [i64::MIN, i64::MIN + 1, -62_135_596_800_001, -1, 0, 1, 253_402_300_800_000, i64::MAX - 1, i64::MAX] {
        let result = epoch_millis(millis).map(|instant| fhir_instant(&instant));
        assert_eq!(result.is_ok(), EPOCH_MILLIS_RANGE.contains(&millis), "{millis}: {result:?}");
    }
}
