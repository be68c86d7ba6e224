//! SQL text with bound values, for both drivers, and the search query.
//!
//! Every value is bound, never formatted into the SQL text; the only thing
//! that differs between SQLite and PostgreSQL here is the placeholder.

use super::row::SqlValue;
use super::{Visibility, VisibleSlice};
use crate::fhir::TenantCode;
use crate::fhir::datetime::TimeRange;
use crate::fhir::search_param::SearchParamKind;
use crate::search::{Clause, Condition, DatePrefix, SearchRequest, SortField, TokenSystem};

/// The placeholder style of a driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?`
    Sqlite,
    /// `$1`, `$2`, …
    Postgres,
}

/// SQL text and its bound values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sql {
    dialect: Dialect,
    pub(crate) text: String,
    pub(crate) binds: Vec<SqlValue>,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Sql { dialect, text: String::new(), binds: Vec::new() }
    }

    /// A statement whose text has `?` for each value, in order.
    pub(crate) fn statement(dialect: Dialect, text: &str, binds: Vec<SqlValue>) -> Self {
        let mut sql = Sql::new(dialect);
        let mut values = binds.into_iter();
        let mut parts = text.split('?').peekable();
        while let Some(part) = parts.next() {
            sql.push(part);
            if parts.peek().is_some() {
                sql.bind(values.next().expect("a value for every placeholder"));
            }
        }
        assert!(values.next().is_none(), "more values than placeholders in: {text}");
        sql
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<SqlValue>) -> &mut Self {
        self.binds.push(value.into());
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.binds.len().to_string());
            }
        }
        self
    }
}

/// The columns of a stored version, in the order `logic.rs` reads them.
pub(crate) const VERSION_COLUMNS: &str =
    "r.resource_type, r.id, v.version, v.last_updated, v.change_no, v.client_id, v.category, v.content";

/// The same columns of the current version, from the resource table.
pub(crate) const CURRENT_COLUMNS: &str =
    "r.resource_type, r.id, r.version, r.last_updated, r.change_no, r.client_id, r.category, r.content";

/// The `FROM ... WHERE ...` of a search: tenant, type, not deleted, the
/// visibility and every clause.
pub(crate) fn search_filter(
    dialect: Dialect,
    tenant: &TenantCode,
    search: &SearchRequest,
    visibility: &Visibility,
) -> Sql {
    let mut filter = Sql::new(dialect);
    filter.push(" FROM resource r WHERE r.tenant = ").bind(tenant.as_str());
    filter.push(" AND r.resource_type = ").bind(search.resource_type.as_str());
    filter.push(" AND r.deleted = FALSE");
    push_visibility(&mut filter, visibility);
    for clause in &search.clauses {
        filter.push(" AND ");
        push_clause(&mut filter, tenant, search, clause);
    }
    filter
}

/// `SELECT COUNT(*)` of a search.
pub(crate) fn search_count(filter: &Sql) -> Sql {
    let mut count = Sql::new(filter.dialect);
    count.push("SELECT COUNT(*)");
    append(&mut count, filter);
    count
}

/// One page of a search by position, without a snapshot.
pub(crate) fn search_page(filter: &Sql, search: &SearchRequest) -> Sql {
    let mut page = Sql::new(filter.dialect);
    page.push("SELECT ").push(CURRENT_COLUMNS);
    append(&mut page, filter);
    page.push(" ORDER BY ");
    append(&mut page, &order_by(filter.dialect, search));
    page.push(" LIMIT ").bind(i64::from(search.count)).push(" OFFSET ").bind(search.offset as i64);
    page
}

/// Stores the whole ordered result of a search as a snapshot.
pub(crate) fn insert_snapshot_entries(filter: &Sql, search: &SearchRequest, snapshot_id: &str) -> Sql {
    let mut insert = Sql::new(filter.dialect);
    insert.push("INSERT INTO search_snapshot_entry (snapshot_id, position, resource_pk) SELECT ").bind(snapshot_id);
    insert.push(", ROW_NUMBER() OVER (ORDER BY ");
    append(&mut insert, &order_by(filter.dialect, search));
    insert.push("), r.pk");
    append(&mut insert, filter);
    insert
}

/// A page of a snapshot: current versions, deleted ones left out, and the
/// visibility applied again.
pub(crate) fn snapshot_page(
    dialect: Dialect,
    tenant: &TenantCode,
    snapshot_id: &str,
    offset: u64,
    count: u32,
    visibility: &Visibility,
) -> Sql {
    let mut page = Sql::new(dialect);
    page.push("SELECT ").push(CURRENT_COLUMNS);
    page.push(" FROM search_snapshot_entry s JOIN resource r ON r.pk = s.resource_pk WHERE s.snapshot_id = ")
        .bind(snapshot_id);
    page.push(" AND s.position > ").bind(offset as i64);
    page.push(" AND s.position <= ").bind(offset as i64 + i64::from(count));
    page.push(" AND r.tenant = ").bind(tenant.as_str());
    page.push(" AND r.deleted = FALSE");
    push_visibility(&mut page, visibility);
    page.push(" ORDER BY s.position");
    page
}

