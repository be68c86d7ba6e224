//! Search results kept in memory between requests, never past a change.
//!
//! A result is kept with the tenant's change number that the request which
//! computed it saw (read after it arrived, before the search ran): the
//! result holds every change up to that number. It answers a later request
//! of the same search and visibility only when that request saw the same
//! number or an older one, so any change committed before the later
//! request arrived is in it. One change anywhere in the tenant, in this
//! process or another, makes every kept result of the tenant too old.

use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::access::Visibility;
use crate::fhir::{ChangeNumber, TenantCode};
use crate::search::SearchRequest;
use crate::store::{Result, SNAPSHOT_LIFETIME_MILLIS, SearchPage, Store};

/// Bytes of results kept at most, all tenants together.
pub const DEFAULT_CAPACITY_BYTES: u64 = 24 * 1024 * 1024;
/// Bytes counted per result besides the content of its resources.
const ENTRY_OVERHEAD: u64 = 512;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant: TenantCode,
    /// What decides the result: type, criteria, order, page, visibility.
    search: String,
}

#[derive(Debug)]
struct Kept {
    as_of: ChangeNumber,
    kept_at: Instant,
    page: SearchPage,
}

#[derive(Debug, Clone)]
struct ResultWeight;

impl Weighter<Key, Arc<Kept>> for ResultWeight {
    fn weight(&self, key: &Key, kept: &Arc<Kept>) -> u64 {
        let content: usize = kept.page.resources.iter().map(|r| r.content.as_ref().map_or(0, String::len)).sum();
        ENTRY_OVERHEAD + key.search.len() as u64 + content as u64
    }
}

/// The search cache.
pub struct SearchCache {
    entries: Cache<Key, Arc<Kept>, ResultWeight>,
}

impl std::fmt::Debug for SearchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchCache").field("entries", &self.entries.len()).finish()
    }
}

impl SearchCache {
    pub fn new(capacity_bytes: u64) -> Self {
        let estimated_items = usize::try_from(capacity_bytes / 16_384).unwrap_or(usize::MAX).max(16);
        SearchCache { entries: Cache::with_weighter(estimated_items, capacity_bytes, ResultWeight) }
    }

    /// The page of a search as of `seen` or later (`seen`: the tenant's
    /// change number read after the request arrived).
    pub async fn search(
        &self,
        store: &dyn Store,
        tenant: &TenantCode,
        search: &SearchRequest,
        visibility: &Visibility,
        seen: ChangeNumber,
    ) -> Result<SearchPage> {
        let key = Key { tenant: tenant.clone(), search: describe(search, visibility) };
        if let Some(kept) = self.entries.get(&key)
            && kept.as_of >= seen
            && kept.kept_at.elapsed() < reuse_limit()
        {
            return Ok(kept.page.clone());
        }
        let page = store.search(tenant, search, visibility).await?;
        self.entries.insert(key, Arc::new(Kept { as_of: seen, kept_at: Instant::now(), page: page.clone() }));
        Ok(page)
    }
}

/// A kept result names its snapshot in next links: it is reused only while
/// the snapshot has at least half its lifetime left.
fn reuse_limit() -> Duration {
    Duration::from_millis(u64::try_from(SNAPSHOT_LIFETIME_MILLIS / 2).unwrap_or(0))
}

/// Everything about a search that decides its result.
fn describe(search: &SearchRequest, visibility: &Visibility) -> String {
    format!(
        "{}|{:?}|{:?}|{}|{}|{}|{:?}",
        search.resource_type,
        search.clauses,
        search.sort,
        search.count,
        search.offset,
        search.summary_count,
        visibility
    )
}
