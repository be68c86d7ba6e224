//! The search query as SQL: the filter of a search, its count, its ordered
//! keys, and the conditions of each clause (the text builder is in
//! `statement.rs`, the visibility conditions in `visible.rs`).

pub(crate) use super::statement::{Dialect, Sql, push_list};
use crate::access::Visibility;
use crate::fhir::datetime::TimeRange;
use crate::fhir::search_param::SearchParamKind;
use crate::fhir::{ResourceType, TenantCode};
use crate::search::{Clause, Condition, DatePrefix, SearchRequest, SortField, TokenSystem};

/// The columns of a stored version, in the order `logic.rs` reads them.
/// The current version's content is in `resource` only (see
/// `writer.rs`).
pub(crate) const VERSION_COLUMNS: &str = "r.resource_type, r.id, v.version, v.last_updated, v.change_no, v.client_id, \
     v.category, CASE WHEN v.version = r.version THEN r.content ELSE v.content END";

/// The same columns of the current version, from the resource table.
pub(crate) const CURRENT_COLUMNS: &str =
    "r.resource_type, r.id, r.version, r.last_updated, r.change_no, r.client_id, r.category, r.content";

/// The `FROM ... WHERE ...` of a search: tenant, type, not deleted, the
/// visibility and every clause.
///
/// A search starts from its most selective clause when it has one (a
/// reference, a code, an exact string): the index rows of that clause
/// drive the query, and every clause is then checked per resource with an
/// index probe. Without one, the resources of the type are scanned. On
/// SQLite, `CROSS JOIN` fixes that order (its planner has no statistics
/// unless `ANALYZE` ran); PostgreSQL's planner chooses with its statistics.
pub(crate) fn search_filter(
    dialect: Dialect,
    tenant: &TenantCode,
    search: &SearchRequest,
    visibility: &Visibility,
) -> Sql {
    let mut filter = Sql::new(dialect);
    filter.push(" FROM ");
    if let Some(driver) = driving_condition(search) {
        push_driver(&mut filter, tenant, search, driver);
        filter.push(if dialect == Dialect::Sqlite { " CROSS JOIN" } else { " JOIN" });
        filter.push(" resource r ON r.pk = d.resource_pk");
    } else {
        filter.push("resource r");
    }
    filter.push(" WHERE r.tenant = ").bind(tenant.as_str());
    filter.push(" AND r.resource_type = ").bind(search.resource_type.as_str());
    filter.push(" AND r.deleted = FALSE");
    push_visibility(&mut filter, visibility);
    for clause in &search.clauses {
        filter.push(" AND ");
        push_clause(&mut filter, clause);
    }
    filter
}

/// The condition a search starts from: the first clause, by kind, that
/// has one equality condition on the index (references first: a search
/// within one client's records is the common case and the narrowest).
fn driving_condition(search: &SearchRequest) -> Option<&Condition> {
    let single = || search.clauses.iter().filter(|c| c.any_of.len() == 1).map(|c| &c.any_of[0]);
    single()
        .find(|c| matches!(c, Condition::Reference { .. }))
        .or_else(|| single().find(|c| matches!(c, Condition::Token { code: Some(_), .. })))
        .or_else(|| single().find(|c| matches!(c, Condition::StringExact { .. })))
}

/// `(SELECT DISTINCT resource_pk FROM <index> WHERE ...) d`
fn push_driver(sql: &mut Sql, tenant: &TenantCode, search: &SearchRequest, condition: &Condition) {
    let mut from = |table: &str, param: &str| {
        sql.push("(SELECT DISTINCT resource_pk FROM ").push(table).push(" WHERE tenant = ").bind(tenant.as_str());
        sql.push(" AND resource_type = ").bind(search.resource_type.as_str());
        sql.push(" AND param = ").bind(param);
    };
    match condition {
        Condition::Reference { param, .. } => from("search_reference", param),
        Condition::Token { param, .. } => from("search_token", param),
        Condition::StringExact { param, .. } => from("search_string", param),
        _ => unreachable!("only these conditions drive a search"),
    }
    push_index_terms(sql, condition);
    sql.push(") d");
}

/// `SELECT COUNT(*)` of a search.
pub(crate) fn search_count(filter: &Sql) -> Sql {
    let mut count = Sql::new(filter.dialect);
    count.push("SELECT COUNT(*)");
    append(&mut count, filter);
    count
}

/// The keys of every match of a search, in the search's order.
pub(crate) fn search_keys(filter: &Sql, search: &SearchRequest) -> Sql {
    let mut keys = Sql::new(filter.dialect);
    keys.push("SELECT r.pk");
    append(&mut keys, filter);
    keys.push(" ORDER BY ");
    append(&mut keys, &order_by(filter.dialect, search));
    keys
}

/// The current versions of the resources with these keys, of one type and
/// tenant, deleted ones left out and the visibility applied again; the key
/// is the last column.
pub(crate) fn current_by_keys(
    dialect: Dialect,
    tenant: &TenantCode,
    resource_type: ResourceType,
    keys: &[i64],
    visibility: &Visibility,
) -> Sql {
    let mut sql = Sql::new(dialect);
    sql.push("SELECT ").push(CURRENT_COLUMNS).push(", r.pk FROM resource r WHERE r.pk IN (");
    push_list(&mut sql, keys.iter().copied());
    sql.push(") AND r.tenant = ").bind(tenant.as_str());
    sql.push(" AND r.resource_type = ").bind(resource_type.as_str());
    sql.push(" AND r.deleted = FALSE");
    push_visibility(&mut sql, visibility);
    sql
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
    super::visible::push_visibility(sql, visibility, "r");
}

