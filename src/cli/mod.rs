//! The command line: configuration, wiring and the commands.

mod demo_tokens;
mod generate;
mod ingest;
mod logging;
mod mappings;
mod serve;
pub mod token;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Zorgpoort: FHIR R4 gateway for Dutch long-term care.
#[derive(Debug, Parser)]
#[command(name = "zorgpoort", version, about)]
pub struct Cli {
    /// Configuration file (TOML). Environment variables override it.
    #[arg(long, global = true, env = "ZORGPOORT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the FHIR API.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Serve on the default store with a demo tenant, ingest the demo
    /// deliveries (on first start), and print a token to try the API with.
    Demo,
    /// Access tokens for operators and systems.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Ingest vendor deliveries (files) for a tenant.
    Ingest(ingest::IngestArgs),
    /// Write a made-up delivery in a vendor's format (demos, benchmarks).
    GenerateDelivery(generate::GenerateArgs),
    /// Check FHIR resource files against the project's profiles; prints each
    /// issue with its path, exit code 1 when any resource fails.
    Validate(validate::ValidateArgs),
    /// Records of deliveries that could not be mapped.
    #[command(subcommand)]
    Rejects(ingest::RejectsCommand),
    /// The vendor mappings: those the binary ships, and the operator's own.
    #[command(subcommand)]
    Mappings(mappings::MappingsCommand),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Validate(args) = &cli.command {
        return validate::run(args);
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("zorgpoort: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("zorgpoort: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::serve(config).await,
            Command::Migrate => serve::migrate(config).await,
            Command::Demo => serve::demo(config).await,
            Command::Token(command) => token::run(config, command).await,
            Command::Ingest(args) => ingest::ingest(config, args).await,
            Command::Rejects(command) => ingest::rejects(config, command).await,
            Command::GenerateDelivery(args) => generate::run(args),
            Command::Mappings(command) => mappings::run(&config, command),
            Command::Validate(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zorgpoort: {e:#}");
            ExitCode::FAILURE
        }
    }
}
