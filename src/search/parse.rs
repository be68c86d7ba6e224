//! Parsing FHIR search parameters (R4 search §3.1.1) into a [`SearchRequest`].

use super::include::parse_inclusion;
use super::{Clause, Condition, DatePrefix, InclusionDirection, SearchRequest, SortField, SortKey, TokenSystem};
use crate::fhir::datetime;
use crate::fhir::reference::LocalReference;
use crate::fhir::search_param::{self, SearchParamDef, SearchParamKind};
use crate::fhir::types::{ResourceId, ResourceType};

/// How to treat parameters the server does not know (`Prefer: handling=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handling {
    /// Ignore them and leave them out of the self link (the R4 default).
    #[default]
    Lenient,
    /// Refuse the search.
    Strict,
}

/// Page-size limits of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimits {
    pub default_count: u32,
    pub max_count: u32,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits { default_count: 50, max_count: 1000 }
    }
}

/// A search that cannot be run, with the reason in words for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parameters that are part of the request but not search criteria.
const FORMAT_PARAMS: &[&str] = &["_format", "_pretty"];

/// Parses decoded query parameters for a search on `resource_type`.
pub fn parse(
    resource_type: ResourceType,
    params: &[(String, String)],
    handling: Handling,
    limits: SearchLimits,
) -> Result<SearchRequest, ParseError> {
    let mut request = SearchRequest {
        resource_type,
        clauses: Vec::new(),
        sort: Vec::new(),
        count: limits.default_count,
        offset: 0,
        summary_count: false,
        elements: None,
        snapshot: None,
        inclusions: Vec::new(),
        canonical: Vec::new(),
        ignored: Vec::new(),
    };
    for (raw_name, value) in params {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((name, modifier)) => (name, Some(modifier)),
            None => (raw_name.as_str(), None),
        };
        let known = match name {
            "_count" => {
                let count: u32 = value
                    .parse()
                    .map_err(|_| ParseError(format!("_count must be a whole number of at least 0, not '{value}'")))?;
                request.count = count.min(limits.max_count);
                true
            }
            "_offset" => {
                request.offset =
                    value.parse().map_err(|_| ParseError(format!("_offset must be a whole number, not '{value}'")))?;
                // Paging state belongs in the next link, not in the self link.
                continue;
            }
            "_elements" => {
                let names: Vec<String> =
                    value.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
                let valid = names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphanumeric()));
                if !valid || names.is_empty() {
                    return Err(ParseError(format!(
                        "_elements takes element names separated by commas, not '{value}'"
                    )));
                }
                request.elements = Some(names);
                true
            }
            "_snapshot" => {
                let valid = value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid {
                    return Err(ParseError(format!("'{value}' is not a search snapshot of this server")));
                }
                request.snapshot = Some(value.clone());
                continue;
            }
            "_include" | "_revinclude" => {
                let direction =
                    if name == "_include" { InclusionDirection::Include } else { InclusionDirection::RevInclude };
                match parse_inclusion(direction, modifier, raw_name, value)? {
                    Some(inclusions) => {
                        request.inclusions.extend(inclusions);
                        true
                    }
                    None => false,
                }
            }
            "_sort" => {
                request.sort = parse_sort(resource_type, value)?;
                true
            }
            "_summary" => match value.as_str() {
                "count" => {
                    request.summary_count = true;
                    true
                }
                "false" => true,
                _ => false,
            },
            "_total" => matches!(value.as_str(), "accurate" | "estimate" | "none"),
            _ if FORMAT_PARAMS.contains(&name) => true,
            "_id" => {
                no_modifier(raw_name, modifier)?;
                let ids = split_values(value)
                    .into_iter()
                    .map(|v| ResourceId::parse(&unescape(&v)).map(|id| Condition::Id(id.as_str().to_owned())))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ParseError(format!("_id: {e}")))?;
                request.clauses.push(Clause { any_of: ids });
                true
            }
            "_lastUpdated" => {
                no_modifier(raw_name, modifier)?;
                let any_of = split_values(value)
                    .iter()
                    .map(|v| {
                        let (prefix, range) = parse_date_value(raw_name, &unescape(v))?;
                        Ok(Condition::LastUpdated { prefix, range })
                    })
                    .collect::<Result<Vec<_>, ParseError>>()?;
                request.clauses.push(Clause { any_of });
                true
            }
            _ => match search_param::find(resource_type, name) {
                Some(def) => {
                    request.clauses.push(parse_clause(def, raw_name, modifier, value)?);
                    true
                }
                None => false,
            },
        };
        if known {
            request.canonical.push((raw_name.clone(), value.clone()));
        } else if handling == Handling::Strict {
            return Err(ParseError(format!(
                "The search parameter '{raw_name}' is not supported for {resource_type} (Prefer: handling=strict)"
            )));
        } else {
            request.ignored.push(raw_name.clone());
        }
    }
    Ok(request)
}

