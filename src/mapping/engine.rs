//! The mapping engine: a source record in, what it becomes out. No I/O:
//! references to other records stay source identities
//! ([`super::filter::SOURCE_REFERENCE_PREFIX`]) for the writer to resolve.

use std::cell::RefCell;

use serde_json::Value;

use super::expr::Expr;
use super::scope::Scope;
use super::spec::{Mapping, RecordKind};
use super::template::{self, FieldError};
use crate::fhir::ResourceType;

/// What one source record becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    Mapped(MappedRecord),
    Rejected(Rejection),
}

/// A record that mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedRecord {
    pub kind: String,
    pub source_id: String,
    /// The source id of the client it belongs to (its own for a client).
    pub client: Option<String>,
    /// When it last changed at the source (FHIR dateTime), if it says.
    pub changed: Option<String>,
    pub action: Action,
    /// The record whose resources this one changes (a source reference,
    /// `urn:zorgpoort:source:<kind>:<id>`), if its kind `amends` one.
    pub amends: Option<String>,
    /// Other records take their client through this one.
    pub links: bool,
    /// The kind this one takes its client through (`linked(kind)`), also
    /// for a tombstone that does not say its client.
    pub linked_through: Option<String>,
    /// Records of other kinds amend this one.
    pub amended: bool,
    pub warnings: Vec<String>,
}

/// What the writer does with a mapped record.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write these resources (replacing what the record wrote before).
    Write(Vec<MappedResource>),
    /// A tombstone: delete what the record wrote.
    Delete,
    /// Only the id and nested records: nothing of the record itself changes.
    Container,
    /// Not stored (not for the portal, a concept); what it wrote before goes.
    Skip,
}

/// A resource of a mapped record.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedResource {
    pub part: String,
    pub resource_type: ResourceType,
    pub resource: Value,
}

/// A record that cannot be mapped, kept whole for a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub kind: String,
    pub source_id: Option<String>,
    pub field: String,
    pub reason: String,
    pub record: Value,
    /// The record it is nested in, without its lists (what `$parent.`
    /// needs to map it again).
    pub parent: Option<Value>,
}

impl Mapping {
    /// Every record of a delivery, mapped, in the order of the record
    /// kinds in the mapping file and, within a kind, of the delivery.
    pub fn map_delivery<'a>(&'a self, delivery: &'a Value) -> impl Iterator<Item = RecordOutcome> + 'a {
        self.records.iter().flat_map(move |kind| {
            let mut found = Vec::new();
            collect(delivery, None, &kind.at, &mut found);
            found.into_iter().map(move |(record, parent)| self.map_record(kind, record, parent, delivery))
        })
    }

    /// Maps one line of an NDJSON delivery: its record kind is the one
    /// whose `at` names the line's kind (`kind_field`). A line of a kind
    /// no record kind names is rejected (under its `line_id`), and kept,
    /// so that a later mapping that knows it can replay it.
    pub fn map_line(&self, line: &Value, delivery: &Value) -> RecordOutcome {
        let field = self.kind_field.as_deref().unwrap_or_default();
        let source_id = || {
            let scope = Scope::new(line, None, delivery);
            self.line_id.as_ref().and_then(|e| self.text(e, &scope).ok().flatten())
        };
        let reject = |kind: &str, reason: String| {
            RecordOutcome::Rejected(Rejection {
                kind: kind.to_owned(),
                source_id: source_id(),
                field: field.to_owned(),
                reason,
                record: line.clone(),
                parent: None,
            })
        };
        let name = match line.get(field) {
            Some(Value::String(name)) if !name.trim().is_empty() => name,
            _ => return reject("(line)", format!("the line says no kind (`{field}`)")),
        };
        match self.records.iter().find(|k| k.line_kinds.contains(name)) {
            Some(kind) => self.map_record(kind, line, None, delivery),
            None => reject(name, format!("unknown {field} kind `{name}`")),
        }
    }

