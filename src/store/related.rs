//! The queries behind `_include` and `_revinclude`: following the stored
//! reference index from a page of results to related resources, with the
//! visibility applied inside the query like every search.

use super::sql::{CURRENT_COLUMNS, Dialect, Sql, push_list, push_visibility};
use crate::access::Visibility;
use crate::fhir::{ResourceId, ResourceType, TenantCode};

/// The distinct targets of reference parameter `param` in the current
/// versions of these resources: `(target type, target id)` rows.
pub(crate) fn reference_targets(
    dialect: Dialect,
    tenant: &TenantCode,
    source_type: ResourceType,
    ids: &[ResourceId],
    param: &str,
) -> Sql {
    let mut sql = Sql::new(dialect);
    sql.push(
        "SELECT DISTINCT x.target_type, x.target_id FROM search_reference x JOIN resource r ON r.pk = x.resource_pk",
    );
    sql.push(" WHERE r.tenant = ").bind(tenant.as_str());
    sql.push(" AND r.resource_type = ").bind(source_type.as_str());
    sql.push(" AND r.deleted = FALSE AND r.id IN (");
    push_list(&mut sql, ids.iter().map(ResourceId::as_str));
    sql.push(") AND x.param = ").bind(param);
    sql.push(" ORDER BY x.target_type, x.target_id");
    sql
}

/// Current, not deleted resources of one type with these ids, visible ones
/// only, by id.
pub(crate) fn read_many(
    dialect: Dialect,
    tenant: &TenantCode,
    resource_type: ResourceType,
    ids: &[ResourceId],
    visibility: &Visibility,
) -> Sql {
    let mut sql = Sql::new(dialect);
    sql.push("SELECT ").push(CURRENT_COLUMNS).push(" FROM resource r WHERE r.tenant = ").bind(tenant.as_str());
    sql.push(" AND r.resource_type = ").bind(resource_type.as_str());
    sql.push(" AND r.deleted = FALSE AND r.id IN (");
    push_list(&mut sql, ids.iter().map(ResourceId::as_str));
    sql.push(")");
    push_visibility(&mut sql, visibility);
    sql.push(" ORDER BY r.id");
    sql
}

/// Current, not deleted, visible resources of `source_type` whose reference
/// parameter `param` points at one of `targets`, by id, at most `limit`.
pub(crate) fn referencing(
    dialect: Dialect,
    tenant: &TenantCode,
    source_type: ResourceType,
    param: &str,
    targets: &[(ResourceType, ResourceId)],
    visibility: &Visibility,
    limit: u32,
) -> Sql {
    let mut sql = Sql::new(dialect);
    sql.push("SELECT ").push(CURRENT_COLUMNS).push(" FROM resource r WHERE r.tenant = ").bind(tenant.as_str());
    sql.push(" AND r.resource_type = ").bind(source_type.as_str());
    sql.push(" AND r.deleted = FALSE");
    push_visibility(&mut sql, visibility);
    sql.push(" AND r.pk IN (SELECT resource_pk FROM search_reference WHERE tenant = ").bind(tenant.as_str());
    sql.push(" AND resource_type = ").bind(source_type.as_str());
    sql.push(" AND param = ").bind(param).push(" AND (");
    let mut types: Vec<ResourceType> = targets.iter().map(|(t, _)| *t).collect();
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    for (i, target_type) in types.into_iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(target_type = ").bind(target_type.as_str()).push(" AND target_id IN (");
        let ids = targets.iter().filter(|(t, _)| *t == target_type).map(|(_, id)| id.as_str());
        push_list(&mut sql, ids);
        sql.push("))");
    }
    sql.push(")) ORDER BY r.id LIMIT ").bind(i64::from(limit));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revinclude_groups_targets_by_type() {
        let tenant = TenantCode::parse("t").unwrap();
        let id = |s: &str| ResourceId::parse(s).unwrap();
        let targets = [
            (ResourceType::Observation, id("o1")),
            (ResourceType::Consent, id("c1")),
            (ResourceType::Observation, id("o2")),
        ];
        let sql = referencing(
            Dialect::Postgres,
            &tenant,
            ResourceType::Provenance,
            "target",
            &targets,
            &crate::access::internal(crate::access::InternalWork::StoreUpkeep),
            10,
        );
        assert!(
            sql.text
                .contains("(target_type = $6 AND target_id IN ($7)) OR (target_type = $8 AND target_id IN ($9, $10))"),
            "{}",
            sql.text
        );
        assert_eq!(sql.binds.len(), 11);
    }
}
