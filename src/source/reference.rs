//! References between source records, as the mapping engine writes them
//! (`urn:zorgpoort:source:<kind>:<id>[#<part>]`, the id with `%` and `#`
//! percent-encoded), and their replacement by FHIR references once the
//! writer knows which resource each source record became. Pure.

use serde_json::Value;

use crate::mapping::filter::{KIND_ALTERNATIVES, LINKED_REFERENCE_PREFIX, SOURCE_REFERENCE_PREFIX};

/// A reference to (a part of) a source record of the same vendor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceRef {
    pub kind: String,
    pub source_id: String,
    /// `""` for the record's main resource.
    pub part: String,
}

impl SourceRef {
    /// Parses a source reference; `None` for anything else.
    pub fn parse(text: &str) -> Option<SourceRef> {
        let rest = text.strip_prefix(SOURCE_REFERENCE_PREFIX)?;
        let (kind, rest) = rest.split_once(':')?;
        let (id, part) = rest.split_once('#').unwrap_or((rest, ""));
        if kind.is_empty() || id.is_empty() {
            return None;
        }
        Some(SourceRef { kind: kind.to_owned(), source_id: decode(id)?, part: part.to_owned() })
    }

    /// The references to try, in order: one per kind of a reference that
    /// names several (`kind|kind`, written by `ref_any`), else itself.
    pub fn alternatives(&self) -> Vec<SourceRef> {
        self.kind
            .split(KIND_ALTERNATIVES)
            .filter(|kind| !kind.is_empty())
            .map(|kind| SourceRef { kind: kind.to_owned(), ..self.clone() })
            .collect()
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.replace(KIND_ALTERNATIVES, " or "), self.source_id)?;
        if !self.part.is_empty() {
            write!(f, " ({})", self.part)?;
        }
        Ok(())
    }
}

