//! `zorgpoort mappings`: the vendor mappings the binary ships, listed, and
//! written out as the starting point of an operator's own (a folder named
//! by `mappings_dir` / `ZORGPOORT_MAPPINGS` replaces the shipped mapping of
//! its vendor).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::config::Config;
use crate::ingest::vendor::load_mapping;
use crate::mapping::shipped;

#[derive(Debug, Subcommand)]
pub(super) enum MappingsCommand {
    /// The vendors this gateway maps, and where each mapping comes from.
    List,
    /// Write the shipped mappings into DIR (one folder per vendor); files
    /// already there are left alone and named.
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub(super) fn run(config: &Config, command: MappingsCommand) -> anyhow::Result<()> {
    match command {
        MappingsCommand::List => list(config),
        MappingsCommand::Export { dir } => export(&dir),
    }
}

fn list(config: &Config) -> anyhow::Result<()> {
    let overrides = config.mappings_dir.as_deref();
    let mut vendors: Vec<String> = shipped::vendors().into_iter().map(str::to_owned).collect();
    if let Some(dir) = overrides
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("mapping.toml").is_file() && !vendors.contains(&name) {
                vendors.push(name);
            }
        }
    }
    vendors.sort();
    for vendor in vendors {
        let from = match overrides.map(|d| d.join(&vendor)).filter(|d| d.is_dir()) {
            Some(folder) => folder.display().to_string(),
            None => "shipped".to_owned(),
        };
        match load_mapping(overrides, &vendor) {
            Ok(_) => println!("{vendor}\t{from}"),
            Err(e) => println!("{vendor}\t{from}\tcannot be loaded: {e}"),
        }
    }
    Ok(())
}

fn export(dir: &Path) -> anyhow::Result<()> {
    let mut written = 0;
    let mut kept = Vec::new();
    for (path, contents) in shipped::files() {
        let target = dir.join(path);
        if target.exists() {
            kept.push(target);
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, contents).with_context(|| format!("writing {}", target.display()))?;
        written += 1;
    }
    println!("{written} files written to {}", dir.display());
    if !kept.is_empty() {
        for path in &kept {
            eprintln!("left alone (already there): {}", path.display());
        }
        bail!("{} files were already there and are left as they are", kept.len());
    }
    Ok(())
}
