//! What the gateway keeps in memory between requests, and how it stays
//! true to the database.
//!
//! Every request first reads the [`DatabaseState`] of its tenant (the
//! access epoch and the tenant's last change number) with a read that
//! started after the request arrived, shared with the requests around it
//! ([`FreshRead`]). The caches answer only with what is still current as of
//! that state: a token kept under an older epoch is looked up again
//! ([`tokens`]), and resources changed since the cache last looked are
//! dropped before it answers ([`resources`]), and a search result is
//! reused only by requests that saw no newer change ([`searches`]).
//! Changes made by another
//! process or instance count the same: they move the same numbers.

pub mod fresh;
pub mod persons;
pub mod resources;
pub mod searches;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fhir::TenantCode;
use crate::store::{CommitMarker, DatabaseState, Error, ErrorKind, Result, Store};
use fresh::FreshRead;

/// The database state per tenant, read fresh for every request.
///
/// Where the store has a commit marker (SQLite: the WAL index header,
/// `store::sqlite::wal_index`), a state is kept with the marker read just
/// before the query that read it. A request whose marker is still that one
/// takes the kept state without a query: nothing was committed since
/// before that query started, so the state is as current as a new read
/// would be. Otherwise, and on PostgreSQL, it waits for a shared read.
#[derive(Debug)]
pub struct Freshness {
    store: Arc<dyn Store>,
    tenants: Mutex<HashMap<TenantCode, Arc<TenantFreshness>>>,
}

#[derive(Debug)]
struct TenantFreshness {
    read: FreshRead<(Option<CommitMarker>, DatabaseState)>,
    /// The last state read, with the marker read before its query.
    kept: Mutex<Option<(CommitMarker, DatabaseState)>>,
}

impl Freshness {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Freshness { store, tenants: Mutex::new(HashMap::new()) }
    }

    /// The tenant's state as of a moment after this call.
    pub async fn state(&self, tenant: &TenantCode) -> Result<DatabaseState> {
        let fresh = self.of(tenant);
        if let Some(now) = self.store.commit_marker()
            && let Some((marker, state)) = *fresh.kept.lock().expect("freshness kept state")
            && marker == now
        {
            return Ok(state);
        }
        let (marker, state) = fresh.read.get().await.map_err(|e| Error::new(ErrorKind::Unavailable, e))?;
        if let Some(marker) = marker {
            *fresh.kept.lock().expect("freshness kept state") = Some((marker, state));
        }
        Ok(state)
    }

    fn of(&self, tenant: &TenantCode) -> Arc<TenantFreshness> {
        let mut tenants = self.tenants.lock().expect("freshness tenants");
        let fresh = tenants.entry(tenant.clone()).or_insert_with(|| {
            let store = Arc::clone(&self.store);
            let tenant = tenant.clone();
            let read = FreshRead::new(move || {
                let store = Arc::clone(&store);
                let tenant = tenant.clone();
                async move {
                    // The marker first: the state read after it holds every
                    // commit the marker shows.
                    let marker = store.commit_marker();
                    let state = store.database_state(&tenant).await.map_err(|e| e.to_string())?;
                    Ok((marker, state))
                }
            });
            Arc::new(TenantFreshness { read, kept: Mutex::new(None) })
        });
        Arc::clone(fresh)
    }
}
