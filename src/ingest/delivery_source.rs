//! The records of a delivery file, each with the source record it came
//! from (kept for a reject that only the store can find), over the
//! two-pass reader of [`crate::mapping::read`].

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::Value;

use crate::mapping::engine::{Action, Envelope, RecordOutcome, Refusal, without_fields};
use crate::mapping::read::DeliveryFile;
use crate::mapping::spec::Mapping;

/// A mapped record with its source.
#[derive(Debug)]
pub struct SourceItem {
    pub outcome: RecordOutcome,
    /// The record as delivered.
    pub record: Value,
    /// The record it is nested in, without its lists.
    pub parent: Option<Value>,
}

/// A delivery whose framing and envelope were checked (the first pass).
#[derive(Debug)]
pub struct DeliverySource {
    file: DeliveryFile,
    /// Per record kind, the fields holding records nested in it (mapped on
    /// their own): left out of the copy kept with a record.
    nested_lists: HashMap<String, Vec<String>>,
}

impl DeliverySource {
    pub fn open(mapping: &Mapping, path: &Path) -> Result<Self, Refusal> {
        let nested_lists =
            mapping.records.iter().map(|kind| (kind.kind.clone(), mapping.nested_lists(&kind.at))).collect();
        Ok(DeliverySource { file: mapping.open_delivery(path)?, nested_lists })
    }

    pub fn envelope(&self) -> &Envelope {
        self.file.envelope()
    }

    /// The delivery without its record lists.
    pub fn envelope_json(&self) -> &Value {
        self.file.delivery()
    }

    /// Top-level items (clients, staff members): for a progress bar.
    pub fn items(&self) -> u64 {
        self.file.items()
    }

    /// The second pass: every record, in order, with its source.
    pub fn for_each_item(
        &self,
        mapping: &Mapping,
        mut each: impl FnMut(SourceItem) -> ControlFlow<()>,
    ) -> Result<(), Refusal> {
        self.file.for_each_record_with_source(mapping, |outcome, record, parent| {
            // A mapped record can still be rejected (by the store, or for its
            // change time): a copy goes with it. A container has nothing to
            // reject; a rejection holds its record already.
            let (record, parent) = match &outcome {
                RecordOutcome::Mapped(m) if !matches!(m.action, Action::Container) => {
                    let nested = self.nested_lists.get(&m.kind).map_or(&[][..], Vec::as_slice);
                    let parent_lists = mapping.records.iter().find(|k| k.kind == m.kind).map(|k| &k.parent_lists);
                    let parent = parent.map(|p| {
                        without_fields(p, |key, v| {
                            v.is_array() || parent_lists.is_some_and(|l| l.iter().any(|n| n == key))
                        })
                    });
                    (without_fields(record, |key, _| nested.iter().any(|n| n == key)), parent)
                }
                _ => (Value::Null, None),
            };
            each(SourceItem { outcome, record, parent })
        })
    }
}
