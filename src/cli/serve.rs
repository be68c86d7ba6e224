//! `zorgpoort serve`, `migrate` and `demo`.

use std::io::IsTerminal as _;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{Config, Tenant};
use crate::fhir::TenantCode;
use crate::http::{self, AppState};
use crate::store;

pub(super) async fn serve(config: Config) -> anyhow::Result<()> {
    if config.tenants.is_empty() {
        tracing::warn!("no tenants are configured: every FHIR URL will answer 404 (set ZORGPOORT_TENANTS)");
    }
    let store = store::open(&config.database_url).await.context("opening the store")?;
    run_server(config, store).await
}

/// Migrates the store and brings its search index up to date: a rebuild
/// shows a progress bar on a terminal, log lines elsewhere.
pub(super) async fn migrate(config: Config) -> anyhow::Result<()> {
    let progress: Box<dyn store::IndexProgress> = if std::io::stderr().is_terminal() {
        Box::new(RebuildBar(ProgressBar::hidden()))
    } else {
        Box::new(store::LoggedProgress::default())
    };
    store::open_with(&config.database_url, progress.as_ref()).await.context("migrating the store")?;
    println!("migrations applied to {}", store::redact_url(&config.database_url));
    Ok(())
}

/// The progress bar of a rebuild of the search index (standard error).
struct RebuildBar(ProgressBar);

impl store::IndexProgress for RebuildBar {
    fn start(&self, total: u64, done: u64) {
        self.0.set_draw_target(ProgressDrawTarget::stderr());
        self.0.set_length(total);
        self.0.set_position(done);
        self.0.set_style(
            ProgressStyle::with_template(
                "rebuilding the search index {wide_bar} {human_pos}/{human_len} resources, {per_sec} ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.0.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    fn advance(&self, resources: u64) {
        self.0.inc(resources);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
        eprintln!("search index rebuilt: {} resources in {:.0?}", self.0.length().unwrap_or(0), self.0.elapsed());
    }
}

/// The demo tenant's code.
const DEMO_TENANT: &str = "demo";

pub(super) async fn demo(mut config: Config) -> anyhow::Result<()> {
    let tenant = TenantCode::parse(DEMO_TENANT)?;
    if config.tenant(DEMO_TENANT).is_none() {
        config.tenants.push(Tenant { code: tenant.clone(), name: "Demo zorgorganisatie".into() });
    }
    let store = store::open(&config.database_url).await.context("opening the store")?;
    if store.last_change(&tenant).await?.0 == 0 {
        let loaded = crate::demo::deliveries::load(&store, config.mappings_dir.as_deref(), &tenant).await?;
        for (name, summary) in loaded {
            tracing::info!(
                delivery = name,
                records = summary.records,
                versions = summary.versions,
                rejected = summary.rejected,
                "demo delivery ingested"
            );
        }
    }
    let (record, token) = super::token::new_system_token(tenant.clone(), "demo", "system/*.cruds", 24 * 3600);
    store.insert_token(&record).await?;
    let base = format!("{}/{}/fhir", config.public_base_url, tenant);
    println!("Zorgpoort demo");
    println!("  FHIR base:  {base}");
    println!("  Token (system/*.cruds, valid 24 hours):");
    println!("    {token}");
    let persons = super::demo_tokens::issue(store.as_ref(), &tenant, 24 * 3600).await?;
    if !persons.is_empty() {
        println!("  Person tokens (patient/*.rs user/*.rs, valid 24 hours; each sees what the grants allow):");
        for person in &persons {
            println!("    {}:", person.who);
            println!("      {}", person.token);
        }
    }
    println!("  Try:");
    println!("    curl -H 'Authorization: Bearer {token}' '{base}/Patient?_count=5'");
    if let Some(naaste) = persons.iter().find(|p| p.who.starts_with("a naaste")) {
        println!("    curl -H 'Authorization: Bearer {}' '{base}/Communication'", naaste.token);
    }
    println!("  Stop with Ctrl-C.");
    run_server(config, store).await
}

async fn run_server(config: Config, store: std::sync::Arc<dyn store::Store>) -> anyhow::Result<()> {
    let removed = http::spool::remove_abandoned(&config.spool_dir, config.limits.ingest_timeout);
    if removed > 0 {
        tracing::info!(removed, dir = %config.spool_dir.display(), "abandoned spooled deliveries removed");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_base_url = %config.public_base_url, "listening");
    http::serve(listener, AppState::new(config, store), shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
