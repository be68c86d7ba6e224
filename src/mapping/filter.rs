//! The filters expressions can use: the generic transforms of vendor values
//! ([`super::value`]), code tables from the mapping file, references to
//! other records by their source identity, and the few logical steps
//! conditions need (`and`, `or`, `unless`, `present`).
//!
//! A filter receives the value so far (`Null` when there is none) and
//! returns the next; most pass `Null` on unchanged, so that an optional
//! field stays optional. `required` turns `Null` into an error. A value
//! *holds* when it is neither `Null` nor `false`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Number, Value, json};

use super::expr::{self, Arg, Expr, FilterCall};
use super::scope::Scope;
use super::value;

/// The prefix of a reference that names a record by its source identity
/// (`urn:zorgpoort:source:<kind>:<source id>`, or
/// `urn:zorgpoort:source:<kind>:<source id>#<part>` for a named part of
/// it); the writer replaces it by the resource's logical reference.
pub const SOURCE_REFERENCE_PREFIX: &str = "urn:zorgpoort:source:";

/// The source reference of a record (`part` `None` or empty: its main
/// resource). In the source id, `%` and `#` are percent-encoded, so that
/// the part after the last `#` is always the part's name.
pub fn source_reference(kind: &str, source_id: &str, part: Option<&str>) -> String {
    let id = source_id.replace('%', "%25").replace('#', "%23");
    match part {
        Some(part) if !part.is_empty() => format!("{SOURCE_REFERENCE_PREFIX}{kind}:{id}#{part}"),
        _ => format!("{SOURCE_REFERENCE_PREFIX}{kind}:{id}"),
    }
}

/// The prefix of a reference to the client another record links to
/// (`urn:zorgpoort:linked:<kind>:<source id>`: the client that record
/// names, whichever vendor delivered it); the writer replaces it by the
/// client's Patient, or holds the record while the link resolves to none.
pub const LINKED_REFERENCE_PREFIX: &str = "urn:zorgpoort:linked:";

/// The reference to the client that the record `kind` `source_id` links to.
pub fn linked_reference(kind: &str, source_id: &str) -> String {
    let id = source_id.replace('%', "%25").replace('#', "%23");
    format!("{LINKED_REFERENCE_PREFIX}{kind}:{id}")
}

/// Between a record's own id and the id of what it is a record within
/// (`within`): `R-2001@100234` is the record `R-2001` of client `100234`.
pub const WITHIN_SEPARATOR: char = '@';

/// The source id of the record `id` within `scope` (`within`): a record
/// that the vendor numbers once for all clients but that is one record
/// per client (a Pluriform representative). In both ids `%` and `@` are
/// percent-encoded, so that the first `@` always ends the record's own id.
pub fn within_id(id: &str, scope: &str) -> String {
    let encode = |s: &str| s.replace('%', "%25").replace(WITHIN_SEPARATOR, "%40");
    format!("{}{WITHIN_SEPARATOR}{}", encode(id), encode(scope))
}

/// Between the kinds of a source reference that may name a record of any
/// of them (`ref_any`): the writer takes the first kind that has a record
/// with the id.
pub const KIND_ALTERNATIVES: &str = "|";

/// A code table of a mapping file: source code to FHIR value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodeTable {
    pub entries: BTreeMap<String, Value>,
    /// Used for codes not in the table; without one they are an error.
    pub otherwise: Option<Value>,
    /// Whether taking `otherwise` is normal (no warning).
    pub quietly: bool,
}

/// The filters of one mapping, with its code tables and record kinds.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    tables: BTreeMap<String, CodeTable>,
    record_kinds: Vec<String>,
    /// The named parts of each record kind, where known (checks
    /// `ref(kind, part)`).
    parts: BTreeMap<String, Vec<String>>,
}

/// How many arguments each filter takes, and of what kind.
#[derive(Debug, Clone, Copy)]
enum Args {
    None,
    /// One literal.
    Literal,
    /// Two literals.
    Literals2,
    /// A code table's name.
    Table,
    /// A record kind's name, and optionally one of its parts.
    Reference,
    /// A record kind's name.
    Kind,
    /// A field path or a literal.
    Field,
    /// Two field paths or literals.
    Fields2,
    /// Two or more record kinds.
    Kinds,
}

