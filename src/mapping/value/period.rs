//! Periods: Pluriform date periods (`dd-mm-jjjj t/m dd-mm-jjjj`, `dd-mm-jjjj - dd-mm-jjjj`) and Caress agenda items,
//! including whole-day (`heleDag`) items.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};

use super::date::{dutch_date, fhir_date};
use super::dutch_time::{caress_naive, fhir_datetime, resolve_amsterdam_named};
use super::error::{Result, TransformError, shown};

/// A period of whole days, both included (FHIR `Period` with `date` precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatePeriod {
    /// First day.
    pub start: NaiveDate,
    /// Last day (included).
    pub end: NaiveDate,
}

/// A period between two instants (FHIR `Period` with `dateTime` precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstantPeriod {
    /// Start instant.
    pub start: DateTime<FixedOffset>,
    /// End instant.
    pub end: DateTime<FixedOffset>,
}

impl DatePeriod {
    /// The start and end in FHIR `date` form.
    pub fn to_fhir(&self) -> (String, String) {
        (fhir_date(self.start), fhir_date(self.end))
    }
}

impl InstantPeriod {
    /// The start and end in FHIR `dateTime` form.
    pub fn to_fhir(&self) -> (String, String) {
        (fhir_datetime(&self.start), fhir_datetime(&self.end))
    }
}

/// Parses a Pluriform period `07-07-2021 t/m 03-02-2022` or `01-10-2024 - 31-10-2024`; both ends are required.
pub fn date_period(value: &str) -> Result<DatePeriod> {
    let (start, end) = value.split_once(" t/m ").or_else(|| value.split_once(" - ")).ok_or_else(|| {
        TransformError::malformed(
            value,
            "a period",
            "expected \"dd-mm-yyyy t/m dd-mm-yyyy\" or \"dd-mm-yyyy - dd-mm-yyyy\", e.g. \"07-07-2021 t/m 03-02-2022\"",
        )
    })?;
    let start = dutch_date(start).map_err(|source| part_error(value, "start", source))?;
    let end = dutch_date(end).map_err(|source| part_error(value, "end", source))?;
    if end < start {
        return Err(reversed(value, fhir_date(start), fhir_date(end)));
    }
    Ok(DatePeriod { start, end })
}

/// The instants of a whole-day item: from `first_day` 00:00 to the day after `last_day` 00:00, Europe/Amsterdam.
pub fn whole_day_period(first_day: NaiveDate, last_day: NaiveDate) -> Result<InstantPeriod> {
    let value = format!("{} to {}", fhir_date(first_day), fhir_date(last_day));
    if last_day < first_day {
        return Err(reversed(&value, fhir_date(first_day), fhir_date(last_day)));
    }
    let day_after =
        last_day.succ_opt().ok_or_else(|| TransformError::out_of_range(&value, "a last day before 9999-12-31"))?;
    Ok(InstantPeriod {
        start: resolve_amsterdam_named(first_day.and_time(NaiveTime::MIN), &value)?,
        end: resolve_amsterdam_named(day_after.and_time(NaiveTime::MIN), &value)?,
    })
}

/// The period of a Caress `Afspraak` from its `start` and `eind` (`dd-mm-yy hh:mm`) and `heleDag`; a whole-day item
/// must have `00:00` in both and covers its days up to and including the end date.
pub fn caress_agenda_period(start: &str, eind: &str, hele_dag: bool) -> Result<InstantPeriod> {
    let value = format!("{start} to {eind}");
    let start_local = caress_naive(start).map_err(|source| part_error(&value, "start", source))?;
    let end_local = caress_naive(eind).map_err(|source| part_error(&value, "end", source))?;
    if hele_dag {
        for (part, local, text) in [("start", start_local, start), ("end", end_local, eind)] {
            if local.time() != NaiveTime::MIN {
                let source = TransformError::malformed(
                    text,
                    "a whole-day time",
                    "a whole-day item (heleDag=\"true\") must have the time 00:00",
                );
                return Err(part_error(&value, part, source));
            }
        }
        if end_local < start_local {
            return Err(reversed(&value, fhir_date(start_local.date()), fhir_date(end_local.date())));
        }
        return whole_day_period(start_local.date(), end_local.date());
    }
    let start_instant =
        resolve_amsterdam_named(start_local, start).map_err(|source| part_error(&value, "start", source))?;
    let end_instant = resolve_amsterdam_named(end_local, eind).map_err(|source| part_error(&value, "end", source))?;
    if end_instant < start_instant {
        return Err(reversed(&value, fhir_datetime(&start_instant), fhir_datetime(&end_instant)));
    }
    Ok(InstantPeriod { start: start_instant, end: end_instant })
}

/// Wraps the error of one side of a period.
fn part_error(value: &str, part: &'static str, source: TransformError) -> TransformError {
    TransformError::PeriodPart { value: shown(value), part, source: Box::new(source) }
}

