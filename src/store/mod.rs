//! The versioned FHIR store: one interface ([`ResourceStore`],
//! [`TokenStore`]), two drivers (SQLite, PostgreSQL).
//!
//! The store persists what it is given and answers queries with the
//! restrictions it is given; it never decides access. Every write is a new
//! version in one transaction, with a per-tenant change number taken in
//! commit order, and with the search values, client and data category of
//! the version stored as indexed columns.

mod batch;
mod driver;
mod error;
mod logic;
pub mod postgres;
mod prepare;
mod reindex;
mod rejects;
mod related;
mod row;
mod source;
mod sql;
pub mod sqlite;
mod statement;
mod visible;
mod writer;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use error::{Error, ErrorKind, Result};
pub use prepare::{PrepareError, PreparedResource, ProfiledError, prepare, prepare_profiled};
pub use reindex::{IndexProgress, LoggedProgress};
pub use rejects::{NewReject, RejectStore, StoredReject};
pub use source::{Attached, Linking, SourceChange, SourceRecordWrite, SourceRecordWritten, SourceResult, SourceStore};

use crate::access::Visibility;
use crate::fhir::datetime::EpochMillis;
use crate::fhir::{ChangeNumber, DataCategory, ResourceId, ResourceType, TenantCode, VersionId};
use crate::search::SearchRequest;

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub resource_type: ResourceType,
    pub id: ResourceId,
    pub version: VersionId,
    pub last_updated: EpochMillis,
    pub change: ChangeNumber,
    /// The client (Patient compartment) this version belongs to.
    pub client: Option<ResourceId>,
    pub category: DataCategory,
    /// The JSON of the version; `None` for a deletion (tombstone).
    pub content: Option<String>,
}

impl StoredResource {
    pub fn is_deleted(&self) -> bool {
        self.content.is_none()
    }
}

/// A write in a transaction.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create a resource under a new server-assigned id.
    Create(PreparedResource),
    /// Update an existing resource (also one that was deleted), optionally
    /// only if its current version is `if_match`.
    Update {
        resource: PreparedResource,
        if_match: Option<VersionId>,
    },
    Delete {
        resource_type: ResourceType,
        id: ResourceId,
    },
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Created(StoredResource),
    Updated(StoredResource),
    /// The content was the same as the current version: no new version.
    Unchanged(StoredResource),
    Deleted(StoredResource),
    /// Already deleted: nothing written.
    AlreadyDeleted {
        resource_type: ResourceType,
        id: ResourceId,
    },
}

impl WriteOutcome {
    /// The change number of the version written or found current.
    pub fn change(&self) -> Option<ChangeNumber> {
        match self {
            WriteOutcome::Created(s)
            | WriteOutcome::Updated(s)
            | WriteOutcome::Unchanged(s)
            | WriteOutcome::Deleted(s) => Some(s.change),
            WriteOutcome::AlreadyDeleted { .. } => None,
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// Matches in all pages (visible ones only), as of the first page.
    pub total: u64,
    pub resources: Vec<StoredResource>,
    /// The snapshot that holds every page, when there is more than one.
    pub snapshot: Option<String>,
}

/// How long a search snapshot can be paged through.
pub const SNAPSHOT_LIFETIME_MILLIS: i64 = 60 * 60 * 1000;

/// One page of a resource's history, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub total: u64,
    pub versions: Vec<StoredResource>,
}

/// FHIR resources, versioned.
#[async_trait]
pub trait ResourceStore: Send + Sync + std::fmt::Debug {
    /// The current version, a tombstone if deleted; `NotFound` if never written.
    async fn read(&self, tenant: &TenantCode, resource_type: ResourceType, id: &ResourceId) -> Result<StoredResource>;

    /// One version; `NotFound` if it does not exist.
    async fn vread(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
        version: VersionId,
    ) -> Result<StoredResource>;

    /// Versions of one resource, newest first.
    async fn history(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
        count: u32,
        offset: u64,
    ) -> Result<HistoryPage>;

    /// Current, not deleted resources matching the search, restricted by
    /// `visibility`. When there are more pages than this one, the whole
    /// ordered result is kept as a snapshot, paged with [`Self::snapshot_page`].
    async fn search(&self, tenant: &TenantCode, search: &SearchRequest, visibility: &Visibility) -> Result<SearchPage>;

    /// A page of a snapshot: the records of the snapshot at these positions,
    /// in their current version, without those deleted since, restricted by
    /// `visibility` again. `NotFound` when the snapshot is unknown, expired,
    /// or of another tenant or type.
    async fn snapshot_page(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        snapshot: &str,
        offset: u64,
        count: u32,
        visibility: &Visibility,
    ) -> Result<SearchPage>;

    /// The distinct `(type, id)` targets of reference parameter `param` in
    /// the current versions of these resources of `source_type`, in order.
    /// Targets of types not served here are left out.
    async fn reference_targets(
        &self,
        tenant: &TenantCode,
        source_type: ResourceType,
        ids: &[ResourceId],
        param: &str,
    ) -> Result<Vec<(ResourceType, ResourceId)>>;