fn signature(name: &str) -> Option<Args> {
    Some(match name {
        "required" | "dutch_date" | "iso_date" | "local_datetime" | "caress_datetime" | "mep_datetime"
        | "offset_datetime" | "measurement_time" | "epoch_millis" | "decimal" | "integer" | "money" | "yes_no"
        | "boolean" | "period" | "bsn" | "upper" | "lower" | "trim" | "text" | "weekdays" | "not" | "words"
        | "present" | "base64" | "try_boolean" | "try_integer" | "try_decimal" => Args::None,
        "default" | "date" | "is" | "append" | "prepend" | "get" => Args::Literal,
        "split" | "range" => Args::Literals2,
        "table" | "table_each" => Args::Table,
        "ref" => Args::Reference,
        "linked" => Args::Kind,
        "ref_any" => Args::Kinds,
        "and" | "or" | "unless" | "within" => Args::Field,
        "caress_period" => Args::Fields2,
        _ => return None,
    })
}

impl Filters {
    pub fn new(tables: BTreeMap<String, CodeTable>, record_kinds: Vec<String>) -> Self {
        Filters { tables, record_kinds, parts: BTreeMap::new() }
    }

    /// The same filters, knowing the named parts of each record kind.
    pub fn with_parts(self, parts: BTreeMap<String, Vec<String>>) -> Self {
        Filters { parts, ..self }
    }

    #[cfg(test)]
    pub fn for_tests() -> Self {
        let mut tables = BTreeMap::new();
        tables.insert(
            "gender".to_owned(),
            CodeTable {
                entries: [("M", "male"), ("V", "female")].map(|(k, v)| (k.to_owned(), json!(v))).into(),
                otherwise: None,
                quietly: false,
            },
        );
        let parts = [("client".to_owned(), vec!["careteam".to_owned()])].into();
        Filters::new(tables, vec!["client".into(), "medewerker".into()]).with_parts(parts)
    }

