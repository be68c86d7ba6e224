//! What an ingest did, counted per source record, for people and machines.

use std::fmt;

use serde::Serialize;

use crate::store::SourceResult;

/// The counts of one ingest (or replay).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Source records read from the delivery (containers included).
    pub records: u64,
    pub created: u64,
    pub updated: u64,
    /// Delivered again as stored: nothing written.
    pub unchanged: u64,
    pub deleted: u64,
    /// Not for the portal (or a concept), or under a deleted client.
    pub skipped: u64,
    /// Older than what is stored (out of order): ignored.
    pub stale: u64,
    /// Kept, unseen, until their client is known (an account not linked yet).
    pub held: u64,
    /// Held before, written now that their client is known.
    pub attached: u64,
    /// Only an id and nested records: nothing of their own to write.
    pub containers: u64,
    pub rejected: u64,
    /// New resource versions written, deletions and Provenance included.
    pub versions: u64,
    pub warnings: Vec<Note>,
}

/// A warning about one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub kind: String,
    pub source_id: String,
    pub message: String,
}

impl Summary {
    /// Counts the result of writing one record.
    pub fn count(&mut self, result: &SourceResult) {
        match result {
            SourceResult::Created => self.created += 1,
            SourceResult::Updated => self.updated += 1,
            SourceResult::Unchanged => self.unchanged += 1,
            SourceResult::Deleted => self.deleted += 1,
            SourceResult::Skipped | SourceResult::ClientDeleted => self.skipped += 1,
            SourceResult::Older => self.stale += 1,
            SourceResult::Held => self.held += 1,
            SourceResult::Failed { .. } => self.rejected += 1,
        }
    }

    pub fn warn(&mut self, kind: &str, source_id: &str, message: impl Into<String>) {
        self.warnings.push(Note { kind: kind.to_owned(), source_id: source_id.to_owned(), message: message.into() });
    }
}

/// Warnings shown in the human summary; `--json` has them all.
const WARNINGS_SHOWN: usize = 20;

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} records read", self.records)?;
        let rows = [
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("deleted", self.deleted),
            ("skipped", self.skipped),
            ("stale (older than stored)", self.stale),
            ("held (waiting for their client)", self.held),
            ("attached (held before)", self.attached),
            ("containers", self.containers),
            ("rejected", self.rejected),
        ];
        for (what, n) in rows {
            writeln!(f, "  {n:>8}  {what}")?;
        }
        writeln!(f, "{} resource versions written, {} warnings", self.versions, self.warnings.len())?;
        for note in self.warnings.iter().take(WARNINGS_SHOWN) {
            writeln!(f, "  warning: {} {}: {}", note.kind, note.source_id, note.message)?;
        }
        if self.warnings.len() > WARNINGS_SHOWN {
            writeln!(f, "  ... and {} more (--json lists them all)", self.warnings.len() - WARNINGS_SHOWN)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_result_once_and_shows_warnings() {
        let mut summary = Summary::default();
        for result in [
            SourceResult::Created,
            SourceResult::Created,
            SourceResult::Updated,
            SourceResult::Unchanged,
            SourceResult::Deleted,
            SourceResult::Skipped,
            SourceResult::ClientDeleted,
            SourceResult::Older,
            SourceResult::Failed { field: "f".into(), reason: "r".into() },
        ] {
            summary.count(&result);
        }
        summary.warn("meting", "M-1", "unknown kind");
        let expected = Summary {
            created: 2,
            updated: 1,
            unchanged: 1,
            deleted: 1,
            skipped: 2,
            stale: 1,
            rejected: 1,
            warnings: vec![Note { kind: "meting".into(), source_id: "M-1".into(), message: "unknown kind".into() }],
            ..Summary::default()
        };
        assert_eq!(summary, expected);
        let text = summary.to_string();
        assert!(text.contains("       2  created\n"), "{text}");
        assert!(text.contains("  warning: meting M-1: unknown kind\n"), "{text}");
    }
}
