//! Every supported search, with values taken from the data: each entry of
//! the search-parameter table with each of its kind's modifiers and
//! prefixes, run on two stores and compared.

use chrono::{DateTime, TimeZone as _};
use chrono_tz::Europe::Amsterdam;
use zorgpoort::access::{InternalWork, internal};
use zorgpoort::fhir::search_param::{SEARCH_PARAMS, SearchParamDef, SearchParamKind};
use zorgpoort::fhir::{ResourceType, TenantCode};
use zorgpoort::search::{self, Handling, SearchLimits};
use zorgpoort::store::Store;

use crate::common::TestDb;

/// Values of each parameter used per kind of search.
const VALUES: &str = "3";

/// One search: a tenant, a type and its parameters.
#[derive(Debug, Clone)]
pub struct Search {
    tenant: String,
    resource_type: ResourceType,
    params: Vec<(String, String)>,
}

impl std::fmt::Display for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let query: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{}: {}?{}", self.tenant, self.resource_type, query.join("&"))
    }
}

/// The searches of every tenant in `db`: per type all of it, by id and
/// sorted by id; per parameter its values as `db` indexes them (so the
/// values `:text` and `:exact` need come from a database that has them)
/// with every modifier and prefix of its kind, `:missing`, and a value
/// nothing has.
pub async fn every_supported_search(db: &TestDb) -> Vec<Search> {
    let mut searches = Vec::new();
    let tenants = db.texts("SELECT DISTINCT tenant FROM resource ORDER BY tenant").await;
    for tenant in &tenants {
        for resource_type in ResourceType::ALL {
            let mut add = |params: Vec<(&str, String)>| {
                let params = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                searches.push(Search { tenant: tenant.clone(), resource_type, params });
            };
            add(vec![]);
            add(vec![("_sort", "-_id".into())]);
            let ids = db
                .texts(&format!(
                    "SELECT id FROM resource WHERE tenant = '{tenant}' AND resource_type = '{resource_type}' \
                     AND NOT deleted ORDER BY id LIMIT {VALUES}"
                ))
                .await;
            for id in ids {
                add(vec![("_id", id)]);
            }
        }
        for def in SEARCH_PARAMS {
            for params in parameter_searches(db, tenant, def).await {
                searches.push(Search { tenant: tenant.clone(), resource_type: def.resource_type, params });
            }
        }
    }
    searches
}

