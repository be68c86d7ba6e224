//! Yes/no values (Pluriform `J`/`N`, Caress `true`/`false`) and the "empty means not known" rule.

use super::error::{Result, TransformError};

/// Parses a Pluriform yes/no: exactly `"J"` (true) or `"N"` (false).
pub fn yes_no(value: &str) -> Result<bool> {
    match value {
        "J" => Ok(true),
        "N" => Ok(false),
        _ => Err(TransformError::malformed(value, "a yes/no value", "expected \"J\" or \"N\"")),
    }
}

/// Parses a Caress boolean: exactly `"true"` or `"false"`.
pub fn boolean_word(value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(TransformError::malformed(value, "a boolean", "expected \"true\" or \"false\"")),
    }
}

/// Returns `None` for an empty or whitespace-only value ("not known"), the value unchanged otherwise.
pub fn present(value: &str) -> Option<&str> {
    if value.trim().is_empty() { None } else { Some(value) }
}

/// Like [`present`], for a value that may also be absent or `null`.
pub fn present_opt(value: Option<&str>) -> Option<&str> {
    value.and_then(present)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pluriform_yes_no() {
        assert!(yes_no("J").unwrap());
        assert!(!yes_no("N").unwrap());
        for value in ["j", "n", "Ja", "Nee", "Y", "true", "", " J", "J ", "1", "0"] {
            let err = assert_error!(yes_no(value), TransformError::Malformed { kind: "a yes/no value", .. }, value);
            assert!(err.to_string().ends_with("expected \"J\" or \"N\""), "{err}");
        }
    }

    #[test]
    fn caress_boolean() {
        assert!(boolean_word("true").unwrap());
        assert!(!boolean_word("false").unwrap());
        for value in ["True", "FALSE", "1", "0", "J", "", "yes", " true"] {
            assert_error!(boolean_word(value), TransformError::Malformed { kind: "a boolean", .. }, value);
        }
    }

    #[test]
    fn empty_means_not_known() {
        assert_eq!(present(""), None);
        assert_eq!(present("   "), None);
        assert_eq!(present("\t\n"), None);
        assert_eq!(present("J"), Some("J"));
        assert_eq!(present(" 19-07-1995 "), Some(" 19-07-1995 "));
        assert_eq!(present_opt(None), None);
        assert_eq!(present_opt(Some("")), None);
        assert_eq!(present_opt(Some("x")), Some("x"));
    }
}
