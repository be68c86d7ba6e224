//! Dates in a pattern named by a mapping file (for vendors not covered by a fixed contract), including ISO week dates.

use chrono::{Datelike, NaiveDate, Weekday};

use super::date::checked_date;
use super::error::{Result, TransformError};
use super::lex::match_shape;

/// A date pattern that a mapping file may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePattern {
    /// `yyyyMMdd`, e.g. `20240308`.
    CompactIso,
    /// `dd-MM-yyyy`, e.g. `08-03-2024`.
    DayMonthYear,
    /// `yyyy-MM-dd`, e.g. `2024-03-08`.
    Iso,
    /// `dd-MM-yy`, e.g. `08-03-24`; the two-digit year means 20yy.
    DayMonthShortYear,
    /// `YYYY-Www-D`, an ISO 8601 week date, e.g. `2024-W10-5` (Friday of ISO week 10 of 2024).
    IsoWeek,
}

impl DatePattern {
    /// All supported patterns.
    pub const ALL: [DatePattern; 5] =
        [Self::CompactIso, Self::DayMonthYear, Self::Iso, Self::DayMonthShortYear, Self::IsoWeek];

    /// Looks up a pattern by its exact (case-sensitive) text, e.g. `dd-MM-yyyy`.
    pub fn from_pattern(pattern: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str() == pattern)
            .ok_or_else(|| TransformError::UnknownDatePattern { pattern: super::error::shown(pattern) })
    }

    /// The pattern's text as written in a mapping file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CompactIso => "yyyyMMdd",
            Self::DayMonthYear => "dd-MM-yyyy",
            Self::Iso => "yyyy-MM-dd",
            Self::DayMonthShortYear => "dd-MM-yy",
            Self::IsoWeek => "YYYY-Www-D",
        }
    }

    /// An example value in this pattern (for messages).
    fn example(self) -> &'static str {
        match self {
            Self::CompactIso => "20240308",
            Self::DayMonthYear => "08-03-2024",
            Self::Iso => "2024-03-08",
            Self::DayMonthShortYear => "08-03-24",
            Self::IsoWeek => "2024-W10-5",
        }
    }

    /// Parses `value` as a date in this pattern.
    pub fn parse(self, value: &str) -> Result<NaiveDate> {
        let shape = match self {
            Self::CompactIso => "yyyymmdd",
            Self::DayMonthYear => "dd-mm-yyyy",
            Self::Iso => "yyyy-mm-dd",
            Self::DayMonthShortYear => "dd-mm-yy",
            Self::IsoWeek => "yyyy-Www-e",
        };
        let numbers = match_shape(value.as_bytes(), shape).ok_or_else(|| {
            TransformError::malformed(
                value,
                "a date",
                format!("expected the pattern {}, e.g. {:?}", self.as_str(), self.example()),
            )
        })?;
        match (self, numbers.as_slice()) {
            (Self::CompactIso | Self::Iso, &[year, month, day]) => checked_date(value, year, month, day),
            (Self::DayMonthYear, &[day, month, year]) => checked_date(value, year, month, day),
            (Self::DayMonthShortYear, &[day, month, year]) => checked_date(value, 2000 + year, month, day),
            (Self::IsoWeek, &[year, week, day]) => iso_week_date(value, year, week, day),
            _ => Err(TransformError::malformed(value, "a date", format!("expected the pattern {}", self.as_str()))),
        }
    }
}

/// Checks that a mapping file names a supported date pattern.
pub fn check_date_pattern(pattern: &str) -> Result<()> {
    DatePattern::from_pattern(pattern).map(|_| ())
}

/// Parses `value` as a date in the named `pattern` (`yyyyMMdd`, `dd-MM-yyyy`, `yyyy-MM-dd`, `dd-MM-yy`, `YYYY-Www-D`).
pub fn date_with_pattern(value: &str, pattern: &str) -> Result<NaiveDate> {
    DatePattern::from_pattern(pattern)?.parse(value)
}

/// Number of ISO weeks (52 or 53) in ISO week-numbering `year`.
pub fn iso_weeks_in_year(year: i32) -> Option<u32> {
    NaiveDate::from_ymd_opt(year, 12, 28).map(|date| date.iso_week().week())
}

