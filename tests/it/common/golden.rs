//! Golden files: expected output kept in `tests/golden/`. A test compares
//! what it made with the file and fails on any difference; it never
//! updates the file by itself. After a deliberate change, write the new
//! files with `ZORGPOORT_BLESS=1 cargo test`, read the diff, and commit it.

use std::path::PathBuf;

use serde_json::Value;

/// Compares `actual` with `tests/golden/<name>`.
pub fn check(name: &str, actual: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("ZORGPOORT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; write it with ZORGPOORT_BLESS=1 cargo test, then review and commit it", path.display())
    });
    if expected != text {
        let first_difference = expected
            .lines()
            .zip(text.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(text.lines().count()));
        panic!(
            "{} differs from what the test made, from line {}:\n  golden: {}\n  made:   {}\n\
             If the change is intended: ZORGPOORT_BLESS=1 cargo test, review the diff, commit it.",
            path.display(),
            first_difference + 1,
            expected.lines().nth(first_difference).unwrap_or("(end)"),
            text.lines().nth(first_difference).unwrap_or("(end)"),
        );
    }
}
