//! Finding a vendor's mapping: `<mappings dir>/<vendor>/mapping.toml`.

use std::path::Path;

use crate::mapping::spec::{Mapping, SpecError};

/// Why there is no usable mapping for a vendor.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("'{0}' is not a vendor name (letters, digits, '-' and '_')")]
    NotAName(String),
    #[error("no mapping for vendor '{vendor}' in {dir}")]
    Unknown { vendor: String, dir: String },
    #[error(transparent)]
    Invalid(#[from] SpecError),
}

/// Loads the mapping of `vendor` from `mappings_dir`. The name is checked
/// first, so that it can never step out of the folder.
pub fn load_mapping(mappings_dir: &Path, vendor: &str) -> Result<Mapping, VendorError> {
    if !is_vendor_name(vendor) {
        return Err(VendorError::NotAName(vendor.to_owned()));
    }
    let dir = mappings_dir.join(vendor);
    if !dir.is_dir() {
        return Err(VendorError::Unknown { vendor: vendor.to_owned(), dir: mappings_dir.display().to_string() });
    }
    Ok(Mapping::load(&dir)?)
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
            assert!(matches!(load_mapping(&dir, name), Err(VendorError::NotAName(_))), "{name:?}");
        }
        assert!(matches!(load_mapping(&dir, "no-such-vendor"), Err(VendorError::Unknown { .. })));
        assert_eq!(load_mapping(&dir, "pluriform").unwrap().vendor, "pluriform");
    }
}
