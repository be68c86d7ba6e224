//! Taking resources away: the parts of a record, everything of a deleted
//! client, and the rejects a written record resolves.

use super::{Identity, SourceRecordWrite, SourceWriter};
use crate::fhir::{ResourceId, ResourceType};
use crate::store::row::SqlValue;
use crate::store::{ErrorKind, Result, WriteOp, WriteOutcome};

impl SourceWriter<'_> {
    /// Deletes the resources of these parts that are not deleted yet;
    /// the number of deletions written.
    pub(super) async fn delete_parts(&mut self, parts: &[Identity]) -> Result<u32> {
        let mut deleted = 0;
        for identity in parts {
            deleted += self.delete(identity.resource_type, &identity.id).await?;
        }
        Ok(deleted)
    }

    pub(super) async fn delete(&mut self, resource_type: ResourceType, id: &ResourceId) -> Result<u32> {
        let change = self.next_change();
        match self.versions.apply(WriteOp::Delete { resource_type, id: id.clone() }, change).await {
            Ok(WriteOutcome::Deleted(_)) => Ok(1),
            Ok(_) => Ok(0),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// A client tombstone: everything in the client's compartment goes
    /// (whichever vendor wrote it), and the vendor's records of the client
    /// are remembered as deleted, as of the tombstone at the latest.
    pub(super) async fn cascade(&mut self, record: &SourceRecordWrite, identities: &[Identity]) -> Result<u32> {
        let Some(patient) = identities.iter().find(|i| i.part.is_empty()) else { return Ok(0) };
        // The states below change in the database: what the chunk holds of
        // them goes there first, and is read again when needed.
        self.flush_sources().await?;
        self.states.clear();
        let sql = self.sql(
            "SELECT resource_type, id FROM resource WHERE tenant = ? AND client_id = ? AND deleted = FALSE",
            vec![self.tenant.as_str().into(), patient.id.as_str().into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let mut under = Vec::with_capacity(rows.len());
        for row in &rows {
            if let (Ok(t), Ok(id)) = (row.text(0)?.parse::<ResourceType>(), ResourceId::parse(row.text(1)?)) {
                under.push((t, id));
            }
        }
        let mut deleted = 0;
        for (resource_type, id) in under {
            deleted += self.delete(resource_type, &id).await?;
        }
        let sql = self.sql(
            "UPDATE source_record SET state = 'deleted', content_hash = NULL, \
             changed_at = CASE WHEN changed_at < ? THEN ? ELSE changed_at END \
             WHERE tenant = ? AND vendor = ? AND client_source = ? AND state <> 'deleted' \
             AND NOT (kind = ? AND source_id = ?)",
            vec![
                record.changed_at.into(),
                record.changed_at.into(),
                self.tenant.as_str().into(),
                self.delivery.vendor.as_str().into(),
                record.source_id.as_str().into(),
                record.kind.as_str().into(),
                record.source_id.as_str().into(),
            ],
        );
        self.versions.tx().execute(sql).await?;
        self.forget_linked_to_client(&record.source_id).await?;
        Ok(deleted)
    }

    /// A record written (or found the same) resolves its open rejects.
    pub(super) async fn close_rejects(&mut self, kind: &str, source_id: &str) -> Result<()> {
        if !self.open_rejects {
            return Ok(());
        }
        let how = if self.delivery.replay { "replayed" } else { "written" };
        let resolution = format!("{how} from delivery {} of {}", self.delivery.name, self.delivery.created);
        let mut binds: Vec<SqlValue> = vec![self.at.into(), resolution.into()];
        binds.extend(self.key(kind, source_id));
        let sql = self.sql(
            "UPDATE ingest_reject SET resolved_at = ?, resolution = ? \
             WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND resolved_at IS NULL",
            binds,
        );
        self.versions.tx().execute(sql).await?;
        Ok(())
    }
}
