//! The demo's deliveries, kept in the repository (`src/demo/deliveries/`)
//! in the vendor's own format and loaded through the real ingest: a full
//! Pluriform delivery of five made-up clients (`zorgpoort
//! generate-delivery --tenant demo --clients 5 --seed 1`) and an
//! incremental one after it (an update, an older update that is ignored,
//! a new report, a tombstone, a report taken off the portal, a container).

use std::path::Path;
use std::sync::Arc;

use crate::fhir::TenantCode;
use crate::ingest::{self, IngestError, Quiet, Summary};
use crate::mapping::engine::Refusal;
use crate::mapping::spec::Mapping;
use crate::store::Store;

/// The demo deliveries of Pluriform, in the order they are ingested.
pub const PLURIFORM: [(&str, &str); 2] = [
    ("pluriform-demo-1.json", include_str!("deliveries/pluriform-demo-1.json")),
    ("pluriform-demo-2.json", include_str!("deliveries/pluriform-demo-2.json")),
];

/// Ingests the demo deliveries for `tenant` (whose code they name), with
/// the Pluriform mapping in `mappings_dir`.
pub async fn load(
    store: &Arc<dyn Store>,
    mappings_dir: &Path,
    tenant: &TenantCode,
) -> Result<Vec<(&'static str, Summary)>, IngestError> {
    let folder = mappings_dir.join("pluriform");
    let mapping = Mapping::load(&folder)
        .map_err(|e| Refusal(format!("the Pluriform mapping in {} cannot be loaded: {e}", folder.display())))?;
    let mapping = Arc::new(mapping);
    let dir = tempfile_dir()?;
    let mut summaries = Vec::new();
    for (name, text) in PLURIFORM {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Refusal(format!("writing {}: {e}", path.display())))?;
        let summary = ingest::ingest_file(store, &mapping, tenant, &path, &Quiet).await?;
        summaries.push((name, summary));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(summaries)
}

/// A folder of our own under the system's temporary folder.
fn tempfile_dir() -> Result<std::path::PathBuf, Refusal> {
    let dir = std::env::temp_dir().join(format!("zorgpoort-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| Refusal(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}
