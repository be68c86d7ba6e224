//! Rows a write transaction adds to the version and search index tables,
//! gathered while the transaction runs and inserted at its end with one
//! statement per table.
//!
//! A delivery or a transaction Bundle writes hundreds of resources, each
//! with a version row and a dozen index rows. One INSERT per row would cost
//! a round trip each (and on PostgreSQL a new statement text for every
//! row count of a multi-row INSERT); here PostgreSQL gets one `UNNEST` of
//! column arrays per table, always the same statement text, and SQLite
//! multi-row `VALUES` in chunks below its limit on bound values.

use super::driver::Transaction;
use super::row::SqlValue;
use super::sql::{Dialect, Sql};
use super::{Error, ErrorKind, Result};

/// A table the batch writes to: its name and columns with their
/// PostgreSQL types (`bigint` or `text`), the resource key first.
#[derive(Debug)]
pub(crate) struct BatchTable {
    name: &'static str,
    columns: &'static [(&'static str, ColumnType)],
    /// What a row whose key is taken already does (`ON CONFLICT ...`); rows
    /// of one batch must not share a key then.
    on_conflict: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    BigInt,
    Text,
    Bool,
}

use ColumnType::{BigInt, Bool, Text};

pub(crate) const RESOURCE_VERSION: BatchTable = BatchTable {
    name: "resource_version",
    on_conflict: None,
    columns: &[
        ("resource_pk", BigInt),
        ("version", BigInt),
        ("tenant", Text),
        ("change_no", BigInt),
        ("last_updated", BigInt),
        ("client_id", Text),
        ("category", Text),
    ],
};

const INDEX_COLUMNS: [(&str, ColumnType); 4] =
    [("resource_pk", BigInt), ("tenant", Text), ("resource_type", Text), ("param", Text)];

pub(crate) const SEARCH_TOKEN: BatchTable = BatchTable {
    name: "search_token",
    on_conflict: None,
    columns: &[
        INDEX_COLUMNS[0],
        INDEX_COLUMNS[1],
        INDEX_COLUMNS[2],
        INDEX_COLUMNS[3],
        ("system", Text),
        ("code", Text),
        ("text", Text),
    ],
};

pub(crate) const SEARCH_REFERENCE: BatchTable = BatchTable {
    name: "search_reference",
    on_conflict: None,
    columns: &[
        INDEX_COLUMNS[0],
        INDEX_COLUMNS[1],
        INDEX_COLUMNS[2],
        INDEX_COLUMNS[3],
        ("target_type", Text),
        ("target_id", Text),
    ],
};

pub(crate) const SEARCH_DATE: BatchTable = BatchTable {
    name: "search_date",
    on_conflict: None,
    columns: &[
        INDEX_COLUMNS[0],
        INDEX_COLUMNS[1],
        INDEX_COLUMNS[2],
        INDEX_COLUMNS[3],
        ("low", BigInt),
        ("high", BigInt),
    ],
};

pub(crate) const SEARCH_STRING: BatchTable = BatchTable {
    name: "search_string",
    on_conflict: None,
    columns: &[
        INDEX_COLUMNS[0],
        INDEX_COLUMNS[1],
        INDEX_COLUMNS[2],
        INDEX_COLUMNS[3],
        ("value", Text),
        ("exact", Text),
    ],
};

/// Resources created in a transaction (their first version), inserted
/// together; the caller adds `RETURNING` to learn their keys.
pub(crate) const NEW_RESOURCE: BatchTable = BatchTable {
    name: "resource",
    on_conflict: None,
    columns: &[
        ("tenant", Text),
        ("resource_type", Text),
        ("id", Text),
        ("version", BigInt),
        ("change_no", BigInt),
        ("last_updated", BigInt),
        ("deleted", Bool),
        ("client_id", Text),
        ("category", Text),
        ("content_hash", Text),
        ("content", Text),
    ],
};

/// The part identities of source records (new ones only).
pub(crate) const SOURCE_IDENTITY: BatchTable = BatchTable {
    name: "source_identity",
    on_conflict: None,
    columns: &[
        ("tenant", Text),
        ("vendor", Text),
        ("kind", Text),
        ("source_id", Text),
        ("part", Text),
        ("resource_type", Text),
        ("resource_id", Text),
    ],
};

