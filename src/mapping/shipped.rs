//! The vendor mappings the binary ships: the folders of `mappings/`,
//! embedded when it is built, so that it maps deliveries from any working
//! directory. An operator's folder of the same vendor replaces one of them
//! (`ingest::vendor`); `zorgpoort mappings export` writes them out as a
//! starting point.

use std::path::Path;

use include_dir::{Dir, include_dir};

use super::spec::{Mapping, SpecError};

static SHIPPED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/mappings");

/// How the files of a shipped mapping are named in errors.
const SHOWN_AS: &str = "(shipped) ";

/// The vendors with a shipped mapping, by name.
pub fn vendors() -> Vec<&'static str> {
    let mut vendors: Vec<&str> = SHIPPED
        .dirs()
        .filter(|dir| dir.get_file(dir.path().join("mapping.toml")).is_some())
        .filter_map(|dir| dir.path().to_str())
        .collect();
    vendors.sort_unstable();
    vendors
}

/// The shipped mapping of `vendor`, checked as a folder's would be; `None`
/// when none is shipped.
pub fn load(vendor: &str) -> Option<Result<Mapping, SpecError>> {
    let dir = SHIPPED.get_dir(vendor)?;
    let file = dir.get_file(dir.path().join("mapping.toml"))?;
    let shown = format!("{SHOWN_AS}{}", file.path().display());
    let text = match file.contents_utf8() {
        Some(text) => text,
        None => return Some(Err(not_utf8(shown))),
    };
    let template = |name: &str| {
        let path = dir.path().join("templates").join(name);
        let shown = format!("{SHOWN_AS}{}", path.display());
        match dir.get_file(&path).map(|f| f.contents_utf8()) {
            Some(Some(text)) => Ok((shown, text.to_owned())),
            Some(None) => Err(not_utf8(shown)),
            None => Err(SpecError { file: shown, line: None, message: "no such template".into() }),
        }
    };
    Some(Mapping::parse(text, &shown, &template))
}

/// Every shipped file (the mappings and their README), by its path inside
/// `mappings/`.
pub fn files() -> Vec<(&'static Path, &'static [u8])> {
    let mut files = Vec::new();
    let mut dirs = vec![&SHIPPED];
    while let Some(dir) = dirs.pop() {
        files.extend(dir.files().map(|f| (f.path(), f.contents())));
        dirs.extend(dir.dirs());
    }
    files.sort_unstable_by_key(|(path, _)| *path);
    files
}

fn not_utf8(file: String) -> SpecError {
    SpecError { file, line: None, message: "is not UTF-8".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_folder_is_shipped_and_loads() {
        let folders: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("mapping.toml").is_file())
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let mut folders = folders;
        folders.sort();
        assert_eq!(vendors(), folders);
        for vendor in vendors() {
            let mapping = load(vendor).unwrap().unwrap_or_else(|e| panic!("{vendor}: {e}"));
            assert_eq!(mapping.vendor, vendor);
        }
        assert!(load("no-such-vendor").is_none());
    }

    #[test]
    fn the_shipped_files_are_the_folder_s_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
        let files = files();
        assert!(files.iter().any(|(p, _)| p.ends_with("pluriform/templates/vertegenwoordiger-toegang.json")));
        for (path, contents) in files {
            assert_eq!(std::fs::read(root.join(path)).unwrap(), contents, "{}", path.display());
        }
    }
}
