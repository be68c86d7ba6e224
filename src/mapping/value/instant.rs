//! Instants with an explicit offset (ISO 8601 / RFC 3339 `gewijzigd`, `verzonden`) and epoch milliseconds (MEP `tijd`).

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};

use super::date::checked_time;
use super::error::{Result, TransformError};
use super::lex::match_shape;

/// The accepted range of epoch milliseconds: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (FHIR years).
pub const EPOCH_MILLIS_RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800_000..=253_402_300_799_999;

/// Parses `yyyy-mm-ddThh:mm:ss[.f]` followed by `Z` or `±hh:mm` (e.g. `2026-11-20T09:00:00+01:00`), keeping the offset.
pub fn offset_datetime(value: &str) -> Result<DateTime<FixedOffset>> {
    let malformed = || {
        TransformError::malformed(
            value,
            "a date-time with offset",
            "expected yyyy-mm-ddThh:mm:ss followed by Z or an offset like +01:00, e.g. \"2026-11-20T09:00:00+01:00\"",
        )
    };
    let bytes = value.as_bytes();
    let (head, mut rest) = (bytes.get(..19).ok_or_else(malformed)?, bytes.get(19..).unwrap_or_default());
    let Some(&[year, month, day, hour, minute, second]) = match_shape(head, "yyyy-mm-ddThh:ii:ss").as_deref() else {
        return Err(malformed());
    };
    let mut nano = 0u32;
    if let [b'.', fraction @ ..] = rest {
        let digits = fraction.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return Err(malformed());
        }
        for position in 0..9 {
            let digit = fraction.get(position).filter(|_| position < digits).map_or(0, |byte| u32::from(byte - b'0'));
            nano = nano * 10 + digit;
        }
        rest = fraction.get(digits..).unwrap_or_default();
    }
    let offset_seconds = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), offset @ ..] => {
            let Some(&[hours, minutes]) = match_shape(offset, "hh:ii").as_deref() else {
                return Err(malformed());
            };
            if hours > 23 || minutes > 59 {
                return Err(TransformError::out_of_range(value, "an offset between -23:59 and +23:59"));
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).map_err(|_| malformed())?;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return Err(malformed()),
    };
    let date = super::date::checked_date(value, year, month, day)?;
    let local = date.and_time(checked_time(value, hour, minute, second, nano)?);
    let offset = FixedOffset::east_opt(offset_seconds).ok_or_else(malformed)?;
    offset.from_local_datetime(&local).single().ok_or_else(malformed)
}

/// Converts epoch milliseconds (UTC, e.g. MEP `tijd`) to an instant; values outside [`EPOCH_MILLIS_RANGE`] are an error.
pub fn epoch_millis(millis: i64) -> Result<DateTime<Utc>> {
    let out_of_range = || {
        TransformError::out_of_range(
            &millis.to_string(),
            format!(
                "epoch milliseconds from {} (0001-01-01T00:00:00Z) to {} (9999-12-31T23:59:59.999Z)",
                EPOCH_MILLIS_RANGE.start(),
                EPOCH_MILLIS_RANGE.end()
            ),
        )
    };
    if !EPOCH_MILLIS_RANGE.contains(&millis) {
        return Err(out_of_range());
    }
    DateTime::from_timestamp_millis(millis)
        .filter(|instant| (1..=9999).contains(&instant.year()))
        .ok_or_else(out_of_range)
}

