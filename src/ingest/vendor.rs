//! Finding a vendor's mapping: the operator's folder
//! (`<mappings_dir>/<vendor>/mapping.toml`) when there is one, else the
//! mapping the binary ships ([`crate::mapping::shipped`]).

use std::path::Path;

use crate::mapping::shipped;
use crate::mapping::spec::{Mapping, SpecError};

/// Why there is no usable mapping for a vendor.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("'{0}' is not a vendor name (letters, digits, '-' and '_')")]
    NotAName(String),
    #[error("no mapping for vendor '{vendor}': the binary ships {shipped}{folder}")]
    Unknown { vendor: String, shipped: String, folder: String },
    #[error(transparent)]
    Invalid(#[from] SpecError),
}

/// Loads the mapping of `vendor`: from `overrides/<vendor>/` when the
/// operator keeps one there, else the shipped one. The name is checked
/// first, so that it can never step out of the folder.
pub fn load_mapping(overrides: Option<&Path>, vendor: &str) -> Result<Mapping, VendorError> {
    if !is_vendor_name(vendor) {
        return Err(VendorError::NotAName(vendor.to_owned()));
    }
    if let Some(dir) = overrides.map(|d| d.join(vendor)).filter(|d| d.is_dir()) {
        return Ok(Mapping::load(&dir)?);
    }
    match shipped::load(vendor) {
        Some(mapping) => Ok(mapping?),
        None => Err(VendorError::Unknown {
            vendor: vendor.to_owned(),
            shipped: shipped::vendors().join(", "),
            folder: overrides.map(|d| format!(" and {} has no folder of it", d.display())).unwrap_or_default(),
        }),
    }
}

fn is_vendor_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
        for name in ["", "..", "../mappings/pluriform", "pluriform/", "a b", "plur%69form"] {
            assert!(matches!(load_mapping(Some(&dir), name), Err(VendorError::NotAName(_))), "{name:?}");
        }
    }

    #[test]
    fn the_shipped_mapping_unless_the_operator_keeps_one() {
        assert_eq!(load_mapping(None, "pluriform").unwrap().vendor, "pluriform");
        assert!(matches!(load_mapping(None, "no-such-vendor"), Err(VendorError::Unknown { .. })));

        // A folder of the operator's replaces the shipped mapping of its
        // vendor, and brings in a vendor of its own.
        let folder = tempfile::tempdir().unwrap();
        let overrides = folder.path();
        for vendor in ["pluriform", "acme"] {
            let dir = overrides.join(vendor);
            std::fs::create_dir_all(dir.join("templates")).unwrap();
            std::fs::write(dir.join("mapping.toml"), format!("vendor = \"{vendor}\"\nbroken = [")).unwrap();
        }
        for vendor in ["pluriform", "acme"] {
            let error = load_mapping(Some(overrides), vendor).unwrap_err().to_string();
            assert!(error.contains(&overrides.join(vendor).display().to_string()), "{error}");
        }
        // Other vendors still come from the binary.
        assert_eq!(load_mapping(Some(overrides), "caress").unwrap().vendor, "caress");
        let unknown = load_mapping(Some(overrides), "nobody").unwrap_err().to_string();
        assert!(unknown.contains("caress, mijneigenplan, pluriform"), "{unknown}");
    }
}