    /// The current, not deleted resources of one type among `ids` that
    /// `visibility` admits, by id.
    async fn read_many(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        ids: &[ResourceId],
        visibility: &Visibility,
    ) -> Result<Vec<StoredResource>>;

    /// The current, not deleted resources of `source_type` whose reference
    /// parameter `param` points at one of `targets` and that `visibility`
    /// admits, by id, at most `limit`.
    async fn referencing(
        &self,
        tenant: &TenantCode,
        source_type: ResourceType,
        param: &str,
        targets: &[(ResourceType, ResourceId)],
        visibility: &Visibility,
        limit: u32,
    ) -> Result<Vec<StoredResource>>;

    /// Applies all writes in one transaction: all or nothing.
    async fn write(&self, tenant: &TenantCode, ops: Vec<WriteOp>, at: DateTime<Utc>) -> Result<Vec<WriteOutcome>>;

    /// The last change number of the tenant (0 when nothing was written).
    async fn last_change(&self, tenant: &TenantCode) -> Result<ChangeNumber>;

    /// The current version (a tombstone if deleted) with the tenant's last
    /// change number, read in one statement: the version is current as of
    /// that change.
    async fn read_as_of(
        &self,
        tenant: &TenantCode,
        resource_type: ResourceType,
        id: &ResourceId,
    ) -> Result<(StoredResource, ChangeNumber)>;

    /// The resources changed after `after`: at least every change up to
    /// the change number returned with them (later ones may be listed
    /// too); `None` when more than `limit`.
    async fn changed_since(&self, tenant: &TenantCode, after: ChangeNumber, limit: u32) -> Result<ChangedSince>;
}

/// What [`ResourceStore::changed_since`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSince {
    /// The changed resources, or `None` when there were too many to list.
    pub resources: Option<Vec<(ResourceType, ResourceId)>>,
    /// The changes listed are those up to and including this one.
    pub up_to: ChangeNumber,
}

/// What a request checks its caches against: read after it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseState {
    /// Grows with every token revocation in the tenant.
    pub access_epoch: i64,
    /// The tenant's last change number.
    pub last_change: ChangeNumber,
}

/// An access token as stored: only a hash of the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub tenant: TenantCode,
    /// Who the token acts for: `system:<name>` for system tokens, the
    /// user (`Patient/ID`, `RelatedPerson/ID`) for person tokens.
    pub subject: String,
    /// The client in context of a person token (`patient/` scopes).
    pub patient: Option<String>,
    /// The app (OAuth client id), when issued to one.
    pub client_id: Option<String>,
    /// Granted scopes, space separated.
    pub scope: String,
    pub issued_at: EpochMillis,
    pub expires_at: EpochMillis,
    pub revoked: bool,
}

/// Access tokens.
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    async fn insert_token(&self, token: &TokenRecord) -> Result<()>;
    /// The token with this hash, if any (expired and revoked ones too).
    async fn find_token(&self, token_hash: &str) -> Result<Option<TokenRecord>>;
    /// Revokes the token and bumps its tenant's access epoch, in one
    /// transaction.
    async fn revoke_token(&self, token_hash: &str) -> Result<()>;
    /// The access epoch and the tenant's last change number, in one read.
    async fn database_state(&self, tenant: &TenantCode) -> Result<DatabaseState>;
    /// Bytes that change with every commit to the database, by any process,
    /// read without a query; `None` where the database offers no such thing
    /// (PostgreSQL) or cannot tell right now. Equal markers read at two
    /// moments mean nothing was committed in between.
    fn commit_marker(&self) -> Option<CommitMarker> {
        None
    }
}

/// See [`TokenStore::commit_marker`]: on SQLite, both copies of the WAL
/// index header.
pub type CommitMarker = [u8; 96];

/// Everything the gateway stores.
pub trait Store: ResourceStore + TokenStore + SourceStore + RejectStore {}

impl<T: ResourceStore + TokenStore + SourceStore + RejectStore> Store for T {}

/// Opens the store named by a database URL (`sqlite:...` or
/// `postgres://...`), applies pending migrations and brings the search
/// index up to date (a rebuild, reported in log lines, when its rows were
/// made by another extraction: see [`open_with`]).
pub async fn open(database_url: &str) -> Result<std::sync::Arc<dyn Store>> {
    open_with(database_url, &LoggedProgress::default()).await
}

/// [`open`], reporting a rebuild of the search index to `progress`. The
/// rebuild runs before the store is returned: a gateway never answers from
/// an index made by an older extraction (`reindex.rs`).
pub async fn open_with(database_url: &str, progress: &dyn IndexProgress) -> Result<std::sync::Arc<dyn Store>> {
    if database_url.starts_with("sqlite:") {
        sqlite::open(database_url, progress).await
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        postgres::open(database_url, progress).await
    } else {
        Err(Error::new(
            ErrorKind::Invalid,
            format!("unsupported database URL '{}': use sqlite:PATH or postgres://...", redact_url(database_url)),
        ))
    }
}

/// A database URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}
