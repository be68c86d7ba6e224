//! Demo and benchmark data: made-up clients of a care organisation, with
//! their representatives, a mentor's access grant, care team, Wlz coverage
//! and episode of care, measurements, reports (with their provenance),
//! messages, agenda, plan, documents, invoices and questionnaires. Written
//! by the repository itself (nothing is read from outside), reproducible
//! from a seed. The demo deliveries hold the demo's people ([`people()`]):
//! a mentor of two clients with full access, a naaste and a bewindvoerder.

mod caress_delivery;
pub mod deliveries;
mod generate;
mod mep_delivery;
mod people;
mod pluriform_delivery;

pub use caress_delivery::write_caress_delivery;
pub use generate::{DemoSize, Generator, OTHER_RESOURCES_PER_CLIENT, SHARED_RESOURCES};
pub use mep_delivery::write_mep_delivery;
pub use people::{DemoPeople, people, pluriform_identifier_system, write_demo_delivery};
pub use pluriform_delivery::write_pluriform_delivery;

use crate::fhir::TenantCode;
use crate::store::{self, Store, WriteOp};

/// Writes the demo data for `size.clients` clients: one transaction for the
/// organisation's own resources and one per client. Returns how many
/// resources were written.
pub async fn load(store: &dyn Store, tenant: &TenantCode, size: &DemoSize) -> store::Result<usize> {
    let mut generator = Generator::new(size.clone(), 20_240_501);
    let mut written = 0;
    let shared = generator.organisation();
    written += write_all(store, tenant, shared).await?;
    for index in 0..size.clients {
        written += write_all(store, tenant, generator.client(index)).await?;
    }
    Ok(written)
}

async fn write_all(
    store: &dyn Store,
    tenant: &TenantCode,
    resources: Vec<generate::Generated>,
) -> store::Result<usize> {
    let count = resources.len();
    let ops = resources
        .into_iter()
        .map(|g| store::prepare(g.resource_type, g.id, g.resource).map(WriteOp::Create).map_err(store::Error::from))
        .collect::<store::Result<Vec<_>>>()?;
    store.write(tenant, ops, chrono::Utc::now()).await?;
    Ok(count)
}
