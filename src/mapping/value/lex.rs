//! Lexical helpers shared by the parsers: fixed-shape digit matching and English names for error messages.

use chrono::{Datelike, NaiveDate, Weekday};

/// Matches `value` against `shape`: each lowercase ASCII letter of `shape` stands for one ASCII digit, any other
/// character must appear literally. Returns the number in each run of one letter, in order (`None` if no match).
pub(crate) fn match_shape(value: &[u8], shape: &str) -> Option<Vec<u32>> {
    let shape = shape.as_bytes();
    if value.len() != shape.len() {
        return None;
    }
    let mut numbers: Vec<u32> = Vec::new();
    let mut previous: Option<u8> = None;
    for (&byte, &slot) in value.iter().zip(shape) {
        if slot.is_ascii_lowercase() {
            let digit = ascii_digit(byte)?;
            match numbers.last_mut() {
                Some(last) if previous == Some(slot) => *last = last.checked_mul(10)?.checked_add(digit)?,
                _ => numbers.push(digit),
            }
            previous = Some(slot);
        } else {
            if byte != slot {
                return None;
            }
            previous = None;
        }
    }
    Some(numbers)
}

/// The value of one ASCII digit.
fn ascii_digit(byte: u8) -> Option<u32> {
    byte.is_ascii_digit().then(|| u32::from(byte - b'0'))
}

/// Parses a run of 1 to 9 ASCII digits (nothing else) into a number.
pub(crate) fn small_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 {
        return None;
    }
    text.bytes().try_fold(0u32, |acc, byte| acc.checked_mul(10)?.checked_add(ascii_digit(byte)?))
}

/// True when `text` is one or more ASCII digits and nothing else.
pub(crate) fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The English name of month 1..=12 (for messages).
pub(crate) fn month_name(month: u32) -> &'static str {
    match month {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        12 => "December",
        _ => "(no such month)",
    }
}

/// The English name of a weekday (for messages).
pub(crate) fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// A date written out for messages, e.g. `3 May 2023`.
pub(crate) fn long_date(date: NaiveDate) -> String {
    format!("{} {} {}", date.day(), month_name(date.month()), date.year())
}

/// True for a Gregorian leap year.
pub(crate) fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`; 0 for a month that does not exist.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_shape_returns_each_digit_run() {
        assert_eq!(match_shape(b"19-07-1995", "dd-mm-yyyy"), Some(vec![19, 7, 1995]));
        assert_eq!(match_shape(b"20240308", "yyyymmdd"), Some(vec![2024, 3, 8]));
        assert_eq!(match_shape(b"2024-W10-5", "yyyy-Www-e"), Some(vec![2024, 10, 5]));
    }

    #[test]
    fn match_shape_rejects_wrong_length_literals_and_non_digits() {
        assert_eq!(match_shape(b"9-07-1995", "dd-mm-yyyy"), None);
        assert_eq!(match_shape(b"19/07/1995", "dd-mm-yyyy"), None);
        assert_eq!(match_shape(b"1a-07-1995", "dd-mm-yyyy"), None);
        assert_eq!(match_shape("19-07-199٥".as_bytes(), "dd-mm-yyyy"), None);
        assert_eq!(match_shape(b"", "dd"), None);
    }

    #[test]
    fn small_number_accepts_only_plain_digits() {
        assert_eq!(small_number("07"), Some(7));
        assert_eq!(small_number("123456789"), Some(123_456_789));
        assert_eq!(small_number("1234567890"), None);
        assert_eq!(small_number(""), None);
        assert_eq!(small_number("+1"), None);
        assert_eq!(small_number("1 "), None);
    }

    #[test]
    fn calendar_helpers() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2024, 4), 30);
        assert_eq!(days_in_month(2024, 13), 0);
        assert_eq!(long_date(NaiveDate::from_ymd_opt(2023, 5, 3).unwrap()), "3 May 2023");
        assert_eq!(weekday_name(Weekday::Wed), "Wednesday");
        assert!(is_digits("0123") && !is_digits("") && !is_digits("12a"));
    }
}