/// The sort keys, then the primary key, so that the order is total.
fn order_by(dialect: Dialect, search: &SearchRequest) -> Sql {
    let mut order = Sql::new(dialect);
    for key in &search.sort {
        let direction = if key.descending { " DESC" } else { " ASC" };
        match &key.field {
            SortField::Id => {
                order.push("r.id").push(direction);
            }
            SortField::LastUpdated => {
                order.push("r.last_updated").push(direction);
            }
            SortField::Date(param) => {
                // Ascending by the earliest start, descending by the latest end;
                // resources without a value come last either way.
                let value = if key.descending { "MAX(d.high)" } else { "MIN(d.low)" };
                let mut sub = Sql::new(dialect);
                sub.push("(SELECT ").push(value).push(" FROM search_date d WHERE d.resource_pk = r.pk AND d.param = ");
                sub.bind(*param).push(")");
                append(&mut order, &sub);
                order.push(" IS NULL, ");
                append(&mut order, &sub);
                order.push(direction);
            }
        }
        order.push(", ");
    }
    order.push("r.pk ASC");
    order
}

/// Appends another fragment, renumbering its placeholders.
fn append(target: &mut Sql, fragment: &Sql) {
    match target.dialect {
        Dialect::Sqlite => {
            target.text.push_str(&fragment.text);
            target.binds.extend(fragment.binds.iter().cloned());
        }
        Dialect::Postgres => {
            // Fragments are built with their own numbering from $1.
            let offset = target.binds.len();
            let mut rest = fragment.text.as_str();
            while let Some(i) = rest.find('$') {
                target.text.push_str(&rest[..i]);
                let digits: String = rest[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                let n: usize = digits.parse().expect("placeholder number");
                target.text.push('$');
                target.text.push_str(&(n + offset).to_string());
                rest = &rest[i + 1 + digits.len()..];
            }
            target.text.push_str(rest);
            target.binds.extend(fragment.binds.iter().cloned());
        }
    }
}

pub(crate) fn push_visibility(sql: &mut Sql, visibility: &Visibility) {
    let slices = match visibility {
        Visibility::Everything => return,
        Visibility::Only(slices) => slices,
    };
    let slices: Vec<&VisibleSlice> = slices.iter().filter(|s| !s.categories.is_empty()).collect();
    if slices.is_empty() {
        sql.push(" AND 1 = 0");
        return;
    }
    sql.push(" AND (");
    for (i, slice) in slices.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        match &slice.client {
            Some(client) => sql.push("(r.client_id = ").bind(client.as_str()),
            None => sql.push("(r.client_id IS NULL"),
        };
        sql.push(" AND r.category IN (");
        for (j, category) in slice.categories.iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            sql.bind(category.code());
        }
        sql.push("))");
    }
    sql.push(")");
}

fn push_clause(sql: &mut Sql, tenant: &TenantCode, search: &SearchRequest, clause: &Clause) {
    sql.push("(");
    for (i, condition) in clause.any_of.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        push_condition(sql, tenant, search, condition);
    }
    sql.push(")");
}

