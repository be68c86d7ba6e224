//! The formats of the R4 primitive types (R4 §2.24.0.1) that the structure
//! check does not look at: dates and times (real calendar days), ids,
//! codes, decimals and integers, URIs, OIDs and UUIDs.

use chrono::NaiveDate;
use serde_json::Value;

/// Checks `value` as the primitive `type_name`; the error says why not.
pub(super) fn check(type_name: &str, value: &Value) -> Result<(), String> {
    match (type_name, value) {
        ("boolean", Value::Bool(_)) => Ok(()),
        ("boolean", _) => Err("is not a boolean (true or false)".into()),
        ("decimal", Value::Number(_)) => Ok(()),
        ("decimal", _) => Err("is not a decimal: a JSON number is expected".into()),
        ("integer" | "unsignedInt" | "positiveInt", Value::Number(n)) => integer(type_name, n),
        ("integer" | "unsignedInt" | "positiveInt", _) => {
            Err(format!("is not an {type_name}: a JSON number is expected"))
        }
        (_, Value::String(text)) => text_format(type_name, text),
        (_, _) => Err(format!("is not a {type_name}: a JSON string is expected")),
    }
}

fn integer(type_name: &str, n: &serde_json::Number) -> Result<(), String> {
    let Some(i) = n.as_i64().filter(|i| i32::try_from(*i).is_ok()) else {
        return Err(format!("is not an {type_name}: {n} is not a 32-bit whole number"));
    };
    match type_name {
        "unsignedInt" if i < 0 => Err(format!("is not an unsignedInt: {i} is negative")),
        "positiveInt" if i < 1 => Err(format!("is not a positiveInt: {i} is below 1")),
        _ => Ok(()),
    }
}

fn text_format(type_name: &str, text: &str) -> Result<(), String> {
    let ok = match type_name {
        "date" => date(text),
        "dateTime" => date_time(text, false),
        "instant" => date_time(text, true),
        "time" => time(text),
        "id" => text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
        "code" => code(text),
        "uri" | "url" | "canonical" => !text.chars().any(char::is_whitespace),
        "oid" => text.strip_prefix("urn:oid:").is_some_and(oid),
        "uuid" => text.strip_prefix("urn:uuid:").is_some_and(uuid),
        "base64Binary" => text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/= \n\r".contains(&b)),
        _ => true,
    };
    if ok { Ok(()) } else { Err(format!("is not a valid R4 {type_name}: {}", shown(type_name, text))) }
}

/// Values of dates are shown (they name the error); others by length only.
fn shown(type_name: &str, text: &str) -> String {
    match type_name {
        "date" | "dateTime" | "instant" | "time" | "code" | "id" => {
            format!("{:?}", text.chars().take(40).collect::<String>())
        }
        _ => format!("({} characters)", text.chars().count()),
    }
}

/// Words apart by single whitespace characters (`[^\s]+(\s[^\s]+)*`).
fn code(text: &str) -> bool {
    let mut previous_space = true;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space && previous_space {
            return false;
        }
        previous_space = space;
    }
    !previous_space
}

fn digits(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real day.
fn date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y] => digits(y, 4) && *y != "0000",
        [y, m] => digits(y, 4) && digits(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [_, _, _] => NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() && digits(&text[..4], 4) && text.len() == 10,
        _ => false,
    }
}

/// A date, or a full date with a time and a zone; `instant` needs the time.
fn date_time(text: &str, instant: bool) -> bool {
    match text.split_once('T') {
        None => !instant && date(text),
        Some((day, rest)) => day.len() == 10 && date(day) && zoned_time(rest),
    }
}