    /// Checks the filters of an expression when the mapping is loaded.
    pub fn check(&self, expr: &Expr) -> Result<(), String> {
        for (i, call) in expr.filters.iter().enumerate() {
            let args = signature(&call.name).ok_or_else(|| format!("there is no filter `{}`", call.name))?;
            let wanted = match args {
                Args::None => 0..=0,
                Args::Literal | Args::Table | Args::Field | Args::Kind => 1..=1,
                Args::Literals2 | Args::Fields2 => 2..=2,
                Args::Reference => 1..=2,
                Args::Kinds => 2..=8,
            };
            if !wanted.contains(&call.args.len()) {
                let wanted = if wanted.start() == wanted.end() {
                    wanted.start().to_string()
                } else {
                    format!("{} or {}", wanted.start(), wanted.end())
                };
                return Err(format!("`{}` takes {wanted} argument(s), not {}", call.name, call.args.len()));
            }
            if call.name == "present" && (i > 0 || !matches!(expr.operand, expr::Operand::Path(_))) {
                return Err("`present` asks about a field: it comes first, right after the field's path".into());
            }
            match (args, call.args.first()) {
                (Args::Table, Some(arg)) if !self.tables.contains_key(&arg.as_text()) => {
                    return Err(format!("there is no code table `{}`", arg.as_text()));
                }
                (Args::Reference | Args::Kind, Some(arg)) if !self.record_kinds.contains(&arg.as_text()) => {
                    return Err(format!("there is no record kind `{}`", arg.as_text()));
                }
                (Args::Kinds, _) => {
                    if let Some(unknown) = call.args.iter().find(|a| !self.record_kinds.contains(&a.as_text())) {
                        return Err(format!("there is no record kind `{}`", unknown.as_text()));
                    }
                }
                (Args::Reference, Some(kind)) => {
                    let (kind, part) = (kind.as_text(), call.args.get(1).map(Arg::as_text));
                    if let (Some(part), Some(parts)) = (part, self.parts.get(&kind))
                        && !parts.contains(&part)
                    {
                        return Err(format!("record kind `{kind}` has no part `{part}`"));
                    }
                }
                (Args::Literal | Args::Literals2, Some(Arg::Name(name))) => {
                    return Err(format!("`{}` takes a 'quoted text' or a number, not the name `{name}`", call.name));
                }
                _ => {}
            }
            if call.name == "date" {
                value::check_date_pattern(&call.args[0].as_text()).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Applies one (checked) filter.
    pub fn apply(&self, call: &FilterCall, input: Value, scope: &Scope<'_>) -> Result<Value, String> {
        let arg = |i: usize| call.args.get(i).map(Arg::as_text).unwrap_or_default();
        match call.name.as_str() {
            "required" => match input {
                Value::Null => Err("is required but missing or empty".to_owned()),
                other => Ok(other),
            },
            "default" => Ok(match input {
                Value::Null => literal(&call.args[0]),
                other => other,
            }),
            "is" => Ok(Value::Bool(text(&input).as_deref() == Some(arg(0).as_str()))),
            "not" => Ok(Value::Bool(matches!(input, Value::Null | Value::Bool(false)))),
            "table" => self.lookup(&arg(0), input, scope),
            "table_each" => {
                let items = match input {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    single => vec![single],
                };
                let mut found = Vec::new();
                for item in items {
                    match self.lookup(&arg(0), item, scope)? {
                        Value::Array(values) => found.extend(values),
                        Value::Null => {}
                        value => found.push(value),
                    }
                }
                let mut unique: Vec<Value> = Vec::with_capacity(found.len());
                for value in found {
                    if !unique.contains(&value) {
                        unique.push(value);
                    }
                }
                Ok(if unique.is_empty() { Value::Null } else { Value::Array(unique) })
            }
            "ref" => {
                let part = call.args.get(1).map(Arg::as_text);
                on_text(input, |s| Ok(Value::String(source_reference(&arg(0), s, part.as_deref()))))
            }
            "linked" => on_text(input, |s| Ok(Value::String(linked_reference(&arg(0), s)))),
            "ref_any" => {
                let kinds: Vec<String> = call.args.iter().map(Arg::as_text).collect();
                on_text(input, |s| Ok(Value::String(source_reference(&kinds.join(KIND_ALTERNATIVES), s, None))))
            }
            "get" => Ok(match input {
                Value::Object(mut fields) => fields.remove(&arg(0)).unwrap_or(Value::Null),
                _ => Value::Null,
            }),
            "try_boolean" => {
                Ok(text(&input).and_then(|s| value::boolean_word(&s).ok()).map_or(Value::Null, Value::Bool))
            }
            "try_integer" => Ok(text(&input).and_then(|s| value::integer(&s).ok()).map_or(Value::Null, Value::from)),
            "try_decimal" => Ok(match text(&input) {
                Some(s) if !(s.contains('.') && s.contains(',')) => {
                    value::decimal_comma(&s.replace('.', ",")).ok().and_then(|d| number(&d).ok()).unwrap_or(Value::Null)
                }
                _ => Value::Null,
            }),
            "caress_period" => on_text(input, |start| {
                let end = text(&argument(&call.args[0], scope)).unwrap_or_default();
                let whole_days = match text(&argument(&call.args[1], scope)) {
                    None => false,
                    Some(word) => value::boolean_word(&word).map_err(|e| format!("{}: {e}", call.args[1].as_text()))?,
                };
                let period = value::caress_agenda_period(start, &end, whole_days).map_err(|e| e.to_string())?;
                let (start, end) = period.to_fhir();
                Ok(json!({"start": start, "end": end}))
            }),
            "within" => on_text(input, |id| match text(&argument(&call.args[0], scope)) {
                Some(within) => Ok(Value::String(within_id(id, &within))),
                None => Err(format!("within: `{}` has no value", call.args[0].as_text())),
            }),
            "and" => Ok(if holds(&input) { argument(&call.args[0], scope) } else { Value::Null }),
            "or" => Ok(if holds(&input) { input } else { argument(&call.args[0], scope) }),
            "unless" => Ok(if holds(&argument(&call.args[0], scope)) { Value::Null } else { input }),
            "present" => Err("`present` comes first, right after a field".into()),
            "base64" => on_text(input, |s| Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(s)))),
            "split" => on_text(input, |s| {
                let index: usize = arg(1).parse().map_err(|_| format!("split: `{}` is not an index", arg(1)))?;
                Ok(s.split(arg(0).as_str()).nth(index).map_or(Value::Null, |part| Value::String(part.to_owned())))
            }),
            "append" => on_text(input, |s| Ok(Value::String(format!("{s}{}", arg(0))))),
            "prepend" => on_text(input, |s| Ok(Value::String(format!("{}{s}", arg(0))))),
            "upper" => on_text(input, |s| Ok(Value::String(s.to_uppercase()))),
            "lower" => on_text(input, |s| Ok(Value::String(s.to_lowercase()))),
            "trim" => on_text(input, |s| Ok(Value::String(s.trim().to_owned()))),
            "text" => on_text(input, |s| Ok(Value::String(s.to_owned()))),
            "words" => on_text(input, |s| Ok(Value::from(s.split_whitespace().collect::<Vec<_>>()))),
            "dutch_date" => on_text(input, |s| date(value::dutch_date(s))),
            "iso_date" => on_text(input, |s| date(value::iso_date(s))),
            "date" => on_text(input, |s| date(value::date_with_pattern(s, &arg(0)))),
            "local_datetime" => on_text(input, |s| datetime(value::amsterdam_local(s))),
            "caress_datetime" => on_text(input, |s| datetime(value::caress_local(s))),
            "mep_datetime" => on_text(input, |s| datetime(value::mep_local(s))),
            "offset_datetime" => on_text(input, |s| datetime(value::offset_datetime(s))),
            "measurement_time" => on_text(input, |s| datetime(value::measurement_time(s))),
            "epoch_millis" => match input {
                Value::Null => Ok(Value::Null),
                Value::Number(n) => {
                    let millis = n.as_i64().ok_or_else(|| format!("{n} is not a whole number of milliseconds"))?;
                    let instant = value::epoch_millis(millis).map_err(|e| e.to_string())?;
                    Ok(Value::String(value::fhir_instant(&instant)))
                }
                other => Err(format!("{other} is not a number of milliseconds")),
            },
            "decimal" => on_text(input, |s| number(&value::decimal_comma(s).map_err(|e| e.to_string())?)),
            "integer" => on_text(input, |s| Ok(Value::from(value::integer(s).map_err(|e| e.to_string())?))),
            "range" => {
                let bounds = (arg(0).parse::<i64>(), arg(1).parse::<i64>());
                let (Ok(low), Ok(high)) = bounds else { return Err("range: the bounds are not whole numbers".into()) };
                on_text(input, |s| Ok(Value::from(value::integer_in_range(s, low..=high).map_err(|e| e.to_string())?)))
            }
            "money" => on_text(input, |s| {
                let money = value::money(s).map_err(|e| e.to_string())?;
                Ok(json!({"value": number(&money.value)?, "currency": money.currency}))
            }),
            "yes_no" => on_text(input, |s| Ok(Value::Bool(value::yes_no(s).map_err(|e| e.to_string())?))),
            "boolean" => match input {
                Value::Bool(b) => Ok(Value::Bool(b)),
                other => on_text(other, |s| Ok(Value::Bool(value::boolean_word(s).map_err(|e| e.to_string())?))),
            },
            "period" => on_text(input, |s| {
                let period = value::date_period(s).map_err(|e| e.to_string())?;
                let (start, end) = period.to_fhir();
                Ok(json!({"start": start, "end": end}))
            }),
            "bsn" => on_text(input, |s| Ok(Value::String(value::bsn(s).map_err(|e| e.to_string())?))),
            "weekdays" => on_text(input, |s| Ok(Value::from(value::herhaling_codes(s).map_err(|e| e.to_string())?))),
            other => Err(format!("there is no filter `{other}`")),
        }
    }

    fn lookup(&self, name: &str, input: Value, scope: &Scope<'_>) -> Result<Value, String> {
        let Some(code) = text(&input) else { return Ok(Value::Null) };
        let table = self.tables.get(name).ok_or_else(|| format!("there is no code table `{name}`"))?;
        // `false` in a table means "no value".
        let value = |v: &Value| if v == &Value::Bool(false) { Value::Null } else { v.clone() };
        match (table.entries.get(&code), &table.otherwise) {
            (Some(found), _) => Ok(value(found)),
            (None, Some(otherwise)) => {
                if !table.quietly {
                    scope.note(format!("`{code}` is not a known code of `{name}`; taken as its otherwise"));
                }
                Ok(value(otherwise))
            }
            (None, None) => Err(format!("`{code}` is not one of the known codes ({})", known(table))),
        }
    }
}

fn known(table: &CodeTable) -> String {
    table.entries.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// A value as text: strings as they are, numbers and booleans written out.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Applies `f` to a value given as text; `Null` stays `Null`.
fn on_text(input: Value, f: impl FnOnce(&str) -> Result<Value, String>) -> Result<Value, String> {
    match text(&input) {
        None => Ok(Value::Null),
        Some(s) => f(&s),
    }
}

/// Whether a value holds: it is neither `Null` nor `false`.
pub fn holds(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// The value of an argument that names a field (its value, empty text as
/// none) or is a literal.
fn argument(arg: &Arg, scope: &Scope<'_>) -> Value {
    match arg {
        Arg::Name(path) => {
            let path = expr::Path(path.split('.').map(str::to_owned).collect());
            match scope.lookup(&path) {
                Value::String(s) if s.trim().is_empty() => Value::Null,
                value => value.clone(),
            }
        }
        other => literal(other),
    }
}

fn literal(arg: &Arg) -> Value {
    match arg {
        Arg::Text(t) | Arg::Name(t) => Value::String(t.clone()),
        Arg::Number(n) => Value::Number(n.clone()),
    }
}

fn date(parsed: value::Result<chrono::NaiveDate>) -> Result<Value, String> {
    parsed.map(|d| Value::String(value::fhir_date(d))).map_err(|e| e.to_string())
}

fn datetime(parsed: value::Result<chrono::DateTime<chrono::FixedOffset>>) -> Result<Value, String> {
    parsed.map(|t| Value::String(value::fhir_datetime(&t))).map_err(|e| e.to_string())
}

fn number(decimal: &str) -> Result<Value, String> {
    decimal.parse::<Number>().map(Value::Number).map_err(|_| format!("`{decimal}` is not a number"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::expr::parse;

    /// Evaluates `expression` over `record` with the test filters.
    fn check(expression: &str, record: Value, expected: Value) {
        let filters = Filters::for_tests();
        let expr = parse(expression).unwrap();
        filters.check(&expr).unwrap();
        let scope = Scope::new(&record, None, &Value::Null);
        let value = crate::mapping::template::evaluate(&expr, &scope, &filters).unwrap();
        assert_eq!(value, expected, "{expression} over {record}");
    }

    #[test]
    fn references_name_a_record_or_one_of_its_parts() {
        check("id | ref(client)", json!({"id": "100234"}), json!("urn:zorgpoort:source:client:100234"));
        check(
            "id | ref(client, careteam)",
            json!({"id": "100234"}),
            json!("urn:zorgpoort:source:client:100234#careteam"),
        );
        check("id | ref(client, 'careteam')", json!({"id": 7}), json!("urn:zorgpoort:source:client:7#careteam"));
        // `%` and `#` in the source id are encoded, so that `#` only ever
        // starts the part.
        check("id | ref(client)", json!({"id": "A#1%2"}), json!("urn:zorgpoort:source:client:A%231%252"));
        check("id | ref(client, careteam)", json!({"id": "#"}), json!("urn:zorgpoort:source:client:%23#careteam"));
        check("id | ref(client)", json!({}), Value::Null);
        assert_eq!(source_reference("doel", "D-1", Some("")), "urn:zorgpoort:source:doel:D-1");
    }

    #[test]
    fn linked_names_the_client_another_record_links_to() {
        check("mep_id | linked(client)", json!({"mep_id": "u-1"}), json!("urn:zorgpoort:linked:client:u-1"));
        check("mep_id | linked(client)", json!({"mep_id": "u#%"}), json!("urn:zorgpoort:linked:client:u%23%25"));
        check("mep_id | linked(client)", json!({}), Value::Null);
    }

    #[test]
    fn and_or_unless_take_a_field_or_a_literal() {
        let record = json!({"einde": "31-12-2024", "leeg": "", "nee": false, "begin": "01-01-2020",
                            "in_zorg": {"begin": "02-02-2020"}});
        check("einde | and('finished')", record.clone(), json!("finished"));
        check("leeg | and('finished')", record.clone(), Value::Null);
        check("nee | and(begin)", record.clone(), Value::Null);
        check("einde | and(in_zorg.begin)", record.clone(), json!("02-02-2020"));
        check("leeg | or(begin)", record.clone(), json!("01-01-2020"));
        check("nee | or(leeg)", record.clone(), Value::Null);
        check("einde | or(begin)", record.clone(), json!("31-12-2024"));
        check("begin | unless(einde)", record.clone(), Value::Null);
        check("begin | unless(leeg)", record.clone(), json!("01-01-2020"));
        check("begin | unless(nee)", record.clone(), json!("01-01-2020"));
        check("missing | and(begin) | default('x')", record, json!("x"));
    }

    #[test]
    fn present_tells_an_absent_field_from_a_null_one() {
        check("p | present", json!({"p": null}), json!(true));
        check("p | present", json!({"p": ""}), json!(true));
        check("p | present", json!({"q": 1}), json!(false));
        check("a.p | present", json!({"a": {"p": {}}}), json!(true));
        check("a.p | present", json!({"a": null}), json!(false));
        check("p | present | or(q) | unless(p)", json!({"p": null}), json!(true));
        check("p | present | or(q) | unless(p)", json!({"q": "x"}), json!("x"));
        check("p | present | or(q) | unless(p)", json!({}), Value::Null);
        check("p | present | or(q) | unless(p)", json!({"p": {"a": 1}}), Value::Null);
    }

    #[test]
    fn within_keys_a_record_per_scope() {
        let record = json!({"nr": "R-1", "client": "100234", "n": 7, "odd": "a@b%c", "leeg": ""});
        check("nr | within(client)", record.clone(), json!("R-1@100234"));
        check("nr | within(client) | ref(client)", record.clone(), json!("urn:zorgpoort:source:client:R-1@100234"));
        check("n | within(client)", record.clone(), json!("7@100234"));
        check("odd | within(odd)", record.clone(), json!("a%40b%25c@a%40b%25c"));
        check("missing | within(client)", record.clone(), Value::Null);
        let filters = Filters::for_tests();
        for expression in ["nr | within(leeg)", "nr | within(missing)"] {
            let error = crate::mapping::template::evaluate(
                &parse(expression).unwrap(),
                &Scope::new(&record, None, &Value::Null),
                &filters,
            );
            assert!(error.unwrap_err().reason.contains("has no value"), "{expression}");
        }
        // Two different pairs never give one id.
        assert_ne!(within_id("a@b", "c"), within_id("a", "b@c"));
        assert_ne!(within_id("a%40b", "c"), within_id("a@b", "c"));
    }

    #[test]
    fn ref_any_names_several_kinds_for_the_writer_to_try() {
        check(
            "a | ref_any(medewerker, client)",
            json!({"a": "E-1"}),
            json!("urn:zorgpoort:source:medewerker|client:E-1"),
        );
        check("a | ref_any(medewerker, client)", json!({}), Value::Null);
    }

    #[test]
    fn table_each_looks_up_every_item_once() {
        check("g | words | table_each(gender)", json!({"g": "V M  V"}), json!(["female", "male"]));
        check("g | table_each(gender)", json!({"g": "M"}), json!(["male"]));
        check("g | words | table_each(gender)", json!({"g": ""}), Value::Null);
        let filters = Filters::for_tests();
        let e = parse("g | words | table_each(gender)").unwrap();
        let record = json!({"g": "M Q"});
        let error = crate::mapping::template::evaluate(&e, &Scope::new(&record, None, &Value::Null), &filters);
        assert!(error.unwrap_err().reason.contains("`Q` is not one of the known codes"));
    }

    #[test]
    fn try_filters_give_a_typed_value_or_nothing() {
        let cases = [
            ("true", json!(true), Value::Null, Value::Null),
            ("false", json!(false), Value::Null, Value::Null),
            ("3", Value::Null, json!(3), json!(3)),
            ("-12", Value::Null, json!(-12), json!(-12)),
            ("37,8", Value::Null, Value::Null, json!(37.8)),
            ("61.5", Value::Null, Value::Null, json!(61.5)),
            ("1.234,5", Value::Null, Value::Null, Value::Null),
            ("Tonisch", Value::Null, Value::Null, Value::Null),
            ("", Value::Null, Value::Null, Value::Null),
        ];
        for (text, boolean, integer, decimal) in cases {
            let record = json!({"a": text});
            check("a | try_boolean", record.clone(), boolean);
            check("a | try_integer", record.clone(), integer);
            check("a | try_decimal", record, decimal);
        }
    }

    #[test]
    fn caress_period_and_get() {
        let record = json!({"start": "01-04-24 00:00", "eind": "03-04-24 00:00", "heel": "true", "niet": "false"});
        check(
            "start | caress_period(eind, heel)",
            record.clone(),
            json!({"start": "2024-04-01T00:00:00+02:00", "end": "2024-04-04T00:00:00+02:00"}),
        );
        check("start | caress_period(eind, niet) | get('end')", record.clone(), json!("2024-04-03T00:00:00+02:00"));
        check("start | caress_period(eind, leeg) | get('end')", record.clone(), json!("2024-04-03T00:00:00+02:00"));
        check("leeg | caress_period(eind, heel)", record.clone(), Value::Null);
        check("start | get('x')", record.clone(), Value::Null);
        let filters = Filters::for_tests();
        let e = parse("start | caress_period(eind, start)").unwrap();
        let error = crate::mapping::template::evaluate(&e, &Scope::new(&record, None, &Value::Null), &filters);
        assert!(error.unwrap_err().reason.starts_with("start: "), "the whole-day field is named");
    }

    #[test]
    fn base64_encodes_text_as_utf8() {
        check("t | base64", json!({"t": "Zoë"}), json!("Wm/Dqw=="));
        check("t | base64", json!({}), Value::Null);
    }

    #[test]
    fn filters_are_checked_with_their_arguments() {
        let filters = Filters::for_tests();
        let cases = [
            ("id | ref(nobody)", "there is no record kind `nobody`"),
            ("id | ref_any(client, nobody)", "there is no record kind `nobody`"),
            ("id | ref_any(client)", "`ref_any` takes 2 or 8 argument(s), not 1"),
            ("id | caress_period(eind)", "`caress_period` takes 2 argument(s), not 1"),
            ("id | ref(client, plan)", "record kind `client` has no part `plan`"),
            ("id | ref(client, careteam, x)", "`ref` takes 1 or 2 argument(s), not 3"),
            ("id | and", "`and` takes 1 argument(s), not 0"),
            ("id | linked(nobody)", "there is no record kind `nobody`"),
            ("id | linked(client, careteam)", "`linked` takes 1 argument(s), not 2"),
            ("id | upper | present", "`present` asks about a field"),
            ("'x' | present", "`present` asks about a field"),
        ];
        for (expression, message) in cases {
            let error = filters.check(&parse(expression).unwrap()).unwrap_err();
            assert!(error.contains(message), "{expression}: {error}");
        }
    }
}
