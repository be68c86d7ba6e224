//! The code bindings of base R4 (`r4_codes.txt`, derived from the official
//! R4 definitions by `tests/it/r4_codes.rs`, which fails when they differ):
//! for each element of the element table that R4 binds to a required value
//! set, or limits to a maximum value set, the codes it may hold. Three code
//! systems cannot be listed and are checked by their grammar instead: media
//! types (BCP 13), language tags (BCP 47) and currencies (ISO 4217).
//!
//! A line of the table: `Definition.element strength value-set codes...`,
//! where the strength is `required` or `maximum` and the codes are listed,
//! or are one of `@bcp13`, `@bcp47` and `@iso4217`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How strongly R4 binds an element to its value set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A required binding: the code comes from the value set.
    Required,
    /// A maximum value set (`elementdefinition-maxValueSet`) on a weaker
    /// binding: the code may come from no other.
    Maximum,
}

/// A code system that cannot be listed, checked by its grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    /// BCP 13 (RFC 6838): `type/subtype`, with parameters (`; charset=utf-8`).
    MediaType,
    /// BCP 47 (RFC 5646): `nl`, `nl-NL`, `zh-Hant-TW`.
    Language,
    /// ISO 4217: three capital letters (`EUR`).
    Currency,
}

impl Grammar {
    /// The system of codings whose codes this grammar checks, where the
    /// binding is on a CodeableConcept.
    pub fn system(self) -> &'static str {
        match self {
            Grammar::MediaType => "urn:ietf:bcp:13",
            Grammar::Language => "urn:ietf:bcp:47",
            Grammar::Currency => "urn:iso:std:iso:4217",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Grammar::MediaType => "a BCP 13 media type",
            Grammar::Language => "a BCP 47 language tag",
            Grammar::Currency => "an ISO 4217 currency code",
        }
    }

    fn admits(self, code: &str) -> bool {
        match self {
            Grammar::MediaType => media_type(code),
            Grammar::Language => language_tag(code),
            Grammar::Currency => code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
        }
    }
}

/// The codes an element may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codes {
    /// Sorted, for a binary search.
    Listed(Vec<&'static str>),
    Grammar(Grammar),
}

/// The binding of one element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub strength: Strength,
    pub value_set: &'static str,
    pub codes: Codes,
}

impl Binding {
    /// Whether `code` is one the binding allows; the error names the value set.
    pub fn check(&self, code: &str) -> Result<(), String> {
        let (ok, what) = match &self.codes {
            Codes::Listed(codes) => (codes.binary_search(&code).is_ok(), String::new()),
            Codes::Grammar(grammar) => (grammar.admits(code), format!("{}: not ", grammar.what())),
        };
        if ok {
            return Ok(());
        }
        let strength = match self.strength {
            Strength::Required => "required binding",
            Strength::Maximum => "maximum value set",
        };
        let shown: String = code.chars().take(40).collect();
        Err(format!("{shown:?} is not {what}in the value set {} ({strength})", self.value_set))
    }
}

/// `Definition` → `element` → its binding.
#[derive(Debug)]
pub struct CodeTable(HashMap<&'static str, HashMap<&'static str, Binding>>);

impl CodeTable {
    /// The table of R4, embedded in the binary.
    pub fn r4() -> &'static CodeTable {
        static TABLE: OnceLock<CodeTable> = OnceLock::new();
        TABLE.get_or_init(|| CodeTable::parse(include_str!("r4_codes.txt")))
    }

    /// Reads the table; a malformed line is a bug of the build (the tests
    /// read the embedded table), so it panics naming the line.
    fn parse(text: &'static str) -> CodeTable {
        let mut map: HashMap<&'static str, HashMap<&'static str, Binding>> = HashMap::new();
        for line in text.lines() {
            let mut words = line.split(' ');
            let (Some(path), Some(strength), Some(value_set)) = (words.next(), words.next(), words.next()) else {
                panic!("r4_codes.txt: a line without path, strength and value set: {line:?}");
            };
            let (definition, element) = path.split_once('.').unwrap_or_else(|| panic!("r4_codes.txt: {line:?}"));
            let strength = match strength {
                "required" => Strength::Required,
                "maximum" => Strength::Maximum,
                other => panic!("r4_codes.txt: unknown strength {other:?}"),
            };
            let listed: Vec<&'static str> = words.collect();
            let codes = match listed.as_slice() {
                ["@bcp13"] => Codes::Grammar(Grammar::MediaType),
                ["@bcp47"] => Codes::Grammar(Grammar::Language),
                ["@iso4217"] => Codes::Grammar(Grammar::Currency),
                _ => {
                    let mut listed = listed;
                    listed.sort_unstable();
                    Codes::Listed(listed)
                }
            };
            map.entry(definition).or_default().insert(element, Binding { strength, value_set, codes });
        }
        CodeTable(map)
    }

    /// The binding of `element` in `definition`, when R4 binds it.
    pub fn get(&self, definition: &str, element: &str) -> Option<&Binding> {
        self.0.get(definition)?.get(element)
    }

    /// Every bound element: `(Definition, element, binding)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str, &Binding)> {
        self.0.iter().flat_map(|(d, elements)| elements.iter().map(|(e, b)| (*d, *e, b)))
    }
}