/// Formats an instant as a FHIR `instant` in UTC, e.g. `2024-11-19T07:06:40Z` (fraction only when not zero).
pub fn fhir_instant(instant: &DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::super::dutch_time::fhir_datetime;
    use super::*;

    fn round_trip(value: &str) -> String {
        fhir_datetime(&offset_datetime(value).unwrap())
    }

    #[test]
    fn offsets_are_kept() {
        assert_eq!(round_trip("2026-11-20T09:00:00+01:00"), "2026-11-20T09:00:00+01:00");
        assert_eq!(round_trip("2024-08-23T14:00:00+02:00"), "2024-08-23T14:00:00+02:00");
        assert_eq!(round_trip("2024-08-23T14:00:00-05:30"), "2024-08-23T14:00:00-05:30");
        assert_eq!(round_trip("2024-08-23T14:00:00Z"), "2024-08-23T14:00:00+00:00");
        assert_eq!(round_trip("2024-08-23T14:00:00.5+02:00"), "2024-08-23T14:00:00.500+02:00");
        assert_eq!(round_trip("2024-08-23T14:00:00.123456789Z"), "2024-08-23T14:00:00.123456789+00:00");
        let instant = offset_datetime("2026-11-20T09:00:00+01:00").unwrap();
        assert_eq!(instant.offset().local_minus_utc(), 3600);
        assert_eq!(fhir_instant(&instant.to_utc()), "2026-11-20T08:00:00Z");
    }

    #[test]
    fn offset_datetime_rejects_other_shapes() {
        for value in [
            "",
            "2026-11-20T09:00:00",
            "2026-11-20T09:00+01:00",
            "2026-11-20 09:00:00+01:00",
            "2026-11-20t09:00:00z",
            "2026-11-20T09:00:00+0100",
            "2026-11-20T09:00:00+01",
            "2026-11-20T09:00:00.+01:00",
            "2026-11-20T09:00:00.1234567890Z",
            "2026-11-20T09:00:00Z ",
            "2026-11-20T09:00:00+01:00x",
            "20-11-2026T09:00:00+01:00",
            "2026-11-20T09:00:00€",
        ] {
            assert_error!(
                offset_datetime(value),
                TransformError::Malformed { kind: "a date-time with offset", .. },
                value
            );
        }
    }

    #[test]
    fn offset_datetime_rejects_impossible_values() {
        assert_error!(offset_datetime("2023-02-29T09:00:00Z"), TransformError::InvalidDate { .. }, "2023-02-29");
        assert_error!(offset_datetime("2023-02-28T24:00:00Z"), TransformError::InvalidTime { .. }, "24:00:00");
        assert_error!(offset_datetime("2023-02-28T23:59:60Z"), TransformError::InvalidTime { .. }, "second 60");
        assert_error!(offset_datetime("2023-02-28T10:00:00+24:00"), TransformError::OutOfRange { .. }, "+24:00");
        assert_error!(offset_datetime("2023-02-28T10:00:00+01:60"), TransformError::OutOfRange { .. }, "+01:60");
    }

    #[test]
    fn epoch_millis_to_instant() {
        assert_eq!(fhir_instant(&epoch_millis(1_732_000_000_000).unwrap()), "2024-11-19T07:06:40Z");
        assert_eq!(fhir_instant(&epoch_millis(1_732_000_000_005).unwrap()), "2024-11-19T07:06:40.005Z");
        assert_eq!(fhir_instant(&epoch_millis(0).unwrap()), "1970-01-01T00:00:00Z");
        assert_eq!(fhir_instant(&epoch_millis(-1).unwrap()), "1969-12-31T23:59:59.999Z");
        assert_eq!(fhir_instant(&epoch_millis(*EPOCH_MILLIS_RANGE.end()).unwrap()), "9999-12-31T23:59:59.999Z");
        assert_eq!(fhir_instant(&epoch_millis(*EPOCH_MILLIS_RANGE.start()).unwrap()), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn epoch_millis_out_of_range() {
        for millis in [EPOCH_MILLIS_RANGE.end() + 1, EPOCH_MILLIS_RANGE.start() - 1, i64::MAX, i64::MIN] {
            let text = millis.to_string();
            let err = assert_error!(epoch_millis(millis), TransformError::OutOfRange { .. }, &text);
            assert!(err.to_string().contains("9999-12-31T23:59:59.999Z"), "{err}");
        }
    }
}
