//! The mapping benchmark: made-up Pluriform and Caress deliveries and
//! MijnEigenPlan event streams of 1,000 and 10,000 clients
//! (`demo::write_pluriform_delivery`, `demo::write_caress_delivery`,
//! `demo::write_mep_delivery`) through the delivery reader
//! (`Mapping::open_delivery`, then `DeliveryFile::for_each_record`) with
//! `mappings/pluriform`, `mappings/caress` and `mappings/mijneigenplan`. The mapping alone is timed (no store); each size
//! runs in a child process (this binary again) that reports its peak
//! memory (`VmHWM`), so that the sizes can be compared.
//!
//! ```text
//! cargo bench --bench mapping                      # 1,000 and 10,000 clients
//! cargo bench --bench mapping -- --clients 200,2000
//! cargo bench --bench mapping -- --vendors caress,mijneigenplan
//! ```
//!
//! Targets: at least 20,000 source records a second; peak memory for
//! 10,000 clients less than twice that for 1,000.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use support::{git_revision, machine, peak_memory_kib};
use zorgpoort::mapping::engine::{Action, RecordOutcome};
use zorgpoort::mapping::spec::Mapping;

#[path = "support/mod.rs"]
mod support;

const SEED: u64 = 20_250_101;
const CREATED: &str = "2026-11-20T10:15:00+01:00";
const RECORDS_PER_SECOND: f64 = 20_000.0;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--map-file") {
        let path = args.get(at + 1).context("--map-file needs a path")?;
        let vendor = match args.iter().position(|a| a == "--vendor") {
            Some(at) => args.get(at + 1).context("--vendor needs a name")?.as_str(),
            None => "pluriform",
        };
        return map_file(Path::new(path), vendor, args.iter().any(|a| a == "--whole"));
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("mapping: a benchmark; run it with `cargo bench --bench mapping` (see docs/benchmarks.md)");
        return Ok(());
    }
    let sizes: Vec<usize> = match args.iter().position(|a| a == "--clients") {
        Some(at) => args
            .get(at + 1)
            .context("--clients needs sizes, e.g. 1000,10000")?
            .split(',')
            .map(|s| s.trim().parse().context("--clients: not a number"))
            .collect::<Result<_>>()?,
        None => vec![1_000, 10_000],
    };
    let vendors: Vec<String> = match args.iter().position(|a| a == "--vendors") {
        Some(at) => args.get(at + 1).context("--vendors needs names")?.split(',').map(str::to_owned).collect(),
        None => vec!["pluriform".into(), "caress".into(), "mijneigenplan".into()],
    };
    let dir = tempfile::tempdir()?;
    println!("# Mapping benchmark: {}\n", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
    println!("A run of `benches/mapping.rs`; method and targets in [../benchmarks.md](../benchmarks.md#mapping).\n");
    println!("- revision: {}", git_revision());
    println!("- machine: {}", machine());
    let mut runs = Vec::new();
    for vendor in &vendors {
        let (generator, extension) = match vendor.as_str() {
            "pluriform" => ("demo::write_pluriform_delivery", "json"),
            "caress" => ("demo::write_caress_delivery", "xml"),
            "mijneigenplan" => ("demo::write_mep_delivery", "ndjson"),
            other => bail!("no generated deliveries of {other}"),
        };
        println!("\n## {vendor}\n");
        println!("- data: `{generator}`, seed {SEED}, mapped with `mappings/{vendor}`\n");
        println!(
            "| clients | file | generated in | items | source records | resources | rejected | first pass | second pass | records/s | peak memory |"
        );
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        let first_of_vendor = runs.len();
        for &clients in &sizes {
            let path = dir.path().join(format!("{vendor}-{clients}.{extension}"));
            let started = Instant::now();
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
            match vendor.as_str() {
                "caress" => zorgpoort::demo::write_caress_delivery(&mut out, "bench", clients, SEED, CREATED)?,
                "mijneigenplan" => zorgpoort::demo::write_mep_delivery(&mut out, "bench", clients, SEED)?,
                _ => zorgpoort::demo::write_pluriform_delivery(&mut out, "bench", clients, SEED, CREATED)?,
            }
            out.flush()?;
            drop(out);
            let generated = started.elapsed().as_secs_f64();
            let bytes = std::fs::metadata(&path)?.len();
            let run = child(&path, vendor, false)?;
            println!(
                "| {clients} | {:.1} MB | {generated:.1} s | {} | {} | {} | {} | {:.2} s | {:.2} s | {:.0} | {:.1} MiB |",
                bytes as f64 / 1e6,
                run.items,
                run.records,
                run.resources,
                run.rejected,
                run.first_pass,
                run.second_pass,
                run.records_per_second(),
                run.peak_kib as f64 / 1024.0,
            );
            runs.push((format!("{vendor}, {clients}"), clients, path, run));
        }
        if let Some((_, clients, path, _)) = runs.get(first_of_vendor).filter(|_| vendor == "pluriform") {
            let whole = child(path, vendor, true)?;
            println!(
                "\nFor comparison, {clients} clients read whole (`serde_json::from_reader` and `map_delivery`): \
                 {:.2} s, {:.0} records/s, peak memory {:.1} MiB.",
                whole.first_pass + whole.second_pass,
                whole.records_per_second(),
                whole.peak_kib as f64 / 1024.0
            );
        }
    }
    println!();
    let mut missed = Vec::new();
    for (name, _, _, run) in &runs {
        let verdict = if run.records_per_second() >= RECORDS_PER_SECOND { "met" } else { "MISSED" };
        println!(
            "- {name} clients: {:.0} records/s (target {RECORDS_PER_SECOND:.0}): {verdict}",
            run.records_per_second()
        );
        if verdict != "met" {
            missed.push(format!("{name} clients: records/s"));
        }
    }
    for vendor in &vendors {
        let of_vendor: Vec<_> = runs.iter().filter(|(name, ..)| name.starts_with(&format!("{vendor},"))).collect();
        if let (Some((_, small, _, first)), Some((_, large, _, last))) = (of_vendor.first(), of_vendor.last())
            && large > small
        {
            let ratio = last.peak_kib as f64 / first.peak_kib as f64;
            let verdict = if ratio < 2.0 { "met" } else { "MISSED" };
            println!("- {vendor}, peak memory, {large} clients against {small}: {ratio:.2}× (target < 2×): {verdict}");
            if verdict != "met" {
                missed.push(format!("{vendor}: peak memory"));
            }
        }
    }
    if !missed.is_empty() {
        bail!("targets missed: {}", missed.join(", "));
    }
    Ok(())
}

