//! The rules of vendor source records, pure: what the source writer of the
//! store applies inside its transaction and what ingest prepares before it.
//!
//! - [`order`]: the order rule (a later change time wins; equal times by
//!   the delivery);
//! - [`reference`]: references between source records, and their
//!   replacement by FHIR references;
//! - [`provenance`]: the Provenance of every written resource;
//! - [`amend`]: records that amend another record's resources.
//!
//! No I/O: the store ([`crate::store::SourceStore`]) and ingest
//! ([`crate::ingest`]) call these.

pub mod amend;
pub mod order;
pub mod provenance;
pub mod reference;
