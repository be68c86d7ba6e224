//! The single error type of this crate: every message names the offending value and says what was expected.

use thiserror::Error;

/// Result type of every transform in this crate.
pub type Result<T> = std::result::Result<T, TransformError>;

/// How many characters of an offending value an error repeats (longer values are cut and end in `…`).
const SHOWN_CHARS: usize = 80;

/// Copies `value` for an error message, cut to [`SHOWN_CHARS`] characters (char-aware).
pub(crate) fn shown(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(SHOWN_CHARS).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// Why a vendor value could not be transformed. Values are shown in quotes, with Rust string escapes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransformError {
    /// The value does not have the expected shape (wrong separators, letters where digits belong, junk).
    #[error("{value:?} is not {kind}: {reason}")]
    Malformed { value: String, kind: &'static str, reason: String },

    /// The value has the shape of a date, but the date does not exist (31 February, month 13, ISO week 53 of 2021).
    #[error("{value:?} is not a date: {reason}")]
    InvalidDate { value: String, reason: String },

    /// The value has the shape of a time, but the time of day does not exist (24:00, 12:60).
    #[error("{value:?} is not a time of day: {reason}")]
    InvalidTime { value: String, reason: String },

    /// A local time in the spring-forward gap of Europe/Amsterdam.
    #[error("{value:?} does not exist in Europe/Amsterdam: {reason}")]
    NonexistentLocalTime { value: String, reason: String },

    /// A weekday written next to a date is not the weekday of that date.
    #[error("{value:?}: weekday {weekday:?} does not match {date}, which is a {actual}")]
    WeekdayMismatch { value: String, weekday: String, date: String, actual: &'static str },

    /// A mapping names a date pattern this crate does not support.
    #[error("unknown date pattern {pattern:?}: expected one of yyyyMMdd, dd-MM-yyyy, yyyy-MM-dd, dd-MM-yy, YYYY-Www-D")]
    UnknownDatePattern { pattern: String },

    /// A well-formed number or instant outside the accepted range.
    #[error("{value:?} is out of range: expected {expected}")]
    OutOfRange { value: String, expected: String },

    /// A number whose meaning depends on whether a dot is a thousands separator or a decimal point.
    #[error(
        "{value:?} is ambiguous: a dot may be a thousands separator or a decimal point; expected a decimal comma, e.g. \"56,0\""
    )]
    AmbiguousDecimal { value: String },

    /// One side of a period is not valid; `source` says why.
    #[error("{value:?} is not a period: its {part} {source}")]
    PeriodPart { value: String, part: &'static str, source: Box<TransformError> },

    /// A period that ends before it starts.
    #[error("{value:?} is not a period: its end {end} is before its start {start}")]
    PeriodReversed { value: String, start: String, end: String },

    /// A BSN (Dutch citizen service number) that is not 9 digits or fails the 11-check.
    #[error("{value:?} is not a valid BSN: {reason}")]
    InvalidBsn { value: String, reason: String },

    /// An entry of a weekday list that is not a Dutch weekday abbreviation.
    #[error("{token:?} in {value:?} is not a weekday: expected ma, di, wo, do, vr, za or zo")]
    UnknownWeekday { value: String, token: String },
}

impl TransformError {
    /// Builds a [`TransformError::Malformed`].
    pub(crate) fn malformed(value: &str, kind: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed { value: shown(value), kind, reason: reason.into() }
    }

    /// Builds a [`TransformError::InvalidDate`].
    pub(crate) fn invalid_date(value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidDate { value: shown(value), reason: reason.into() }
    }

    /// Builds a [`TransformError::InvalidTime`].
    pub(crate) fn invalid_time(value: &str, reason: impl Into<String>) -> Self {
        Self::InvalidTime { value: shown(value), reason: reason.into() }
    }

    /// Builds a [`TransformError::OutOfRange`].
    pub(crate) fn out_of_range(value: &str, expected: impl Into<String>) -> Self {
        Self::OutOfRange { value: shown(value), expected: expected.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_keeps_short_values_and_cuts_long_ones_on_char_boundaries() {
        assert_eq!(shown("19-07-1995"), "19-07-1995");
        let long: String = "é".repeat(100);
        let cut = shown(&long);
        assert_eq!(cut.chars().count(), SHOWN_CHARS + 1);
        assert!(cut.ends_with("é…"));
    }

    #[test]
    fn messages_quote_and_escape_the_value() {
        let err = TransformError::malformed("a\"b\n", "a date", "expected dd-mm-yyyy");
        assert_eq!(err.to_string(), "\"a\\\"b\\n\" is not a date: expected dd-mm-yyyy");
        let err = TransformError::invalid_date("31-02-2024", "February 2024 has 29 days");
        assert_eq!(err.to_string(), "\"31-02-2024\" is not a date: February 2024 has 29 days");
    }

    #[test]
    fn period_part_message_nests_the_cause() {
        let err = TransformError::PeriodPart {
            value: "31-02-2024 t/m 01-03-2024".into(),
            part: "start",
            source: Box::new(TransformError::invalid_date("31-02-2024", "February 2024 has 29 days")),
        };
        assert_eq!(
            err.to_string(),
            "\"31-02-2024 t/m 01-03-2024\" is not a period: its start \"31-02-2024\" is not a date: February 2024 has 29 days"
        );
    }
}