fn no_modifier(raw_name: &str, modifier: Option<&str>) -> Result<(), ParseError> {
    match modifier {
        None => Ok(()),
        Some(m) => Err(ParseError(format!("The modifier ':{m}' is not supported on '{raw_name}'"))),
    }
}

fn parse_clause(
    def: &'static SearchParamDef,
    raw_name: &str,
    modifier: Option<&str>,
    value: &str,
) -> Result<Clause, ParseError> {
    let values = split_values(value);
    if values.iter().any(String::is_empty) {
        return Err(ParseError(format!("'{raw_name}' has an empty value")));
    }
    let param = def.name;
    if modifier == Some("missing") {
        let missing = match value {
            "true" => true,
            "false" => false,
            _ => return Err(ParseError(format!("'{raw_name}' takes true or false, not '{value}'"))),
        };
        return Ok(Clause { any_of: vec![Condition::Missing { param, kind: def.kind, missing }] });
    }
    let normalized = |v: &String| crate::fhir::index::normalize_string(&unescape(v));
    let any_of = match (def.kind, modifier) {
        (SearchParamKind::Token, None) => values.into_iter().map(|v| token_condition(param, &v)).collect(),
        (SearchParamKind::Token, Some("not")) => {
            vec![Condition::NoneOf(values.into_iter().map(|v| token_condition(param, &v)).collect())]
        }
        (SearchParamKind::Token, Some("text")) => {
            values.iter().map(|v| Condition::TokenText { param, starts_with: normalized(v) }).collect()
        }
        (SearchParamKind::Date, None) => values
            .iter()
            .map(|v| {
                parse_date_value(raw_name, &unescape(v)).map(|(prefix, range)| Condition::Date { param, prefix, range })
            })
            .collect::<Result<_, _>>()?,
        (SearchParamKind::String, None) => {
            values.iter().map(|v| Condition::String { param, starts_with: normalized(v) }).collect()
        }
        (SearchParamKind::String, Some("contains")) => {
            values.iter().map(|v| Condition::StringContains { param, contains: normalized(v) }).collect()
        }
        (SearchParamKind::String, Some("exact")) => {
            values.iter().map(|v| Condition::StringExact { param, value: unescape(v) }).collect()
        }
        (SearchParamKind::Reference, modifier) => {
            let type_modifier = match modifier {
                None => None,
                Some(m) if is_type_name(m) => Some(m.to_owned()),
                Some(m) => return Err(ParseError(format!("The modifier ':{m}' is not supported on '{raw_name}'"))),
            };
            values
                .iter()
                .map(|v| reference_condition(def, raw_name, type_modifier.as_deref(), &unescape(v)))
                .collect::<Result<_, _>>()?
        }
        (_, Some(m)) => return Err(ParseError(format!("The modifier ':{m}' is not supported on '{raw_name}'"))),
    };
    Ok(Clause { any_of })
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphabetic())
}

fn token_condition(param: &'static str, value: &str) -> Condition {
    match split_unescaped(value, '|', 2).as_slice() {
        [code] => Condition::Token { param, system: TokenSystem::Any, code: Some(unescape(code)) },
        [system, code] => {
            let system = if system.is_empty() { TokenSystem::NoSystem } else { TokenSystem::Exactly(unescape(system)) };
            let code = (!code.is_empty()).then(|| unescape(code));
            Condition::Token { param, system, code }
        }
        _ => unreachable!("split into at most two parts"),
    }
}

fn reference_condition(
    def: &SearchParamDef,
    raw_name: &str,
    type_modifier: Option<&str>,
    value: &str,
) -> Result<Condition, ParseError> {
    let bad = || ParseError(format!("'{raw_name}={value}' is not a reference (use an id or Type/id)"));
    let (target_type, id) = if value.contains('/') {
        let reference = LocalReference::parse(value).ok_or_else(bad)?;
        (Some(reference.type_name), reference.id)
    } else {
        ResourceId::parse(value).map_err(|_| bad())?;
        let implied = type_modifier.map(str::to_owned).or_else(|| def.target.map(|t| t.as_str().to_owned()));
        (implied, value.to_owned())
    };
    if let (Some(t), Some(m)) = (&target_type, type_modifier)
        && t != m
    {
        return Err(ParseError(format!("'{raw_name}={value}' names a {t}, not a {m}")));
    }
    if let (Some(t), Some(required)) = (&target_type, def.target)
        && t != required.as_str()
    {
        return Err(ParseError(format!("'{raw_name}' refers to a {required}, not a {t}")));
    }
    Ok(Condition::Reference { param: def.name, target_type, id })
}

