//! Zorgpoort: a FHIR R4 gateway for Dutch long-term care.
//!
//! Dependencies point one way: `cli → http → {auth, access, store} → fhir`,
//! with `search` (query parsing) beside `fhir`. See ARCHITECTURE.md.

pub mod access;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod demo;
pub mod fhir;
pub mod http;
pub mod ingest;
pub mod interaction;
pub mod mapping;
pub mod search;
pub mod source;
pub mod store;

/// The allocator of every binary built on this library (the gateway, its
/// tests and benchmarks). A gateway allocates and frees many short-lived
/// values per request and per delivery record; with the system allocator
/// that alone took a quarter of an ingest's CPU time (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
