//! Records of deliveries that could not be mapped, kept whole until a
//! replay or a later delivery writes them.

use async_trait::async_trait;

use super::driver::Backend;
use super::logic::SqlStore;
use super::row::{Row, SqlValue};
use super::sql::{Dialect, Sql};
use super::{Error, ErrorKind, Result};
use crate::fhir::TenantCode;

/// A rejected record to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReject {
    pub vendor: String,
    /// The delivery's name (its file).
    pub delivery: String,
    /// When the delivery was made (ms since the epoch).
    pub delivered_at: i64,
    /// The delivery without its record lists (JSON).
    pub envelope: String,
    pub kind: String,
    pub source_id: Option<String>,
    pub field: String,
    pub reason: String,
    /// The record as delivered (JSON).
    pub record: String,
    /// The record it is nested in, without its lists (JSON).
    pub parent: Option<String>,
}

/// A kept reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReject {
    /// Its number, to name it by.
    pub number: i64,
    pub reject: NewReject,
    pub rejected_at: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
}

/// Rejected records.
#[async_trait]
pub trait RejectStore: Send + Sync {
    /// Keeps rejected records (at `at`, ms). A record that is kept already,
    /// open, from the same delivery (the delivery ingested again, or again
    /// after a crash) is kept once: its field and reason become the new ones.
    async fn keep_rejects(&self, tenant: &TenantCode, rejects: Vec<NewReject>, at: i64) -> Result<()>;
    /// The tenant's rejects, oldest first; only the open ones unless `all`.
    async fn rejects(&self, tenant: &TenantCode, all: bool) -> Result<Vec<StoredReject>>;
    /// A reject tried again that still fails: its field and reason now.
    async fn reject_again(&self, tenant: &TenantCode, number: i64, field: &str, reason: &str) -> Result<()>;
    /// Closes a reject (at `at`, ms) with how it was resolved.
    async fn close_reject(&self, tenant: &TenantCode, number: i64, resolution: &str, at: i64) -> Result<()>;
}

const REJECT_COLUMNS: &str = "pk, vendor, delivery, delivered_at, envelope, kind, source_id, field, reason, record, \
                              parent, rejected_at, resolved_at, resolution";

fn stored_reject(mut row: Row) -> Result<StoredReject> {
    let text = |row: &mut Row, i: usize| -> Result<String> {
        row.take_opt_text(i)?.ok_or_else(|| Error::new(ErrorKind::Internal, "reject without a required column"))
    };
    let resolved_at = match row.0.get(12) {
        Some(SqlValue::Null) | None => None,
        Some(_) => Some(row.int(12)?),
    };
    Ok(StoredReject {
        number: row.int(0)?,
        rejected_at: row.int(11)?,
        resolved_at,
        resolution: row.take_opt_text(13)?,
        reject: NewReject {
            vendor: text(&mut row, 1)?,
            delivery: text(&mut row, 2)?,
            delivered_at: row.int(3)?,
            envelope: text(&mut row, 4)?,
            kind: text(&mut row, 5)?,
            source_id: row.take_opt_text(6)?,
            field: text(&mut row, 7)?,
            reason: text(&mut row, 8)?,
            record: text(&mut row, 9)?,
            parent: row.take_opt_text(10)?,
        },
    })
}

#[async_trait]
impl<B: Backend> RejectStore for SqlStore<B> {
    async fn keep_rejects(&self, tenant: &TenantCode, rejects: Vec<NewReject>, at: i64) -> Result<()> {
        if rejects.is_empty() {
            return Ok(());
        }
        let same_source = match B::DIALECT {
            Dialect::Sqlite => "source_id IS ?",
            Dialect::Postgres => "source_id IS NOT DISTINCT FROM ?",
        };
        let kept_already = format!(
            "UPDATE ingest_reject SET field = ?, reason = ? WHERE tenant = ? AND vendor = ? AND kind = ? AND \
             {same_source} AND delivery = ? AND record = ? AND resolved_at IS NULL"
        );
        let mut tx = self.backend.begin_write().await?;
        for r in rejects {
            let update = Sql::statement(
                B::DIALECT,
                &kept_already,
                vec![
                    r.field.as_str().into(),
                    r.reason.as_str().into(),
                    tenant.as_str().into(),
                    r.vendor.as_str().into(),
                    r.kind.as_str().into(),
                    r.source_id.clone().into(),
                    r.delivery.as_str().into(),
                    r.record.as_str().into(),
                ],
            );
            if tx.execute(update).await? > 0 {
                continue;
            }
            let sql = Sql::statement(
                B::DIALECT,
                "INSERT INTO ingest_reject (tenant, vendor, delivery, delivered_at, envelope, kind, source_id, field, \
                 reason, record, parent, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    tenant.as_str().into(),
                    r.vendor.into(),
                    r.delivery.into(),
                    r.delivered_at.into(),
                    r.envelope.into(),
                    r.kind.into(),
                    r.source_id.into(),
                    r.field.into(),
                    r.reason.into(),
                    r.record.into(),
                    r.parent.into(),
                    at.into(),
                ],
            );
            tx.execute(sql).await?;
        }
        tx.commit().await
    }

    async fn rejects(&self, tenant: &TenantCode, all: bool) -> Result<Vec<StoredReject>> {
        let open = if all { "" } else { " AND resolved_at IS NULL" };
        let text = format!("SELECT {REJECT_COLUMNS} FROM ingest_reject WHERE tenant = ?{open} ORDER BY pk");
        let sql = Sql::statement(B::DIALECT, &text, vec![tenant.as_str().into()]);
        self.backend.fetch_all(sql).await?.into_iter().map(stored_reject).collect()
    }

    async fn reject_again(&self, tenant: &TenantCode, number: i64, field: &str, reason: &str) -> Result<()> {
        let sql = Sql::statement(
            B::DIALECT,
            "UPDATE ingest_reject SET field = ?, reason = ? WHERE tenant = ? AND pk = ?",
            vec![field.into(), reason.into(), tenant.as_str().into(), number.into()],
        );
        let mut tx = self.backend.begin_write().await?;
        tx.execute(sql).await?;
        tx.commit().await
    }

    async fn close_reject(&self, tenant: &TenantCode, number: i64, resolution: &str, at: i64) -> Result<()> {
        let sql = Sql::statement(
            B::DIALECT,
            "UPDATE ingest_reject SET resolved_at = ?, resolution = ? WHERE tenant = ? AND pk = ? AND resolved_at IS NULL",
            vec![at.into(), resolution.into(), tenant.as_str().into(), number.into()],
        );
        let mut tx = self.backend.begin_write().await?;
        tx.execute(sql).await?;
        tx.commit().await
    }
}