/// Builds the date of ISO `year`, `week` and `day` (1 = Monday .. 7 = Sunday), explaining why it does not exist.
fn iso_week_date(value: &str, year: u32, week: u32, day: u32) -> Result<NaiveDate> {
    let year = match i32::try_from(year) {
        Ok(year) if (1..=9999).contains(&year) => year,
        _ => return Err(TransformError::invalid_date(value, format!("year {year:04} is not between 0001 and 9999"))),
    };
    let weekday = match day {
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        7 => Weekday::Sun,
        _ => {
            return Err(TransformError::invalid_date(
                value,
                format!("weekday {day} does not exist (1 = Monday .. 7 = Sunday)"),
            ));
        }
    };
    let weeks = iso_weeks_in_year(year).unwrap_or(52);
    if week == 0 || week > weeks {
        return Err(TransformError::invalid_date(value, format!("ISO year {year} has weeks 01 to {weeks}")));
    }
    NaiveDate::from_isoywd_opt(year, week, weekday)
        .ok_or_else(|| TransformError::invalid_date(value, "the week date is outside the supported calendar"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn every_pattern_parses_its_example() {
        for pattern in DatePattern::ALL {
            assert_eq!(date_with_pattern(pattern.example(), pattern.as_str()).unwrap(), ymd(2024, 3, 8), "{pattern:?}");
            assert_eq!(DatePattern::from_pattern(pattern.as_str()).unwrap(), pattern);
            check_date_pattern(pattern.as_str()).unwrap();
        }
    }

    #[test]
    fn simple_patterns() {
        assert_eq!(date_with_pattern("19950719", "yyyyMMdd").unwrap(), ymd(1995, 7, 19));
        assert_eq!(date_with_pattern("19-07-1995", "dd-MM-yyyy").unwrap(), ymd(1995, 7, 19));
        assert_eq!(date_with_pattern("1995-07-19", "yyyy-MM-dd").unwrap(), ymd(1995, 7, 19));
        assert_eq!(date_with_pattern("19-07-95", "dd-MM-yy").unwrap(), ymd(2095, 7, 19));
        assert_eq!(date_with_pattern("29-02-00", "dd-MM-yy").unwrap(), ymd(2000, 2, 29));
        assert_error!(date_with_pattern("20230229", "yyyyMMdd"), TransformError::InvalidDate { .. }, "20230229");
        assert_error!(date_with_pattern("29-02-23", "dd-MM-yy"), TransformError::InvalidDate { .. }, "29-02-23");
    }

    #[test]
    fn value_not_in_pattern_names_pattern_and_value() {
        let err = assert_error!(
            date_with_pattern("2024-03-08", "yyyyMMdd"),
            TransformError::Malformed { kind: "a date", .. },
            "2024-03-08"
        );
        assert_eq!(err.to_string(), "\"2024-03-08\" is not a date: expected the pattern yyyyMMdd, e.g. \"20240308\"");
        assert_error!(date_with_pattern("2024-3-8", "yyyy-MM-dd"), TransformError::Malformed { .. }, "2024-3-8");
        assert_error!(date_with_pattern("2024-w10-5", "YYYY-Www-D"), TransformError::Malformed { .. }, "2024-w10-5");
        assert_error!(date_with_pattern("2024-W1-5", "YYYY-Www-D"), TransformError::Malformed { .. }, "2024-W1-5");
        assert_error!(date_with_pattern("2024W105", "YYYY-Www-D"), TransformError::Malformed { .. }, "2024W105");
    }

    #[test]
    fn unknown_patterns_are_named() {
        for pattern in ["dd-mm-yyyy", "YYYY-MM-DD", "", "yyyyMMddHHmm", "d-M-yyyy"] {
            let err = assert_error!(check_date_pattern(pattern), TransformError::UnknownDatePattern { .. }, pattern);
            assert!(err.to_string().starts_with(&format!("unknown date pattern {pattern:?}")), "{err}");
            assert_error!(date_with_pattern("08-03-2024", pattern), TransformError::UnknownDatePattern { .. }, pattern);
        }
    }

    #[test]
    fn iso_week_dates() {
        assert_eq!(date_with_pattern("2024-W10-5", "YYYY-Www-D").unwrap(), ymd(2024, 3, 8));
        assert_eq!(date_with_pattern("2024-W01-1", "YYYY-Www-D").unwrap(), ymd(2024, 1, 1));
        assert_eq!(date_with_pattern("2021-W01-1", "YYYY-Www-D").unwrap(), ymd(2021, 1, 4));
        assert_eq!(date_with_pattern("2025-W01-1", "YYYY-Www-D").unwrap(), ymd(2024, 12, 30));
        assert_eq!(date_with_pattern("2020-W53-5", "YYYY-Www-D").unwrap(), ymd(2021, 1, 1));
        assert_eq!(date_with_pattern("2020-W53-7", "YYYY-Www-D").unwrap(), ymd(2021, 1, 3));
        assert_eq!(date_with_pattern("2026-W53-4", "YYYY-Www-D").unwrap(), ymd(2026, 12, 31));
    }

    #[test]
    fn iso_week_dates_that_do_not_exist() {
        let err = assert_error!(
            date_with_pattern("2021-W53-1", "YYYY-Www-D"),
            TransformError::InvalidDate { .. },
            "2021-W53-1"
        );
        assert_eq!(err.to_string(), "\"2021-W53-1\" is not a date: ISO year 2021 has weeks 01 to 52");
        assert_error!(date_with_pattern("2024-W00-1", "YYYY-Www-D"), TransformError::InvalidDate { .. }, "2024-W00-1");
        assert_error!(date_with_pattern("2024-W54-1", "YYYY-Www-D"), TransformError::InvalidDate { .. }, "2024-W54-1");
        assert_error!(date_with_pattern("2024-W10-0", "YYYY-Www-D"), TransformError::InvalidDate { .. }, "weekday 0");
        assert_error!(date_with_pattern("2024-W10-8", "YYYY-Www-D"), TransformError::InvalidDate { .. }, "2024-W10-8");
        assert_error!(date_with_pattern("0000-W10-1", "YYYY-Www-D"), TransformError::InvalidDate { .. }, "0000-W10-1");
    }

    #[test]
    fn weeks_in_year() {
        assert_eq!(iso_weeks_in_year(2020), Some(53));
        assert_eq!(iso_weeks_in_year(2021), Some(52));
        assert_eq!(iso_weeks_in_year(2024), Some(52));
        assert_eq!(iso_weeks_in_year(2026), Some(53));
        assert_eq!(iso_weeks_in_year(2015), Some(53));
    }
}
