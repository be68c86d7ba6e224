//! What an update does to where a record sits in the access model. A
//! system may correct a record's category (logged), but moving a record
//! to another client would silently hand it to other people: refused
//! (`clarifications.md`, issue 8). Pure.

use crate::fhir::classify::Classification;
use crate::fhir::{DataCategory, ResourceId};

/// How the new content places a record compared with its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relocation {
    /// Same client and category, or placed by another record (a Binary or
    /// Provenance follows the record it belongs to).
    None,
    /// Another category of the same client: allowed, and logged.
    Category { from: DataCategory, to: DataCategory },
    /// Another client (or none where there was one, or one where there was
    /// none): refused.
    Client { from: Option<ResourceId>, to: Option<ResourceId> },
}

/// Compares the current placement with the new content's.
pub fn relocation(
    current_client: Option<&ResourceId>,
    current_category: DataCategory,
    new: &Classification,
) -> Relocation {
    match new {
        Classification::SameAs(_) => Relocation::None,
        Classification::Own { client, category } => {
            if client.as_ref() != current_client {
                Relocation::Client { from: current_client.cloned(), to: client.clone() }
            } else if *category != current_category {
                Relocation::Category { from: current_category, to: *category }
            } else {
                Relocation::None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataCategory as C;

    fn id(text: &str) -> ResourceId {
        ResourceId::parse(text).unwrap()
    }

    #[test]
    fn a_move_to_another_client_is_told_apart_from_a_new_category() {
        let own = |client: Option<&str>, category| Classification::Own { client: client.map(id), category };
        let c1 = id("c1");
        assert_eq!(relocation(Some(&c1), C::Reports, &own(Some("c1"), C::Reports)), Relocation::None);
        assert_eq!(
            relocation(Some(&c1), C::Reports, &own(Some("c1"), C::Messages)),
            Relocation::Category { from: C::Reports, to: C::Messages }
        );
        assert_eq!(
            relocation(Some(&c1), C::Reports, &own(Some("c2"), C::Reports)),
            Relocation::Client { from: Some(id("c1")), to: Some(id("c2")) }
        );
        assert_eq!(
            relocation(Some(&c1), C::Reports, &own(None, C::Reports)),
            Relocation::Client { from: Some(id("c1")), to: None }
        );
        assert_eq!(
            relocation(None, C::Profile, &own(Some("c1"), C::Profile)),
            Relocation::Client { from: None, to: Some(id("c1")) }
        );
    }
}
