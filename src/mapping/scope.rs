//! Where the names in a mapping's expressions are looked up: the record
//! being mapped, its parent record, the delivery's envelope, and the names
//! bound by `$each`; warnings about the record are kept with it.

use std::cell::RefCell;

use serde_json::Value;

use super::expr;

/// The key of an XML element's text when it has attributes or children
/// (the XML reader writes it; a path may name it for an element that is
/// only text).
pub const TEXT: &str = "$text";

/// Where names in expressions are looked up.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub record: &'a Value,
    pub parent: Option<&'a Value>,
    pub delivery: &'a Value,
    bound: Option<(&'a str, &'a Value, &'a Scope<'a>)>,
    /// Where warnings go (a code that fell back to the table's otherwise).
    notes: Option<&'a RefCell<Vec<String>>>,
}

impl<'a> Scope<'a> {
    pub fn new(record: &'a Value, parent: Option<&'a Value>, delivery: &'a Value) -> Self {
        Scope { record, parent, delivery, bound: None, notes: None }
    }

    /// The same scope, keeping its warnings in `notes`.
    pub fn noting(self, notes: &'a RefCell<Vec<String>>) -> Self {
        Scope { notes: Some(notes), ..self }
    }

    /// Keeps a warning about the record being mapped (once: templates
    /// may look up the same code more than once).
    pub fn note(&self, warning: String) {
        if let Some(notes) = self.notes {
            let mut notes = notes.borrow_mut();
            if !notes.contains(&warning) {
                notes.push(warning);
            }
        }
    }

    pub(super) fn with(&'a self, name: &'a str, value: &'a Value) -> Scope<'a> {
        Scope { bound: Some((name, value, self)), ..*self }
    }

    /// The value at a path; `Null` when any part is missing.
    pub fn lookup(&self, path: &expr::Path) -> &'a Value {
        self.find(path).unwrap_or(&Value::Null)
    }

    /// The value at a path, `None` when a part is missing: a field that
    /// is there as `null` is `Some(Null)`.
    pub fn find(&self, path: &expr::Path) -> Option<&'a Value> {
        let (first, rest) = path.0.split_first()?;
        let mut bound = self.bound;
        let root = loop {
            match bound {
                Some((name, value, _)) if name == first.as_str() => break Some(value),
                Some((_, _, outer)) => bound = outer.bound,
                None => break None,
            }
        };
        let (start, rest) = match (root, first.as_str()) {
            (Some(value), _) => (value, rest),
            (None, "$parent") => (self.parent?, rest),
            (None, "$delivery") => (self.delivery, rest),
            (None, "$record") => (self.record, rest),
            (None, _) => (self.record, &path.0[..]),
        };
        rest.iter().try_fold(start, |value, field| match value {
            // The text of an XML element that is only text is itself.
            Value::String(_) if field == TEXT => Some(value),
            _ => value.get(field),
        })
    }
}
