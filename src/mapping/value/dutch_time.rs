//! Local Europe/Amsterdam date-times (Pluriform, Caress, MijnEigenPlan) resolved to instants with the right offset.

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike};
use chrono_tz::Europe::Amsterdam;

use super::date::{checked_date, checked_time};
use super::error::{Result, TransformError, shown};
use super::lex::{long_date, match_shape};

/// Resolves a local Europe/Amsterdam time to an instant; spring-forward gap times are an error, autumn-back
/// ambiguous times take the earlier instant (+02:00).
pub fn resolve_amsterdam(local: NaiveDateTime) -> Result<DateTime<FixedOffset>> {
    resolve_amsterdam_named(local, &naive_text(local))
}

/// Like [`resolve_amsterdam`], naming `value` (the vendor's text) in errors.
pub(crate) fn resolve_amsterdam_named(local: NaiveDateTime, value: &str) -> Result<DateTime<FixedOffset>> {
    if !(1..=9999).contains(&local.year()) {
        return Err(TransformError::out_of_range(value, "a year between 0001 and 9999"));
    }
    match Amsterdam.from_local_datetime(&local) {
        LocalResult::Single(instant) => Ok(instant.fixed_offset()),
        LocalResult::Ambiguous(first, second) => Ok(first.min(second).fixed_offset()),
        LocalResult::None => {
            Err(TransformError::NonexistentLocalTime { value: shown(value), reason: gap_reason(local) })
        }
    }
}

/// Parses a Pluriform local date-time `dd-mm-yyyy hh:mm` (e.g. `03-05-2023 18:30`) as Europe/Amsterdam time.
pub fn amsterdam_local(value: &str) -> Result<DateTime<FixedOffset>> {
    resolve_amsterdam_named(pluriform_naive(value)?, value)
}

/// Parses a Caress local date-time `dd-mm-yy hh:mm` (two-digit year = 20yy, e.g. `01-04-24 10:00`) as Amsterdam time.
pub fn caress_local(value: &str) -> Result<DateTime<FixedOffset>> {
    resolve_amsterdam_named(caress_naive(value)?, value)
}

/// Parses a MijnEigenPlan local date-time `yyyy-mm-ddThh:mm[:ss]` without offset (e.g. `2026-11-20T09:00`).
pub fn mep_local(value: &str) -> Result<DateTime<FixedOffset>> {
    resolve_amsterdam_named(mep_naive(value)?, value)
}

/// Formats an instant as a FHIR `dateTime` with its offset, e.g. `2023-05-03T18:30:00+02:00` (UTC `Z` if the
/// offset has seconds, which FHIR cannot write).
pub fn fhir_datetime(instant: &DateTime<FixedOffset>) -> String {
    if instant.offset().local_minus_utc() % 60 != 0 {
        return super::instant::fhir_instant(&instant.to_utc());
    }
    instant.format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()
}

/// The naive date-time of a Pluriform `dd-mm-yyyy hh:mm` value.
pub(crate) fn pluriform_naive(value: &str) -> Result<NaiveDateTime> {
    match match_shape(value.as_bytes(), "dd-mm-yyyy hh:ii").as_deref() {
        Some(&[day, month, year, hour, minute]) => checked_naive(value, (year, month, day), (hour, minute, 0)),
        _ => Err(TransformError::malformed(
            value,
            "a local date-time",
            "expected dd-mm-yyyy hh:mm, e.g. \"03-05-2023 18:30\"",
        )),
    }
}

/// The naive date-time of a Caress `dd-mm-yy hh:mm` value (two-digit year = 20yy).
pub(crate) fn caress_naive(value: &str) -> Result<NaiveDateTime> {
    match match_shape(value.as_bytes(), "dd-mm-yy hh:ii").as_deref() {
        Some(&[day, month, year, hour, minute]) => checked_naive(value, (2000 + year, month, day), (hour, minute, 0)),
        _ => Err(TransformError::malformed(
            value,
            "a local date-time",
            "expected dd-mm-yy hh:mm with a two-digit year, e.g. \"01-04-24 10:00\"",
        )),
    }
}

/// The naive date-time of a MijnEigenPlan `yyyy-mm-ddThh:mm` or `yyyy-mm-ddThh:mm:ss` value.
pub(crate) fn mep_naive(value: &str) -> Result<NaiveDateTime> {
    let bytes = value.as_bytes();
    let numbers = match_shape(bytes, "yyyy-mm-ddThh:ii").or_else(|| match_shape(bytes, "yyyy-mm-ddThh:ii:ss"));
    match numbers.as_deref() {
        Some(&[year, month, day, hour, minute]) => checked_naive(value, (year, month, day), (hour, minute, 0)),
        Some(&[year, month, day, hour, minute, second]) => {
            checked_naive(value, (year, month, day), (hour, minute, second))
        }
        _ => Err(TransformError::malformed(
            value,
            "a local date-time",
            "expected yyyy-mm-ddThh:mm, a local time without offset, e.g. \"2026-11-20T09:00\"",
        )),
    }
}

