//! `zorgpoort token issue|revoke`: system tokens for operators and tests.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::auth::scope::{ScopeContext, Scopes};
use crate::auth::token;
use crate::config::Config;
use crate::fhir::TenantCode;
use crate::store::{self, TokenRecord};

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Issue a system-level bearer token; the token is the last line printed.
    Issue(IssueArgs),
    /// Revoke a token (read from standard input, so that it stays out of
    /// the shell history and the process list).
    Revoke,
}

#[derive(Debug, Args)]
pub(super) struct IssueArgs {
    /// Tenant code, as configured.
    #[arg(long)]
    tenant: String,
    /// SMART system scopes, e.g. 'system/*.rs' or 'system/Observation.cruds',
    /// and delivery scopes, 'ingest/<vendor>' or 'ingest/*'.
    #[arg(long)]
    scope: String,
    /// Who the token is for (shown in logs and the access log).
    #[arg(long, default_value = "operator")]
    subject: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
}

pub(super) async fn run(config: Config, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue(args) => {
            let (record, token) = issue(&config, &args)?;
            let store = store::open(&config.database_url).await?;
            store.insert_token(&record).await?;
            println!("# system token for tenant '{}', scope '{}', valid {} s", record.tenant, record.scope, args.ttl);
            println!("{token}");
            Ok(())
        }
        TokenCommand::Revoke => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the token from standard input")?;
            let store = store::open(&config.database_url).await?;
            store.revoke_token(&token::hash(line.trim())).await?;
            println!("revoked");
            Ok(())
        }
    }
}

fn issue(config: &Config, args: &IssueArgs) -> anyhow::Result<(TokenRecord, String)> {
    let tenant = TenantCode::parse(&args.tenant)?;
    if config.tenant(tenant.as_str()).is_none() {
        bail!("tenant '{tenant}' is not configured (configured: {})", tenant_list(config));
    }
    let scopes = Scopes::parse(&args.scope)?;
    let only_system = scopes.resources.iter().all(|s| s.context == ScopeContext::System)
        && scopes.other.iter().all(|s| s.starts_with("ingest/") && s.len() > "ingest/".len());
    if !only_system || scope_is_empty(&scopes) {
        bail!(
            "a system token needs system scopes, such as 'system/*.rs', or ingest scopes, such as 'ingest/pluriform'"
        );
    }
    if args.ttl == 0 || args.ttl > 366 * 24 * 3600 {
        bail!("--ttl must be between 1 second and a year");
    }
    Ok(new_system_token(tenant, &args.subject, &args.scope, args.ttl))
}

fn scope_is_empty(scopes: &Scopes) -> bool {
    scopes.resources.is_empty() && scopes.other.is_empty()
}

/// A new system token and the record to store for it.
pub fn new_system_token(tenant: TenantCode, subject: &str, scope: &str, ttl_secs: u64) -> (TokenRecord, String) {
    let token = token::generate();
    let now = chrono::Utc::now().timestamp_millis();
    let record = TokenRecord {
        token_hash: token::hash(&token),
        tenant,
        subject: format!("system:{subject}"),
        client_id: None,
        scope: scope.to_owned(),
        issued_at: now,
        expires_at: now + (ttl_secs as i64) * 1000,
        revoked: false,
    };
    (record, token)
}

fn tenant_list(config: &Config) -> String {
    if config.tenants.is_empty() {
        return "none; set ZORGPOORT_TENANTS or [[tenants]] in the configuration file".into();
    }
    config.tenants.iter().map(|t| t.code.as_str()).collect::<Vec<_>>().join(", ")
}
