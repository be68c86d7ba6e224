//! `zorgpoort generate-delivery`: a made-up delivery in a vendor's format,
//! reproducible from a seed, for demos, trials and benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

#[derive(Debug, Args)]
pub(super) struct GenerateArgs {
    /// The vendor whose format to write (only `pluriform` so far).
    #[arg(long, default_value = "pluriform")]
    vendor: String,
    /// The organisation code the delivery names (the tenant).
    #[arg(long)]
    tenant: String,
    #[arg(long, default_value_t = 5)]
    clients: usize,
    /// The same seed gives the same delivery.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// When the delivery was made (ISO 8601 with an offset).
    #[arg(long, default_value = "2026-11-20T10:15:00+01:00")]
    created: String,
    /// Where to write it.
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
}

pub(super) fn run(args: GenerateArgs) -> anyhow::Result<()> {
    if args.vendor != "pluriform" {
        bail!("no generator for vendor '{}' (only pluriform so far)", args.vendor);
    }
    let file = File::create(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    crate::demo::write_pluriform_delivery(&mut out, &args.tenant, args.clients, args.seed, &args.created)?;
    out.flush()?;
    println!("{} clients of '{}' written to {}", args.clients, args.tenant, args.output.display());
    Ok(())
}