/// RFC 6838 `restricted-name`: 1 to 127 characters, a letter or digit first.
fn restricted_name(name: &str) -> bool {
    (1..=127).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

/// RFC 2045 `token`: printable ASCII without spaces and `tspecials`.
fn mime_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// `type/subtype` and parameters (`; charset=utf-8`, values a token or a
/// quoted string), as RFC 6838 and RFC 2045 have them.
fn media_type(text: &str) -> bool {
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default();
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    restricted_name(kind)
        && restricted_name(subtype)
        && parts.all(|parameter| {
            let Some((attribute, value)) = parameter.trim_start_matches([' ', '\t']).split_once('=') else {
                return false;
            };
            let quoted = value.len() >= 2 && value.starts_with('"') && value.ends_with('"');
            mime_token(attribute) && (mime_token(value) || quoted)
        })
}

/// RFC 5646 §2.1 irregular grandfathered tags, which follow no rule.
const IRREGULAR: [&str; 17] = [
    "en-gb-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-be-fr",
    "sgn-be-nl",
    "sgn-ch-de",
];

/// An RFC 5646 `Language-Tag`: `langtag`, private use or grandfathered.
fn language_tag(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if IRREGULAR.contains(&lower.as_str()) {
        return true;
    }
    let subtags: Vec<&str> = lower.split('-').collect();
    if !subtags.iter().all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return false;
    }
    let alpha = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mut rest = subtags.as_slice();
    match rest {
        ["x", private @ ..] => return !private.is_empty(),
        [language, tail @ ..] if alpha(language, 2..=8) => {
            rest = tail;
            // Up to three extended language subtags after a short language.
            if language.len() <= 3 {
                let extlangs = rest.iter().take(3).take_while(|s| alpha(s, 3..=3)).count();
                rest = &rest[extlangs..];
            }
        }
        _ => return false,
    }
    if let [script, tail @ ..] = rest
        && alpha(script, 4..=4)
    {
        rest = tail;
    }
    if let [region, tail @ ..] = rest
        && (alpha(region, 2..=2) || (region.len() == 3 && digits(region)))
    {
        rest = tail;
    }
    while let [variant, tail @ ..] = rest
        && (variant.len() >= 5 || (variant.len() == 4 && variant.starts_with(|c: char| c.is_ascii_digit())))
    {
        rest = tail;
    }
    while let [singleton, tail @ ..] = rest
        && singleton.len() == 1
        && *singleton != "x"
    {
        let values = tail.iter().take_while(|s| s.len() >= 2).count();
        if values == 0 {
            return false;
        }
        rest = &tail[values..];
    }
    match rest {
        [] => true,
        ["x", private @ ..] => !private.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(grammar: Grammar, good: &[&str], bad: &[&str]) {
        for code in good {
            assert!(grammar.admits(code), "{grammar:?} refuses {code:?}");
        }
        for code in bad {
            assert!(!grammar.admits(code), "{grammar:?} admits {code:?}");
        }
    }

    #[test]
    fn media_types() {
        check(
            Grammar::MediaType,
            &["application/pdf", "text/plain; charset=utf-8", "text/plain;charset=\"utf-8\"", "application/fhir+json"],
            &["pdf", "application/", "/pdf", "text/plain; charset", "text plain", "text/plain; charset=utf 8", ""],
        );
    }

    #[test]
    fn language_tags() {
        check(
            Grammar::Language,
            &[
                "nl",
                "nl-NL",
                "en-US",
                "zh-Hant-TW",
                "sr-Latn-RS",
                "de-CH-1996",
                "es-419",
                "zh-yue-HK",
                "en-a-bbb-x-ccc",
            ],
            &["nl_NL", "", "n", "nl-", "nl--NL", "123", "nederlands-NL", "nl-NL-x", "en-a-x-ccc", "toolongtag"],
        );
        check(Grammar::Language, &["x-private", "i-klingon", "en-GB-oed"], &["x"]);
    }

    #[test]
    fn currencies() {
        check(Grammar::Currency, &["EUR", "USD"], &["eur", "EURO", "E1R", ""]);
    }

    #[test]
    fn a_wrong_code_names_the_value_set() {
        let table = CodeTable::r4();
        let gender = table.get("Patient", "gender").unwrap();
        assert_eq!(gender.check("female"), Ok(()));
        assert_eq!(
            gender.check("robot"),
            Err("\"robot\" is not in the value set http://hl7.org/fhir/ValueSet/administrative-gender \
                 (required binding)"
                .into())
        );
        assert_eq!(
            table.get("Money", "currency").unwrap().check("euro"),
            Err("\"euro\" is not an ISO 4217 currency code: not in the value set \
                 http://hl7.org/fhir/ValueSet/currencies (required binding)"
                .into())
        );
        assert_eq!(table.get("Patient", "language").unwrap().strength, Strength::Maximum);
    }
}
