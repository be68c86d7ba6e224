//! The ingest benchmark: made-up Pluriform deliveries of 1,000 and 10,000
//! clients (`demo::write_pluriform_delivery`) ingested end to end
//! (`ingest::ingest_file`: reader, mapping, the writer with the order rule,
//! identities, references and a Provenance per version) into a fresh
//! database. Each size runs in a child process (this binary again) that
//! reports its peak memory (`VmHWM`), so that the sizes can be compared.
//!
//! ```text
//! cargo bench --bench ingest                                   # SQLite, 1,000 and 10,000 clients
//! cargo bench --bench ingest -- --clients 200,2000 --db postgres
//! ```
//!
//! Targets: at least 5,000 resources a second into SQLite; peak memory for
//! 10,000 clients less than twice that for 1,000.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use support::{git_revision, machine, peak_memory_kib};
use zorgpoort::fhir::TenantCode;
use zorgpoort::ingest::{self, Quiet};
use zorgpoort::mapping::spec::Mapping;

#[path = "support/mod.rs"]
mod support;

const SEED: u64 = 20_250_101;
const CREATED: &str = "2026-11-20T10:15:00+01:00";
const TENANT: &str = "bench";
const RESOURCES_PER_SECOND: f64 = 5_000.0;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|at| args.get(at + 1));
    if let Some(path) = value("--ingest-file") {
        let url = value("--database").context("--ingest-file needs --database")?;
        return ingest_file(Path::new(path), url);
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("ingest: a benchmark; run it with `cargo bench --bench ingest` (see docs/benchmarks.md)");
        return Ok(());
    }
    let sizes: Vec<usize> = match value("--clients") {
        Some(list) => {
            list.split(',').map(|s| s.trim().parse().context("--clients: not a number")).collect::<Result<_>>()?
        }
        None => vec![1_000, 10_000],
    };
    let postgres = match value("--db").map(String::as_str) {
        None | Some("sqlite") => false,
        Some("postgres") => true,
        Some(other) => bail!("--db {other}: sqlite or postgres"),
    };
    let dir = tempfile::tempdir()?;
    println!("# Ingest benchmark: {}\n", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
    println!("A run of `benches/ingest.rs`; method and targets in [../benchmarks.md](../benchmarks.md#ingest).\n");
    println!("- revision: {}", git_revision());
    println!("- machine: {}", machine());
    println!("- database: {}", if postgres { "PostgreSQL" } else { "SQLite (a fresh file)" });
    println!("- data: `demo::write_pluriform_delivery`, seed {SEED}, ingested with `mappings/pluriform`\n");
    println!(
        "| clients | file | source records | rejected | resources written | of which Provenance | time | records/s | resources/s | peak memory |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut runs = Vec::new();
    for &clients in &sizes {
        let path = dir.path().join(format!("pluriform-{clients}.json"));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        zorgpoort::demo::write_pluriform_delivery(&mut out, TENANT, clients, SEED, CREATED)?;
        out.flush()?;
        drop(out);
        let bytes = std::fs::metadata(&path)?.len();
        let url = if postgres {
            fresh_postgres_schema(clients)?
        } else {
            format!("sqlite:{}", dir.path().join(format!("ingest-{clients}.db")).display())
        };
        let run = child(&path, &url)?;
        println!(
            "| {clients} | {:.1} MB | {} | {} | {} | {} | {:.1} s | {:.0} | {:.0} | {:.1} MiB |",
            bytes as f64 / 1e6,
            run.records,
            run.rejected,
            run.versions,
            run.provenance,
            run.seconds,
            run.records as f64 / run.seconds,
            run.versions as f64 / run.seconds,
            run.peak_kib as f64 / 1024.0
        );
        runs.push((clients, run));
    }
    println!();
    for (clients, run) in &runs {
        let rate = run.versions as f64 / run.seconds;
        let met = if rate >= RESOURCES_PER_SECOND { "met" } else { "NOT met" };
        println!("- {clients} clients: {rate:.0} resources/s (target {RESOURCES_PER_SECOND:.0}): {met}");
    }
    if let (Some((small, a)), Some((large, b))) = (runs.first(), runs.last())
        && large > small
    {
        let ratio = b.peak_kib as f64 / a.peak_kib as f64;
        let met = if ratio < 2.0 { "met" } else { "NOT met" };
        println!("- peak memory {large} clients / {small} clients: {ratio:.2} (target below 2): {met}");
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Run {
    records: u64,
    rejected: u64,
    versions: u64,
    provenance: u64,
    seconds: f64,
    peak_kib: u64,
}

/// Ingests `path` in a child process: this binary with `--ingest-file`.
fn child(path: &PathBuf, url: &str) -> Result<Run> {
    let output =
        Command::new(std::env::current_exe()?).arg("--ingest-file").arg(path).arg("--database").arg(url).output()?;
    if !output.status.success() {
        bail!("the child failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let mut run = Run::default();
    for pair in String::from_utf8(output.stdout)?.split_whitespace() {
        let (key, value) = pair.split_once('=').context("key=value")?;
        match key {
            "records" => run.records = value.parse()?,
            "rejected" => run.rejected = value.parse()?,
            "versions" => run.versions = value.parse()?,
            "provenance" => run.provenance = value.parse()?,
            "seconds" => run.seconds = value.parse()?,
            "peak_kib" => run.peak_kib = value.parse()?,
            _ => {}
        }
    }
    Ok(run)
}

/// The child: ingests one file into the database at `url` and prints what
/// it counted, its time and its peak memory as `key=value` pairs.
fn ingest_file(path: &Path, url: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = zorgpoort::store::open(url).await?;
        let mapping = Arc::new(Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/pluriform"))?);
        let tenant = TenantCode::parse(TENANT)?;
        let started = Instant::now();
        let summary = ingest::ingest_file(&store, &mapping, &tenant, path, &Quiet).await?;
        let seconds = started.elapsed().as_secs_f64();
        let provenance = provenance_count(&store, &tenant).await?;
        let peak_kib = peak_memory_kib()?;
        println!(
            "records={} rejected={} versions={} provenance={provenance} seconds={seconds:.3} peak_kib={peak_kib}",
            summary.records, summary.rejected, summary.versions
        );
        Ok(())
    })
}

/// How many Provenance resources the tenant has (each written once here).
async fn provenance_count(store: &Arc<dyn zorgpoort::store::Store>, tenant: &TenantCode) -> Result<u64> {
    let params = vec![("_summary".to_owned(), "count".to_owned())];
    let request = zorgpoort::search::parse(
        zorgpoort::fhir::ResourceType::Provenance,
        &params,
        zorgpoort::search::Handling::Lenient,
        zorgpoort::search::SearchLimits::default(),
    )?;
    let page =
        store.search(tenant, &request, &zorgpoort::access::internal(zorgpoort::access::InternalWork::Operator)).await?;
    Ok(page.total)
}

/// A new empty schema on the local PostgreSQL, as a database URL.
fn fresh_postgres_schema(clients: usize) -> Result<String> {
    let base = std::env::var("ZORGPOORT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("zp_bench_ingest_{clients}_{}", std::process::id());
    let status = Command::new("psql")
        .arg(&base)
        .arg("-qc")
        .arg(format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        .status()
        .context("psql")?;
    if !status.success() {
        bail!("cannot create schema {schema}");
    }
    Ok(format!("{base}?options=-c%20search_path%3D{schema}"))
}
