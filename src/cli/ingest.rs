//! `zorgpoort ingest` and `zorgpoort rejects list|replay`: vendor
//! deliveries into the store, and the records that could not be mapped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::fhir::TenantCode;
use crate::ingest::{self, Progress, Summary, replay};
use crate::mapping::spec::Mapping;
use crate::store::{self, Store, StoredReject};

#[derive(Debug, Args)]
pub(super) struct IngestArgs {
    /// The tenant (care organisation) the deliveries are for.
    #[arg(long)]
    tenant: String,
    /// The vendor whose mapping reads them (a folder of the mappings folder).
    #[arg(long)]
    vendor: String,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Delivery files, ingested in this order.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(super) enum RejectsCommand {
    /// The records that could not be mapped and are not written yet.
    List(RejectsArgs),
    /// Map and write them again (after the mapping or the data was fixed).
    Replay(RejectsArgs),
}

#[derive(Debug, Args)]
pub(super) struct RejectsArgs {
    #[arg(long)]
    tenant: String,
    /// Also those resolved since (list only).
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
}

pub(super) async fn ingest(config: Config, args: IngestArgs) -> anyhow::Result<()> {
    let tenant = configured_tenant(&config, &args.tenant)?;
    let mapping = Arc::new(load_mapping(&config, &args.vendor)?);
    let store = store::open(&config.database_url).await?;
    let mut reports = Vec::new();
    for file in &args.files {
        let progress = Bar::new(file, args.json);
        let summary = ingest::ingest_file(&store, &mapping, &tenant, file, &progress)
            .await
            .with_context(|| format!("{}", file.display()))?;
        if !args.json {
            println!("{}:\n{summary}", file.display());
        }
        reports.push(serde_json::json!({"file": file.display().to_string(), "summary": summary}));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

pub(super) async fn rejects(config: Config, command: RejectsCommand) -> anyhow::Result<()> {
    match command {
        RejectsCommand::List(args) => {
            let tenant = configured_tenant(&config, &args.tenant)?;
            let store = store::open(&config.database_url).await?;
            let rejects = store.rejects(&tenant, args.all).await?;
            if args.json {
                let list: Vec<_> = rejects.iter().map(reject_json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if rejects.is_empty() {
                println!("no {}rejected records", if args.all { "" } else { "open " });
            } else {
                for r in &rejects {
                    println!("{}", describe(r));
                }
            }
            Ok(())
        }
        RejectsCommand::Replay(args) => {
            let tenant = configured_tenant(&config, &args.tenant)?;
            let store = store::open(&config.database_url).await?;
            let summary = replay_all(&config, &store, &tenant).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!("replayed:\n{summary}");
            }
            Ok(())
        }
    }
}

async fn replay_all(config: &Config, store: &Arc<dyn Store>, tenant: &TenantCode) -> anyhow::Result<Summary> {
    let open = store.rejects(tenant, false).await?;
    let mut vendors: Vec<&str> = open.iter().map(|r| r.reject.vendor.as_str()).collect();
    vendors.sort_unstable();
    vendors.dedup();
    let mut mappings = Vec::new();
    for vendor in vendors {
        mappings.push(load_mapping(config, vendor)?);
    }
    Ok(replay::replay(store, &mappings, tenant, open).await?)
}

fn configured_tenant(config: &Config, code: &str) -> anyhow::Result<TenantCode> {
    let tenant = TenantCode::parse(code)?;
    if config.tenant(tenant.as_str()).is_none() {
        let known: Vec<&str> = config.tenants.iter().map(|t| t.code.as_str()).collect();
        bail!("tenant '{tenant}' is not configured (configured: {})", known.join(", "));
    }
    Ok(tenant)
}

fn load_mapping(config: &Config, vendor: &str) -> anyhow::Result<Mapping> {
    Ok(ingest::vendor::load_mapping(config.mappings_dir.as_deref(), vendor)?)
}

fn describe(r: &StoredReject) -> String {
    let id = r.reject.source_id.as_deref().unwrap_or("(no id)");
    let state = match &r.resolution {
        Some(how) => format!(" [resolved: {how}]"),
        None => String::new(),
    };
    format!(
        "#{} {} delivery {}: {} {}: {}: {}{state}",
        r.number, r.reject.vendor, r.reject.delivery, r.reject.kind, id, r.reject.field, r.reject.reason
    )
}

fn reject_json(r: &StoredReject) -> serde_json::Value {
    serde_json::json!({
        "number": r.number,
        "vendor": r.reject.vendor,
        "delivery": r.reject.delivery,
        "kind": r.reject.kind,
        "source_id": r.reject.source_id,
        "field": r.reject.field,
        "reason": r.reject.reason,
        "rejected_at": instant(r.rejected_at),
        "resolved_at": r.resolved_at.map(instant),
        "resolution": r.resolution,
    })
}

fn instant(millis: i64) -> String {
    crate::fhir::datetime::format_instant(chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default())
}

/// A progress bar on a terminal (standard error), nothing elsewhere.
struct Bar(ProgressBar);

impl Bar {
    fn new(file: &Path, hidden: bool) -> Bar {
        let bar = if hidden { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}: {human_pos} records, {per_sec} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar.set_message(file.display().to_string());
        Bar(bar)
    }
}

impl Progress for Bar {
    fn start(&self, items: u64) {
        let file = self.0.message();
        self.0.set_message(format!("{file} ({items} items)"));
    }
    fn advance(&self, records: u64) {
        self.0.inc(records);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