/// Builds a naive date-time from (year, month, day) and (hour, minute, second), naming `value` in errors.
pub(crate) fn checked_naive(value: &str, date: (u32, u32, u32), time: (u32, u32, u32)) -> Result<NaiveDateTime> {
    let (year, month, day) = date;
    let (hour, minute, second) = time;
    Ok(checked_date(value, year, month, day)?.and_time(checked_time(value, hour, minute, second, 0)?))
}

/// A naive date-time written for messages: `2024-03-31 02:30` (seconds only when not zero).
fn naive_text(local: NaiveDateTime) -> String {
    if local.second() == 0 && local.nanosecond() == 0 {
        local.format("%Y-%m-%d %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }
}

/// True when `local` exists on the Amsterdam wall clock.
fn exists_in_amsterdam(local: NaiveDateTime) -> bool {
    !matches!(Amsterdam.from_local_datetime(&local), LocalResult::None)
}

/// Explains the spring-forward gap that `local` falls into, e.g. `on 31 March 2024 the clocks go forward ...`.
fn gap_reason(local: NaiveDateTime) -> String {
    let minute = TimeDelta::minutes(1);
    let base = local.with_second(0).and_then(|time| time.with_nanosecond(0)).unwrap_or(local);
    let mut first_missing = base;
    let mut first_existing = base;
    for _ in 0..1440 {
        match first_missing.checked_sub_signed(minute) {
            Some(earlier) if !exists_in_amsterdam(earlier) => first_missing = earlier,
            _ => break,
        }
    }
    for _ in 0..1440 {
        if exists_in_amsterdam(first_existing) {
            return format!(
                "on {} the clocks go forward from {} to {}",
                long_date(first_missing.date()),
                first_missing.format("%H:%M"),
                first_existing.format("%H:%M")
            );
        }
        match first_existing.checked_add_signed(minute) {
            Some(later) => first_existing = later,
            None => break,
        }
    }
    "the clocks go forward over this time".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(value: &str) -> String {
        fhir_datetime(&amsterdam_local(value).unwrap())
    }

    #[test]
    fn winter_and_summer_offsets() {
        assert_eq!(at("03-05-2023 18:30"), "2023-05-03T18:30:00+02:00");
        assert_eq!(at("15-01-2024 09:00"), "2024-01-15T09:00:00+01:00");
        assert_eq!(at("01-07-2024 00:00"), "2024-07-01T00:00:00+02:00");
        assert_eq!(at("31-12-2024 23:59"), "2024-12-31T23:59:00+01:00");
        assert_eq!(at("15-07-2050 12:00"), "2050-07-15T12:00:00+02:00");
        assert_eq!(at("15-01-2050 12:00"), "2050-01-15T12:00:00+01:00");
    }

    #[test]
    fn spring_forward_2024() {
        assert_eq!(at("31-03-2024 01:59"), "2024-03-31T01:59:00+01:00");
        assert_eq!(at("31-03-2024 03:00"), "2024-03-31T03:00:00+02:00");
        for value in ["31-03-2024 02:00", "31-03-2024 02:30", "31-03-2024 02:59"] {
            let err = assert_error!(amsterdam_local(value), TransformError::NonexistentLocalTime { .. }, value);
            assert_eq!(
                err.to_string(),
                format!(
                    "\"{value}\" does not exist in Europe/Amsterdam: on 31 March 2024 the clocks go forward from 02:00 to 03:00"
                )
            );
        }
    }

    #[test]
    fn autumn_back_2024_takes_the_earlier_instant() {
        assert_eq!(at("27-10-2024 01:59"), "2024-10-27T01:59:00+02:00");
        assert_eq!(at("27-10-2024 02:00"), "2024-10-27T02:00:00+02:00");
        assert_eq!(at("27-10-2024 02:30"), "2024-10-27T02:30:00+02:00");
        assert_eq!(at("27-10-2024 02:59"), "2024-10-27T02:59:00+02:00");
        assert_eq!(at("27-10-2024 03:00"), "2024-10-27T03:00:00+01:00");
        let instant = amsterdam_local("27-10-2024 02:30").unwrap();
        assert_eq!(instant.to_utc().to_rfc3339(), "2024-10-27T00:30:00+00:00");
    }

    #[test]
    fn resolve_amsterdam_names_the_naive_time() {
        let naive = NaiveDateTime::parse_from_str("2024-03-31 02:30", "%Y-%m-%d %H:%M").unwrap();
        let err =
            assert_error!(resolve_amsterdam(naive), TransformError::NonexistentLocalTime { .. }, "2024-03-31 02:30");
        assert!(err.to_string().contains("the clocks go forward from 02:00 to 03:00"), "{err}");
        let naive = NaiveDateTime::parse_from_str("2024-08-01 12:00", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(fhir_datetime(&resolve_amsterdam(naive).unwrap()), "2024-08-01T12:00:00+02:00");
        let far = chrono::NaiveDate::from_ymd_opt(12000, 1, 1).unwrap().and_time(chrono::NaiveTime::MIN);
        assert_error!(resolve_amsterdam(far), TransformError::OutOfRange { .. }, "12000-01-01 00:00");
    }

    #[test]
    fn pluriform_local_rejects_bad_values() {
        assert_error!(amsterdam_local("31-02-2024 10:00"), TransformError::InvalidDate { .. }, "31-02-2024 10:00");
        let err = assert_error!(amsterdam_local("03-05-2023 24:00"), TransformError::InvalidTime { .. }, "24:00");
        assert!(err.to_string().contains("hour 24 does not exist"), "{err}");
        assert_error!(amsterdam_local("03-05-2023 18:60"), TransformError::InvalidTime { .. }, "minute 60");
        for value in ["03-05-2023", "03-05-2023 18:30:00", "03-05-2023T18:30", "3-05-2023 18:30", "03-05-2023 8:30", ""]
        {
            assert_error!(amsterdam_local(value), TransformError::Malformed { kind: "a local date-time", .. }, value);
        }
    }

    #[test]
    fn caress_two_digit_years_are_20yy() {
        assert_eq!(fhir_datetime(&caress_local("01-04-24 10:00").unwrap()), "2024-04-01T10:00:00+02:00");
        assert_eq!(fhir_datetime(&caress_local("08-03-24 14:18").unwrap()), "2024-03-08T14:18:00+01:00");
        assert_eq!(fhir_datetime(&caress_local("29-02-24 12:10").unwrap()), "2024-02-29T12:10:00+01:00");
        assert_eq!(fhir_datetime(&caress_local("31-12-99 23:00").unwrap()), "2099-12-31T23:00:00+01:00");
        assert_eq!(fhir_datetime(&caress_local("27-10-24 02:30").unwrap()), "2024-10-27T02:30:00+02:00");
        assert_error!(caress_local("31-03-24 02:30"), TransformError::NonexistentLocalTime { .. }, "31-03-24 02:30");
        assert_error!(caress_local("29-02-23 12:10"), TransformError::InvalidDate { .. }, "29-02-23 12:10");
        for value in ["01-04-2024 10:00", "2024-04-01 10:00", "01-04-24", "01-04-24 10:00 ", "01-04-24 10.00"] {
            assert_error!(caress_local(value), TransformError::Malformed { .. }, value.trim_end());
        }
    }

    #[test]
    fn mep_local_without_offset() {
        assert_eq!(fhir_datetime(&mep_local("2026-11-20T09:00").unwrap()), "2026-11-20T09:00:00+01:00");
        assert_eq!(fhir_datetime(&mep_local("2026-06-20T15:00").unwrap()), "2026-06-20T15:00:00+02:00");
        assert_eq!(fhir_datetime(&mep_local("2026-06-20T15:00:07").unwrap()), "2026-06-20T15:00:07+02:00");
        assert_error!(mep_local("2024-03-31T02:15"), TransformError::NonexistentLocalTime { .. }, "2024-03-31T02:15");
        assert_error!(mep_local("2026-11-31T09:00"), TransformError::InvalidDate { .. }, "2026-11-31T09:00");
        assert_error!(mep_local("2026-11-20T09:00:60"), TransformError::InvalidTime { .. }, "2026-11-20T09:00:60");
        for value in
            ["2026-11-20T09:00+01:00", "2026-11-20T09:00Z", "2026-11-20 09:00", "2026-11-20", "20-11-2026 09:00"]
        {
            let err = assert_error!(mep_local(value), TransformError::Malformed { .. }, value);
            assert!(err.to_string().contains("without offset"), "{err}");
        }
    }

    #[test]
    fn fhir_datetime_writes_fractions_and_whole_minute_offsets_only() {
        let instant = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.250+05:30").unwrap();
        assert_eq!(fhir_datetime(&instant), "2024-01-02T03:04:05.250+05:30");
        let odd = FixedOffset::east_opt(1172).unwrap().with_ymd_and_hms(1930, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(fhir_datetime(&odd), "1930-01-01T11:40:28Z");
    }
}
