//! MijnEigenPlan `herhaling` weekday lists (`ma,di,do`) to FHIR `daysOfWeek` codes.
//!
//! Entries are separated by a comma without spaces; case is not significant; a repeated day is listed once.
//! The result is in week order (Monday first), whatever the order of the input.

use chrono::Weekday;

use super::error::{Result, TransformError, shown};

/// Dutch weekday abbreviations as MijnEigenPlan writes them, Monday first.
const DAYS: [(&str, Weekday); 7] = [
    ("ma", Weekday::Mon),
    ("di", Weekday::Tue),
    ("wo", Weekday::Wed),
    ("do", Weekday::Thu),
    ("vr", Weekday::Fri),
    ("za", Weekday::Sat),
    ("zo", Weekday::Sun),
];

/// Parses a `herhaling` list such as `ma,di,do` into weekdays in week order (duplicates listed once).
pub fn herhaling(value: &str) -> Result<Vec<Weekday>> {
    let mut seen = [false; 7];
    for token in value.split(',') {
        if token.is_empty() {
            return Err(TransformError::malformed(
                value,
                "a list of weekdays",
                "expected weekdays separated by commas without spaces, e.g. \"ma,di,do\"",
            ));
        }
        let index = DAYS
            .iter()
            .position(|(abbreviation, _)| abbreviation.eq_ignore_ascii_case(token))
            .ok_or_else(|| TransformError::UnknownWeekday { value: shown(value), token: shown(token) })?;
        if let Some(flag) = seen.get_mut(index) {
            *flag = true;
        }
    }
    Ok(DAYS.iter().zip(seen).filter(|(_, seen)| *seen).map(|((_, day), _)| *day).collect())
}

/// The FHIR `days-of-week` code of a weekday (`mon` .. `sun`).
pub fn fhir_day_of_week(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Parses a `herhaling` list straight into FHIR `daysOfWeek` codes, e.g. `ma,di,do` to `["mon", "tue", "thu"]`.
pub fn herhaling_codes(value: &str) -> Result<Vec<&'static str>> {
    Ok(herhaling(value)?.into_iter().map(fhir_day_of_week).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example() {
        assert_eq!(herhaling_codes("ma,di,do").unwrap(), ["mon", "tue", "thu"]);
        assert_eq!(herhaling("ma,di,do").unwrap(), [Weekday::Mon, Weekday::Tue, Weekday::Thu]);
    }

    #[test]
    fn every_day_in_week_order() {
        assert_eq!(herhaling_codes("ma,di,wo,do,vr,za,zo").unwrap(), ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
        assert_eq!(herhaling_codes("zo,vr,ma").unwrap(), ["mon", "fri", "sun"]);
        assert_eq!(herhaling_codes("za").unwrap(), ["sat"]);
    }

    #[test]
    fn duplicates_are_listed_once_and_case_is_ignored() {
        assert_eq!(herhaling_codes("ma,ma,di").unwrap(), ["mon", "tue"]);
        assert_eq!(herhaling_codes("Ma,DI,wO").unwrap(), ["mon", "tue", "wed"]);
    }

    #[test]
    fn unknown_tokens_are_named() {
        let err = assert_error!(herhaling("ma,dinsdag,do"), TransformError::UnknownWeekday { .. }, "ma,dinsdag,do");
        assert_eq!(
            err.to_string(),
            "\"dinsdag\" in \"ma,dinsdag,do\" is not a weekday: expected ma, di, wo, do, vr, za or zo"
        );
        for (value, token) in [("ma, di", "\" di\""), ("mo,tu", "\"mo\""), ("ma;di", "\"ma;di\""), ("mon", "\"mon\"")] {
            assert_error!(herhaling(value), TransformError::UnknownWeekday { .. }, token);
        }
    }

    #[test]
    fn empty_entries_are_malformed() {
        for value in ["", "ma,,di", "ma,", ",ma"] {
            assert_error!(herhaling(value), TransformError::Malformed { kind: "a list of weekdays", .. }, value);
        }
    }
}
