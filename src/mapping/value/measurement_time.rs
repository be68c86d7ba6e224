//! Pluriform measurement times written with Dutch weekday and month abbreviations: `Wo 3 mei 2023 | 18:30`.
//!
//! Shape is strict (single spaces, ` | ` before a two-digit `hh:mm`, a four-digit year, a day of one or two digits);
//! the case of the weekday and month abbreviations is not significant (`Wo`, `wo`, `WO`; `mei`, `Mei`).

use chrono::{DateTime, Datelike, FixedOffset, Weekday};

use super::dutch_time::{checked_naive, resolve_amsterdam_named};
use super::error::{Result, TransformError, shown};
use super::lex::{long_date, match_shape, small_number, weekday_name};

/// Dutch weekday abbreviations as Pluriform writes them, Monday first.
const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Ma", Weekday::Mon),
    ("Di", Weekday::Tue),
    ("Wo", Weekday::Wed),
    ("Do", Weekday::Thu),
    ("Vr", Weekday::Fri),
    ("Za", Weekday::Sat),
    ("Zo", Weekday::Sun),
];

/// Dutch month abbreviations as Pluriform writes them, January first.
const MONTHS: [&str; 12] = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];

/// Kind of value named in this module's errors.
const KIND: &str = "a measurement time";

/// Parses a Pluriform measurement time `Wo 3 mei 2023 | 18:30` as Europe/Amsterdam time; the weekday must match.
pub fn measurement_time(value: &str) -> Result<DateTime<FixedOffset>> {
    let malformed = |reason: String| TransformError::malformed(value, KIND, reason);
    let shape =
        || malformed("expected weekday, day, month, year, \" | \" and hh:mm, e.g. \"Wo 3 mei 2023 | 18:30\"".into());
    let (date_part, time_part) = value.split_once(" | ").ok_or_else(shape)?;
    let mut words = date_part.split(' ');
    let (Some(weekday_word), Some(day_word), Some(month_word), Some(year_word), None) =
        (words.next(), words.next(), words.next(), words.next(), words.next())
    else {
        return Err(shape());
    };
    let (_, weekday) = WEEKDAYS
        .iter()
        .find(|(abbreviation, _)| abbreviation.eq_ignore_ascii_case(weekday_word))
        .ok_or_else(|| malformed(format!("unknown weekday {weekday_word:?}: expected Ma, Di, Wo, Do, Vr, Za or Zo")))?;
    let day = small_number(day_word)
        .filter(|_| day_word.len() <= 2)
        .ok_or_else(|| malformed(format!("day {day_word:?} is not a day of the month: expected 1 to 31")))?;
    let month = MONTHS
        .iter()
        .position(|abbreviation| abbreviation.eq_ignore_ascii_case(month_word))
        .and_then(|index| u32::try_from(index + 1).ok())
        .ok_or_else(|| {
            malformed(format!(
                "unknown month {month_word:?}: expected jan, feb, mrt, apr, mei, jun, jul, aug, sep, okt, nov or dec"
            ))
        })?;
    let Some(&[year]) = match_shape(year_word.as_bytes(), "yyyy").as_deref() else {
        return Err(malformed(format!("year {year_word:?} is not a four-digit year")));
    };
    let Some(&[hour, minute]) = match_shape(time_part.as_bytes(), "hh:ii").as_deref() else {
        return Err(malformed(format!("time {time_part:?} is not hh:mm")));
    };
    let local = checked_naive(value, (year, month, day), (hour, minute, 0))?;
    if local.weekday() != *weekday {
        return Err(TransformError::WeekdayMismatch {
            value: shown(value),
            weekday: weekday_word.to_string(),
            date: long_date(local.date()),
            actual: weekday_name(local.weekday()),
        });
    }
    resolve_amsterdam_named(local, value)
}

#[cfg(test)]
mod tests {
    use super::super::dutch_time::fhir_datetime;
    use super::*;

    fn at(value: &str) -> String {
        fhir_datetime(&measurement_time(value).unwrap())
    }

    #[test]
    fn contract_example() {
        assert_eq!(at("Wo 3 mei 2023 | 18:30"), "2023-05-03T18:30:00+02:00");
    }

