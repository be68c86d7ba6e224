//! Numbers: Dutch decimal-comma decimals kept exact as FHIR `decimal` text, integers with range checks, blood pressure.

use std::ops::RangeInclusive;

use super::error::{Result, TransformError};
use super::lex::is_digits;

/// Most digits accepted before the decimal separator (FHIR R5's limit, which R4 accepts too).
pub const MAX_INTEGER_DIGITS: usize = 18;
/// Most digits accepted after the decimal separator.
pub const MAX_FRACTION_DIGITS: usize = 17;

/// Converts a decimal-comma number (`"56,0"`, `"56"`, `"-0,50"`) to FHIR decimal text (`"56.0"`), keeping its precision.
pub fn decimal_comma(value: &str) -> Result<String> {
    const KIND: &str = "a decimal number";
    let (negative, body) = split_sign(value);
    if body.contains('.') {
        return Err(if body.contains(',') {
            TransformError::malformed(value, KIND, "thousands separators are not used in decimals, e.g. \"1234,5\"")
        } else {
            TransformError::AmbiguousDecimal { value: super::error::shown(value) }
        });
    }
    let (integer_part, fraction) = match body.split_once(',') {
        Some((integer_part, fraction)) => (integer_part, Some(fraction)),
        None => (body, None),
    };
    if !is_digits(integer_part) || fraction.is_some_and(|fraction| !is_digits(fraction)) {
        return Err(TransformError::malformed(
            value,
            KIND,
            "expected digits with an optional decimal comma and an optional leading minus, e.g. \"56,0\" or \"-1,5\"",
        ));
    }
    canonical_decimal(value, negative, integer_part, fraction)
}

/// Joins checked digit strings into FHIR decimal text: leading zeros dropped, `-0` written as `0`, fraction kept.
pub(crate) fn canonical_decimal(value: &str, negative: bool, integer: &str, fraction: Option<&str>) -> Result<String> {
    let trimmed = integer.trim_start_matches('0');
    let integer = if trimmed.is_empty() { "0" } else { trimmed };
    if integer.len() > MAX_INTEGER_DIGITS || fraction.is_some_and(|fraction| fraction.len() > MAX_FRACTION_DIGITS) {
        return Err(TransformError::out_of_range(
            value,
            format!("at most {MAX_INTEGER_DIGITS} digits before and {MAX_FRACTION_DIGITS} after the decimal comma"),
        ));
    }
    let is_zero = integer == "0" && fraction.is_none_or(|fraction| fraction.bytes().all(|byte| byte == b'0'));
    let mut text = String::with_capacity(integer.len() + fraction.map_or(0, str::len) + 2);
    if negative && !is_zero {
        text.push('-');
    }
    text.push_str(integer);
    if let Some(fraction) = fraction {
        text.push('.');
        text.push_str(fraction);
    }
    Ok(text)
}

/// Splits an optional leading minus from the rest.
pub(crate) fn split_sign(value: &str) -> (bool, &str) {
    match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    }
}

/// Parses a whole number (`"72"`, `"-3"`; no plus sign, separators or spaces).
pub fn integer(value: &str) -> Result<i64> {
    let (_, digits) = split_sign(value);
    if !is_digits(digits) {
        return Err(TransformError::malformed(
            value,
            "a whole number",
            "expected digits with an optional leading minus, e.g. \"72\"",
        ));
    }
    value
        .parse::<i64>()
        .map_err(|_| TransformError::out_of_range(value, format!("a whole number from {} to {}", i64::MIN, i64::MAX)))
}

/// Parses a whole number that must lie in `range` (e.g. a pain score in `0..=10`).
pub fn integer_in_range(value: &str, range: RangeInclusive<i64>) -> Result<i64> {
    let number = integer(value)?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(TransformError::out_of_range(value, format!("a whole number from {} to {}", range.start(), range.end())))
    }
}