/// Undoes the engine's encoding of `%` and `#` in ids.
fn decode(id: &str) -> Option<String> {
    let mut out = String::with_capacity(id.len());
    let mut rest = id;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        match rest.get(at + 1..at + 3) {
            Some("25") => out.push('%'),
            Some("23") => out.push('#'),
            _ => return None,
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// The record (kind, source id) a linked reference
/// (`urn:zorgpoort:linked:<kind>:<id>`) takes its client from.
pub fn parse_linked(text: &str) -> Option<(String, String)> {
    let (kind, id) = text.strip_prefix(LINKED_REFERENCE_PREFIX)?.split_once(':')?;
    if kind.is_empty() || id.is_empty() {
        return None;
    }
    Some((kind.to_owned(), decode(id)?))
}

/// Replaces every linked reference in a resource by `by` (the client's
/// FHIR reference).
pub fn replace_linked(value: &mut Value, by: &str) {
    match value {
        Value::String(s) if s.starts_with(LINKED_REFERENCE_PREFIX) => *s = by.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_linked(v, by)),
        Value::Object(fields) => fields.values_mut().for_each(|v| replace_linked(v, by)),
        _ => {}
    }
}

/// Every source reference in a resource, in document order.
pub fn source_refs(resource: &Value) -> Vec<SourceRef> {
    fn walk(value: &Value, found: &mut Vec<SourceRef>) {
        match value {
            Value::String(s) => found.extend(SourceRef::parse(s)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            Value::Object(fields) => fields.values().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(resource, &mut found);
    found
}

/// Replaces every source reference by the FHIR reference `resolve` gives
/// (`Type/id`). One that resolves to nothing is taken out, with the
/// elements it leaves empty; it is returned, for a warning.
pub fn resolve_refs(resource: &mut Value, resolve: &impl Fn(&SourceRef) -> Option<String>) -> Vec<SourceRef> {
    let mut unresolved = Vec::new();
    prune(resource, resolve, &mut unresolved);
    unresolved
}

/// Resolves inside `value`; whether it is left empty (to be taken out).
fn prune(value: &mut Value, resolve: &impl Fn(&SourceRef) -> Option<String>, missing: &mut Vec<SourceRef>) -> bool {
    match value {
        Value::String(s) => match SourceRef::parse(s) {
            None => false,
            Some(source) => match resolve(&source) {
                Some(reference) => {
                    *s = reference;
                    false
                }
                None => {
                    missing.push(source);
                    true
                }
            },
        },
        Value::Array(items) => {
            items.retain_mut(|item| !prune(item, resolve, missing));
            items.is_empty()
        }
        Value::Object(fields) => {
            let before = fields.len();
            fields.retain(|_, v| !prune(v, resolve, missing));
            // A reference that lost its target keeps its display, if it has
            // one; its type alone says nothing, and goes too.
            let lost = fields.len() < before;
            fields.is_empty() || (lost && fields.keys().all(|k| k == "type"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn r(kind: &str, id: &str, part: &str) -> SourceRef {
        SourceRef { kind: kind.into(), source_id: id.into(), part: part.into() }
    }

    #[test]
    fn parses_references_to_records_and_parts() {
        assert_eq!(SourceRef::parse("urn:zorgpoort:source:client:100234"), Some(r("client", "100234", "")));
        assert_eq!(
            SourceRef::parse("urn:zorgpoort:source:clientplan:CP-1#binary"),
            Some(r("clientplan", "CP-1", "binary"))
        );
        assert_eq!(SourceRef::parse("urn:zorgpoort:source:x:a%23b%25c:d#p"), Some(r("x", "a#b%c:d", "p")));
        for not_one in
            ["Patient/1", "urn:zorgpoort:source:client", "urn:zorgpoort:source::1", "urn:zorgpoort:source:x:%4"]
        {
            assert_eq!(SourceRef::parse(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn linked_references_name_the_record_the_client_comes_through() {
        assert_eq!(parse_linked("urn:zorgpoort:linked:account:u-1"), Some(("account".into(), "u-1".into())));
        assert_eq!(parse_linked("urn:zorgpoort:linked:account:u%23:1"), Some(("account".into(), "u#:1".into())));
        for not_one in ["urn:zorgpoort:source:account:u-1", "urn:zorgpoort:linked:account", "urn:zorgpoort:linked::u"] {
            assert_eq!(parse_linked(not_one), None, "{not_one}");
        }
        let mut resource = json!({"subject": {"reference": "urn:zorgpoort:linked:account:u-1"},
                                  "participant": [{"actor": {"reference": "urn:zorgpoort:linked:account:u-1"}}],
                                  "note": [{"text": "urn:zorgpoort:source:x:1"}]});
        replace_linked(&mut resource, "Patient/p");
        assert_eq!(
            resource,
            json!({"subject": {"reference": "Patient/p"}, "participant": [{"actor": {"reference": "Patient/p"}}],
                   "note": [{"text": "urn:zorgpoort:source:x:1"}]})
        );
    }

    #[test]
    fn a_reference_to_one_of_several_kinds_tries_each_in_order() {
        let any = SourceRef::parse("urn:zorgpoort:source:contactpersoon|medewerker:E-1").unwrap();
        assert_eq!(any.alternatives(), vec![r("contactpersoon", "E-1", ""), r("medewerker", "E-1", "")]);
        assert_eq!(any.to_string(), "contactpersoon or medewerker E-1");
        let one = r("client", "1", "careteam");
        assert_eq!(one.alternatives(), vec![one.clone()]);
    }

    #[test]
    fn resolved_references_become_fhir_references() {
        let mut resource = json!({
            "subject": {"reference": "urn:zorgpoort:source:client:1"},
            "performer": [{"reference": "urn:zorgpoort:source:medewerker:M-1"}],
            "note": [{"text": "urn:zorgpoort:source: is not a reference"}]
        });
        assert_eq!(source_refs(&resource), vec![r("client", "1", ""), r("medewerker", "M-1", "")]);
        let missing = resolve_refs(&mut resource, &|s: &SourceRef| Some(format!("Thing/{}", s.source_id)));
        assert!(missing.is_empty());
        assert_eq!(resource["subject"], json!({"reference": "Thing/1"}));
        assert_eq!(resource["performer"], json!([{"reference": "Thing/M-1"}]));
    }

    #[test]
    fn an_unresolved_reference_is_taken_out_with_what_it_leaves_empty() {
        let mut resource = json!({
            "resourceType": "Observation",
            "subject": {"reference": "urn:zorgpoort:source:client:1"},
            "performer": [
                {"reference": "urn:zorgpoort:source:medewerker:M-9", "display": "Ilse"},
                {"reference": "urn:zorgpoort:source:medewerker:M-1"}
            ],
            "basedOn": [{"reference": "urn:zorgpoort:source:plan:P", "type": "CarePlan"}],
            "note": [{"text": "kept", "authorReference": {"reference": "urn:zorgpoort:source:medewerker:M-9"}}]
        });
        let missing = resolve_refs(&mut resource, &|s: &SourceRef| (s.source_id == "1").then(|| "Patient/p".into()));
        assert_eq!(
            missing,
            vec![
                r("medewerker", "M-9", ""),
                r("medewerker", "M-1", ""),
                r("plan", "P", ""),
                r("medewerker", "M-9", "")
            ]
        );
        assert_eq!(
            resource,
            json!({
                "resourceType": "Observation",
                "subject": {"reference": "Patient/p"},
                "performer": [{"display": "Ilse"}],
                "note": [{"text": "kept"}]
            })
        );
    }
}
