//! Resource templates: the FHIR JSON a record becomes, written out, with
//! `{{ expressions }}` where source values go.
//!
//! - A string that is one expression takes the expression's value as it
//!   is (a number stays a number, a code table entry may be an object).
//! - A string with text around expressions is text; when one of its
//!   expressions has no value, the string has none either.
//! - `"$if": "{{ expr }}"` in an object keeps the object only when the
//!   expression has a value that is not `false`.
//! - An array element `{"$each": "{{ path }}", "$as": "name", ...}` stands
//!   for one element per item of the list at `path`, the item bound to
//!   `name` in the rest of the element; `"$number": "n"` binds `n` to its
//!   position in the list, from 1.
//! - `{"$join": " ", "$parts": ["{{ a }}", "{{ b }}"]}` is the text of the
//!   parts that have a value, joined (`van der` + `Berg`, or just `Berg`);
//!   `"$then": "base64"` passes the joined text through filters.
//! - `{"$first": [a, b, ...]}` is the first alternative that has a value
//!   (alternatives are usually objects with an `$if` each).
//! - Whatever ends up without a value (`null`, `{}`, `[]`) is left out, as
//!   FHIR wants: a template can name every element a record may have.

use serde_json::{Map, Value};

use super::expr::{self, Expr, ExprError, FilterCall, Piece};
use super::filter::Filters;
use super::scope::Scope;

/// A checked template.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Value),
    Expr(Expr),
    Text(Vec<Piece>),
    Object { condition: Option<Expr>, fields: Vec<(String, Template)> },
    Array(Vec<Element>),
    Join { separator: String, parts: Vec<Template>, then: Vec<FilterCall> },
    First(Vec<Template>),
}

/// An element of a template array.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    One(Template),
    Each { list: Expr, name: String, number: Option<String>, element: Template },
}

/// A template that cannot be used: where (a JSON path in the template)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {message}")]
pub struct TemplateError {
    pub at: String,
    pub message: String,
}

impl Template {
    /// Checks a template: its expressions parse, its filters exist with
    /// the right arguments.
    pub fn compile(value: &Value, filters: &Filters) -> Result<Template, TemplateError> {
        compile(value, "$", filters)
    }
}

