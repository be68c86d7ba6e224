//! A delivery file read in two passes, in memory that does not grow with
//! the size of the delivery: only the envelope and one top-level item (a
//! client with its nested records) are held at a time. A JSON delivery
//! here; an XML one (`reader = "xml"`) in the same two passes in [`xml`],
//! an NDJSON one (`reader = "ndjson"`, one record a line) in [`ndjson`].
//!
//! 1. [`Mapping::open_delivery`] reads the whole file once: it must be
//!    UTF-8 JSON to its end, with an object at the top (rule 5 of the
//!    vendor contract, "framing first"). The record lists (the top-level
//!    keys that are the first step of a record kind's `at`) are checked
//!    and counted, never held; the rest is the envelope, which the
//!    mapping checks (format, version, tenant, creation time). Keys may
//!    come in any order.
//! 2. [`DeliveryFile::for_each_record`] comes back to each list, in the
//!    order the mapping file first names it (staff before clients,
//!    whatever the order in the file), and maps its items one at a time,
//!    each with the records nested in it.
//!
//! This is the one place in `mapping` that reads a file besides the
//! mapping files themselves.

mod bytes;
mod framing;
pub mod ndjson;
mod records;
pub mod xml;

use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::de::DeserializeSeed;
use serde_json::Value;
use serde_json::error::Category;

use self::bytes::{NotUtf8, Stamp};
use self::framing::{FramingSeed, ListSpan};
use super::engine::{Envelope, RecordOutcome, Refusal};
use super::spec::{Mapping, Reader, RecordKind};

/// A delivery file whose framing and envelope have been checked.
#[derive(Debug)]
pub struct DeliveryFile {
    path: PathBuf,
    /// The top-level object without its record lists: `$delivery.` in
    /// expressions.
    delivery: Value,
    envelope: Envelope,
    lists: Lists,
    stamp: Stamp,
}

/// Where the record lists are.
#[derive(Debug)]
enum Lists {
    /// The record lists found as arrays, in the order of the file.
    Json(Vec<ListSpan>),
    /// The record lists of an XML document, counted.
    Xml(Vec<xml::XmlList>),
    /// NDJSON: the number of record lines (after the header).
    Lines { records: u64 },
}

impl Mapping {
    /// First pass: framing and envelope. Any failure refuses the whole
    /// delivery.
    pub fn open_delivery(&self, path: &Path) -> Result<DeliveryFile, Refusal> {
        let cannot_read = |e: io::Error| Refusal(format!("cannot read the delivery {}: {e}", path.display()));
        let stamp = Stamp::of(path).map_err(cannot_read)?;
        let names = self.list_names();
        let (delivery, lists) = match self.reader {
            Reader::Json => {
                let (reader, taken) = bytes::counted(bytes::open_at(path, 0).map_err(cannot_read)?, 0);
                let mut parser = serde_json::Deserializer::from_reader(reader);
                let framing = FramingSeed { lists: &names, taken }
                    .deserialize(&mut parser)
                    .and_then(|framing| parser.end().map(|()| framing))
                    .map_err(unreadable)?;
                (framing.envelope, Lists::Json(framing.lists))
            }
            Reader::Xml => {
                let framing = xml::frame(path, &names)?;
                (framing.envelope, Lists::Xml(framing.lists))
            }
            Reader::Ndjson => return ndjson::open(self, path),
        };
        if Stamp::of(path).map_err(cannot_read)? != stamp {
            return Err(Refusal("the delivery changed while it was being read".into()));
        }
        let delivery = Value::Object(delivery);
        let envelope = self.envelope(&delivery)?;
        Ok(DeliveryFile { path: path.to_owned(), delivery, envelope, lists, stamp })
    }

    /// The top-level keys that hold records, in the order the mapping
    /// file first names them.
    fn list_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for kind in &self.records {
            if let Some(first) = kind.at.first().filter(|first| !names.contains(&first.as_str())) {
                names.push(first);
            }
        }
        names
    }
}

