//! FHIR references between resources of this server.

use super::types::{ResourceId, ResourceType};

/// A literal reference to a resource, as `Type/id` (optionally absolute or
/// versioned in the source). The type may be one this server does not serve
/// (e.g. `Group`): such references are indexed but never resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalReference {
    pub type_name: String,
    pub id: String,
}

impl LocalReference {
    pub fn new(resource_type: ResourceType, id: &ResourceId) -> Self {
        LocalReference { type_name: resource_type.as_str().to_owned(), id: id.as_str().to_owned() }
    }

    /// The served type, when it is one.
    pub fn resource_type(&self) -> Option<ResourceType> {
        self.type_name.parse().ok()
    }

    /// Parses `Patient/123`, `Patient/123/_history/2` or
    /// `https://host/base/Patient/123`; contained (`#x`), logical-only and
    /// `urn:` references give `None`.
    pub fn parse(reference: &str) -> Option<Self> {
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return None;
        }
        let path = match reference.find('?') {
            Some(_) => return None,
            None => reference,
        };
        let mut parts: Vec<&str> = path.split('/').collect();
        if parts.len() >= 4 && parts[parts.len() - 2] == "_history" {
            parts.truncate(parts.len() - 2);
        }
        let [.., type_name, id] = parts.as_slice() else {
            return None;
        };
        let type_ok = type_name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && type_name.chars().all(|c| c.is_ascii_alphabetic());
        if !type_ok || ResourceId::parse(id).is_err() {
            return None;
        }
        Some(LocalReference { type_name: (*type_name).to_owned(), id: (*id).to_owned() })
    }
}

impl std::fmt::Display for LocalReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.type_name, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<(&str, &str)>) {
        let got = LocalReference::parse(input);
        let got = got.as_ref().map(|r| (r.type_name.as_str(), r.id.as_str()));
        assert_eq!(got, expected, "{input}");
    }

    #[test]
    fn parses_relative_absolute_and_versioned_references() {
        check("Patient/123", Some(("Patient", "123")));
        check("Patient/123/_history/4", Some(("Patient", "123")));
        check("https://example.org/t/fhir/Observation/a-1", Some(("Observation", "a-1")));
        check("Group/g1", Some(("Group", "g1")));
        check("#contained", None);
        check("urn:uuid:0b4a4d07-4b3e-4a5b-9a63-1d1d0a6c5a11", None);
        check("Patient?identifier=x", None);
        check("123", None);
        check("patient/123", None);
        check("Patient/a b", None);
    }
}