/// `hh:mm:ss[.fff]` and `Z` or `+hh:mm`/`-hh:mm`.
fn zoned_time(text: &str) -> bool {
    let (clock, zone) = match text.find(['Z', '+', '-']) {
        Some(at) => text.split_at(at),
        None => return false,
    };
    let zone_ok = zone == "Z" || {
        let z = &zone[1..];
        z.len() == 5
            && digits(&z[..2], 2)
            && &z[2..3] == ":"
            && digits(&z[3..], 2)
            && (z[..2].parse::<u32>().unwrap_or(99) < 14 || z == "14:00")
            && z[3..].parse::<u32>().unwrap_or(99) < 60
    };
    zone_ok && time(clock)
}

/// `hh:mm:ss` with an optional fraction.
fn time(text: &str) -> bool {
    let (clock, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = parts.as_slice() else { return false };
    let value = |p: &str| p.parse::<u32>().unwrap_or(99);
    digits(h, 2)
        && digits(m, 2)
        && digits(s, 2)
        && value(h) < 24
        && value(m) < 60
        && value(s) <= 60
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

fn oid(text: &str) -> bool {
    text.split('.').count() >= 2
        && text.split('.').all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
        && text.starts_with(['0', '1', '2'])
}

fn uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_and_times() {
        for ok in ["2024", "2024-02", "2024-02-29"] {
            assert_eq!(check("date", &json!(ok)), Ok(()), "{ok}");
        }
        for bad in ["2023-02-29", "2024-13", "24-01-01", "2024-1-01", "2024-01-01T10:00:00Z", "0000", "01-02-2024"] {
            assert!(check("date", &json!(bad)).is_err(), "{bad}");
        }
        for ok in
            ["2024", "2024-05-01", "2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00.123Z", "2024-05-01T23:59:60Z"]
        {
            assert_eq!(check("dateTime", &json!(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "2024-05-01T10:00:00",
            "2024-05-01T10:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01 10:00:00Z",
            "2024-05-01T10:00:00+15:00",
        ] {
            assert!(check("dateTime", &json!(bad)).is_err(), "{bad}");
        }
        assert!(check("instant", &json!("2024-05-01")).is_err());
        assert_eq!(check("instant", &json!("2024-05-01T08:00:00.000Z")), Ok(()));
        assert_eq!(check("time", &json!("08:30:00")), Ok(()));
        assert!(check("time", &json!("8:30")).is_err());
        assert_eq!(check("date", &json!("2023-02-29")), Err("is not a valid R4 date: \"2023-02-29\"".into()));
    }

    #[test]
    fn ids_codes_numbers_and_identifiers() {
        assert_eq!(check("id", &json!("a-1.B")), Ok(()));
        assert!(check("id", &json!("a_1")).is_err());
        assert!(check("id", &json!("x".repeat(65))).is_err());
        assert_eq!(check("code", &json!("in progress")), Ok(()));
        assert!(check("code", &json!(" final")).is_err());
        assert!(check("code", &json!("a  b")).is_err());
        assert!(check("code", &json!("a \tb")).is_err());
        assert!(check("code", &json!("final ")).is_err());
        assert_eq!(check("decimal", &json!(37.8)), Ok(()));
        assert_eq!(check("decimal", &json!("37.8")), Err("is not a decimal: a JSON number is expected".into()));
        assert_eq!(check("integer", &json!(-3)), Ok(()));
        assert!(check("integer", &json!(1.5)).is_err());
        assert!(check("integer", &json!(3_000_000_000_i64)).is_err());
        assert_eq!(check("positiveInt", &json!(0)), Err("is not a positiveInt: 0 is below 1".into()));
        assert!(check("unsignedInt", &json!(-1)).is_err());
        assert_eq!(check("oid", &json!("urn:oid:2.16.840.1.113883.2.4.6.3")), Ok(()));
        assert!(check("oid", &json!("2.16.840")).is_err());
        assert!(check("uuid", &json!("urn:uuid:C0FFEE00-0000-0000-0000-000000000000")).is_err());
        assert!(check("uri", &json!("http://a b")).is_err());
        assert!(check("boolean", &json!("true")).is_err());
        assert!(check("string", &json!(1)).is_err());
    }
}