fn parse_date_value(raw_name: &str, value: &str) -> Result<(DatePrefix, datetime::TimeRange), ParseError> {
    const PREFIXES: [DatePrefix; 9] = [
        DatePrefix::Eq,
        DatePrefix::Ne,
        DatePrefix::Gt,
        DatePrefix::Lt,
        DatePrefix::Ge,
        DatePrefix::Le,
        DatePrefix::Sa,
        DatePrefix::Eb,
        DatePrefix::Ap,
    ];
    let (prefix, rest) = PREFIXES
        .into_iter()
        .find_map(|p| value.strip_prefix(p.as_str()).map(|rest| (p, rest)))
        .unwrap_or((DatePrefix::Eq, value));
    let range = datetime::parse_range(rest).map_err(|_| {
        ParseError(format!("'{raw_name}={value}' is not a date (e.g. ge2024-01-31 or 2024-01-31T10:00:00+01:00)"))
    })?;
    Ok((prefix, range))
}

fn parse_sort(resource_type: ResourceType, value: &str) -> Result<Vec<SortKey>, ParseError> {
    value
        .split(',')
        .map(|key| {
            let (descending, name) = match key.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, key),
            };
            let field = match name {
                "_id" => SortField::Id,
                "_lastUpdated" => SortField::LastUpdated,
                _ => match search_param::find(resource_type, name) {
                    Some(def) if def.kind == SearchParamKind::Date => SortField::Date(def.name),
                    _ => {
                        return Err(ParseError(format!(
                            "Cannot sort {resource_type} by '{name}': sort by _id, _lastUpdated or a date parameter"
                        )));
                    }
                },
            };
            Ok(SortKey { field, descending })
        })
        .collect()
}

/// Splits on commas not escaped with a backslash (R4 search §3.1.1.5.7);
/// the parts keep their other escapes for the next split.
fn split_values(value: &str) -> Vec<String> {
    split_unescaped(value, ',', usize::MAX)
}

