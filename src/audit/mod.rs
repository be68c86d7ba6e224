//! The access log (NEN 7513): one record per access attempt, allowed or
//! denied (`record.rs`), served as FHIR `AuditEvent` (`event.rs`). Pure;
//! the store keeps the records and the interactions write them.

pub mod event;
pub mod record;

pub use event::{Reader, audit_event};
pub use record::{AccessKind, AccessRecord, AccessResult, Action, Requester, Touched, loggable_query};
