//! Held records whose client arrived later, in a delivery of any vendor:
//! after every ingest, each is placed as the delivery it came in (its
//! vendor, name and mapping version), in a transaction of its own.

use chrono::{DateTime, Utc};

use super::{RecordKey, SourceResult, SourceWriter};
use crate::fhir::TenantCode;
use crate::fhir::datetime::parse_range;
use crate::source::provenance::DeliveryStamp;
use crate::store::Result;
use crate::store::driver::Backend;
use crate::store::logic::SqlStore;
use crate::store::sql::Sql;
use crate::store::writer::{VersionWriter, take_changes};

/// What [`SourceStore::attach_waiting`] did.
///
/// [`SourceStore::attach_waiting`]: super::SourceStore::attach_waiting
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attached {
    /// Held records written under their client.
    pub records: u64,
    /// New resource versions written (Provenance included).
    pub versions: u64,
}

impl<B: Backend> SqlStore<B> {
    /// [`super::SourceStore::attach_waiting`].
    pub(super) async fn attach_held(&self, tenant: &TenantCode, at: DateTime<Utc>) -> Result<Attached> {
        let dialect = B::DIALECT;
        let mut tx = self.backend.begin_write().await?;
        let mut last = take_changes(tx.as_mut(), dialect, tenant, 0).await?;
        let sql = Sql::statement(
            dialect,
            "SELECT l.vendor, l.delivery, l.delivery_made, l.mapping_version, l.kind, l.source_id \
             FROM source_linked l JOIN source_record a ON a.tenant = l.tenant AND a.vendor = l.vendor \
             AND a.kind = l.link_kind AND a.source_id = l.link_id AND a.state = 'written' \
             JOIN source_identity i ON i.tenant = l.tenant AND i.source_id = a.client_source AND i.part = '' \
             AND i.resource_type = 'Patient' \
             WHERE l.tenant = ? AND l.held = TRUE AND l.amends_kind IS NULL \
             ORDER BY l.vendor, l.delivery, l.delivery_made, l.mapping_version, l.kind, l.source_id",
            vec![tenant.as_str().into()],
        );
        let rows = tx.fetch_all(sql).await?;
        // Per delivery the records came in: written as that delivery.
        let mut groups: Vec<(DeliveryStamp, Vec<RecordKey>)> = Vec::new();
        for row in &rows {
            let (vendor, name, made, version) = (row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?);
            let key = (row.text(4)?.to_owned(), row.text(5)?.to_owned());
            match groups.last_mut() {
                Some((stamp, keys))
                    if stamp.vendor == vendor
                        && stamp.name == name
                        && stamp.created == made
                        && stamp.mapping_version == version =>
                {
                    keys.push(key);
                }
                _ => {
                    let created_at = parse_range(made).map(|r| r.low).unwrap_or_default();
                    let stamp = DeliveryStamp {
                        vendor: vendor.to_owned(),
                        mapping_version: version.to_owned(),
                        name: name.to_owned(),
                        created: made.to_owned(),
                        created_at,
                        replay: false,
                    };
                    groups.push((stamp, vec![key]));
                }
            }
        }
        let mut attached = Attached::default();
        for (stamp, keys) in &groups {
            let versions = VersionWriter::new(tx.as_mut(), dialect, tenant, at);
            let mut writer = SourceWriter::new(versions, dialect, tenant, stamp, at, last, false);
            for key in keys {
                let placed = writer.place(key).await?;
                attached.versions += u64::from(placed.versions);
                match placed.result {
                    SourceResult::Created | SourceResult::Updated | SourceResult::Unchanged => attached.records += 1,
                    SourceResult::ClientDeleted => writer.forget_linked(key).await?,
                    _ => {}
                }
            }
            writer.flush_sources().await?;
            writer.versions.flush().await?;
            last = writer.last_change;
        }
        tx.execute(Sql::statement(
            dialect,
            "UPDATE tenant SET last_change = ? WHERE code = ?",
            vec![last.into(), tenant.as_str().into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(attached)
    }
}