fn push_condition(sql: &mut Sql, tenant: &TenantCode, search: &SearchRequest, condition: &Condition) {
    let index_subquery = |sql: &mut Sql, table: &str, param: &str| {
        sql.push("r.pk IN (SELECT resource_pk FROM ").push(table).push(" WHERE tenant = ").bind(tenant.as_str());
        sql.push(" AND resource_type = ").bind(search.resource_type.as_str());
        sql.push(" AND param = ").bind(param);
    };
    match condition {
        Condition::Id(id) => {
            sql.push("r.id = ").bind(id.as_str());
        }
        Condition::LastUpdated { prefix, range } => {
            sql.push("(");
            push_date_predicate(sql, "r.last_updated", "(r.last_updated + 1)", *prefix, *range);
            sql.push(")");
        }
        Condition::Token { param, system, code } => {
            index_subquery(sql, "search_token", param);
            if let Some(code) = code {
                sql.push(" AND code = ").bind(code.as_str());
            }
            match system {
                TokenSystem::Any => {}
                TokenSystem::NoSystem => {
                    sql.push(" AND system = ''");
                }
                TokenSystem::Exactly(system) => {
                    sql.push(" AND system = ").bind(system.as_str());
                }
            }
            sql.push(")");
        }
        Condition::Reference { param, target_type, id } => {
            index_subquery(sql, "search_reference", param);
            sql.push(" AND target_id = ").bind(id.as_str());
            if let Some(target_type) = target_type {
                sql.push(" AND target_type = ").bind(target_type.as_str());
            }
            sql.push(")");
        }
        Condition::Date { param, prefix, range } => {
            index_subquery(sql, "search_date", param);
            sql.push(" AND (");
            push_date_predicate(sql, "low", "high", *prefix, *range);
            sql.push("))");
        }
        Condition::String { param, starts_with } => {
            index_subquery(sql, "search_string", param);
            let pattern = format!("{}%", escape_like(starts_with));
            sql.push(" AND value LIKE ").bind(pattern).push(" ESCAPE '\\')");
        }
        Condition::StringContains { param, contains } => {
            index_subquery(sql, "search_string", param);
            let pattern = format!("%{}%", escape_like(contains));
            sql.push(" AND value LIKE ").bind(pattern).push(" ESCAPE '\\')");
        }
        Condition::StringExact { param, value } => {
            index_subquery(sql, "search_string", param);
            sql.push(" AND exact = ").bind(value.as_str()).push(")");
        }
        Condition::TokenText { param, starts_with } => {
            index_subquery(sql, "search_token", param);
            let pattern = format!("{}%", escape_like(starts_with));
            sql.push(" AND text LIKE ").bind(pattern).push(" ESCAPE '\\')");
        }
        Condition::NoneOf(conditions) => {
            sql.push("NOT (");
            for (i, condition) in conditions.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                push_condition(sql, tenant, search, condition);
            }
            sql.push(")");
        }
        Condition::Missing { param, kind, missing } => {
            let table = match kind {
                SearchParamKind::Token => "search_token",
                SearchParamKind::Reference => "search_reference",
                SearchParamKind::Date => "search_date",
                SearchParamKind::String => "search_string",
            };
            if *missing {
                sql.push("NOT ");
            }
            index_subquery(sql, table, param);
            if *kind == SearchParamKind::Token {
                // Rows that only carry a concept's text are not values.
                sql.push(" AND code <> ''");
            }
            sql.push(")");
        }
    }
}

/// R4 date comparison of a stored range `[low, high)` with a search range
/// (search §3.1.1.4.2), written out per prefix.
fn push_date_predicate(sql: &mut Sql, low: &str, high: &str, prefix: DatePrefix, range: TimeRange) {
    let contained = |sql: &mut Sql| {
        sql.push("(").push(low).push(" >= ").bind(range.low);
        sql.push(" AND ").push(high).push(" <= ").bind(range.high).push(")");
    };
    match prefix {
        DatePrefix::Eq => contained(sql),
        DatePrefix::Ne => {
            sql.push("NOT ");
            contained(sql);
        }
        DatePrefix::Gt => {
            sql.push(high).push(" > ").bind(range.high);
        }
        DatePrefix::Lt => {
            sql.push(low).push(" < ").bind(range.low);
        }
        DatePrefix::Ge => {
            sql.push(high).push(" > ").bind(range.high).push(" OR ");
            contained(sql);
        }
        DatePrefix::Le => {
            sql.push(low).push(" < ").bind(range.low).push(" OR ");
            contained(sql);
        }
        DatePrefix::Sa => {
            sql.push(low).push(" >= ").bind(range.high);
        }
        DatePrefix::Eb => {
            sql.push(high).push(" <= ").bind(range.low);
        }
        DatePrefix::Ap => {
            // Approximately: the ranges overlap.
            sql.push(low).push(" < ").bind(range.high);
            sql.push(" AND ").push(high).push(" > ").bind(range.low);
        }
    }
}

fn escape_like(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_placeholders_per_dialect() {
        let sql =
            Sql::statement(Dialect::Postgres, "SELECT a FROM t WHERE b = ? AND c = ?", vec![1.into(), "x".into()]);
        assert_eq!(sql.text, "SELECT a FROM t WHERE b = $1 AND c = $2");
        let sql = Sql::statement(Dialect::Sqlite, "SELECT a FROM t WHERE b = ? AND c = ?", vec![1.into(), "x".into()]);
        assert_eq!(sql.text, "SELECT a FROM t WHERE b = ? AND c = ?");
    }

    #[test]
    fn appended_fragments_are_renumbered() {
        let mut a = Sql::new(Dialect::Postgres);
        a.push("x = ").bind(1);
        let mut b = Sql::new(Dialect::Postgres);
        b.push(" AND y = ").bind(2).push(" AND z = ").bind(3);
        append(&mut a, &b);
        assert_eq!(a.text, "x = $1 AND y = $2 AND z = $3");
        assert_eq!(a.binds, [1.into(), 2.into(), 3.into()]);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("a%b_c\\"), "a\\%b\\_c\\\\");
    }
}
