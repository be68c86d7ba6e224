//! An XML delivery read in the same two passes as a JSON one
//! (`reader = "xml"`): the records are the children of the root element
//! whose local name is the first step of a record kind's `at`
//! (`Medewerker`, `Client`); each is read whole as a value
//! ([`document`]) and mapped with the records nested in it.
//!
//! 1. [`frame`] reads the whole document once: UTF-8, well-formed, no
//!    DTD, one root. The envelope is the root's attributes, its local
//!    name as `$element` and its namespace as `$namespace` (what the
//!    mapping's `format` and `version` check), and any other child of
//!    the root (small by nature). Records are read (to check them) and
//!    counted, never kept.
//! 2. [`map_list`] reads the document again for one record list and maps
//!    its items one at a time, stopping after the last.

mod document;

use std::ops::ControlFlow;
use std::path::Path;

use serde_json::{Map, Value};

use self::document::{Document, XmlError};
use super::bytes;
use super::records::{self, Each};
use crate::mapping::engine::Refusal;
use crate::mapping::spec::{Mapping, RecordKind};

/// The envelope key of the root element's local name.
pub const ELEMENT: &str = "$element";
/// The envelope key of the root element's namespace.
pub const NAMESPACE: &str = "$namespace";

/// What the first pass found.
#[derive(Debug, Default)]
pub(super) struct XmlFraming {
    pub(super) envelope: Map<String, Value>,
    /// The record lists present, in the order of their first item.
    pub(super) lists: Vec<XmlList>,
}

/// A record list: the root's children of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct XmlList {
    pub(super) name: String,
    pub(super) items: u64,
}

/// The first pass; `lists` are the names of record lists.
pub(super) fn frame(path: &Path, lists: &[&str]) -> Result<XmlFraming, Refusal> {
    let source = bytes::open_at(path, 0).map_err(|e| cannot_read(path, &e))?;
    let (mut document, root) = Document::open(source).map_err(unreadable)?;
    let mut framing = XmlFraming { envelope: root.attributes, lists: Vec::new() };
    framing.envelope.insert(ELEMENT.to_owned(), Value::String(root.local_name));
    if let Some(namespace) = root.namespace {
        framing.envelope.insert(NAMESPACE.to_owned(), Value::String(namespace));
    }
    while let Some(child) = document.next_child().map_err(unreadable)? {
        let (name, ours) = (child.local_name.clone(), child.ours);
        let value = document.read_child(child).map_err(unreadable)?;
        if !ours {
            continue;
        }
        if lists.contains(&name.as_str()) {
            match framing.lists.iter_mut().find(|list| list.name == name) {
                Some(list) => list.items += 1,
                None => framing.lists.push(XmlList { name, items: 1 }),
            }
        } else {
            match framing.envelope.get_mut(&name) {
                Some(Value::Array(items)) => items.push(value),
                Some(first) => *first = Value::Array(vec![std::mem::take(first), value]),
                None => {
                    framing.envelope.insert(name, value);
                }
            }
        }
    }
    Ok(framing)
}

/// The second pass over one record list: `kinds` are the record kinds
/// whose `at` starts with its name.
pub(super) fn map_list(
    path: &Path,
    list: &XmlList,
    kinds: &[&RecordKind],
    mapping: &Mapping,
    delivery: &Value,
    each: &mut Each<'_>,
) -> Result<ControlFlow<()>, Refusal> {
    let changed = |e: XmlError| {
        Refusal(format!(
            "the delivery changed since it was checked, or cannot be read again: list `{}`: {e}",
            list.name
        ))
    };
    let source = bytes::open_at(path, 0).map_err(|e| cannot_read(path, &e))?;
    let (mut document, _) = Document::open(source).map_err(changed)?;
    let mut read = 0;
    while read < list.items {
        let Some(child) = document.next_child().map_err(changed)? else { break };
        if child.ours && child.local_name == list.name {
            let item = document.read_child(child).map_err(changed)?;
            read += 1;
            if records::map_item(&item, kinds, mapping, delivery, each).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        } else {
            document.skip_child(child).map_err(changed)?;
        }
    }
    if read != list.items {
        return Err(Refusal(format!(
            "the delivery changed since it was checked: list `{}` has {read} items, not {}",
            list.name, list.items
        )));
    }
    Ok(ControlFlow::Continue(()))
}

fn cannot_read(path: &Path, error: &std::io::Error) -> Refusal {
    Refusal(format!("cannot read the delivery {}: {error}", path.display()))
}

/// Why the first pass could not read a delivery, in words.
fn unreadable(error: XmlError) -> Refusal {
    match error.not_utf8 {
        Some(offset) => {
            Refusal(format!("the delivery is not UTF-8: the byte at offset {offset} does not belong to a character"))
        }
        None => Refusal(format!("the delivery is not well-formed XML: {error}")),
    }
}

#[cfg(test)]
mod tests;
