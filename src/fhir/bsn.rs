//! The BSN (burgerservicenummer, the Dutch citizen service number) and its
//! 11-check (elfproef): used by the mapping (`mapping::value::bsn`) and the
//! profile validator. Reasons never show the number.

/// The identifier system of the BSN (nl-core).
pub const SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";

/// Checks a BSN: exactly 9 ASCII digits, not all zero, passing the 11-check.
pub fn check(value: &str) -> Result<(), String> {
    if !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("expected 9 digits and nothing else".into());
    }
    if value.len() != 9 {
        return Err(format!("expected 9 digits, found {}", value.len()));
    }
    if value.bytes().all(|byte| byte == b'0') {
        return Err("all digits are zero".into());
    }
    let checksum: i64 =
        value.bytes().zip([9, 8, 7, 6, 5, 4, 3, 2, -1]).map(|(byte, weight)| i64::from(byte - b'0') * weight).sum();
    if checksum.rem_euclid(11) != 0 {
        return Err(format!("it fails the 11-check (elfproef): the weighted sum {checksum} is not a multiple of 11"));
    }
    Ok(())
}

/// Whether `text` may hold a BSN: it names the BSN system, or one of its
/// runs of ASCII digits is exactly 9 long and passes the 11-check. For
/// what must never carry one (generated links, log lines): a search value
/// (`999911120`, `system|999911120`, an OR list `a,999911120`, a reference
/// `Patient/999911120`), a path segment.
pub fn holds_bsn(text: &str) -> bool {
    text.contains(SYSTEM) || text.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 9 && check(run).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_may_hold_a_bsn() {
        for text in [
            "999911120",
            "http://fhir.nl/fhir/NamingSystem/bsn|999911120",
            "|999911120",
            "urn:other|999911120",
            "abc,999911120",
            "999911120,abc",
            "abc\\,x,999911120",
            "Patient/999911120",
            "eq999911120",
            "http://fhir.nl/fhir/NamingSystem/bsn|",
            "/demo/fhir/Patient/999911120/_history/1",
        ] {
            assert!(holds_bsn(text), "{text}");
        }
        for text in [
            "",
            "999911121",
            "99991112",
            "9999111200",
            "1999911120",
            "000000000",
            "R-300000-1",
            "https://zorgpoort.nl/fhir/NamingSystem/demo/pluriform/client|300000",
            "2024-01-01T10:00:00+01:00",
            "９99911120",
        ] {
            assert!(!holds_bsn(text), "{text}");
        }
    }
}
