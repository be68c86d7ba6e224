//! FHIR dates, dateTimes and instants as time ranges.
//!
//! Search compares ranges, not points (R4 search §3.1.1.4.3): `2024-05`
//! means the whole of May. A value without an offset (a date, or a search
//! value without one) is read as Europe/Amsterdam local time, the time
//! zone of every care organisation served here. Ranges are half-open,
//! in milliseconds since the Unix epoch.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Amsterdam;

/// Milliseconds since the Unix epoch, UTC.
pub type EpochMillis = i64;

/// A half-open time range `[low, high)`. Open ends are `i64::MIN`/`i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub low: EpochMillis,
    pub high: EpochMillis,
}

impl TimeRange {
    pub const UNBOUNDED: TimeRange = TimeRange { low: i64::MIN, high: i64::MAX };
}

/// A value that is not a FHIR date, dateTime or instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid FHIR date or dateTime")]
pub struct InvalidDateTime(pub String);

/// Parses a FHIR date, dateTime or instant (`2024`, `2024-05`,
/// `2024-05-03`, `2024-05-03T18:30:00+02:00`, with optional fraction) into
/// the range it stands for. A time without seconds or offset is accepted
/// too, as search values may be written that way.
pub fn parse_range(value: &str) -> Result<TimeRange, InvalidDateTime> {
    let err = || InvalidDateTime(value.to_owned());
    let bytes = value.as_bytes();
    match bytes.len() {
        4 => {
            let year = parse_year(value).ok_or_else(err)?;
            let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(err)?;
            let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(err)?;
            local_day_range(start, end).ok_or_else(err)
        }
        7 if bytes[4] == b'-' => {
            let year = parse_year(&value[..4]).ok_or_else(err)?;
            let month: u32 = digits(&value[5..7]).ok_or_else(err)?;
            let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(err)?;
            let end = if month == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, month + 1, 1)
            }
            .ok_or_else(err)?;
            local_day_range(start, end).ok_or_else(err)
        }
        10 => {
            let day = parse_date(value).ok_or_else(err)?;
            local_day_range(day, day.succ_opt().ok_or_else(err)?).ok_or_else(err)
        }
        _ if bytes.len() > 10 && bytes[10] == b'T' => parse_date_time(value).ok_or_else(err),
        _ => Err(err()),
    }
}

/// Checks the R4 `date` format (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`).
pub fn is_valid_date(value: &str) -> bool {
    value.len() <= 10 && parse_range(value).is_ok()
}

/// Checks the R4 `dateTime` format: a date, or a full time with seconds
/// and an offset.
pub fn is_valid_date_time(value: &str) -> bool {
    is_valid_date(value) || (has_seconds_and_offset(value) && parse_range(value).is_ok())
}

/// Checks the R4 `instant` format: a full time with seconds and an offset.
pub fn is_valid_instant(value: &str) -> bool {
    value.len() > 10 && has_seconds_and_offset(value) && parse_range(value).is_ok()
}

/// Formats an instant as FHIR writes it (`2024-05-03T16:30:00.123Z`).
pub fn format_instant(at: DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Formats an HTTP date (`Last-Modified`), RFC 9110 IMF-fixdate.
pub fn format_http_date(millis: EpochMillis) -> String {
    let at = DateTime::from_timestamp_millis(millis).unwrap_or_default();
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn has_seconds_and_offset(value: &str) -> bool {
    // YYYY-MM-DDThh:mm:ss, an optional fraction, then `Z` or `±hh:mm`.
    let b = value.as_bytes();
    let n = b.len();
    n >= 20
        && b[13] == b':'
        && b[16] == b':'
        && (value.ends_with('Z') || (n >= 25 && matches!(b[n - 6], b'+' | b'-') && b[n - 3] == b':'))
}

fn parse_year(s: &str) -> Option<i32> {
    let year: i32 = digits(s)?;
    (s.len() == 4).then_some(year)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(parse_year(&s[..4])?, digits(&s[5..7])?, digits(&s[8..10])?)
}

/// `[start, end)` of whole local days in Europe/Amsterdam.
fn local_day_range(start: NaiveDate, end: NaiveDate) -> Option<TimeRange> {
    Some(TimeRange { low: amsterdam_midnight(start)?, high: amsterdam_midnight(end)? })
}

fn amsterdam_midnight(day: NaiveDate) -> Option<EpochMillis> {
    // Midnight always exists in Amsterdam (DST changes happen at 02:00/03:00).
    amsterdam_local(day.and_hms_opt(0, 0, 0)?)
}

/// Local Amsterdam time to an instant; in the autumn overlap the earlier
/// instant, in the spring gap the first instant after it.
fn amsterdam_local(local: NaiveDateTime) -> Option<EpochMillis> {
    match Amsterdam.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.timestamp_millis()),
        LocalResult::Ambiguous(earliest, _) => Some(earliest.timestamp_millis()),
        LocalResult::None => amsterdam_local(local + Duration::hours(1)),
    }
}

