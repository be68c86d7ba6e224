//! The FHIR interactions below HTTP: read, vread, history, search with its
//! includes, and the checks and writes of create, update and delete. Each
//! asks `access` for a decision before it touches a record, lets through
//! only what the decision admits, in the form it may be seen, and chooses
//! between the caches and the store. `http::interaction` translates
//! requests and answers around them; this is the one place every access
//! to a client's data passes, for the access log to record.

mod decision;
pub mod include;
mod read;
mod search;
mod write;

pub use decision::{check_relocation, permit, served, visible};
pub use include::Included;
pub use read::{HISTORY_LIMIT, history_instance, read, vread};
pub use search::{Searched, search};
pub use write::{check_existing, create, delete, update};

use crate::access::DenyReason;
use crate::cache::resources::ResourceCache;
use crate::cache::searches::SearchCache;
use crate::store::{self, Store};

/// What the interactions read and write through: the store, and the
/// caches in front of it.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub store: &'a dyn Store,
    pub resources: &'a ResourceCache,
    pub searches: &'a SearchCache,
}

impl std::fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").finish_non_exhaustive()
    }
}

/// Why an interaction did not go ahead. HTTP gives each its status
/// (`http::error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The access decision said no (403).
    #[error("Not allowed: {0}")]
    Denied(DenyReason),
    /// The request asks what the decision hides, such as a search on what
    /// the identity view leaves out (403).
    #[error("Not allowed: {0}")]
    Refused(String),
    /// Not known, or not visible to the requester (404).
    #[error("{0}")]
    NotFound(String),
    /// Deleted, or a search snapshot that is gone (410).
    #[error("{0}")]
    Gone(String),
    /// An update of an id the server never assigned (405).
    #[error("{0}")]
    NotAssigned(String),
    /// A write that would move a record to another client (409).
    #[error("{0}")]
    Conflict(String),
    /// A request that does not make sense (400).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Prepare(#[from] store::PrepareError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
