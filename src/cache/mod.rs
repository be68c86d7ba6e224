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
pub mod resources;
pub mod searches;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fhir::TenantCode;
use crate::store::{DatabaseState, Error, ErrorKind, Result, Store};
use fresh::FreshRead;

/// The database state per tenant, read fresh for every request.
#[derive(Debug)]
pub struct Freshness {
    store: Arc<dyn Store>,
    readers: Mutex<HashMap<TenantCode, Arc<FreshRead<DatabaseState>>>>,
}

impl Freshness {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Freshness { store, readers: Mutex::new(HashMap::new()) }
    }

    /// The tenant's state as of a read that started after this call.
    pub async fn state(&self, tenant: &TenantCode) -> Result<DatabaseState> {
        let reader = {
            let mut readers = self.readers.lock().expect("freshness readers");
            let reader = readers.entry(tenant.clone()).or_insert_with(|| {
                let store = Arc::clone(&self.store);
                let tenant = tenant.clone();
                Arc::new(FreshRead::new(move || {
                    let store = Arc::clone(&store);
                    let tenant = tenant.clone();
                    async move { store.database_state(&tenant).await.map_err(|e| e.to_string()) }
                }))
            });
            Arc::clone(reader)
        };
        reader.get().await.map_err(|e| Error::new(ErrorKind::Unavailable, e))
    }
}