/// Parses a blood pressure `"systolisch/diastolisch"` (e.g. `"128/84"`) into two non-negative whole numbers.
pub fn blood_pressure(value: &str) -> Result<(i64, i64)> {
    let malformed =
        || TransformError::malformed(value, "a blood pressure", "expected systolic/diastolic, e.g. \"128/84\"");
    let (systolic, diastolic) = value.split_once('/').ok_or_else(malformed)?;
    if !is_digits(systolic) || !is_digits(diastolic) {
        return Err(malformed());
    }
    let range = 0..=999;
    let systolic = integer_in_range(systolic, range.clone()).map_err(|_| malformed())?;
    let diastolic = integer_in_range(diastolic, range).map_err(|_| malformed())?;
    Ok((systolic, diastolic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_comma_keeps_precision() {
        assert_eq!(decimal_comma("56,0").unwrap(), "56.0");
        assert_eq!(decimal_comma("0,50").unwrap(), "0.50");
        assert_eq!(decimal_comma("56").unwrap(), "56");
        assert_eq!(decimal_comma("167,8").unwrap(), "167.8");
        assert_eq!(decimal_comma("6,3").unwrap(), "6.3");
        assert_eq!(decimal_comma("40,000").unwrap(), "40.000");
        assert_eq!(decimal_comma("-1,5").unwrap(), "-1.5");
        assert_eq!(decimal_comma("-12").unwrap(), "-12");
        assert_eq!(decimal_comma("0").unwrap(), "0");
        assert_eq!(decimal_comma("056,0").unwrap(), "56.0");
        assert_eq!(decimal_comma("000,25").unwrap(), "0.25");
        assert_eq!(decimal_comma("-0,00").unwrap(), "0.00");
        assert_eq!(decimal_comma("-0").unwrap(), "0");
        assert_eq!(
            decimal_comma("123456789012345678,12345678901234567").unwrap(),
            "123456789012345678.12345678901234567"
        );
    }

    #[test]
    fn decimal_with_a_dot_is_rejected() {
        for value in ["56.0", "1.234", "-0.5", ".5"] {
            let err = assert_error!(decimal_comma(value), TransformError::AmbiguousDecimal { .. }, value);
            assert!(err.to_string().contains("thousands separator or a decimal point"), "{err}");
        }
        assert_error!(decimal_comma("1.234,5"), TransformError::Malformed { .. }, "1.234,5");
    }

    #[test]
    fn decimal_comma_rejects_garbage() {
        for value in
            ["", "-", ",5", "5,", "5,,0", "5,0,0", "+5", " 5", "5 ", "1 234,5", "5e3", "abc", "١٢", "--5", "5-"]
        {
            assert_error!(decimal_comma(value), TransformError::Malformed { kind: "a decimal number", .. }, value);
        }
        assert_error!(decimal_comma("1234567890123456789"), TransformError::OutOfRange { .. }, "1234567890123456789");
        assert_error!(decimal_comma("1,123456789012345678"), TransformError::OutOfRange { .. }, "1,123456789012345678");
    }

    #[test]
    fn integers() {
        assert_eq!(integer("72").unwrap(), 72);
        assert_eq!(integer("0").unwrap(), 0);
        assert_eq!(integer("-3").unwrap(), -3);
        assert_eq!(integer("007").unwrap(), 7);
        assert_eq!(integer("9223372036854775807").unwrap(), i64::MAX);
        for value in ["", "-", "+7", "7,0", "7.0", " 7", "7 ", "seven", "٧"] {
            assert_error!(integer(value), TransformError::Malformed { kind: "a whole number", .. }, value);
        }
        assert_error!(integer("9223372036854775808"), TransformError::OutOfRange { .. }, "9223372036854775808");
    }

    #[test]
    fn integer_ranges() {
        assert_eq!(integer_in_range("0", 0..=10).unwrap(), 0);
        assert_eq!(integer_in_range("10", 0..=10).unwrap(), 10);
        let err = assert_error!(integer_in_range("11", 0..=10), TransformError::OutOfRange { .. }, "11");
        assert_eq!(err.to_string(), "\"11\" is out of range: expected a whole number from 0 to 10");
        assert_error!(integer_in_range("-1", 0..=10), TransformError::OutOfRange { .. }, "-1");
        assert_error!(integer_in_range("x", 0..=10), TransformError::Malformed { .. }, "x");
    }

    #[test]
    fn blood_pressures() {
        assert_eq!(blood_pressure("128/84").unwrap(), (128, 84));
        assert_eq!(blood_pressure("108/66").unwrap(), (108, 66));
        for value in ["128", "128/", "/84", "128/84/1", "128 / 84", "-128/84", "1280/84", "12,8/84"] {
            assert_error!(blood_pressure(value), TransformError::Malformed { kind: "a blood pressure", .. }, value);
        }
    }
}
