//! Vendor deliveries into the store.
//!
//! - [`order`]: the order rule (pure);
//! - [`amend`]: records that amend another record's resources (pure);
//! - [`source_ref`]: references between source records (pure);
//! - [`provenance`]: the Provenance of every written resource (pure);
//! - [`summary`]: what an ingest did;
//! - [`source`]: a delivery file, checked whole, record by record;
//! - [`delivery`]: ingesting a delivery file into the store;
//! - [`replay`]: trying rejected records again;
//! - [`vendor`]: finding a vendor's mapping.
//!
//! The store ([`crate::store::SourceStore`]) applies the pure rules inside
//! its write transaction.

pub mod amend;
pub mod delivery;
pub mod order;
pub mod provenance;
pub mod replay;
pub mod source;
pub mod source_ref;
pub mod summary;
pub mod vendor;

pub use delivery::{IngestError, Progress, Quiet, ingest_delivery, ingest_file};
pub use summary::Summary;