/// The states of source records, new or replacing the stored one.
pub(crate) const SOURCE_RECORD: BatchTable = BatchTable {
    name: "source_record",
    on_conflict: Some(
        "ON CONFLICT (tenant, vendor, kind, source_id) DO UPDATE SET client_source = excluded.client_source, \
         changed_at = excluded.changed_at, delivered_at = excluded.delivered_at, state = excluded.state, \
         content_hash = excluded.content_hash",
    ),
    columns: &[
        ("tenant", Text),
        ("vendor", Text),
        ("kind", Text),
        ("source_id", Text),
        ("client_source", Text),
        ("changed_at", BigInt),
        ("delivered_at", BigInt),
        ("state", Text),
        ("content_hash", Text),
    ],
};

/// The index tables, in the order they are flushed.
pub(crate) const INDEX_TABLES: [&BatchTable; 4] = [&SEARCH_TOKEN, &SEARCH_REFERENCE, &SEARCH_DATE, &SEARCH_STRING];

/// SQLite allows 32,766 bound values per statement; chunks stay well below.
const SQLITE_ROWS_PER_STATEMENT: usize = 500;

/// The pending rows of one table.
#[derive(Debug)]
pub(crate) struct PendingRows {
    table: &'static BatchTable,
    rows: Vec<Vec<SqlValue>>,
}

impl BatchTable {
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

impl PendingRows {
    pub(crate) fn new(table: &'static BatchTable) -> Self {
        PendingRows { table, rows: Vec::new() }
    }

    /// Adds a row: its values in the table's column order, the resource
    /// key first.
    pub(crate) fn push(&mut self, row: Vec<SqlValue>) {
        debug_assert_eq!(row.len(), self.table.columns.len(), "a value for every column of {}", self.table.name);
        self.rows.push(row);
    }

    /// Whether a row of this resource is pending.
    pub(crate) fn holds(&self, resource_pk: i64) -> bool {
        self.rows.iter().any(|row| row.first() == Some(&SqlValue::Int(resource_pk)))
    }

    /// Forgets the pending rows of a resource (its index is being replaced
    /// within the same transaction).
    pub(crate) fn discard(&mut self, resource_pk: i64) {
        self.rows.retain(|row| row.first() != Some(&SqlValue::Int(resource_pk)));
    }

    /// The statements that insert the pending rows; leaves nothing pending.
    pub(crate) fn take_statements(&mut self, dialect: Dialect) -> Result<Vec<Sql>> {
        let rows = std::mem::take(&mut self.rows);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        match dialect {
            Dialect::Postgres => Ok(vec![self.unnest(rows)?]),
            Dialect::Sqlite => {
                let mut statements = Vec::with_capacity(rows.len().div_ceil(SQLITE_ROWS_PER_STATEMENT));
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    statements.push(self.values(rows.by_ref().take(SQLITE_ROWS_PER_STATEMENT)));
                }
                Ok(statements)
            }
        }
    }

    /// Inserts the pending rows inside `tx`.
    pub(crate) async fn flush(&mut self, tx: &mut dyn Transaction, dialect: Dialect) -> Result<()> {
        for statement in self.take_statements(dialect)? {
            tx.execute(statement).await?;
        }
        Ok(())
    }

    fn insert_into(&self, dialect: Dialect) -> Sql {
        let mut sql = Sql::new(dialect);
        let names = self.table.columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
        sql.push("INSERT INTO ").push(self.table.name).push(" (").push(&names).push(")");
        sql
    }

