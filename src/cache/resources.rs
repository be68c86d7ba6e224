//! Current versions of resources kept in memory between requests, never
//! past a change.
//!
//! Each tenant's part of the cache knows up to which change number it has
//! been brought in line with the database (`synced_to`). A request brings
//! in the tenant's last change number, read after it arrived; when that is
//! newer, the cache first asks the store which resources changed since and
//! drops them (or, when too many changed, starts the tenant over), then
//! answers. A version read from the store comes with the tenant's change
//! number it is current as of (one statement); it is kept only when that
//! is not older than `synced_to`, because a change between the two might
//! already have been dropped and would otherwise come back. (A tenant that
//! started over moved `synced_to` past its flood of changes, so the same
//! rule covers it.)
//!
//! Writes through this process move the same numbers as writes anywhere
//! else, so nothing here depends on who changed what.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::fhir::{ChangeNumber, ResourceId, ResourceType, TenantCode};
use crate::store::{Result, Store, StoredResource};

/// Bytes of content kept at most, all tenants together.
pub const DEFAULT_CAPACITY_BYTES: u64 = 96 * 1024 * 1024;
/// Larger versions (documents in a Binary) are read from the store each time.
const MAX_KEPT_CONTENT: usize = 64 * 1024;
/// More changes than this since the last look: the tenant starts over.
const MAX_LISTED_CHANGES: u32 = 1_000;
/// Bytes counted per entry besides its content (key, version, map slot).
const ENTRY_OVERHEAD: u64 = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant: TenantCode,
    /// Bumped when the tenant starts over: older entries are never found
    /// again and age out.
    generation: u64,
    resource_type: ResourceType,
    id: ResourceId,
}

#[derive(Debug, Clone)]
struct ContentWeight;

impl Weighter<Key, Arc<StoredResource>> for ContentWeight {
    fn weight(&self, _key: &Key, value: &Arc<StoredResource>) -> u64 {
        ENTRY_OVERHEAD + value.content.as_ref().map_or(0, |c| c.len() as u64)
    }
}

/// How far a tenant's entries are in line with the database.
#[derive(Debug, Clone, Copy)]
struct TenantSync {
    synced_to: ChangeNumber,
    generation: u64,
}

/// The resource cache: reads by type and id.
pub struct ResourceCache {
    store: Arc<dyn Store>,
    entries: Cache<Key, Arc<StoredResource>, ContentWeight>,
    tenants: Mutex<HashMap<TenantCode, TenantSync>>,
    /// One look at the changes at a time: the others wait and use it.
    syncing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ResourceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceCache").field("entries", &self.entries.len()).finish_non_exhaustive()
    }
}

impl ResourceCache {
    pub fn new(store: Arc<dyn Store>, capacity_bytes: u64) -> Self {
        let estimated_items = usize::try_from(capacity_bytes / 2_000).unwrap_or(usize::MAX).max(16);
        ResourceCache {
            store,
            entries: Cache::with_weighter(estimated_items, capacity_bytes, ContentWeight),
            tenants: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(()),
        }
    }

    /// The current version (a tombstone if deleted) as of `seen` or later:
    /// `seen` is the tenant's last change number read after the request
    /// arrived.
    pub async fn read(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
        seen: ChangeNumber,
    ) -> Result<StoredResource> {
        let generation = self.bring_in_line(tenant, seen).await?;
        let key = Key { tenant: tenant.clone(), generation, resource_type, id: id.clone() };
        if let Some(kept) = self.entries.get(&key) {
            return Ok(StoredResource::clone(&kept));
        }
        let (stored, as_of) = self.store.read_as_of(tenant, resource_type, id).await?;
        self.offer(tenant, &stored, as_of);
        Ok(stored)
    }

    /// Offers a version read as current as of `as_of` (see
    /// [`crate::store::ResourceStore::read_as_of`]). It is kept unless a
    /// change after `as_of` may already have been dropped from the cache:
    /// keeping it then could bring back what that change replaced.
    pub fn offer(&self, tenant: &TenantCode, stored: &StoredResource, as_of: ChangeNumber) {
        if stored.content.as_ref().is_some_and(|c| c.len() > MAX_KEPT_CONTENT) {
            return;
        }
        let tenants = self.tenants.lock().expect("resource cache tenants");
        if let Some(sync) = tenants.get(tenant)
            && sync.synced_to <= as_of
        {
            let key = Key {
                tenant: tenant.clone(),
                generation: sync.generation,
                resource_type: stored.resource_type,
                id: stored.id.clone(),
            };
            self.entries.insert(key, Arc::new(stored.clone()));
        }
    }

    /// Drops what changed up to `seen` (or later); returns the tenant's
    /// generation, in line with `seen`.
    pub async fn bring_in_line(&self, tenant: &TenantCode, seen: ChangeNumber) -> Result<u64> {
        if let Some(generation) = self.synced(tenant, seen) {
            return Ok(generation);
        }
        let _one_at_a_time = self.syncing.lock().await;
        if let Some(generation) = self.synced(tenant, seen) {
            return Ok(generation);
        }
        let known = self.tenants.lock().expect("resource cache tenants").get(tenant).copied();
        let Some(known) = known else {
            // Nothing kept for this tenant yet: start in line with `seen`.
            let mut tenants = self.tenants.lock().expect("resource cache tenants");
            tenants.insert(tenant.clone(), TenantSync { synced_to: seen, generation: 0 });
            return Ok(0);
        };
        let changed = self.store.changed_since(tenant, known.synced_to, MAX_LISTED_CHANGES).await?;
        let mut tenants = self.tenants.lock().expect("resource cache tenants");
        let sync = tenants.entry(tenant.clone()).or_insert(known);
        match changed.resources {
            Some(resources) => {
                for (resource_type, id) in resources {
                    self.entries.remove(&Key {
                        tenant: tenant.clone(),
                        generation: sync.generation,
                        resource_type,
                        id,
                    });
                }
            }
            None => sync.generation += 1,
        }
        sync.synced_to = sync.synced_to.max(changed.up_to);
        Ok(sync.generation)
    }

    fn synced(&self, tenant: &TenantCode, seen: ChangeNumber) -> Option<u64> {
        let tenants = self.tenants.lock().expect("resource cache tenants");
        tenants.get(tenant).filter(|sync| sync.synced_to >= seen).map(|sync| sync.generation)
    }
}