fn parse_date_time(value: &str) -> Option<TimeRange> {
    let date = parse_date(&value[..10])?;
    let rest = &value[11..];
    // Split off the offset: `Z`, `+hh:mm` or `-hh:mm`, or none.
    let (clock, offset) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (hour, minute, second, unit_ms): (u32, u32, u32, i64) = match parts.as_slice() {
        [h, m] if fraction.is_none() => (two(h)?, two(m)?, 0, 60_000),
        [h, m, s] => (two(h)?, two(m)?, two(s)?, 1_000),
        _ => return None,
    };
    let (millis, unit_ms) = match fraction {
        None => (0, unit_ms),
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<9}");
            let nanos: i64 = padded.parse().ok()?;
            let precision = 10_i64.pow(9 - f.len().min(3) as u32);
            (nanos / 1_000_000, (precision / 1_000_000).max(1))
        }
        Some(_) => return None,
    };
    let local = date.and_hms_milli_opt(hour, minute, second, millis as u32)?;
    let low = match offset {
        None => amsterdam_local(local)?,
        Some("Z") => local.and_utc().timestamp_millis(),
        Some(o) => {
            let b = o.as_bytes();
            if b.len() != 6 || b[3] != b':' {
                return None;
            }
            let hours: i32 = two(&o[1..3])? as i32;
            let minutes: i32 = two(&o[4..6])? as i32;
            if hours > 14 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 3600 + minutes * 60) * if b[0] == b'-' { -1 } else { 1 };
            let offset = FixedOffset::east_opt(seconds)?;
            offset.from_local_datetime(&local).single()?.timestamp_millis()
        }
    };
    Some(TimeRange { low, high: low + unit_ms })
}

fn two(s: &str) -> Option<u32> {
    if s.len() == 2 { digits(s) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> EpochMillis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn check(value: &str, low: &str, high: &str) {
        let range = parse_range(value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(range, TimeRange { low: utc(low), high: utc(high) }, "{value}");
    }

    #[test]
    fn partial_dates_are_whole_amsterdam_periods() {
        check("2024", "2023-12-31T23:00:00Z", "2024-12-31T23:00:00Z");
        check("2024-05", "2024-04-30T22:00:00Z", "2024-05-31T22:00:00Z");
        check("2024-12", "2024-11-30T23:00:00Z", "2024-12-31T23:00:00Z");
        check("2024-03-31", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z");
    }

    #[test]
    fn date_times_keep_their_precision() {
        check("2024-05-03T18:30:00+02:00", "2024-05-03T16:30:00Z", "2024-05-03T16:30:01Z");
        check("2024-05-03T16:30:00Z", "2024-05-03T16:30:00Z", "2024-05-03T16:30:01Z");
        check("2024-05-03T16:30:00.5Z", "2024-05-03T16:30:00.500Z", "2024-05-03T16:30:00.600Z");
        check("2024-05-03T16:30:00.123Z", "2024-05-03T16:30:00.123Z", "2024-05-03T16:30:00.124Z");
        check("2024-01-10T08:00:00-05:00", "2024-01-10T13:00:00Z", "2024-01-10T13:00:01Z");
    }

    #[test]
    fn search_values_without_offset_are_amsterdam_time() {
        check("2024-01-10T08:00", "2024-01-10T07:00:00Z", "2024-01-10T07:01:00Z");
        check("2024-07-10T08:00:00", "2024-07-10T06:00:00Z", "2024-07-10T06:00:01Z");
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "24",
            "2024-13",
            "2024-02-30",
            "2024-1-01",
            "2024-05-03T25:00:00Z",
            "2024-05-03T18:30:00+2:00",
            "2024-05-03 18:30",
            "20240503",
            "2024-05-03Tx",
            "abcd",
            "2024-05-03T18:30:00+15:00",
        ] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn r4_primitive_formats() {
        assert!(is_valid_date("2024-05-03"));
        assert!(!is_valid_date("2024-05-03T10:00:00Z"));
        assert!(is_valid_date_time("2024-05-03T10:00:00+02:00"));
        assert!(is_valid_date_time("2024"));
        assert!(!is_valid_date_time("2024-05-03T10:00"));
        assert!(!is_valid_date_time("2024-05-03T10:00:00"));
        assert!(is_valid_instant("2024-05-03T10:00:00.123Z"));
        assert!(!is_valid_instant("2024-05-03"));
    }

    #[test]
    fn http_dates() {
        assert_eq!(format_http_date(utc("2024-05-03T16:30:00Z")), "Fri, 03 May 2024 16:30:00 GMT");
    }
}
