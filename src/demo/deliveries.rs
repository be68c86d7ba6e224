//! The demo's deliveries, kept in the repository (`src/demo/deliveries/`)
//! in the vendor's own format and loaded through the real ingest: a full
//! Pluriform delivery of five made-up clients (`zorgpoort
//! generate-delivery --tenant demo --clients 5 --seed 1` with the demo's
//! people of [`super::people()`] in it: `write_demo_delivery` writes it, a
//! test holds the file to it), MijnEigenPlan
//! events of two of them (emotions, a step plan with two steps done, an
//! activity; an account's event before the account; an account not linked,
//! whose emotion stays held), and an incremental Pluriform delivery (an
//! update, an older update that is ignored, a new report, a tombstone, a
//! report taken off the portal, a container).

use std::path::Path;
use std::sync::Arc;

use crate::fhir::TenantCode;
use crate::ingest::vendor::load_mapping;
use crate::ingest::{self, IngestError, Quiet, Summary};
use crate::mapping::engine::Refusal;
use crate::mapping::spec::Mapping;
use crate::store::Store;

/// The demo deliveries, in the order they are ingested: (vendor, name, text).
pub const DELIVERIES: [(&str, &str, &str); 3] = [
    ("pluriform", "pluriform-demo-1.json", include_str!("deliveries/pluriform-demo-1.json")),
    ("mijneigenplan", "mep-demo-1.ndjson", include_str!("deliveries/mep-demo-1.ndjson")),
    ("pluriform", "pluriform-demo-2.json", include_str!("deliveries/pluriform-demo-2.json")),
];

/// Ingests the demo deliveries for `tenant` (whose code they name), with
/// the shipped mappings or the operator's (`mappings_dir`).
pub async fn load(
    store: &Arc<dyn Store>,
    mappings_dir: Option<&Path>,
    tenant: &TenantCode,
) -> Result<Vec<(&'static str, Summary)>, IngestError> {
    let mut mappings: Vec<(&str, Arc<Mapping>)> = Vec::new();
    for vendor in ["pluriform", "mijneigenplan"] {
        let mapping = load_mapping(mappings_dir, vendor)
            .map_err(|e| Refusal(format!("the {vendor} mapping cannot be loaded: {e}")))?;
        mappings.push((vendor, Arc::new(mapping)));
    }
    let dir = tempfile_dir()?;
    let mut summaries = Vec::new();
    for (vendor, name, text) in DELIVERIES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| Refusal(format!("writing {}: {e}", path.display())))?;
        let mapping = mappings
            .iter()
            .find(|(v, _)| *v == vendor)
            .map(|(_, m)| m)
            .ok_or_else(|| Refusal(format!("no {vendor} mapping for the demo")))?;
        let summary = ingest::ingest_file(store, mapping, tenant, &path, &Quiet).await?;
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