    /// Maps one record of `kind`; `parent` is the record it is nested in.
    pub fn map_record(
        &self,
        kind: &RecordKind,
        record: &Value,
        parent: Option<&Value>,
        delivery: &Value,
    ) -> RecordOutcome {
        let notes = RefCell::new(Vec::new());
        let scope = Scope::new(record, parent, delivery).noting(&notes);
        let reject = |source_id: Option<String>, error: FieldError| {
            RecordOutcome::Rejected(Rejection {
                kind: kind.kind.clone(),
                source_id,
                field: error.field,
                reason: error.reason,
                record: record.clone(),
                parent: parent
                    .map(|p| without_fields(p, |k, v| v.is_array() || kind.parent_lists.iter().any(|l| l == k))),
            })
        };
        let source_id = match self.text(&kind.id, &scope) {
            Ok(Some(id)) => id,
            Ok(None) => {
                let error = FieldError { field: field_of(&kind.id), reason: "the record has no id".into() };
                return reject(None, error);
            }
            Err(error) => return reject(None, error),
        };
        let outcome = (|| {
            // A record that is of another kind than its place's (a tombstone
            // naming the type of what it deletes).
            let record_kind = match &kind.as_kind {
                None => kind.kind.clone(),
                Some(e) => match self.text(e, &scope)? {
                    Some(named) if self.records.iter().any(|k| k.kind == named) => named,
                    Some(named) => {
                        return Err(FieldError {
                            field: field_of(e),
                            reason: format!("`{named}` is not a record kind of the {} mapping", self.vendor),
                        });
                    }
                    None => return Err(FieldError { field: field_of(e), reason: "names no record kind".into() }),
                },
            };
            let changed = kind.changed.as_ref().map(|e| self.text(e, &scope)).transpose()?.flatten();
            let amends = kind.amends.as_ref().map(|e| self.text(e, &scope)).transpose()?.flatten();
            if kind.amends.is_some() && amends.is_none() {
                let field = kind.amends.as_ref().map(field_of).unwrap_or_default();
                return Err(FieldError { field, reason: "names no record to amend".into() });
            }
            if self.holds(kind.deleted.as_ref(), &scope)? {
                // A tombstone carries its id and change time; its client, if
                // it names one, is only a hint.
                let client = kind.client.as_ref().and_then(|e| self.text(e, &scope).ok().flatten());
                return Ok((record_kind, client, changed, amends, Action::Delete));
            }
            let client = kind.client.as_ref().map(|e| self.text(e, &scope)).transpose()?.flatten();
            let action = if self.holds(kind.container.as_ref(), &scope)? {
                Action::Container
            } else if self.holds(kind.skip.as_ref(), &scope)? {
                Action::Skip
            } else {
                let mut resources = Vec::new();
                for rule in &kind.resources {
                    if rule.when.is_none() || self.holds(rule.when.as_ref(), &scope)? {
                        if resources.iter().any(|r: &MappedResource| r.part == rule.part) {
                            return Err(FieldError {
                                field: "(record)".into(),
                                reason: format!("two templates of part `{}` apply; their `when`s overlap", rule.part),
                            });
                        }
                        let resource = template::render(&rule.template, &scope, &self.filters)?;
                        resources.push(MappedResource {
                            part: rule.part.clone(),
                            resource_type: rule.resource_type,
                            resource,
                        });
                    }
                }
                Action::Write(resources)
            };
            Ok::<_, FieldError>((record_kind, client, changed, amends, action))
        })();
        match outcome {
            Ok((record_kind, client, changed, amends, action)) => RecordOutcome::Mapped(MappedRecord {
                kind: record_kind,
                source_id,
                client,
                changed,
                action,
                amends,
                links: kind.links,
                linked_through: kind.linked_through.clone(),
                amended: kind.amended,
                warnings: notes.into_inner(),
            }),
            Err(error) => reject(Some(source_id), error),
        }
    }

    fn text(&self, e: &Expr, scope: &Scope<'_>) -> Result<Option<String>, FieldError> {
        Ok(match template::evaluate(e, scope, &self.filters)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// Whether a condition holds: it has a value that is not `false`.
    fn holds(&self, condition: Option<&Expr>, scope: &Scope<'_>) -> Result<bool, FieldError> {
        let Some(e) = condition else { return Ok(false) };
        Ok(!matches!(template::evaluate(e, scope, &self.filters)?, Value::Null | Value::Bool(false)))
    }
}

/// An object without its array members: a parent record without the
/// lists of records nested in it.
pub fn without_lists(value: &Value) -> Value {
    without_fields(value, |_, v| v.is_array())
}

/// A copy of an object without the fields `leave_out` names (anything
/// else is copied as it is).
pub fn without_fields(value: &Value, leave_out: impl Fn(&str, &Value) -> bool) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields.iter().filter(|(k, v)| !leave_out(k, v)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        ),
        other => other.clone(),
    }
}

fn field_of(e: &Expr) -> String {
    match &e.operand {
        super::expr::Operand::Path(p) => p.to_string(),
        _ => "(literal)".into(),
    }
}

/// The records at a list path, each with the item it is nested in.
pub(crate) fn collect<'a>(
    value: &'a Value,
    parent: Option<&'a Value>,
    steps: &[String],
    found: &mut Vec<(&'a Value, Option<&'a Value>)>,
) {
    match steps.split_first() {
        None => match value {
            Value::Array(items) => found.extend(items.iter().map(|item| (item, parent))),
            Value::Null => {}
            single => found.push((single, parent)),
        },
        // Each item of a list; a single value is a list of one (an XML
        // element that comes once).
        Some((step, rest)) if step == "[]" => match value {
            Value::Array(items) => {
                for item in items {
                    collect(item, Some(item), rest, found);
                }
            }
            Value::Null => {}
            single => collect(single, Some(single), rest, found),
        },
        Some((step, rest)) => {
            if let Some(next) = value.get(step) {
                collect(next, parent, rest, found);
            }
        }
    }
}

/// What the envelope of a delivery says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub tenant: String,
    /// When the delivery was made (FHIR dateTime).
    pub created: String,
}

/// A delivery refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl Mapping {
    /// Checks the envelope: format and version exactly as the mapping
    /// says, a tenant, a creation time.
    pub fn envelope(&self, delivery: &Value) -> Result<Envelope, Refusal> {
        for (what, fixed) in [("format", &self.format), ("version", &self.format_version)] {
            let found = fixed.at.split('.').try_fold(delivery, |v, field| v.get(field));
            let expected = serde_json::to_value(&fixed.is).map_err(|e| Refusal(e.to_string()))?;
            if found != Some(&expected) {
                let found = found.map_or_else(|| "nothing".to_owned(), Value::to_string);
                return Err(Refusal(format!(
                    "this is not a {} delivery: its {what} (`{}`) is {found}, expected {expected}",
                    self.vendor, fixed.at
                )));
            }
        }
        let scope = Scope::new(delivery, None, delivery);
        let tenant = match scope.lookup(&self.tenant) {
            Value::String(code) if !code.trim().is_empty() => code.clone(),
            _ => return Err(Refusal(format!("the delivery names no organisation (`{}`)", self.tenant))),
        };
        let created = self
            .text(&self.created, &scope)
            .map_err(|e| Refusal(format!("the delivery's creation time: {e}")))?
            .ok_or_else(|| Refusal("the delivery has no creation time".into()))?;
        Ok(Envelope { tenant, created })
    }
}
