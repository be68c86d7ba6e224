//! The filters expressions can use: the generic transforms of vendor values
//! ([`super::value`]), code tables from the mapping file, and references to
//! other records by their source identity.
//!
//! A filter receives the value so far (`Null` when there is none) and
//! returns the next; most pass `Null` on unchanged, so that an optional
//! field stays optional. `required` turns `Null` into an error.

use std::collections::BTreeMap;

use serde_json::{Number, Value, json};

use super::expr::{Arg, Expr, FilterCall};
use super::template::Scope;
use super::value;

/// The prefix of a reference that names a record by its source identity
/// (`urn:zorgpoort:source:<kind>:<source id>`); the writer replaces it by
/// the resource's logical reference.
pub const SOURCE_REFERENCE_PREFIX: &str = "urn:zorgpoort:source:";

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
    /// A record kind's name.
    Kind,
}

fn signature(name: &str) -> Option<Args> {
    Some(match name {
        "required" | "dutch_date" | "iso_date" | "local_datetime" | "caress_datetime" | "mep_datetime"
        | "offset_datetime" | "measurement_time" | "epoch_millis" | "decimal" | "integer" | "money" | "yes_no"
        | "boolean" | "period" | "bsn" | "upper" | "lower" | "trim" | "text" | "weekdays" | "not" | "words" => {
            Args::None
        }
        "default" | "date" | "is" | "append" | "prepend" => Args::Literal,
        "split" | "range" => Args::Literals2,
        "table" => Args::Table,
        "ref" => Args::Kind,
        _ => return None,
    })
}

impl Filters {
    pub fn new(tables: BTreeMap<String, CodeTable>, record_kinds: Vec<String>) -> Self {
        Filters { tables, record_kinds }
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
        Filters::new(tables, vec!["client".into()])
    }

    /// Checks the filters of an expression when the mapping is loaded.
    pub fn check(&self, expr: &Expr) -> Result<(), String> {
        for call in &expr.filters {
            let args = signature(&call.name).ok_or_else(|| format!("there is no filter `{}`", call.name))?;
            let wanted = match args {
                Args::None => 0,
                Args::Literal | Args::Table | Args::Kind => 1,
                Args::Literals2 => 2,
            };
            if call.args.len() != wanted {
                return Err(format!("`{}` takes {wanted} argument(s), not {}", call.name, call.args.len()));
            }
            match (args, call.args.first()) {
                (Args::Table, Some(arg)) if !self.tables.contains_key(&arg.as_text()) => {
                    return Err(format!("there is no code table `{}`", arg.as_text()));
                }
                (Args::Kind, Some(arg)) if !self.record_kinds.contains(&arg.as_text()) => {
                    return Err(format!("there is no record kind `{}`", arg.as_text()));
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
            "ref" => on_text(input, |s| Ok(Value::String(format!("{SOURCE_REFERENCE_PREFIX}{}:{s}", arg(0))))),
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