    #[test]
    fn sample_values_every_weekday_and_month() {
        assert_eq!(at("Ma 9 dec 2024 | 16:25"), "2024-12-09T16:25:00+01:00");
        assert_eq!(at("Di 6 dec 2022 | 06:25"), "2022-12-06T06:25:00+01:00");
        assert_eq!(at("Do 30 mrt 2023 | 06:15"), "2023-03-30T06:15:00+02:00");
        assert_eq!(at("Vr 22 jan 2021 | 14:50"), "2021-01-22T14:50:00+01:00");
        assert_eq!(at("Za 22 feb 2025 | 07:50"), "2025-02-22T07:50:00+01:00");
        assert_eq!(at("Zo 21 apr 2024 | 05:35"), "2024-04-21T05:35:00+02:00");
        assert_eq!(at("Ma 16 jun 2025 | 07:45"), "2025-06-16T07:45:00+02:00");
        assert_eq!(at("Zo 4 jul 2021 | 15:40"), "2021-07-04T15:40:00+02:00");
        assert_eq!(at("Vr 26 aug 2022 | 12:05"), "2022-08-26T12:05:00+02:00");
        assert_eq!(at("Ma 16 sep 2024 | 00:35"), "2024-09-16T00:35:00+02:00");
        assert_eq!(at("Di 22 okt 2024 | 21:20"), "2024-10-22T21:20:00+02:00");
        assert_eq!(at("Za 18 nov 2023 | 07:20"), "2023-11-18T07:20:00+01:00");
    }

    #[test]
    fn leading_zero_day_and_case_insensitive_names() {
        assert_eq!(at("Wo 03 mei 2023 | 18:30"), "2023-05-03T18:30:00+02:00");
        assert_eq!(at("wo 3 MEI 2023 | 18:30"), "2023-05-03T18:30:00+02:00");
        assert_eq!(at("WO 3 Mei 2023 | 18:30"), "2023-05-03T18:30:00+02:00");
    }

    #[test]
    fn weekday_must_match_the_date() {
        let value = "Ma 3 mei 2023 | 18:30";
        let err = assert_error!(measurement_time(value), TransformError::WeekdayMismatch { .. }, value);
        assert_eq!(
            err.to_string(),
            "\"Ma 3 mei 2023 | 18:30\": weekday \"Ma\" does not match 3 May 2023, which is a Wednesday"
        );
        assert_error!(measurement_time("Zo 29 feb 2024 | 10:00"), TransformError::WeekdayMismatch { .. }, "Thursday");
    }

    #[test]
    fn impossible_dates_and_times() {
        assert_error!(measurement_time("Wo 29 feb 2023 | 10:00"), TransformError::InvalidDate { .. }, "29 feb 2023");
        assert_error!(measurement_time("Wo 0 mei 2023 | 10:00"), TransformError::InvalidDate { .. }, "0 mei 2023");
        assert_error!(measurement_time("Wo 3 mei 2023 | 25:00"), TransformError::InvalidTime { .. }, "25:00");
        assert_error!(measurement_time("Zo 31 mrt 2024 | 02:30"), TransformError::NonexistentLocalTime { .. }, "02:30");
        assert_eq!(at("Zo 27 okt 2024 | 02:30"), "2024-10-27T02:30:00+02:00");
        assert_eq!(at("Zo 27 okt 2024 | 03:00"), "2024-10-27T03:00:00+01:00");
    }

    #[test]
    fn wrong_shapes_name_the_problem() {
        let cases = [
            ("Wo 3 mei 2023 18:30", "expected weekday"),
            ("Wo  3 mei 2023 | 18:30", "expected weekday"),
            ("Wo 3 mei 2023 |  18:30", "time \" 18:30\" is not hh:mm"),
            ("Wo 3 mei 2023 | 18:30 ", "is not hh:mm"),
            ("Wo 3 mei | 18:30", "expected weekday"),
            ("Wo 3 mei 2023 extra | 18:30", "expected weekday"),
            ("Woe 3 mei 2023 | 18:30", "unknown weekday \"Woe\""),
            ("Wo 3 mai 2023 | 18:30", "unknown month \"mai\""),
            ("Wo 3 mrt. 2023 | 18:30", "unknown month \"mrt.\""),
            ("Wo 003 mei 2023 | 18:30", "day \"003\""),
            ("Wo x mei 2023 | 18:30", "day \"x\""),
            ("Wo 3 mei 23 | 18:30", "year \"23\""),
            ("Wo 3 mei 2023 | 8:30", "time \"8:30\""),
            ("Wo 3 mei 2023 | 18.30", "time \"18.30\""),
            ("", "expected weekday"),
            ("Wö 3 mei 2023 | 18:30", "unknown weekday"),
        ];
        for (value, reason) in cases {
            let err =
                assert_error!(measurement_time(value), TransformError::Malformed { kind: KIND, .. }, value.trim_end());
            assert!(err.to_string().contains(reason), "{value:?}: {err}");
        }
    }
}
