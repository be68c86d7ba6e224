//! Access tokens kept in memory between requests, never past a revocation.
//!
//! Revoking a token (here, from the CLI, or on another instance) bumps its
//! tenant's access epoch in the database in the same transaction. Every request
//! reads the epoch, with a read that started after it arrived (shared with
//! the requests around it, see [`super::Freshness`]); a token kept under an
//! older epoch is looked up again. So a revoked token is refused from the first
//! request after the revocation committed, wherever it was revoked.
//!
//! Entries are keyed by the token's SHA-256, never the token itself.
//! Unknown and revoked tokens are not kept: guessing fills nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fhir::TenantCode;
use crate::store::{Result, Store, TokenRecord};

/// At most this many tokens are kept; when full, the cache starts over.
const MAX_TOKENS: usize = 20_000;

/// Valid tokens by hash, with the epoch they were read under.
#[derive(Debug)]
pub struct TokenCache {
    store: Arc<dyn Store>,
    tokens: Mutex<HashMap<String, (TokenRecord, i64)>>,
}

impl TokenCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        TokenCache { store, tokens: Mutex::new(HashMap::new()) }
    }

    /// The stored token with this hash as it is at `epoch`, the access epoch
    /// of `tenant` (the tenant of the request) read after the request
    /// arrived (revoked, expired and other tenants' tokens included, for the
    /// caller to refuse).
    ///
    /// Only tokens of `tenant` are kept: an epoch says nothing about the
    /// revocations of another tenant, whose own epoch may come to have the
    /// same number.
    pub async fn find(&self, tenant: &TenantCode, token_hash: &str, epoch: i64) -> Result<Option<TokenRecord>> {
        if let Some((record, read_under)) = self.tokens.lock().expect("token cache").get(token_hash)
            && record.tenant == *tenant
            && *read_under == epoch
        {
            return Ok(Some(record.clone()));
        }
        // Read after the epoch: a revocation after this read bumps the epoch
        // past the one this entry is kept under.
        let record = self.store.find_token(token_hash).await?;
        if let Some(record) = record.as_ref().filter(|r| !r.revoked && r.tenant == *tenant) {
            let mut tokens = self.tokens.lock().expect("token cache");
            // Entries of this tenant read under an older epoch may be revoked.
            tokens.retain(|_, (kept, read_under)| kept.tenant != record.tenant || *read_under == epoch);
            if tokens.len() >= MAX_TOKENS {
                tokens.clear();
            }
            tokens.insert(token_hash.to_owned(), (record.clone(), epoch));
        }
        Ok(record)
    }
}