/// A period whose end is before its start.
fn reversed(value: &str, start: String, end: String) -> TransformError {
    TransformError::PeriodReversed { value: shown(value), start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn both_separators() {
        let period = date_period("07-07-2021 t/m 03-02-2022").unwrap();
        assert_eq!(period, DatePeriod { start: ymd(2021, 7, 7), end: ymd(2022, 2, 3) });
        assert_eq!(period.to_fhir(), ("2021-07-07".to_string(), "2022-02-03".to_string()));
        let period = date_period("01-10-2024 - 31-10-2024").unwrap();
        assert_eq!(period, DatePeriod { start: ymd(2024, 10, 1), end: ymd(2024, 10, 31) });
        assert_eq!(date_period("05-11-2024 t/m 05-11-2024").unwrap().end, ymd(2024, 11, 5));
    }

    #[test]
    fn end_before_start_is_an_error() {
        let value = "03-02-2022 t/m 07-07-2021";
        let err = assert_error!(date_period(value), TransformError::PeriodReversed { .. }, value);
        assert_eq!(
            err.to_string(),
            "\"03-02-2022 t/m 07-07-2021\" is not a period: its end 2021-07-07 is before its start 2022-02-03"
        );
    }

    #[test]
    fn bad_sides_are_named() {
        let value = "31-02-2024 t/m 01-03-2024";
        let err = assert_error!(date_period(value), TransformError::PeriodPart { part: "start", .. }, value);
        assert!(
            matches!(&err, TransformError::PeriodPart { source, .. } if matches!(**source, TransformError::InvalidDate { .. }))
        );
        assert!(
            err.to_string().ends_with("its start \"31-02-2024\" is not a date: February 2024 has 29 days"),
            "{err}"
        );
        assert_error!(date_period("01-01-2024 - 1-2-2024"), TransformError::PeriodPart { part: "end", .. }, "1-2-2024");
    }

    #[test]
    fn open_and_malformed_periods_are_rejected() {
        for value in ["07-07-2021 -", "07-07-2021", "", "07-07-2021 tot 03-02-2022", "07-07-2021-03-02-2022"] {
            assert_error!(date_period(value), TransformError::Malformed { kind: "a period", .. }, value.trim_end());
        }
        let err =
            assert_error!(date_period("07-07-2021 t/m "), TransformError::PeriodPart { part: "end", .. }, "07-07");
        assert!(
            err.to_string().ends_with(
                "its end \"\" is not a date: expected dd-mm-yyyy with a two-digit day and month, e.g. \"19-07-1995\""
            ),
            "{err}"
        );
        assert_error!(
            date_period(" t/m 03-02-2022"),
            TransformError::PeriodPart { part: "start", .. },
            "t/m 03-02-2022"
        );
        assert_error!(
            date_period("07-07-2021 t/m  03-02-2022"),
            TransformError::PeriodPart { part: "end", .. },
            "07-07"
        );
    }

    #[test]
    fn whole_days_end_at_the_next_midnight() {
        let period = whole_day_period(ymd(2024, 4, 1), ymd(2024, 4, 1)).unwrap();
        assert_eq!(period.to_fhir(), ("2024-04-01T00:00:00+02:00".into(), "2024-04-02T00:00:00+02:00".into()));
        let period = whole_day_period(ymd(2024, 3, 30), ymd(2024, 3, 31)).unwrap();
        assert_eq!(period.to_fhir(), ("2024-03-30T00:00:00+01:00".into(), "2024-04-01T00:00:00+02:00".into()));
        let period = whole_day_period(ymd(2024, 10, 27), ymd(2024, 10, 27)).unwrap();
        assert_eq!(period.to_fhir(), ("2024-10-27T00:00:00+02:00".into(), "2024-10-28T00:00:00+01:00".into()));
        assert_error!(
            whole_day_period(ymd(2024, 4, 2), ymd(2024, 4, 1)),
            TransformError::PeriodReversed { .. },
            "2024-04-02"
        );
        assert_error!(
            whole_day_period(ymd(9999, 12, 31), ymd(9999, 12, 31)),
            TransformError::OutOfRange { .. },
            "9999-12-31"
        );
    }

    #[test]
    fn caress_whole_day_items() {
        let period = caress_agenda_period("01-04-24 00:00", "03-04-24 00:00", true).unwrap();
        assert_eq!(period.to_fhir(), ("2024-04-01T00:00:00+02:00".into(), "2024-04-04T00:00:00+02:00".into()));
        let period = caress_agenda_period("24-12-24 00:00", "24-12-24 00:00", true).unwrap();
        assert_eq!(period.to_fhir(), ("2024-12-24T00:00:00+01:00".into(), "2024-12-25T00:00:00+01:00".into()));
        let err = assert_error!(
            caress_agenda_period("01-04-24 10:00", "01-04-24 00:00", true),
            TransformError::PeriodPart { part: "start", .. },
            "01-04-24 10:00"
        );
        assert!(err.to_string().contains("must have the time 00:00"), "{err}");
        assert_error!(
            caress_agenda_period("02-04-24 00:00", "01-04-24 00:00", true),
            TransformError::PeriodReversed { .. },
            "02-04-24 00:00 to 01-04-24 00:00"
        );
    }

    #[test]
    fn caress_timed_items() {
        let period = caress_agenda_period("01-04-24 10:00", "01-04-24 11:30", false).unwrap();
        assert_eq!(period.to_fhir(), ("2024-04-01T10:00:00+02:00".into(), "2024-04-01T11:30:00+02:00".into()));
        let period = caress_agenda_period("27-10-24 02:30", "27-10-24 02:45", false).unwrap();
        assert_eq!(period.to_fhir(), ("2024-10-27T02:30:00+02:00".into(), "2024-10-27T02:45:00+02:00".into()));
        let period = caress_agenda_period("16-01-23 21:45", "16-01-23 21:45", false).unwrap();
        assert_eq!(period.start, period.end);
        assert_error!(
            caress_agenda_period("01-04-24 11:30", "01-04-24 10:00", false),
            TransformError::PeriodReversed { .. },
            "01-04-24 11:30 to 01-04-24 10:00"
        );
        let err = assert_error!(
            caress_agenda_period("31-03-24 01:30", "31-03-24 02:30", false),
            TransformError::PeriodPart { part: "end", .. },
            "31-03-24 02:30"
        );
        assert!(err.to_string().contains("does not exist in Europe/Amsterdam"), "{err}");
        assert_error!(
            caress_agenda_period("x", "01-04-24 10:00", false),
            TransformError::PeriodPart { part: "start", .. },
            "x"
        );
    }
}
