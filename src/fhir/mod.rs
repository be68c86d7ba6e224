//! FHIR R4 as the gateway understands it: value types, the data-category
//! classification, search-parameter definitions and index extraction,
//! OperationOutcome and the CapabilityStatement. No I/O.

pub mod bsn;
pub mod capability;
pub mod classify;
pub mod datetime;
pub mod index;
pub mod message_audience;
pub mod meta;
pub mod model;
pub mod outcome;
pub mod reference;
pub mod search_param;
pub mod types;
pub mod validate;

pub use message_audience::MessageAudience;
pub use types::{ChangeNumber, DataCategory, ResourceId, ResourceType, TenantCode, VersionId};
