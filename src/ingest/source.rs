//! The records of a delivery file, checked whole first, each with the
//! source record it came from (kept for a reject found only when writing).

use std::ops::ControlFlow;
use std::path::Path;

use serde_json::Value;

use crate::mapping::engine::{Envelope, RecordOutcome, Refusal, collect};
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

/// A delivery whose framing and envelope were checked.
#[derive(Debug)]
pub struct DeliverySource {
    delivery: Value,
    envelope: Envelope,
    envelope_json: Value,
}

impl DeliverySource {
    pub fn open(mapping: &Mapping, path: &Path) -> Result<Self, Refusal> {
        let text = std::fs::read(path).map_err(|e| Refusal(format!("cannot read {}: {e}", path.display())))?;
        let delivery: Value =
            serde_json::from_slice(&text).map_err(|e| Refusal(format!("the delivery is not valid JSON: {e}")))?;
        let envelope = mapping.envelope(&delivery)?;
        let envelope_json = match &delivery {
            Value::Object(fields) => Value::Object(
                fields.iter().filter(|(_, v)| !v.is_array()).map(|(k, v)| (k.clone(), v.clone())).collect(),
            ),
            other => other.clone(),
        };
        Ok(DeliverySource { delivery, envelope, envelope_json })
    }

    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The delivery without its record lists.
    pub fn envelope_json(&self) -> &Value {
        &self.envelope_json
    }

    pub fn items(&self) -> u64 {
        0
    }

    pub fn for_each_item(
        &self,
        mapping: &Mapping,
        mut each: impl FnMut(SourceItem) -> ControlFlow<()>,
    ) -> Result<(), Refusal> {
        for kind in &mapping.records {
            let mut found = Vec::new();
            collect(&self.delivery, None, &kind.at, &mut found);
            for (record, parent) in found {
                let outcome = mapping.map_record(kind, record, parent, &self.delivery);
                let item = SourceItem { outcome, record: record.clone(), parent: parent.map(without_lists) };
                if each(item).is_break() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn without_lists(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            Value::Object(fields.iter().filter(|(_, v)| !v.is_array()).map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}