/// What one child process reports.
#[derive(Debug, Default)]
struct Run {
    items: u64,
    records: u64,
    resources: u64,
    rejected: u64,
    first_pass: f64,
    second_pass: f64,
    peak_kib: u64,
}

impl Run {
    fn records_per_second(&self) -> f64 {
        self.records as f64 / (self.first_pass + self.second_pass)
    }
}

/// Maps `path` in a child process: this binary with `--map-file`.
fn child(path: &PathBuf, vendor: &str, whole: bool) -> Result<Run> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("--map-file").arg(path).arg("--vendor").arg(vendor);
    if whole {
        command.arg("--whole");
    }
    let output = command.output()?;
    if !output.status.success() {
        bail!("the child failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let mut run = Run::default();
    for pair in String::from_utf8(output.stdout)?.split_whitespace() {
        let (key, value) = pair.split_once('=').context("key=value")?;
        match key {
            "items" => run.items = value.parse()?,
            "records" => run.records = value.parse()?,
            "resources" => run.resources = value.parse()?,
            "rejected" => run.rejected = value.parse()?,
            "first_pass" => run.first_pass = value.parse()?,
            "second_pass" => run.second_pass = value.parse()?,
            "peak_kib" => run.peak_kib = value.parse()?,
            _ => {}
        }
    }
    Ok(run)
}

/// The child: maps one file and prints what it counted, its times and
/// its peak memory as `key=value` pairs.
fn map_file(path: &Path, vendor: &str, whole: bool) -> Result<()> {
    let mapping = Mapping::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings").join(vendor))?;
    let mut counts = Run::default();
    let mut count = |outcome: RecordOutcome| {
        counts.records += 1;
        match outcome {
            RecordOutcome::Mapped(record) => {
                if let Action::Write(resources) = record.action {
                    counts.resources += resources.len() as u64;
                }
            }
            RecordOutcome::Rejected(_) => counts.rejected += 1,
        }
        ControlFlow::Continue(())
    };
    let started = Instant::now();
    let (first_pass, items) = if whole {
        let delivery: serde_json::Value =
            serde_json::from_reader(std::io::BufReader::with_capacity(64 * 1024, File::open(path)?))?;
        mapping.envelope(&delivery)?;
        let first_pass = started.elapsed().as_secs_f64();
        let _ = mapping.map_delivery(&delivery).try_for_each(&mut count);
        (first_pass, 0)
    } else {
        let delivery = mapping.open_delivery(path)?;
        let first_pass = started.elapsed().as_secs_f64();
        delivery.for_each_record(&mapping, &mut count)?;
        (first_pass, delivery.items())
    };
    let second_pass = started.elapsed().as_secs_f64() - first_pass;
    let peak_kib = peak_memory_kib()?;
    println!(
        "items={items} records={} resources={} rejected={} first_pass={first_pass:.3} second_pass={second_pass:.3} peak_kib={peak_kib}",
        counts.records, counts.resources, counts.rejected
    );
    Ok(())
}