impl DeliveryFile {
    /// What the envelope says.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The top-level object without its record lists (what `$delivery.`
    /// reads, and what a replay of a rejection needs).
    pub fn delivery(&self) -> &Value {
        &self.delivery
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of top-level items (for a progress bar), from the first
    /// pass.
    pub fn items(&self) -> u64 {
        match &self.lists {
            Lists::Json(lists) => lists.iter().map(|list| list.items).sum(),
            Lists::Xml(lists) => lists.iter().map(|list| list.items).sum(),
            Lists::Lines { records } => *records,
        }
    }

    /// Second pass: every record outcome, in order, to `each`: list by
    /// list in the order the mapping first names them; per top-level item
    /// the item's own record, then the records nested in it, kind by kind
    /// in the order of the mapping file. Stops early when `each` returns
    /// `ControlFlow::Break`. An I/O error or a file that changed since the
    /// first pass gives `Err(Refusal)` (possibly after some records).
    /// `mapping` is the one that opened the file.
    pub fn for_each_record(
        &self,
        mapping: &Mapping,
        mut each: impl FnMut(RecordOutcome) -> ControlFlow<()>,
    ) -> Result<(), Refusal> {
        self.for_each_record_with_source(mapping, |outcome, _, _| each(outcome))
    }

    /// [`Self::for_each_record`], each outcome with the source record it
    /// came from and the record that one is nested in.
    pub fn for_each_record_with_source(
        &self,
        mapping: &Mapping,
        mut each: impl FnMut(RecordOutcome, &Value, Option<&Value>) -> ControlFlow<()>,
    ) -> Result<(), Refusal> {
        self.unchanged()?;
        if let Lists::Lines { records } = self.lists {
            let flow = ndjson::map_lines(self, records, mapping, &mut each)?;
            return if flow.is_break() { Ok(()) } else { self.unchanged() };
        }
        for name in mapping.list_names() {
            let kinds: Vec<&RecordKind> =
                mapping.records.iter().filter(|kind| kind.at.first().map(String::as_str) == Some(name)).collect();
            let (json, xml) = match &self.lists {
                Lists::Json(lists) => (lists.iter().find(|list| list.name == name), None),
                Lists::Xml(lists) => (None, lists.iter().find(|list| list.name == name)),
                Lists::Lines { .. } => (None, None),
            };
            let flow = if let Some(list) = json {
                records::map_list(&self.path, list, &kinds, mapping, &self.delivery, &mut each)?
            } else if let Some(list) = xml {
                xml::map_list(&self.path, list, &kinds, mapping, &self.delivery, &mut each)?
            } else {
                match self.delivery.get(name) {
                    Some(value) => records::map_value(value, &kinds, mapping, &self.delivery, &mut each),
                    None => ControlFlow::Continue(()),
                }
            };
            if flow.is_break() {
                return Ok(());
            }
        }
        self.unchanged()
    }

    fn unchanged(&self) -> Result<(), Refusal> {
        match Stamp::of(&self.path) {
            Ok(stamp) if stamp == self.stamp => Ok(()),
            Ok(_) => Err(Refusal("the delivery changed since it was checked".into())),
            Err(e) => Err(Refusal(format!("cannot read the delivery {} again: {e}", self.path.display()))),
        }
    }
}

/// Why the first pass could not read a delivery, in words.
fn unreadable(error: serde_json::Error) -> Refusal {
    match error.classify() {
        Category::Io => {
            let error = io::Error::from(error);
            match error.get_ref().and_then(|e| e.downcast_ref::<NotUtf8>()) {
                Some(NotUtf8 { offset }) => Refusal(format!(
                    "the delivery is not UTF-8: the byte at offset {offset} does not belong to a character"
                )),
                None => Refusal(format!("cannot read the delivery: {error}")),
            }
        }
        Category::Eof => Refusal(format!("the delivery ends too soon (is it cut short?): {error}")),
        Category::Syntax => Refusal(format!("the delivery is not valid JSON: {error}")),
        Category::Data => Refusal(format!("the delivery is not in the expected shape: {error}")),
    }
}