async fn parameter_searches(db: &TestDb, tenant: &str, def: &SearchParamDef) -> Vec<Vec<(String, String)>> {
    let name = def.name;
    let of_param =
        format!("WHERE tenant = '{tenant}' AND resource_type = '{}' AND param = '{name}'", def.resource_type);
    let one = |modifier: &str, value: String| vec![(format!("{name}{modifier}"), value)];
    let mut out = vec![one(":missing", "true".into()), one(":missing", "false".into())];
    match def.kind {
        SearchParamKind::Token => {
            out.push(one("", "no-such-code".into()));
            let rows = db
                .rows(&format!(
                    "SELECT DISTINCT system, code FROM search_token {of_param} AND code <> '' \
                     ORDER BY system, code LIMIT {VALUES}"
                ))
                .await;
            for row in rows {
                let (system, code) = (escape(row[0].as_deref().unwrap()), escape(row[1].as_deref().unwrap()));
                out.push(one("", format!("{system}|{code}")));
                out.push(one("", code.clone()));
                out.push(one("", format!("{system}|")));
                out.push(one(":not", format!("{system}|{code}")));
                out.push(one("", format!("{code},no-such-code")));
            }
            let texts = db
                .texts(&format!(
                    "SELECT DISTINCT text FROM search_token {of_param} AND text IS NOT NULL ORDER BY text LIMIT {VALUES}"
                ))
                .await;
            for text in texts {
                out.push(one(":text", escape(&text)));
                out.push(one(":text", escape(&text.chars().take(3).collect::<String>())));
                out.push(one(":text", escape(&text.to_uppercase())));
            }
        }
        SearchParamKind::String => {
            out.push(one("", "no such name".into()));
            let values = db
                .texts(&format!("SELECT DISTINCT exact FROM search_string {of_param} ORDER BY exact LIMIT {VALUES}"))
                .await;
            for value in values {
                let chars: Vec<char> = value.chars().collect();
                let start: String = chars.iter().take(3).collect();
                let middle: String = chars.iter().skip(chars.len() / 2).take(3).collect();
                out.push(one("", escape(&value)));
                out.push(one("", escape(&start.to_lowercase())));
                out.push(one(":contains", escape(&middle)));
                out.push(one(":exact", escape(&value)));
                out.push(one(":exact", escape(&value.to_lowercase())));
                out.push(one(":exact", escape(&start)));
            }
        }
        SearchParamKind::Date => {
            out.push(vec![("_sort".into(), name.into())]);
            out.push(vec![("_sort".into(), format!("-{name}"))]);
            let rows = db
                .rows(&format!(
                    "SELECT DISTINCT CAST(low AS TEXT), CAST(high AS TEXT) FROM search_date {of_param} \
                     ORDER BY 1, 2 LIMIT {VALUES}"
                ))
                .await;
            for row in rows {
                let low: i64 = row[0].as_deref().unwrap().parse().unwrap();
                let high: i64 = row[1].as_deref().unwrap().parse().unwrap();
                let at = if low == i64::MIN { high - 1 } else { low };
                let day = local(at).format("%Y-%m-%d").to_string();
                for prefix in ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"] {
                    out.push(one("", format!("{prefix}{day}")));
                }
                out.push(one("", local(at).format("%Y").to_string()));
                out.push(one("", escape(&local(at).format("ge%Y-%m-%dT%H:%M:%S%:z").to_string())));
            }
        }
        SearchParamKind::Reference => {
            out.push(one("", "no-such-id".into()));
            let rows = db
                .rows(&format!(
                    "SELECT DISTINCT target_type, target_id FROM search_reference {of_param} \
                     ORDER BY target_type, target_id LIMIT {VALUES}"
                ))
                .await;
            for row in rows {
                let (target_type, id) = (row[0].clone().unwrap(), row[1].clone().unwrap());
                out.push(one("", format!("{target_type}/{id}")));
                out.push(one("", id.clone()));
                out.push(one(&format!(":{target_type}"), id));
            }
        }
    }
    out
}

fn local(millis: i64) -> DateTime<chrono_tz::Tz> {
    Amsterdam.timestamp_millis_opt(millis).unwrap()
}

/// A value as a search parameter writes it (R4 search §3.1.1.5.7).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '|' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a search answered: the total and the ids of every match, in order.
pub async fn answer(store: &dyn Store, search: &Search) -> Result<(u64, Vec<String>), String> {
    let mut params = search.params.clone();
    params.push(("_count".into(), "1000".into()));
    let limits = SearchLimits { default_count: 1000, max_count: 1000 };
    let request = search::parse(search.resource_type, &params, Handling::Strict, limits).map_err(|e| e.to_string())?;
    let tenant = TenantCode::parse(&search.tenant).unwrap();
    let page = store.search(&tenant, &request, &internal(InternalWork::Operator)).await.map_err(|e| e.to_string())?;
    assert!(page.total < 1000, "{search}: more than a page");
    Ok((page.total, page.resources.into_iter().map(|r| r.id.to_string()).collect()))
}

/// Runs every search on both stores; panics listing those that differ.
/// Returns how many searches found something, per modifier (`""` for
/// none), for the caller to see that the comparison was not empty.
pub async fn compare(
    searches: &[Search],
    upgraded: &dyn Store,
    fresh: &dyn Store,
) -> std::collections::BTreeMap<String, usize> {
    let mut differ = Vec::new();
    let mut found = std::collections::BTreeMap::new();
    for search in searches {
        let expected = answer(fresh, search).await;
        let got = answer(upgraded, search).await;
        if let Ok((total, _)) = &expected
            && *total > 0
        {
            let modifier = search.params.first().and_then(|(k, _)| k.split_once(':')).map_or("", |(_, m)| m);
            *found.entry(modifier.to_owned()).or_insert(0) += 1;
        }
        assert!(expected.is_ok(), "{search}: {expected:?}");
        if got != expected {
            differ.push(format!("{search}\n    fresh:    {expected:?}\n    upgraded: {got:?}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} searches answer otherwise on the upgraded database:\n{}",
        differ.len(),
        searches.len(),
        differ.iter().take(12).cloned().collect::<Vec<_>>().join("\n")
    );
    found
}