fn push_clause(sql: &mut Sql, clause: &Clause) {
    sql.push("(");
    for (i, condition) in clause.any_of.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        push_condition(sql, condition);
    }
    sql.push(")");
}

/// One condition as a check of one resource `r`: an `EXISTS` probe of the
/// index rows of that resource and parameter.
fn push_condition(sql: &mut Sql, condition: &Condition) {
    let probe = |sql: &mut Sql, table: &str, param: &str| {
        sql.push("EXISTS (SELECT 1 FROM ").push(table).push(" x WHERE x.resource_pk = r.pk AND x.param = ").bind(param);
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
        Condition::Token { param, .. } | Condition::TokenText { param, .. } => {
            probe(sql, "search_token", param);
            push_index_terms(sql, condition);
            sql.push(")");
        }
        Condition::Reference { param, .. } => {
            probe(sql, "search_reference", param);
            push_index_terms(sql, condition);
            sql.push(")");
        }
        Condition::Date { param, .. } => {
            probe(sql, "search_date", param);
            push_index_terms(sql, condition);
            sql.push(")");
        }
        Condition::String { param, .. }
        | Condition::StringContains { param, .. }
        | Condition::StringExact { param, .. } => {
            probe(sql, "search_string", param);
            push_index_terms(sql, condition);
            sql.push(")");
        }
        Condition::NoneOf(conditions) => {
            sql.push("NOT (");
            for (i, condition) in conditions.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                push_condition(sql, condition);
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
            probe(sql, table, param);
            if *kind == SearchParamKind::Token {
                // Rows that only carry a concept's text are not values.
                sql.push(" AND code <> ''");
            }
            sql.push(")");
        }
    }
}

/// The terms on one index row (after its parameter) that a condition
/// requires, each starting with ` AND`; columns unqualified.
fn push_index_terms(sql: &mut Sql, condition: &Condition) {
    match condition {
        Condition::Token { system, code, .. } => {
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
        }
        Condition::TokenText { starts_with, .. } => {
            let pattern = format!("{}%", escape_like(starts_with));
            sql.push(" AND text LIKE ").bind(pattern).push(" ESCAPE '\\'");
        }
        Condition::Reference { target_type, id, .. } => {
            sql.push(" AND target_id = ").bind(id.as_str());
            if let Some(target_type) = target_type {
                sql.push(" AND target_type = ").bind(target_type.as_str());
            }
        }
        Condition::Date { prefix, range, .. } => {
            sql.push(" AND (");
            push_date_predicate(sql, "low", "high", *prefix, *range);
            sql.push(")");
        }
        Condition::String { starts_with, .. } => {
            let pattern = format!("{}%", escape_like(starts_with));
            sql.push(" AND value LIKE ").bind(pattern).push(" ESCAPE '\\'");
        }
        Condition::StringContains { contains, .. } => {
            let pattern = format!("%{}%", escape_like(contains));
            sql.push(" AND value LIKE ").bind(pattern).push(" ESCAPE '\\'");
        }
        Condition::StringExact { value, .. } => {
            sql.push(" AND exact = ").bind(value.as_str());
        }
        Condition::Id(_) | Condition::LastUpdated { .. } | Condition::NoneOf(_) | Condition::Missing { .. } => {}
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

    fn filter(dialect: Dialect, resource_type: crate::fhir::ResourceType, query: &[(&str, &str)]) -> String {
        let params: Vec<(String, String)> = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let search =
            crate::search::parse(resource_type, &params, crate::search::Handling::Strict, Default::default()).unwrap();
        let tenant = TenantCode::parse("t").unwrap();
        search_filter(dialect, &tenant, &search, &crate::access::internal(crate::access::InternalWork::StoreUpkeep))
            .text
    }

    #[test]
    fn searches_start_from_their_most_selective_clause() {
        use crate::fhir::ResourceType::{Appointment, Observation, Patient};
        let text = filter(
            Dialect::Sqlite,
            Observation,
            &[("date", "ge2024"), ("code", "http://loinc.org|29463-7"), ("patient", "p1")],
        );
        assert!(
            text.starts_with(" FROM (SELECT DISTINCT resource_pk FROM search_reference WHERE tenant = ? AND resource_type = ? AND param = ? AND target_id = ? AND target_type = ?) d CROSS JOIN resource r"),
            "{text}"
        );
        let text = filter(Dialect::Postgres, Observation, &[("date", "ge2024"), ("code", "http://loinc.org|29463-7")]);
        assert!(text.starts_with(" FROM (SELECT DISTINCT resource_pk FROM search_token WHERE"), "{text}");
        assert!(text.contains(") d JOIN resource r ON"), "{text}");
        // Several values (OR) or only ranges: the type is scanned.
        let text = filter(Dialect::Sqlite, Appointment, &[("patient", "p1,p2"), ("date", "ge2024")]);
        assert!(text.starts_with(" FROM resource r WHERE"), "{text}");
        let text = filter(Dialect::Sqlite, Patient, &[("name", "jan")]);
        assert!(text.starts_with(" FROM resource r WHERE"), "{text}");
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("a%b_c\\"), "a\\%b\\_c\\\\");
    }
}
