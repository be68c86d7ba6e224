//! An access decision's [`Visibility`] as SQL conditions on a `resource`
//! row: applied inside every query, so that totals, pages and includes
//! count only what the requester may see.

use super::statement::Sql;
use crate::access::{MessageRule, PersonSlice, PersonVisibility, Visibility, VisibleRecords};
use crate::auth::scope::Refinement;
use crate::fhir::{DataCategory, MessageAudience};

/// The reference parameters that name a message's participants.
const PARTICIPANT_PARAMS: &str = "('sender', 'recipient')";

/// Appends ` AND (...)` restricting the rows of alias `row` to `visibility`.
pub(crate) fn push_visibility(sql: &mut Sql, visibility: &Visibility, row: &str) {
    match visibility.records() {
        VisibleRecords::Everything => {}
        VisibleRecords::Refined(refinements) => {
            sql.push(" AND (");
            push_refinements(sql, refinements, row);
            sql.push(")");
        }
        VisibleRecords::Person(person) => {
            sql.push(" AND (");
            push_person(sql, person, row);
            sql.push(")");
        }
    }
}

fn push_person(sql: &mut Sql, person: &PersonVisibility, row: &str) {
    push_person_slices(sql, &person.slices, row);
    if let Some((resource_type, id)) = &person.own_record {
        sql.push(" OR (").push(row).push(".resource_type = ").bind(resource_type.as_str());
        sql.push(" AND ").push(row).push(".id = ").bind(id.as_str()).push(")");
    }
    if person.referenced_directory && !person.slices.is_empty() {
        // A record without a client that a visible record refers to. The
        // subquery does not depend on the row: it lists once what the
        // person's visible records refer to (a few hundred rows per
        // client), however many records of the tenant refer to a busy
        // practitioner.
        sql.push(" OR (").push(row).push(".client_id IS NULL AND (").push(row).push(".tenant, ");
        sql.push(row).push(".resource_type, ").push(row).push(".id) IN (SELECT v.tenant, x.target_type, x.target_id");
        sql.push(" FROM resource v JOIN search_reference x ON x.resource_pk = v.pk WHERE v.deleted = FALSE AND (");
        push_person_slices(sql, &person.slices, "v");
        sql.push(")))");
    }
}

fn push_person_slices(sql: &mut Sql, slices: &[PersonSlice], row: &str) {
    let slices: Vec<&PersonSlice> = slices.iter().filter(|s| !s.categories.is_empty()).collect();
    if slices.is_empty() {
        sql.push("1 = 0");
        return;
    }
    for (i, slice) in slices.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(").push(row).push(".client_id = ").bind(slice.client.as_str());
        if let Some(refinements) = &slice.refined {
            sql.push(" AND (");
            push_refinements(sql, refinements, row);
            sql.push(")");
        }
        sql.push(" AND (");
        let sees_messages = slice.categories.contains(&DataCategory::Messages);
        let free: Vec<DataCategory> =
            slice.categories.iter().copied().filter(|&c| c != DataCategory::Messages).collect();
        if free.is_empty() {
            sql.push("1 = 0");
        } else {
            sql.push(row).push(".category IN (");
            push_categories(sql, free.into_iter());
            sql.push(")");
        }
        if sees_messages {
            sql.push(" OR (").push(row).push(".category = ").bind(DataCategory::Messages.code()).push(" AND (");
            push_message_rule(sql, &slice.messages, row);
            sql.push("))");
        }
        sql.push("))");
    }
}

/// The messages `rule` admits: those naming one of the person's records as
/// sender or recipient, and those whose audience tag includes the person.
fn push_message_rule(sql: &mut Sql, rule: &MessageRule, row: &str) {
    sql.push("EXISTS (SELECT 1 FROM search_reference m WHERE m.resource_pk = ").push(row).push(".pk");
    sql.push(" AND m.param IN ").push(PARTICIPANT_PARAMS).push(" AND (");
    if rule.participants.is_empty() {
        sql.push("1 = 0");
    }
    for (j, (resource_type, id)) in rule.participants.iter().enumerate() {
        if j > 0 {
            sql.push(" OR ");
        }
        sql.push("(m.target_type = ").bind(resource_type.as_str());
        sql.push(" AND m.target_id = ").bind(id.as_str()).push(")");
    }
    sql.push("))");
    if !rule.every_message_of.is_empty() {
        sql.push(" OR EXISTS (SELECT 1 FROM search_token a WHERE a.resource_pk = ").push(row).push(".pk");
        sql.push(" AND a.param = ").bind(MessageAudience::SEARCH_PARAM);
        sql.push(" AND a.system = ").bind(MessageAudience::SYSTEM).push(" AND a.code IN (");
        for (j, audience) in rule.every_message_of.iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            sql.bind(audience.code());
        }
        sql.push("))");
    }
}

/// The records with a token matching one of `refinements` (SMART v2
/// scope refinements: `category` or `code`, with or without a system).
fn push_refinements(sql: &mut Sql, refinements: &[Refinement], row: &str) {
    if refinements.is_empty() {
        sql.push("1 = 0");
        return;
    }
    sql.push("EXISTS (SELECT 1 FROM search_token f WHERE f.resource_pk = ").push(row).push(".pk AND (");
    for (i, refinement) in refinements.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(f.param = ").bind(refinement.param).push(" AND f.code = ").bind(refinement.code.as_str());
        if let Some(system) = &refinement.system {
            sql.push(" AND f.system = ").bind(system.as_str());
        }
        sql.push(")");
    }
    sql.push("))");
}

fn push_categories(sql: &mut Sql, categories: impl Iterator<Item = DataCategory>) {
    for (j, category) in categories.enumerate() {
        if j > 0 {
            sql.push(", ");
        }
        sql.bind(category.code());
    }
}
