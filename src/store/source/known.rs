//! What a chunk knows of its records: their stored states and part
//! identities (read at its start, kept up to date, written at its end), the
//! clients it met, and the references it resolved.

use std::collections::HashSet;

use super::{Identity, PREFETCH_KEYS, RecordKey, SourceRecordWrite, SourceWriter};
use crate::fhir::{ResourceId, ResourceType};
use crate::source::order::{Condition, StoredState};
use crate::source::reference::SourceRef;
use crate::store::batch::{PendingRows, SOURCE_RECORD};
use crate::store::row::SqlValue;
use crate::store::{Error, ErrorKind, Result};

impl SourceWriter<'_> {
    /// Reads the stored state and part identities of these records, a few
    /// hundred per statement.
    pub(super) async fn prefetch(&mut self, keys: &[RecordKey]) -> Result<()> {
        for batch in keys.chunks(PREFETCH_KEYS) {
            for key in batch {
                self.states.insert(key.clone(), None);
                self.identities.insert(key.clone(), Vec::new());
            }
            let wanted: HashSet<&RecordKey> = batch.iter().collect();
            let (kinds, ids) = in_lists(batch);
            let text = format!(
                "SELECT kind, source_id, changed_at, delivered_at, state, content_hash FROM source_record \
                 WHERE tenant = ? AND vendor = ? AND kind IN ({}) AND source_id IN ({})",
                placeholders(kinds.len()),
                placeholders(ids.len())
            );
            let sql = self.sql(&text, self.in_binds(&kinds, &ids));
            let rows = self.versions.tx().fetch_all(sql).await?;
            for row in &rows {
                let key = (row.text(0)?.to_owned(), row.text(1)?.to_owned());
                if wanted.contains(&key) {
                    let state = row.text(4)?;
                    let condition = Condition::from_code(state).ok_or_else(|| {
                        Error::new(ErrorKind::Internal, format!("unknown source record state '{state}'"))
                    })?;
                    let stored = StoredState {
                        changed_at: row.int(2)?,
                        delivered_at: row.int(3)?,
                        condition,
                        content_hash: row.opt_text(5)?.map(str::to_owned),
                    };
                    self.states.insert(key, Some(stored));
                }
            }
            let text = format!(
                "SELECT kind, source_id, part, resource_type, resource_id FROM source_identity \
                 WHERE tenant = ? AND vendor = ? AND kind IN ({}) AND source_id IN ({}) ORDER BY part",
                placeholders(kinds.len()),
                placeholders(ids.len())
            );
            let sql = self.sql(&text, self.in_binds(&kinds, &ids));
            let rows = self.versions.tx().fetch_all(sql).await?;
            for row in &rows {
                let key = (row.text(0)?.to_owned(), row.text(1)?.to_owned());
                if wanted.contains(&key) {
                    let invalid = |what: &str| Error::new(ErrorKind::Internal, format!("source identity with {what}"));
                    let identity = Identity {
                        part: row.text(2)?.to_owned(),
                        resource_type: row.text(3)?.parse().map_err(|_| invalid("an unknown type"))?,
                        id: ResourceId::parse(row.text(4)?).map_err(|_| invalid("an invalid id"))?,
                    };
                    self.identities.entry(key).or_default().push(identity);
                }
            }
        }
        Ok(())
    }

    pub(super) fn in_binds(&self, kinds: &[&str], ids: &[&str]) -> Vec<SqlValue> {
        let mut binds: Vec<SqlValue> = vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into()];
        binds.extend(kinds.iter().map(|k| SqlValue::from(*k)));
        binds.extend(ids.iter().map(|i| SqlValue::from(*i)));
        binds
    }

    /// The stored state of a record (read again when the chunk's copy was
    /// dropped, after a client's cascade).
    pub(super) async fn stored_state(&mut self, kind: &str, source_id: &str) -> Result<Option<StoredState>> {
        let key = (kind.to_owned(), source_id.to_owned());
        if !self.states.contains_key(&key) {
            self.prefetch(std::slice::from_ref(&key)).await?;
        }
        Ok(self.states.get(&key).cloned().flatten())
    }

    pub(super) async fn identities(&mut self, kind: &str, source_id: &str) -> Result<Vec<Identity>> {
        let key = (kind.to_owned(), source_id.to_owned());
        if !self.identities.contains_key(&key) {
            self.prefetch(std::slice::from_ref(&key)).await?;
        }
        Ok(self.identities.get(&key).cloned().unwrap_or_default())
    }

    /// Writes the new identities and states of the chunk's records.
    pub(super) async fn flush_sources(&mut self) -> Result<()> {
        let dialect = self.dialect;
        self.new_identities.flush(self.versions.tx(), dialect).await?;
        let mut states = PendingRows::new(&SOURCE_RECORD);
        for (_, row) in self.new_states.drain() {
            states.push(row);
        }
        states.flush(self.versions.tx(), dialect).await
    }

    pub(super) async fn is_client_deleted(&mut self, client: &str) -> Result<bool> {
        if let Some(deleted) = self.client_deleted.get(client) {
            return Ok(*deleted);
        }
        let sql = self.sql(
            "SELECT r.state FROM source_identity i JOIN source_record r ON r.tenant = i.tenant \
             AND r.vendor = i.vendor AND r.kind = i.kind AND r.source_id = i.source_id \
             WHERE i.tenant = ? AND i.vendor = ? AND i.source_id = ? AND i.part = '' AND i.resource_type = 'Patient'",
            vec![self.tenant.as_str().into(), self.delivery.vendor.as_str().into(), client.into()],
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let deleted = match rows.first() {
            Some(row) => row.text(0)? == Condition::Deleted.code(),
            None => false,
        };
        self.client_deleted.insert(client.to_owned(), deleted);
        Ok(deleted)
    }

    /// The resource a source reference names, if it was ever written.
    pub(super) async fn find(&mut self, source: &SourceRef) -> Result<Option<(ResourceType, ResourceId)>> {
        if let Some(found) = self.found.get(source) {
            return Ok(found.clone());
        }
        let mut binds = self.key(&source.kind, &source.source_id);
        binds.push(source.part.as_str().into());
        let sql = self.sql(
            "SELECT resource_type, resource_id FROM source_identity \
             WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND part = ?",
            binds,
        );
        let rows = self.versions.tx().fetch_all(sql).await?;
        let found = match rows.first() {
            Some(row) => match (row.text(0)?.parse::<ResourceType>(), ResourceId::parse(row.text(1)?)) {
                (Ok(t), Ok(id)) => Some((t, id)),
                _ => None,
            },
            None => None,
        };
        self.found.insert(source.clone(), found.clone());
        Ok(found)
    }

    pub(super) async fn keep_identity(
        &mut self,
        record: &SourceRecordWrite,
        part: &str,
        resource_type: ResourceType,
        id: &ResourceId,
    ) -> Result<()> {
        let key = (record.kind.clone(), record.source_id.clone());
        let known = self.identities.entry(key.clone()).or_default();
        let identity = Identity { part: part.to_owned(), resource_type, id: id.clone() };
        let retyped = known.iter().position(|i| i.part == part);
        match retyped {
            // A part that is now of another type (its mapping changed): the
            // identity row is replaced at once.
            Some(at) => {
                known[at] = identity;
                let mut binds: Vec<SqlValue> = vec![resource_type.as_str().into(), id.as_str().into()];
                binds.extend(self.key(&record.kind, &record.source_id));
                binds.push(part.into());
                let sql = self.sql(
                    "UPDATE source_identity SET resource_type = ?, resource_id = ? \
                     WHERE tenant = ? AND vendor = ? AND kind = ? AND source_id = ? AND part = ?",
                    binds,
                );
                self.versions.tx().execute(sql).await?;
            }
            None => {
                known.push(identity);
                let mut row = self.key(&record.kind, &record.source_id);
                row.extend([part.into(), resource_type.as_str().into(), id.as_str().into()]);
                self.new_identities.push(row);
            }
        }
        let source =
            SourceRef { kind: record.kind.clone(), source_id: record.source_id.clone(), part: part.to_owned() };
        self.found.insert(source, Some((resource_type, id.clone())));
        Ok(())
    }

    pub(super) async fn keep_state(
        &mut self,
        record: &SourceRecordWrite,
        condition: Condition,
        content_hash: Option<String>,
    ) -> Result<()> {
        let key = (record.kind.clone(), record.source_id.clone());
        let stored = StoredState {
            changed_at: record.changed_at,
            delivered_at: self.delivery.created_at,
            condition,
            content_hash: content_hash.clone(),
        };
        self.states.insert(key.clone(), Some(stored));
        let mut row = self.key(&record.kind, &record.source_id);
        row.extend([
            record.client.clone().into(),
            record.changed_at.into(),
            self.delivery.created_at.into(),
            condition.code().into(),
            content_hash.into(),
        ]);
        self.new_states.insert(key, row);
        Ok(())
    }
}

/// The distinct kinds and ids of some records, for `IN` lists.
fn in_lists(keys: &[RecordKey]) -> (Vec<&str>, Vec<&str>) {
    let mut kinds: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let mut ids: Vec<&str> = keys.iter().map(|(_, i)| i.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    ids.sort_unstable();
    ids.dedup();
    (kinds, ids)
}

/// `?, ?, ?` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
