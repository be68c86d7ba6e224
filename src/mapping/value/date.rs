//! Calendar dates (Pluriform `dd-mm-jjjj`, Caress ISO `jjjj-mm-dd`, the FHIR `date` lexical form) and checked times of day.

use chrono::{NaiveDate, NaiveTime};

use super::error::{Result, TransformError};
use super::lex::{days_in_month, match_shape, month_name};

/// Parses a Pluriform date `dd-mm-yyyy` with a two-digit day and month (e.g. `19-07-1995`).
pub fn dutch_date(value: &str) -> Result<NaiveDate> {
    match match_shape(value.as_bytes(), "dd-mm-yyyy").as_deref() {
        Some(&[day, month, year]) => checked_date(value, year, month, day),
        _ => Err(TransformError::malformed(
            value,
            "a date",
            "expected dd-mm-yyyy with a two-digit day and month, e.g. \"19-07-1995\"",
        )),
    }
}

/// Parses a Caress ISO date `yyyy-mm-dd` (e.g. `1995-07-19`).
pub fn iso_date(value: &str) -> Result<NaiveDate> {
    match match_shape(value.as_bytes(), "yyyy-mm-dd").as_deref() {
        Some(&[year, month, day]) => checked_date(value, year, month, day),
        _ => Err(TransformError::malformed(value, "a date", "expected yyyy-mm-dd, e.g. \"1995-07-19\"")),
    }
}

/// Formats a date in the FHIR `date` lexical form `YYYY-MM-DD`.
pub fn fhir_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Builds the date `year-month-day`, explaining in the error (which names `value`) why it does not exist.
pub(crate) fn checked_date(value: &str, year: u32, month: u32, day: u32) -> Result<NaiveDate> {
    let year = match i32::try_from(year) {
        Ok(year) if (1..=9999).contains(&year) => year,
        _ => return Err(TransformError::invalid_date(value, format!("year {year:04} is not between 0001 and 9999"))),
    };
    if !(1..=12).contains(&month) {
        return Err(TransformError::invalid_date(value, format!("month {month:02} does not exist (01-12)")));
    }
    let days = days_in_month(year, month);
    if day == 0 {
        return Err(TransformError::invalid_date(value, "day 00 does not exist"));
    }
    if day > days {
        return Err(TransformError::invalid_date(value, format!("{} {year} has {days} days", month_name(month))));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| TransformError::invalid_date(value, "the date is outside the supported calendar"))
}

/// Builds a time of day, explaining in the error (which names `value`) which part does not exist.
pub(crate) fn checked_time(value: &str, hour: u32, minute: u32, second: u32, nano: u32) -> Result<NaiveTime> {
    if hour > 23 {
        return Err(TransformError::invalid_time(value, format!("hour {hour:02} does not exist (00-23)")));
    }
    if minute > 59 {
        return Err(TransformError::invalid_time(value, format!("minute {minute:02} does not exist (00-59)")));
    }
    if second > 59 {
        return Err(TransformError::invalid_time(value, format!("second {second:02} does not exist (00-59)")));
    }
    NaiveTime::from_hms_nano_opt(hour, minute, second, nano)
        .ok_or_else(|| TransformError::invalid_time(value, "the fraction of a second is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn dutch_date_parses_contract_examples() {
        assert_eq!(dutch_date("19-07-1995").unwrap(), ymd(1995, 7, 19));
        assert_eq!(dutch_date("01-03-2019").unwrap(), ymd(2019, 3, 1));
        assert_eq!(dutch_date("31-12-9999").unwrap(), ymd(9999, 12, 31));
        assert_eq!(dutch_date("01-01-0001").unwrap(), ymd(1, 1, 1));
    }

    #[test]
    fn leap_days() {
        assert_eq!(dutch_date("29-02-2024").unwrap(), ymd(2024, 2, 29));
        assert_eq!(dutch_date("29-02-2000").unwrap(), ymd(2000, 2, 29));
        let err = assert_error!(dutch_date("29-02-2023"), TransformError::InvalidDate { .. }, "29-02-2023");
        assert_eq!(err.to_string(), "\"29-02-2023\" is not a date: February 2023 has 28 days");
        assert_error!(dutch_date("29-02-1900"), TransformError::InvalidDate { .. }, "February 1900 has 28 days");
    }

    #[test]
    fn impossible_dates_say_why() {
        let err = assert_error!(dutch_date("31-02-2024"), TransformError::InvalidDate { .. }, "31-02-2024");
        assert_eq!(err.to_string(), "\"31-02-2024\" is not a date: February 2024 has 29 days");
        assert_error!(dutch_date("31-04-2024"), TransformError::InvalidDate { .. }, "April 2024 has 30 days");
        assert_error!(dutch_date("00-01-2024"), TransformError::InvalidDate { .. }, "day 00 does not exist");
        assert_error!(dutch_date("10-13-2024"), TransformError::InvalidDate { .. }, "month 13 does not exist");
        assert_error!(dutch_date("10-00-2024"), TransformError::InvalidDate { .. }, "month 00 does not exist");
        assert_error!(dutch_date("10-01-0000"), TransformError::InvalidDate { .. }, "year 0000");
    }

    #[test]
    fn dutch_date_rejects_other_shapes() {
        for value in [
            "",
            "9-7-1995",
            "19-7-1995",
            "1995-07-19",
            "19/07/1995",
            "19-07-95",
            " 19-07-1995",
            "19-07-1995 ",
            "19-07-1995x",
            "19-07-1995 00:00",
            "１９-07-1995",
            "19-07-1995\n",
        ] {
            let err = assert_error!(dutch_date(value), TransformError::Malformed { kind: "a date", .. }, value.trim());
            assert!(err.to_string().contains("expected dd-mm-yyyy"), "{err}");
        }
    }

    #[test]
    fn iso_date_parses_and_validates() {
        assert_eq!(iso_date("1995-07-19").unwrap(), ymd(1995, 7, 19));
        assert_eq!(iso_date("2024-02-29").unwrap(), ymd(2024, 2, 29));
        assert_error!(iso_date("2023-02-29"), TransformError::InvalidDate { .. }, "2023-02-29");
        assert_error!(iso_date("2024-06-31"), TransformError::InvalidDate { .. }, "June 2024 has 30 days");
        for value in ["", "19-07-1995", "1995-7-19", "1995-07-19T00:00", "95-07-19", "1995_07_19", "+1995-07-19"] {
            assert_error!(iso_date(value), TransformError::Malformed { kind: "a date", .. }, value);
        }
    }

    #[test]
    fn fhir_date_is_zero_padded() {
        assert_eq!(fhir_date(ymd(1995, 7, 19)), "1995-07-19");
        assert_eq!(fhir_date(ymd(2024, 2, 29)), "2024-02-29");
        assert_eq!(fhir_date(ymd(1, 1, 1)), "0001-01-01");
    }
}
