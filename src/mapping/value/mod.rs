//! Value transforms: Dutch ECD vendor export values (Pluriform, Caress, MijnEigenPlan) to FHIR R4 values. Pure
//! functions: no I/O, no panics (clippy denies unwrap, expect, panic and indexing here); every parser returns
//! [`Result`] with a [`TransformError`] that names the offending value and says what was expected.
//!
//! Decisions where the vendor contracts are silent:
//! - Shapes are strict: no trimming, no extra or repeated spaces, two-digit day/month/hour/minute everywhere the
//!   contract writes them so (only the measurement-time day may have one or two digits). Use [`present`] first for
//!   the "empty means not known" rule.
//! - Case is ignored only in Dutch name tokens (measurement-time weekday/month, `herhaling` days); `J`/`N` and
//!   `true`/`false` are exact.
//! - Two-digit years (Caress, `dd-MM-yy`) mean 20yy. Years must be 0001..=9999 (FHIR).
//! - Decimals: a dot is refused (it may be a thousands separator); leading zeros are dropped, `-0` becomes `0`,
//!   the fraction is kept exactly. Money needs a euro sign (before or after, at most one space) and `,dd` cents;
//!   a leading minus is allowed (credit invoices).
//! - Periods need both ends; the end may equal the start. `herhaling` duplicates are listed once, in week order.
//! - Offset date-times need seconds and `Z` or `±hh:mm`; `Z` is kept as `+00:00`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::string_slice)]

#[cfg(test)]
macro_rules! assert_error {
    ($result:expr, $pattern:pat, $needle:expr) => {{
        let error = match $result {
            Ok(value) => panic!("expected an error, got {value:?}"),
            Err(error) => error,
        };
        assert!(matches!(error, $pattern), "unexpected error variant: {error:?}");
        let message = error.to_string();
        assert!(message.contains($needle), "message {message:?} does not contain {:?}", $needle);
        error
    }};
}

mod bsn;
mod date;
mod date_pattern;
mod dutch_time;
mod error;
mod instant;
mod lex;
mod measurement_time;
mod money;
mod number;
mod period;
mod weekdays;
mod yes_no;

#[cfg(test)]
mod robustness_tests;

pub use bsn::bsn;
pub use date::{dutch_date, fhir_date, iso_date};
pub use date_pattern::{DatePattern, check_date_pattern, date_with_pattern, iso_weeks_in_year};
pub use dutch_time::{amsterdam_local, caress_local, fhir_datetime, mep_local, resolve_amsterdam};
pub use error::{Result, TransformError};
pub use instant::{EPOCH_MILLIS_RANGE, epoch_millis, fhir_instant, offset_datetime};
pub use measurement_time::measurement_time;
pub use money::{Money, money};
pub use number::{MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, blood_pressure, decimal_comma, integer, integer_in_range};
pub use period::{DatePeriod, InstantPeriod, caress_agenda_period, date_period, whole_day_period};
pub use weekdays::{fhir_day_of_week, herhaling, herhaling_codes};
pub use yes_no::{boolean_word, present, present_opt, yes_no};