fn compile(value: &Value, at: &str, filters: &Filters) -> Result<Template, TemplateError> {
    let fail = |message: String| TemplateError { at: at.to_owned(), message };
    match value {
        Value::String(s) if s.contains("{{") => {
            let pieces = expr::pieces(s).map_err(|e: ExprError| fail(e.to_string()))?;
            for piece in &pieces {
                if let Piece::Expr(e) = piece {
                    filters.check(e).map_err(fail)?;
                }
            }
            match <[Piece; 1]>::try_from(pieces) {
                Ok([Piece::Expr(e)]) => Ok(Template::Expr(e)),
                Ok([literal]) => Ok(Template::Text(vec![literal])),
                Err(pieces) => Ok(Template::Text(pieces)),
            }
        }
        Value::Object(map) if map.contains_key("$join") => {
            let separator = map.get("$join").and_then(Value::as_str);
            let parts = map.get("$parts").and_then(Value::as_array);
            let then = match map.get("$then") {
                None => Some(Vec::new()),
                Some(Value::String(chain)) => Some(filter_chain(chain, &format!("{at}.$then"), filters)?),
                Some(_) => None,
            };
            match (separator, parts, then, map.len() - usize::from(map.contains_key("$then"))) {
                (Some(separator), Some(parts), Some(then), 2) => Ok(Template::Join {
                    separator: separator.to_owned(),
                    parts: parts
                        .iter()
                        .enumerate()
                        .map(|(i, part)| compile(part, &format!("{at}.$parts[{i}]"), filters))
                        .collect::<Result<_, _>>()?,
                    then,
                }),
                _ => Err(fail(
                    "`$join` takes a separator text and `$parts`, a list, optionally `$then` (filters), and nothing \
                     else"
                        .into(),
                )),
            }
        }
        Value::Object(map) if map.contains_key("$first") => match (map.get("$first"), map.len()) {
            (Some(Value::Array(alternatives)), 1) => Ok(Template::First(
                alternatives
                    .iter()
                    .enumerate()
                    .map(|(i, alternative)| compile(alternative, &format!("{at}.$first[{i}]"), filters))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Err(fail("`$first` takes a list of alternatives, and nothing else".into())),
        },
        Value::Object(map) => {
            let mut condition = None;
            let mut fields = Vec::new();
            for (key, field) in map {
                let here = format!("{at}.{key}");
                if key == "$if" {
                    condition = Some(single_expr(field, &here, filters)?);
                } else if key.starts_with('$') {
                    return Err(TemplateError {
                        at: here,
                        message: format!(
                            "`{key}` is not a template directive here (`$if` in objects, `$each` in arrays, \
                             `$join` and `$first` alone)"
                        ),
                    });
                } else {
                    fields.push((key.clone(), compile(field, &here, filters)?));
                }
            }
            Ok(Template::Object { condition, fields })
        }
        Value::Array(items) => {
            let mut elements = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let here = format!("{at}[{i}]");
                match item.as_object().and_then(|m| m.get("$each").map(|list| (m, list))) {
                    Some((map, list)) => {
                        let list = single_expr(list, &format!("{here}.$each"), filters)?;
                        let name = match map.get("$as") {
                            Some(Value::String(name)) if !name.is_empty() && !name.starts_with('$') => name.clone(),
                            _ => {
                                return Err(TemplateError {
                                    at: here,
                                    message: "`$each` needs `$as` with the name of the item".into(),
                                });
                            }
                        };
                        let number = match map.get("$number") {
                            None => None,
                            Some(Value::String(n)) if !n.is_empty() && !n.starts_with('$') && *n != name => {
                                Some(n.clone())
                            }
                            Some(_) => {
                                return Err(TemplateError {
                                    at: here,
                                    message: "`$number` names the item's position: a name of its own".into(),
                                });
                            }
                        };
                        let rest: Map<String, Value> = map
                            .iter()
                            .filter(|(k, _)| *k != "$each" && *k != "$as" && *k != "$number")
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        let element = match rest.get("$value") {
                            Some(value) if rest.len() == 1 => compile(value, &format!("{here}.$value"), filters)?,
                            _ => compile(&Value::Object(rest), &here, filters)?,
                        };
                        elements.push(Element::Each { list, name, number, element });
                    }
                    None => elements.push(Element::One(compile(item, &here, filters)?)),
                }
            }
            Ok(Template::Array(elements))
        }
        other => Ok(Template::Literal(other.clone())),
    }
}

fn single_expr(value: &Value, at: &str, filters: &Filters) -> Result<Expr, TemplateError> {
    let fail = |message: String| TemplateError { at: at.to_owned(), message };
    let text = value.as_str().ok_or_else(|| fail("expected a string holding one `{{ expression }}`".into()))?;
    match <[Piece; 1]>::try_from(expr::pieces(text).map_err(|e| fail(e.to_string()))?) {
        Ok([Piece::Expr(e)]) => {
            filters.check(&e).map_err(fail)?;
            Ok(e)
        }
        _ => Err(fail("expected exactly one `{{ expression }}` and nothing around it".into())),
    }
}

/// `upper | base64`: filters applied to a value the template made.
fn filter_chain(chain: &str, at: &str, filters: &Filters) -> Result<Vec<FilterCall>, TemplateError> {
    let fail = |message: String| TemplateError { at: at.to_owned(), message };
    let e = expr::parse(&format!("value | {chain}")).map_err(|e| fail(e.to_string()))?;
    filters.check(&e).map_err(fail)?;
    Ok(e.filters)
}

/// A source value that cannot be mapped: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Fills in a template for one record.
pub fn render(template: &Template, scope: &Scope<'_>, filters: &Filters) -> Result<Value, FieldError> {
    Ok(render_value(template, scope, filters)?.unwrap_or(Value::Null))
}

fn render_value(template: &Template, scope: &Scope<'_>, filters: &Filters) -> Result<Option<Value>, FieldError> {
    match template {
        Template::Literal(value) => Ok(Some(value.clone())),
        Template::Expr(e) => Ok(present(evaluate(e, scope, filters)?)),
        Template::Text(pieces) => {
            let mut text = String::new();
            for piece in pieces {
                match piece {
                    Piece::Literal(literal) => text.push_str(literal),
                    Piece::Expr(e) => match evaluate(e, scope, filters)? {
                        Value::Null => return Ok(None),
                        Value::String(s) => text.push_str(&s),
                        other => text.push_str(&other.to_string()),
                    },
                }
            }
            Ok(Some(Value::String(text)))
        }
        Template::Join { separator, parts, then } => {
            let mut present_parts = Vec::new();
            for part in parts {
                match render_value(part, scope, filters)? {
                    Some(Value::String(s)) => present_parts.push(s),
                    Some(other) => present_parts.push(other.to_string()),
                    None => {}
                }
            }
            let mut value =
                if present_parts.is_empty() { Value::Null } else { Value::String(present_parts.join(separator)) };
            for call in then {
                value = filters
                    .apply(call, value, scope)
                    .map_err(|reason| FieldError { field: "(joined text)".into(), reason })?;
            }
            Ok(present(value))
        }
        Template::First(alternatives) => {
            for alternative in alternatives {
                if let Some(value) = render_value(alternative, scope, filters)? {
                    return Ok(Some(value));
                }
            }
            Ok(None)
        }
        Template::Object { condition, fields } => {
            if let Some(condition) = condition
                && matches!(evaluate(condition, scope, filters)?, Value::Null | Value::Bool(false))
            {
                return Ok(None);
            }
            let mut map = Map::new();
            for (key, field) in fields {
                if let Some(value) = render_value(field, scope, filters)? {
                    map.insert(key.clone(), value);
                }
            }
            Ok(present(Value::Object(map)))
        }
        Template::Array(elements) => {
            let mut items = Vec::new();
            for element in elements {
                match element {
                    Element::One(t) => splice(&mut items, render_value(t, scope, filters)?),
                    Element::Each { list, name, number, element } => {
                        let list = evaluate(list, scope, filters)?;
                        let list = match &list {
                            Value::Array(items) => items.as_slice(),
                            Value::Null => &[],
                            single => std::slice::from_ref(single),
                        };
                        for (i, item) in list.iter().enumerate() {
                            let bound = scope.with(name, item);
                            let position = Value::from(i + 1);
                            let scope = match number {
                                Some(number) => bound.with(number, &position),
                                None => bound,
                            };
                            splice(&mut items, render_value(element, &scope, filters)?);
                        }
                    }
                }
            }
            Ok(present(Value::Array(items)))
        }
    }
}

/// Adds an array element; one whose value is a list adds its items (FHIR
/// has no lists in lists: a code table entry may be several codings).
fn splice(items: &mut Vec<Value>, value: Option<Value>) {
    match value {
        Some(Value::Array(inner)) => items.extend(inner.into_iter().filter_map(present)),
        Some(value) => items.push(value),
        None => {}
    }
}

/// Evaluates an expression: its operand, then each filter in turn.
pub fn evaluate(e: &Expr, scope: &Scope<'_>, filters: &Filters) -> Result<Value, FieldError> {
    let field = || match &e.operand {
        expr::Operand::Path(p) => p.to_string(),
        _ => "(literal)".to_owned(),
    };
    let mut calls = e.filters.as_slice();
    let mut value = match (&e.operand, calls.first()) {
        // Whether the field is there at all, even as `null`.
        (expr::Operand::Path(p), Some(call)) if call.name == "present" => {
            calls = &calls[1..];
            Value::Bool(scope.find(p).is_some())
        }
        (expr::Operand::Path(p), _) => scope.lookup(p).clone(),
        (expr::Operand::Text(t), _) => Value::String(t.clone()),
        (expr::Operand::Number(n), _) => Value::Number(n.clone()),
    };
    if value.as_str().is_some_and(|s| s.trim().is_empty()) {
        // Empty text means "not known", as absent and null do.
        value = Value::Null;
    }
    for call in calls {
        value = filters.apply(call, value, scope).map_err(|reason| FieldError { field: field(), reason })?;
    }
    Ok(value)
}

/// `None` for what FHIR leaves out: null, empty objects and arrays.
fn present(value: Value) -> Option<Value> {
    match &value {
        Value::Null => None,
        Value::Object(m) if m.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(template: Value, record: Value) -> Result<Value, FieldError> {
        let filters = Filters::for_tests();
        let template = Template::compile(&template, &filters).unwrap();
        render(&template, &Scope::new(&record, None, &json!({})), &filters)
    }

    #[test]
    fn values_keep_their_type_and_absent_ones_leave_nothing() {
        let out = run(
            json!({"resourceType": "Patient", "active": "{{ actief }}", "name": [{"family": "{{ achternaam }}",
                   "given": ["{{ voornaam }}"]}], "gender": "{{ geslacht }}", "extra": {"nothing": "{{ leeg }}"}}),
            json!({"actief": true, "achternaam": "Berg", "voornaam": "", "leeg": null}),
        )
        .unwrap();
        assert_eq!(out, json!({"resourceType": "Patient", "active": true, "name": [{"family": "Berg"}]}));
    }

    #[test]
    fn text_with_an_absent_part_is_absent() {
        let template = json!({"a": "Client {{ nummer }}", "b": "{{ x }}-{{ y }}"});
        assert_eq!(
            run(template.clone(), json!({"nummer": 12, "x": "1", "y": "2"})).unwrap(),
            json!({"a": "Client 12", "b": "1-2"})
        );
        assert_eq!(run(template, json!({"x": "1"})).unwrap(), Value::Null);
    }

    #[test]
    fn conditions_and_repetitions() {
        let template = json!({"goal": [{"$each": "{{ doelen }}", "$as": "doel", "reference": "Goal/{{ doel }}"}],
                              "note": [{"$if": "{{ toelichting }}", "text": "{{ toelichting }}"}],
                              "tags": [{"$each": "{{ tags }}", "$as": "t", "$value": "{{ t.code }}"}]});
        let out =
            run(template.clone(), json!({"doelen": ["D-1", "D-2"], "tags": [{"code": "a"}, {"code": "b"}]})).unwrap();
        assert_eq!(out, json!({"goal": [{"reference": "Goal/D-1"}, {"reference": "Goal/D-2"}], "tags": ["a", "b"]}));
        let out = run(template, json!({"toelichting": "Zittend"})).unwrap();
        assert_eq!(out, json!({"note": [{"text": "Zittend"}]}));
    }

    #[test]
    fn repetitions_know_their_position() {
        let template = json!({"activity": [{"$each": "{{ stappen }}", "$as": "stap", "$number": "n",
                                            "id": "stap-{{ n }}", "text": "{{ stap }}"}]});
        let out = run(template, json!({"stappen": ["pakken", "poetsen"]})).unwrap();
        assert_eq!(out, json!({"activity": [{"id": "stap-1", "text": "pakken"}, {"id": "stap-2", "text": "poetsen"}]}));
        for number in [json!("$n"), json!(""), json!(3), json!("stap")] {
            let template = json!({"a": [{"$each": "{{ stappen }}", "$as": "stap", "$number": number, "v": "x"}]});
            let error = Template::compile(&template, &Filters::for_tests()).unwrap_err();
            assert!(error.message.contains("$number"), "{error}");
        }
    }

    #[test]
    fn list_values_in_an_array_add_their_items() {
        let template = json!({"coding": ["{{ a }}", "{{ b }}", {"$each": "{{ c }}", "$as": "x", "$value": "{{ x }}"}]});
        assert_eq!(
            run(template.clone(), json!({"a": ["1", "2"], "b": "3", "c": [["4", null], "5"]})).unwrap(),
            json!({"coding": ["1", "2", "3", "4", "5"]})
        );
        assert_eq!(run(template, json!({"a": [], "c": "6"})).unwrap(), json!({"coding": ["6"]}));
    }

    #[test]
    fn the_text_of_an_element_that_is_only_text_is_itself() {
        let template =
            json!({"telecom": [{"$each": "{{ t }}", "$as": "t", "value": "{{ t.$text }}", "use": "{{ t.soort }}"}]});
        assert_eq!(
            run(template, json!({"t": [{"soort": "mobiel", "$text": "06"}, "033"]})).unwrap(),
            json!({"telecom": [{"value": "06", "use": "mobiel"}, {"value": "033"}]})
        );
    }

    #[test]
    fn joins_leave_out_absent_parts() {
        let template = json!({"family": {"$join": " ", "$parts": ["{{ voorvoegsel }}", "{{ achternaam }}"]}});
        assert_eq!(
            run(template.clone(), json!({"voorvoegsel": "van der", "achternaam": "Berg"})).unwrap(),
            json!({"family": "van der Berg"})
        );
        assert_eq!(
            run(template.clone(), json!({"voorvoegsel": "", "achternaam": "Berg"})).unwrap(),
            json!({"family": "Berg"})
        );
        assert_eq!(run(template, json!({})).unwrap(), Value::Null);
    }

    #[test]
    fn bound_names_parent_and_delivery() {
        let filters = Filters::for_tests();
        let template = Template::compile(
            &json!({"a": "{{ $parent.id }}", "b": "{{ $delivery.code }}", "c": "{{ id }}"}),
            &filters,
        )
        .unwrap();
        let (record, parent, delivery) = (json!({"id": "r"}), json!({"id": "p"}), json!({"code": "t"}));
        let out = render(&template, &Scope::new(&record, Some(&parent), &delivery), &filters).unwrap();
        assert_eq!(out, json!({"a": "p", "b": "t", "c": "r"}));
    }

    #[test]
    fn first_takes_the_first_alternative_with_a_value() {
        let template = json!({"sender": {"$first": [
            {"$if": "{{ soort | is('medewerker') }}", "reference": "{{ nummer | ref(client) }}"},
            {"$if": "{{ soort | is('client') }}", "reference": "urn:client"},
        ]}, "status": {"$first": ["{{ status }}", "active"]}});
        assert_eq!(
            run(template.clone(), json!({"soort": "medewerker", "nummer": "M-1", "status": "x"})).unwrap(),
            json!({"sender": {"reference": "urn:zorgpoort:source:client:M-1"}, "status": "x"})
        );
        assert_eq!(
            run(template.clone(), json!({"soort": "client"})).unwrap(),
            json!({"sender": {"reference": "urn:client"}, "status": "active"})
        );
        assert_eq!(run(template, json!({"soort": "ander"})).unwrap(), json!({"status": "active"}));
    }

    #[test]
    fn a_join_passes_its_text_through_filters() {
        let template =
            json!({"data": {"$join": "\n", "$parts": ["a: {{ a }}", "b: {{ b }}"], "$then": "upper | base64"}});
        assert_eq!(run(template.clone(), json!({"a": "x"})).unwrap(), json!({"data": "QTogWA=="}));
        assert_eq!(run(template, json!({})).unwrap(), Value::Null);
    }

    #[test]
    fn bad_templates_are_refused_with_their_place() {
        let filters = Filters::for_tests();
        let cases = [
            (json!({"a": {"b": "{{ x | nonsense }}"}}), "$.a.b", "nonsense"),
            (json!({"a": [{"$each": "{{ x }}"}]}), "$.a[0]", "$as"),
            (json!({"$when": "{{ x }}"}), "$.$when", "not a template directive"),
            (json!({"a": "{{ x"}), "$.a", "not closed"),
            (json!({"a": [{"$if": "x"}]}), "$.a[0].$if", "exactly one"),
            (json!({"a": {"$first": "x"}}), "$.a", "list of alternatives"),
            (json!({"a": {"$first": [], "b": 1}}), "$.a", "list of alternatives"),
            (json!({"a": {"$join": "", "$parts": [], "$then": "nonsense"}}), "$.a.$then", "no filter `nonsense`"),
            (json!({"a": {"$join": "", "$parts": [], "$then": 1}}), "$.a", "optionally `$then`"),
        ];
        for (template, at, message) in cases {
            let error = Template::compile(&template, &filters).unwrap_err();
            assert_eq!(error.at, at, "{error}");
            assert!(error.message.contains(message), "{error}");
        }
    }

    #[test]
    fn a_failing_filter_names_the_field() {
        let error =
            run(json!({"birthDate": "{{ geboortedatum | dutch_date }}"}), json!({"geboortedatum": "31-02-2024"}))
                .unwrap_err();
        assert_eq!(error.field, "geboortedatum");
        assert!(error.reason.contains("31-02-2024"), "{error}");
    }
}
