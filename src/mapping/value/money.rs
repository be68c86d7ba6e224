//! Money: `3.578,54 €` (thousands dots, decimal comma, euro sign) to a FHIR `Money` value and currency.

use super::error::{Result, TransformError};
use super::lex::is_digits;
use super::number::{canonical_decimal, split_sign};

/// An amount as FHIR `Money`: `value` in FHIR decimal text (e.g. `"3578.54"`) and an ISO 4217 `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// The amount in FHIR decimal lexical form.
    pub value: String,
    /// The ISO 4217 currency code (always `EUR` for these vendors).
    pub currency: &'static str,
}

/// Parses a euro amount: `3.578,54 €`, `€ 3.578,54`, `3578,54 €`, `-12,50 €`; always with a comma and two cents digits.
pub fn money(value: &str) -> Result<Money> {
    const KIND: &str = "an amount of money";
    let amount = if let Some(rest) = value.strip_suffix('€') {
        rest.strip_suffix(' ').unwrap_or(rest)
    } else if let Some(rest) = value.strip_prefix('€') {
        rest.strip_prefix(' ').unwrap_or(rest)
    } else {
        return Err(TransformError::malformed(value, KIND, "expected an amount with a euro sign, e.g. \"3.578,54 €\""));
    };
    let (negative, body) = split_sign(amount);
    let shape = || {
        TransformError::malformed(
            value,
            KIND,
            "expected euros with a decimal comma and two cents digits, e.g. \"3.578,54 €\" or \"€ 3578,54\"",
        )
    };
    let (euros, cents) = body.split_once(',').ok_or_else(shape)?;
    if cents.len() != 2 || !is_digits(cents) {
        return Err(shape());
    }
    let euros = if euros.contains('.') {
        grouped_digits(euros).ok_or_else(|| {
            TransformError::malformed(
                value,
                KIND,
                "thousands must be separated by dots in groups of three digits, e.g. \"1.234.567,89 €\"",
            )
        })?
    } else if is_digits(euros) {
        euros.to_string()
    } else {
        return Err(shape());
    };
    Ok(Money { value: canonical_decimal(value, negative, &euros, Some(cents))?, currency: "EUR" })
}

/// Removes thousands dots from `1.234.567`: a first group of 1 to 3 digits not starting with 0, then groups of 3.
fn grouped_digits(text: &str) -> Option<String> {
    let mut groups = text.split('.');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !is_digits(first) || first.starts_with('0') {
        return None;
    }
    let mut digits = first.to_string();
    for group in groups {
        if group.len() != 3 || !is_digits(group) {
            return None;
        }
        digits.push_str(group);
    }
    Some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euros(value: &str) -> String {
        let money = money(value).unwrap();
        assert_eq!(money.currency, "EUR");
        money.value
    }

    #[test]
    fn contract_and_sample_amounts() {
        assert_eq!(euros("3.578,54 €"), "3578.54");
        assert_eq!(euros("6.765,98 €"), "6765.98");
        assert_eq!(euros("4.726,26 €"), "4726.26");
    }

    #[test]
    fn accepted_variants() {
        assert_eq!(euros("€ 3.578,54"), "3578.54");
        assert_eq!(euros("3578,54 €"), "3578.54");
        assert_eq!(euros("€ 3578,54"), "3578.54");
        assert_eq!(euros("3.578,54€"), "3578.54");
        assert_eq!(euros("€3.578,54"), "3578.54");
        assert_eq!(euros("1.234.567,89 €"), "1234567.89");
        assert_eq!(euros("0,50 €"), "0.50");
        assert_eq!(euros("12,00 €"), "12.00");
        assert_eq!(euros("-3.578,54 €"), "-3578.54");
        assert_eq!(euros("€ -12,50"), "-12.50");
        assert_eq!(euros("-0,00 €"), "0.00");
        assert_eq!(euros("999,99 €"), "999.99");
    }

    #[test]
    fn thousands_groups_must_be_three_digits() {
        for value in
            ["3.57,54 €", "35.78.54,00 €", "3.5780,54 €", "1234.567,89 €", "0.578,54 €", ".578,54 €", "3..578,54 €"]
        {
            let err = assert_error!(money(value), TransformError::Malformed { kind: "an amount of money", .. }, value);
            assert!(err.to_string().contains("groups of three digits"), "{err}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        for value in [
            "",
            "€",
            "3.578,54",
            "3578.54 €",
            "3578 €",
            "3.578 €",
            "3578,5 €",
            "3578,543 €",
            "3578,54  €",
            "€  3578,54",
            "€ 3578,54 €",
            "EUR 3578,54",
            "3578,54 EUR",
            "$ 3578,54",
            "+3578,54 €",
            "3 578,54 €",
            "drie euro €",
            " 3578,54 €",
        ] {
            assert_error!(money(value), TransformError::Malformed { kind: "an amount of money", .. }, value.trim());
        }
    }
}
