//! Vendor deliveries into the store.
//!
//! - [`summary`]: what an ingest did;
//! - [`delivery_source`]: a delivery file, checked whole, record by record;
//! - [`delivery`]: ingesting a delivery file into the store;
//! - [`birth_dates`]: the clients' birth dates the law on parental
//!   authority needs;
//! - [`replay`]: trying rejected records again;
//! - [`vendor`]: finding a vendor's mapping.
//!
//! The pure rules of source records (the order rule, source references,
//! Provenance, amendments) are [`crate::source`]; the store
//! ([`crate::store::SourceStore`]) applies them inside its write transaction.

pub mod birth_dates;
pub mod delivery;
pub mod delivery_source;
pub mod replay;
pub mod summary;
pub mod vendor;

pub use delivery::{IngestError, Progress, Quiet, ingest_delivery, ingest_file};
pub use summary::Summary;