fn split_unescaped(value: &str, separator: char, max_parts: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(next) = chars.next() {
                current.push(next);
            }
        } else if c == separator && parts.len() + 1 < max_parts {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ (',' | '|' | '$' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn ok(t: ResourceType, pairs: &[(&str, &str)]) -> SearchRequest {
        parse(t, &params(pairs), Handling::Lenient, SearchLimits::default()).unwrap()
    }

    fn err(t: ResourceType, pairs: &[(&str, &str)], handling: Handling) -> String {
        parse(t, &params(pairs), handling, SearchLimits::default()).unwrap_err().0
    }

    fn range(v: &str) -> datetime::TimeRange {
        datetime::parse_range(v).unwrap()
    }

    #[test]
    fn tokens_with_and_without_system() {
        let r = ok(ResourceType::Observation, &[("code", "http://loinc.org|29463-7,|x,y,http://s|")]);
        let sys = |s: &str| TokenSystem::Exactly(s.into());
        assert_eq!(
            r.clauses,
            [Clause {
                any_of: vec![
                    Condition::Token { param: "code", system: sys("http://loinc.org"), code: Some("29463-7".into()) },
                    Condition::Token { param: "code", system: TokenSystem::NoSystem, code: Some("x".into()) },
                    Condition::Token { param: "code", system: TokenSystem::Any, code: Some("y".into()) },
                    Condition::Token { param: "code", system: sys("http://s"), code: None },
                ]
            }]
        );
    }

    #[test]
    fn escaped_separators_are_part_of_the_value() {
        let r = ok(ResourceType::Observation, &[("identifier", r"urn:a\|b|c\,d")]);
        assert_eq!(
            r.clauses[0].any_of,
            [Condition::Token {
                param: "identifier",
                system: TokenSystem::Exactly("urn:a|b".into()),
                code: Some("c,d".into())
            }]
        );
    }

    #[test]
    fn patient_references_in_every_spelling() {
        let expected = Condition::Reference { param: "patient", target_type: Some("Patient".into()), id: "123".into() };
        for v in ["123", "Patient/123", "https://zorgpoort.example/t/fhir/Patient/123"] {
            let r = ok(ResourceType::Observation, &[("patient", v)]);
            assert_eq!(r.clauses[0].any_of, std::slice::from_ref(&expected), "{v}");
        }
        let r = ok(ResourceType::Observation, &[("subject", "123")]);
        assert_eq!(
            r.clauses[0].any_of,
            [Condition::Reference { param: "subject", target_type: None, id: "123".into() }]
        );
        let r = ok(ResourceType::Observation, &[("subject:Patient", "123")]);
        assert_eq!(
            r.clauses[0].any_of,
            [Condition::Reference { param: "subject", target_type: Some("Patient".into()), id: "123".into() }]
        );
        let e = err(ResourceType::Observation, &[("patient", "Group/1")], Handling::Lenient);
        assert!(e.contains("refers to a Patient"), "{e}");
        let e = err(ResourceType::Observation, &[("patient", "a b")], Handling::Lenient);
        assert!(e.contains("is not a reference"), "{e}");
    }

    #[test]
    fn date_prefixes() {
        for (value, prefix) in [
            ("2024-01-01", DatePrefix::Eq),
            ("eq2024-01-01", DatePrefix::Eq),
            ("ne2024-01-01", DatePrefix::Ne),
            ("gt2024-01-01", DatePrefix::Gt),
            ("lt2024-01-01", DatePrefix::Lt),
            ("ge2024-01-01", DatePrefix::Ge),
            ("le2024-01-01", DatePrefix::Le),
            ("sa2024-01-01", DatePrefix::Sa),
            ("eb2024-01-01", DatePrefix::Eb),
            ("ap2024-01-01", DatePrefix::Ap),
        ] {
            let r = ok(ResourceType::Observation, &[("date", value)]);
            assert_eq!(
                r.clauses[0].any_of,
                [Condition::Date { param: "date", prefix, range: range("2024-01-01") }],
                "{value}"
            );
        }
        let r = ok(ResourceType::Observation, &[("_lastUpdated", "gt2024")]);
        assert_eq!(r.clauses[0].any_of, [Condition::LastUpdated { prefix: DatePrefix::Gt, range: range("2024") }]);
        let e = err(ResourceType::Observation, &[("date", "xx2024")], Handling::Lenient);
        assert!(e.contains("is not a date"), "{e}");
    }

    #[test]
    fn repeated_parameters_are_and_commas_are_or() {
        let r = ok(
            ResourceType::Appointment,
            &[("date", "ge2024-01-01"), ("date", "le2024-02-01"), ("status", "booked,fulfilled")],
        );
        assert_eq!(r.clauses.len(), 3);
        assert_eq!(r.clauses[2].any_of.len(), 2);
    }

    #[test]
    fn count_is_reduced_never_refused() {
        assert_eq!(ok(ResourceType::Patient, &[("_count", "5000")]).count, 1000);
        assert_eq!(ok(ResourceType::Patient, &[("_count", "0")]).count, 0);
        assert_eq!(ok(ResourceType::Patient, &[]).count, 50);
        assert!(err(ResourceType::Patient, &[("_count", "-1")], Handling::Lenient).contains("_count"));
        assert!(err(ResourceType::Patient, &[("_count", "ten")], Handling::Lenient).contains("_count"));
    }

    #[test]
    fn unknown_parameters_lenient_and_strict() {
        let r = ok(ResourceType::Patient, &[("foo", "1"), ("gender", "male"), ("_summary", "text")]);
        assert_eq!(r.ignored, ["foo", "_summary"]);
        assert_eq!(r.canonical, params(&[("gender", "male")]));
        let e = err(ResourceType::Patient, &[("foo", "1")], Handling::Strict);
        assert!(e.contains("'foo' is not supported"), "{e}");
        // Parameters of another type are unknown here.
        assert!(ok(ResourceType::Patient, &[("code", "x")]).clauses.is_empty());
    }

    #[test]
    fn inclusions_are_kept_in_order_and_unknown_ones_ignored() {
        let r = ok(
            ResourceType::Observation,
            &[
                ("_include", "Observation:patient"),
                ("_revinclude:iterate", "Provenance:target"),
                ("_include", "Observation:nonsense"),
            ],
        );
        let written: Vec<_> = r.inclusions.iter().map(|i| (i.param_name(), i.value())).collect();
        assert_eq!(
            written,
            [("_include", "Observation:patient".to_owned()), ("_revinclude:iterate", "Provenance:target".to_owned())]
        );
        assert_eq!(r.ignored, ["_include"]);
        assert_eq!(r.canonical.len(), 2);
        let e = err(ResourceType::Observation, &[("_include", "Observation:nonsense")], Handling::Strict);
        assert!(e.contains("not supported"), "{e}");
    }

    #[test]
    fn unsupported_modifiers_are_refused_even_when_lenient() {
        let e = err(ResourceType::Observation, &[("code:below", "x")], Handling::Lenient);
        assert!(e.contains("':below' is not supported"), "{e}");
    }

    #[test]
    fn modifiers() {
        let t = ResourceType::Observation;
        let r = ok(t, &[("code:not", "a,b")]);
        let token = |code: &str| Condition::Token { param: "code", system: TokenSystem::Any, code: Some(code.into()) };
        assert_eq!(r.clauses[0].any_of, [Condition::NoneOf(vec![token("a"), token("b")])]);
        let r = ok(t, &[("code:text", "Gewícht")]);
        assert_eq!(r.clauses[0].any_of, [Condition::TokenText { param: "code", starts_with: "gewicht".into() }]);
        let r = ok(t, &[("date:missing", "true")]);
        assert_eq!(
            r.clauses[0].any_of,
            [Condition::Missing { param: "date", kind: SearchParamKind::Date, missing: true }]
        );
        let r = ok(ResourceType::Patient, &[("name:contains", "AKK"), ("family:exact", "Bäkker")]);
        assert_eq!(r.clauses[0].any_of, [Condition::StringContains { param: "name", contains: "akk".into() }]);
        assert_eq!(r.clauses[1].any_of, [Condition::StringExact { param: "family", value: "Bäkker".into() }]);
        let patient = ResourceType::Patient;
        for (t, name, value) in
            [(t, "date:missing", "maybe"), (t, "date:not", "2024"), (patient, "name:text", "x"), (t, "code:exact", "x")]
        {
            assert!(err(t, &[(name, value)], Handling::Lenient).contains("not"), "{name}");
        }
    }

    #[test]
    fn elements() {
        let r = ok(ResourceType::Observation, &[("_elements", "status, code")]);
        assert_eq!(r.elements, Some(vec!["status".to_owned(), "code".to_owned()]));
        assert!(err(ResourceType::Observation, &[("_elements", "a.b")], Handling::Lenient).contains("_elements"));
    }

    #[test]
    fn sort_keys() {
        let r = ok(ResourceType::Observation, &[("_sort", "-date,_id")]);
        assert_eq!(
            r.sort,
            [
                SortKey { field: SortField::Date("date"), descending: true },
                SortKey { field: SortField::Id, descending: false }
            ]
        );
        assert!(err(ResourceType::Observation, &[("_sort", "code")], Handling::Lenient).contains("Cannot sort"));
    }

    #[test]
    fn ids_and_offsets() {
        let r = ok(ResourceType::Patient, &[("_id", "a,b"), ("_offset", "20")]);
        assert_eq!(r.clauses[0].any_of, [Condition::Id("a".into()), Condition::Id("b".into())]);
        assert_eq!(r.offset, 20);
        assert_eq!(r.canonical, params(&[("_id", "a,b")]));
        assert!(err(ResourceType::Patient, &[("_id", "a/b")], Handling::Lenient).contains("_id"));
    }

    /// A generated link never carries a BSN: a parameter with one, in any
    /// form, is left out; the others stay.
    #[test]
    fn links_leave_out_what_may_carry_a_bsn() {
        let bsn = "http://fhir.nl/fhir/NamingSystem/bsn";
        let r = ok(
            ResourceType::Patient,
            &[
                ("identifier", "999911120"),
                ("family", "bakker"),
                ("identifier", &format!("{bsn}|999911120")),
                ("identifier", "|999911120"),
                ("identifier", "urn:other|999911120"),
                ("identifier", "urn:x|R-1,999911120"),
                ("identifier", &format!("{bsn}|")),
                ("identifier", "urn:x|R-1"),
                ("identifier", "999911121"),
                ("_id", "999911120"),
                ("general-practitioner", "Practitioner/999911120"),
                ("gender", "female"),
            ],
        );
        assert_eq!(r.canonical.len(), 12);
        let linked: Vec<&(String, String)> = r.linkable_params().collect();
        assert_eq!(
            linked,
            [
                &("family".to_owned(), "bakker".to_owned()),
                &("identifier".to_owned(), "urn:x|R-1".to_owned()),
                &("identifier".to_owned(), "999911121".to_owned()),
                &("gender".to_owned(), "female".to_owned()),
            ]
        );
    }
}
