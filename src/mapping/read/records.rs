//! The second pass over a delivery: the items of one record list, one at
//! a time, each mapped with the records nested in it.

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::Value;

use super::bytes;
use super::framing::ListSpan;
use crate::mapping::engine::{RecordOutcome, Refusal, collect};
use crate::mapping::spec::{Mapping, RecordKind};

/// Where mapped records go.
pub(super) type Each<'a> = dyn FnMut(RecordOutcome, &Value, Option<&Value>) -> ControlFlow<()> + 'a;

/// Maps the items of the list at `list.start` in the file: `kinds` are
/// the record kinds whose `at` starts with this list.
pub(super) fn map_list(
    path: &Path,
    list: &ListSpan,
    kinds: &[&RecordKind],
    mapping: &Mapping,
    delivery: &Value,
    each: &mut Each<'_>,
) -> Result<ControlFlow<()>, Refusal> {
    let reader = bytes::open_at(path, list.start)
        .map_err(|e| Refusal(format!("cannot read the delivery {} again: {e}", path.display())))?;
    let mut parser = serde_json::Deserializer::from_reader(reader);
    let mut items = Items { kinds, mapping, delivery, each, read: 0, flow: ControlFlow::Continue(()) };
    let result = (&mut parser).deserialize_seq(&mut items);
    if items.flow.is_break() {
        // Stopped inside the list: the parser did not reach its end.
        return Ok(items.flow);
    }
    if let Err(e) = result {
        return Err(Refusal(format!(
            "the delivery changed since it was checked, or cannot be read again: list `{}` (from byte {}): {e}",
            list.name, list.start
        )));
    }
    if items.read != list.items {
        return Err(Refusal(format!(
            "the delivery changed since it was checked: list `{}` has {} items, not {}",
            list.name, items.read, list.items
        )));
    }
    Ok(ControlFlow::Continue(()))
}

/// Maps what sits at a record list's key when it is not a list (`null`,
/// or an object that a kind's `at` steps into), kept with the envelope.
pub(super) fn map_value(
    value: &Value,
    kinds: &[&RecordKind],
    mapping: &Mapping,
    delivery: &Value,
    each: &mut Each<'_>,
) -> ControlFlow<()> {
    for kind in kinds {
        let mut found = Vec::new();
        collect(value, None, &kind.at[1..], &mut found);
        for (record, parent) in found {
            each(mapping.map_record(kind, record, parent, delivery), record, parent)?;
        }
    }
    ControlFlow::Continue(())
}

/// One item of a list: the records of each kind in it, in the order of
/// the mapping file (what `collect` finds in the whole delivery, item by
/// item).
pub(super) fn map_item(
    item: &Value,
    kinds: &[&RecordKind],
    mapping: &Mapping,
    delivery: &Value,
    each: &mut Each<'_>,
) -> ControlFlow<()> {
    for kind in kinds {
        match &kind.at[1..] {
            [] => each(mapping.map_record(kind, item, None, delivery), item, None)?,
            [into_each, rest @ ..] if into_each == "[]" => {
                let mut found = Vec::new();
                collect(item, Some(item), rest, &mut found);
                for (record, parent) in found {
                    each(mapping.map_record(kind, record, parent, delivery), record, parent)?;
                }
            }
            // A field of a list: nothing (as `collect` finds nothing).
            _ => {}
        }
    }
    ControlFlow::Continue(())
}

struct Items<'a, 'b> {
    kinds: &'a [&'a RecordKind],
    mapping: &'a Mapping,
    delivery: &'a Value,
    each: &'a mut Each<'b>,
    read: u64,
    flow: ControlFlow<()>,
}

impl<'de> Visitor<'de> for &mut Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the list of records the first pass found here")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            self.read += 1;
            self.flow = map_item(&item, self.kinds, self.mapping, self.delivery, self.each);
            if self.flow.is_break() {
                return Ok(());
            }
        }
        Ok(())
    }
}
