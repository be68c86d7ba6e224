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
