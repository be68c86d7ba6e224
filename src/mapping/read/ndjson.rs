//! An NDJSON delivery: one JSON object a line, blank lines allowed, the
//! first line the header (the envelope). Read in two passes like a JSON
//! delivery, one line in memory at a time:
//!
//! 1. every line must be UTF-8 and one JSON object (else the delivery is
//!    refused whole, naming the line); the header is checked as the
//!    mapping's envelope;
//! 2. each line after the header is mapped by its kind
//!    ([`Mapping::map_line`]), in the order of the file: an event stream
//!    is applied as it happened.
//!
//! The header of an event stream says no creation time: the reader adds
//! `$received` to the envelope, the file's modification time (when the
//! delivery was received, the same however often the file is read), for
//! `created` to use.

use std::io::{self, BufRead};
use std::ops::ControlFlow;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::bytes::{self, NotUtf8, Stamp};
use super::records::Each;
use super::{DeliveryFile, Lists};
use crate::mapping::engine::Refusal;
use crate::mapping::spec::Mapping;

/// The envelope field holding when the delivery was received.
pub const RECEIVED: &str = "$received";

/// First pass: the lines, the header, the envelope.
pub(super) fn open(mapping: &Mapping, path: &Path) -> Result<DeliveryFile, Refusal> {
    let cannot_read = |e: io::Error| Refusal(format!("cannot read the delivery {}: {e}", path.display()));
    let stamp = Stamp::of(path).map_err(cannot_read)?;
    let received = std::fs::metadata(path).and_then(|m| m.modified()).map_err(cannot_read)?;
    let mut header = None;
    let mut records = 0;
    for_each_line(path, |line| {
        match header {
            None => header = Some(line),
            Some(_) => records += 1,
        }
        ControlFlow::Continue(())
    })?;
    if Stamp::of(path).map_err(cannot_read)? != stamp {
        return Err(Refusal("the delivery changed while it was being read".into()));
    }
    let Some(Value::Object(mut header)) = header else {
        return Err(Refusal("the delivery is empty: it has no header line".into()));
    };
    let received: DateTime<Utc> = received.into();
    header.insert(RECEIVED.to_owned(), Value::String(received.to_rfc3339_opts(SecondsFormat::Secs, false)));
    let delivery = Value::Object(header);
    let envelope = mapping.envelope(&delivery)?;
    Ok(DeliveryFile { path: path.to_owned(), delivery, envelope, lists: Lists::Lines { records }, stamp })
}

/// Second pass: every line after the header, mapped, to `each`.
pub(super) fn map_lines(
    file: &DeliveryFile,
    records: u64,
    mapping: &Mapping,
    each: &mut Each<'_>,
) -> Result<ControlFlow<()>, Refusal> {
    let mut read = 0;
    let mut flow = ControlFlow::Continue(());
    let mut header = true;
    for_each_line(&file.path, |line| {
        if std::mem::take(&mut header) {
            return ControlFlow::Continue(());
        }
        read += 1;
        flow = each(mapping.map_line(&line, &file.delivery), &line, None);
        flow
    })
    .map_err(|e| Refusal(format!("the delivery changed since it was checked, or cannot be read again: {e}")))?;
    if flow.is_continue() && read != records {
        return Err(Refusal(format!("the delivery changed since it was checked: {read} records, not {records}")));
    }
    Ok(flow)
}

/// Reads the file line by line: each non-blank line must be one JSON
/// object, given to `each`.
fn for_each_line(path: &Path, mut each: impl FnMut(Value) -> ControlFlow<()>) -> Result<(), Refusal> {
    let mut reader = bytes::open_at(path, 0).map_err(|e| cannot_read(path, &e))?;
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        let n = reader.read_until(b'\n', &mut buffer).map_err(|e| cannot_read(path, &e))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = serde_json::from_slice(&buffer).map_err(|e| {
            let cut = if e.is_eof() { " (is it cut short?)" } else { "" };
            Refusal(format!("line {number} is not valid JSON{cut}: {e}"))
        })?;
        if !value.is_object() {
            return Err(Refusal(format!("line {number} is not a JSON object")));
        }
        if each(value).is_break() {
            return Ok(());
        }
    }
}

fn cannot_read(path: &Path, error: &io::Error) -> Refusal {
    match error.get_ref().and_then(|e| e.downcast_ref::<NotUtf8>()) {
        Some(NotUtf8 { offset }) => {
            Refusal(format!("the delivery is not UTF-8: the byte at offset {offset} does not belong to a character"))
        }
        None => Refusal(format!("cannot read the delivery {}: {error}", path.display())),
    }
}
