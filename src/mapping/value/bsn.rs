//! BSN (burgerservicenummer, the Dutch citizen service number) with the 11-check (elfproef).

use super::error::{Result, TransformError, shown};

/// Checks a BSN: exactly 9 ASCII digits, not all zero, passing the 11-check
/// ([`crate::fhir::bsn`]); returns it unchanged.
pub fn bsn(value: &str) -> Result<String> {
    crate::fhir::bsn::check(value).map_err(|reason| TransformError::InvalidBsn { value: shown(value), reason })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_test_numbers() {
        for value in ["999911120", "999990019", "999911132", "999928107", "999979255", "999954222", "111222333"] {
            assert_eq!(bsn(value).unwrap(), value);
        }
    }

    #[test]
    fn failing_11_check() {
        let err = assert_error!(bsn("999911121"), TransformError::InvalidBsn { .. }, "999911121");
        assert_eq!(
            err.to_string(),
            "\"999911121\" is not a valid BSN: it fails the 11-check (elfproef): the weighted sum 285 is not a multiple of 11"
        );
        assert_error!(bsn("123456789"), TransformError::InvalidBsn { .. }, "123456789");
    }

    #[test]
    fn wrong_shapes() {
        let err = assert_error!(bsn("99991112"), TransformError::InvalidBsn { .. }, "99991112");
        assert!(err.to_string().ends_with("expected 9 digits, found 8"), "{err}");
        assert_error!(bsn("9999111200"), TransformError::InvalidBsn { .. }, "found 10");
        assert_error!(bsn(""), TransformError::InvalidBsn { .. }, "found 0");
        for value in ["9999 11 120", "99991112O", " 999911120", "999.911.120", "-99911120", "９99911120"] {
            let err = assert_error!(bsn(value), TransformError::InvalidBsn { .. }, value);
            assert!(err.to_string().ends_with("expected 9 digits and nothing else"), "{err}");
        }
        let err = assert_error!(bsn("000000000"), TransformError::InvalidBsn { .. }, "000000000");
        assert!(err.to_string().ends_with("all digits are zero"), "{err}");
    }
}
