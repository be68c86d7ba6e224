//! Which records a query may return. An access decision carries one; the
//! store applies it inside its queries, so that totals and paging count
//! only what is visible.

use crate::fhir::{DataCategory, ResourceId};

/// Which records a query may return: applied inside the query, so that
/// totals and paging count only what is visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Care-side readers (system tokens): every record of the tenant.
    Everything,
    /// Only records in one of these slices.
    Only(Vec<VisibleSlice>),
}

/// Records of one client (or, with `client: None`, records that belong to
/// no client) in the given categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleSlice {
    pub client: Option<ResourceId>,
    pub categories: Vec<DataCategory>,
}

impl Visibility {
    /// Whether a record of `client` in `category` is visible: the same rule
    /// the store applies inside queries, for single reads.
    pub fn admits(&self, client: Option<&ResourceId>, category: DataCategory) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::Only(slices) => {
                slices.iter().any(|s| s.client.as_ref() == client && s.categories.contains(&category))
            }
        }
    }
}
