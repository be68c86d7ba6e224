//! Vendor deliveries into FHIR, declared in mapping files.
//!
//! A vendor's mapping (`mappings/<vendor>/mapping.toml` and its templates)
//! holds everything vendor-specific; this module holds only what is
//! generic:
//!
//! - [`expr`]: the `{{ path | filter }}` expressions of mapping files;
//! - [`filter`]: the filters, over the value transforms of [`value`]
//!   (Dutch dates and times, decimal comma, money, J/N, periods, BSN);
//! - [`scope`]: where the names of expressions are looked up;
//! - [`template`]: resource templates, FHIR JSON with expressions;
//! - [`spec`]: loading and checking a mapping;
//! - [`engine`]: a record in, its resources (or its rejection) out;
//! - [`shipped`]: the vendor mappings embedded in the binary;
//! - [`read`]: a delivery file read in two passes (framing and envelope
//!   first, then the records one top-level item at a time).
//!
//! Nothing here does I/O beyond reading the mapping files and, in
//! [`read`], the delivery file it is given.

pub mod engine;
pub mod expr;
pub mod filter;
pub mod read;
pub mod scope;
pub mod shipped;
pub mod spec;
pub mod template;
pub mod value;