    /// `INSERT ... SELECT * FROM UNNEST($1::bigint[], $2::text[], ...)`:
    /// one bound array per column.
    fn unnest(&self, rows: Vec<Vec<SqlValue>>) -> Result<Sql> {
        let mut columns: Vec<SqlValue> = self
            .table
            .columns
            .iter()
            .map(|(_, kind)| match kind {
                BigInt => SqlValue::Ints(Vec::with_capacity(rows.len())),
                Text => SqlValue::Texts(Vec::with_capacity(rows.len())),
                Bool => SqlValue::Bools(Vec::with_capacity(rows.len())),
            })
            .collect();
        for row in rows {
            for (column, value) in columns.iter_mut().zip(row) {
                match (column, value) {
                    (SqlValue::Ints(values), SqlValue::Int(v)) => values.push(Some(v)),
                    (SqlValue::Ints(values), SqlValue::Bool(v)) => values.push(Some(i64::from(v))),
                    (SqlValue::Ints(values), SqlValue::Null) => values.push(None),
                    (SqlValue::Texts(values), SqlValue::Text(v)) => values.push(Some(v)),
                    (SqlValue::Texts(values), SqlValue::Null) => values.push(None),
                    (SqlValue::Bools(values), SqlValue::Bool(v)) => values.push(Some(v)),
                    (SqlValue::Bools(values), SqlValue::Null) => values.push(None),
                    (_, value) => {
                        return Err(Error::new(
                            ErrorKind::Internal,
                            format!("{}: a value {value:?} does not fit its column", self.table.name),
                        ));
                    }
                }
            }
        }
        let mut sql = self.insert_into(Dialect::Postgres);
        sql.push(" SELECT * FROM UNNEST(");
        for (i, (column, (_, kind))) in columns.into_iter().zip(self.table.columns).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(column);
            sql.push(match kind {
                BigInt => "::bigint[]",
                Text => "::text[]",
                Bool => "::boolean[]",
            });
        }
        sql.push(")");
        self.conflict_clause(&mut sql);
        Ok(sql)
    }

    /// `INSERT ... VALUES (...), (...)`, the values moved, not copied (a
    /// row may hold a whole document).
    fn values(&self, rows: impl Iterator<Item = Vec<SqlValue>>) -> Sql {
        let mut sql = self.insert_into(Dialect::Sqlite);
        sql.push(" VALUES ");
        for (i, row) in rows.enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(value);
            }
            sql.push(")");
        }
        self.conflict_clause(&mut sql);
        sql
    }

    fn conflict_clause(&self, sql: &mut Sql) {
        if let Some(clause) = self.table.on_conflict {
            sql.push(" ").push(clause);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pk: i64, code: &str) -> Vec<SqlValue> {
        vec![pk.into(), "t".into(), "Observation".into(), "code".into(), "s".into(), code.into(), SqlValue::Null]
    }

    #[test]
    fn postgres_gets_one_statement_of_column_arrays() {
        let mut pending = PendingRows::new(&SEARCH_TOKEN);
        pending.push(row(1, "a"));
        pending.push(row(2, "b"));
        let statements = pending.take_statements(Dialect::Postgres).unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].text,
            "INSERT INTO search_token (resource_pk, tenant, resource_type, param, system, code, text) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
        );
        assert_eq!(statements[0].binds[0], SqlValue::Ints(vec![Some(1), Some(2)]));
        assert_eq!(statements[0].binds[5], SqlValue::Texts(vec![Some("a".into()), Some("b".into())]));
        assert_eq!(statements[0].binds[6], SqlValue::Texts(vec![None, None]));
        assert!(pending.take_statements(Dialect::Postgres).unwrap().is_empty(), "nothing left pending");
    }

    #[test]
    fn sqlite_gets_values_in_chunks() {
        let mut pending = PendingRows::new(&SEARCH_TOKEN);
        for pk in 0..(SQLITE_ROWS_PER_STATEMENT as i64 + 1) {
            pending.push(row(pk, "c"));
        }
        let statements = pending.take_statements(Dialect::Sqlite).unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].binds.len(), SQLITE_ROWS_PER_STATEMENT * 7);
        assert_eq!(statements[1].binds.len(), 7);
        assert!(statements[1].text.ends_with("VALUES (?, ?, ?, ?, ?, ?, ?)"));
    }

    #[test]
    fn discarded_rows_are_not_written() {
        let mut pending = PendingRows::new(&SEARCH_TOKEN);
        pending.push(row(1, "old"));
        pending.push(row(2, "other"));
        pending.discard(1);
        pending.push(row(1, "new"));
        let statements = pending.take_statements(Dialect::Postgres).unwrap();
        assert_eq!(statements[0].binds[0], SqlValue::Ints(vec![Some(2), Some(1)]));
        assert_eq!(statements[0].binds[5], SqlValue::Texts(vec![Some("other".into()), Some("new".into())]));
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error() {
        let mut pending = PendingRows::new(&SEARCH_DATE);
        pending.push(vec![1.into(), "t".into(), "Observation".into(), "date".into(), "x".into(), 2.into()]);
        let error = pending.take_statements(Dialect::Postgres).unwrap_err();
        assert!(error.to_string().contains("search_date"), "{error}");
    }
}
