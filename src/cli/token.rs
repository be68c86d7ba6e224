//! `zorgpoort token issue|revoke`: system tokens for operators and
//! vendors, and person tokens for a client or representative (until the
//! login pages issue them).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::access::PersonRef;
use crate::auth::scope::{ScopeContext, Scopes};
use crate::auth::token;
use crate::cache::persons;
use crate::config::Config;
use crate::fhir::{ResourceId, TenantCode};
use crate::store::{self, Store, TokenRecord};

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Issue a bearer token, for a system (the default) or, with --user, for
    /// a client or representative; the token is the last line printed.
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
    /// SMART scopes. A system token: 'system/*.rs', 'system/Observation.cruds',
    /// and delivery scopes, 'ingest/<vendor>' or 'ingest/*'. A person token:
    /// 'patient/*.rs' (the client in context), 'user/*.rs' (every client the
    /// user represents), 'openid fhirUser'.
    #[arg(long)]
    scope: String,
    /// Who a system token is for (shown in logs and the access log).
    #[arg(long, default_value = "operator", conflicts_with = "user")]
    subject: String,
    /// The person the token is for: Patient/ID (a client) or
    /// RelatedPerson/ID (a representative).
    #[arg(long)]
    user: Option<String>,
    /// The client in context (a Patient id); may be left out when the user
    /// has exactly one client.
    #[arg(long, requires = "user")]
    patient: Option<String>,
    /// The app (OAuth client id) the token is issued to.
    #[arg(long)]
    client_id: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
}

pub(super) async fn run(config: Config, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue(args) => {
            let store = store::open(&config.database_url).await?;
            let (record, token) = match &args.user {
                None => issue(&config, &args)?,
                Some(user) => issue_person(&config, store.as_ref(), &args, user).await?,
            };
            store.insert_token(&record).await?;
            match &record.patient {
                None => println!(
                    "# system token for tenant '{}', scope '{}', valid {} s",
                    record.tenant, record.scope, args.ttl
                ),
                Some(patient) => println!(
                    "# token for {} (client in context: Patient/{patient}) in tenant '{}', scope '{}', valid {} s",
                    record.subject, record.tenant, record.scope, args.ttl
                ),
            }
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
    check_ttl(args.ttl)?;
    let (mut record, token) = new_system_token(tenant, &args.subject, &args.scope, args.ttl);
    record.client_id = args.client_id.clone();
    Ok((record, token))
}

fn check_ttl(ttl: u64) -> anyhow::Result<()> {
    if ttl == 0 || ttl > 366 * 24 * 3600 {
        bail!("--ttl must be between 1 second and a year");
    }
    Ok(())
}

/// A person token: the user must exist; the client in context is the
/// client's own record, or one of the clients the representative's
/// records belong to. Grants are not checked here but on every request.
async fn issue_person(
    config: &Config,
    store: &dyn Store,
    args: &IssueArgs,
    user: &str,
) -> anyhow::Result<(TokenRecord, String)> {
    let tenant = TenantCode::parse(&args.tenant)?;
    if config.tenant(tenant.as_str()).is_none() {
        bail!("tenant '{tenant}' is not configured (configured: {})", tenant_list(config));
    }
    let user = PersonRef::parse(user).context("--user must be Patient/ID or RelatedPerson/ID")?;
    let patient = match &args.patient {
        Some(p) => Some(ResourceId::parse(p.trim_start_matches("Patient/"))?),
        None => None,
    };
    person_token(store, tenant, &user, patient.as_ref(), &args.scope, args.client_id.clone(), args.ttl).await
}

/// A person token for `user` with `patient` as the client in context (may
/// be left out when the user has exactly one client), checked as
/// `zorgpoort token issue --user` checks it, and the record to store for
/// it (not stored here). Grants are not checked here but on every request.
pub async fn person_token(
    store: &dyn Store,
    tenant: TenantCode,
    user: &PersonRef,
    patient: Option<&ResourceId>,
    scope: &str,
    client_id: Option<String>,
    ttl_secs: u64,
) -> anyhow::Result<(TokenRecord, String)> {
    let scopes = Scopes::parse(scope)?;
    if scopes.resources.iter().any(|s| s.context == ScopeContext::System)
        || scopes.other.iter().any(|s| s.starts_with("ingest/"))
    {
        bail!("a person token takes patient/ and user/ scopes, not system/ or ingest/ ones");
    }
    check_ttl(ttl_secs)?;
    let mut clients = persons::clients_of(store, &tenant, user).await?;
    if clients.is_empty() {
        bail!("{user} is not known in tenant '{tenant}'");
    }
    let (patient, identity) = match patient {
        Some(p) => match clients.into_iter().find(|(c, _)| c == p) {
            Some(found) => found,
            None => bail!("{user} is not a record of, or for, Patient/{p}"),
        },
        None if clients.len() == 1 => clients.swap_remove(0),
        None => bail!(
            "{user} acts for {} clients: name one with --patient ({})",
            clients.len(),
            clients.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    // The token's user is the person's record for the client in context.
    Ok(new_person_token(tenant, &identity, &patient, scope, client_id, ttl_secs))
}

/// A new person token and the record to store for it.
pub fn new_person_token(
    tenant: TenantCode,
    user: &PersonRef,
    patient: &ResourceId,
    scope: &str,
    client_id: Option<String>,
    ttl_secs: u64,
) -> (TokenRecord, String) {
    let (mut record, token) = new_system_token(tenant, "", scope, ttl_secs);
    record.subject = user.to_string();
    record.patient = Some(patient.to_string());
    record.client_id = client_id;
    (record, token)
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
        patient: None,
    };
    (record, token)
}

fn tenant_list(config: &Config) -> String {
    if config.tenants.is_empty() {
        return "none; set ZORGPOORT_TENANTS or [[tenants]] in the configuration file".into();
    }
    config.tenants.iter().map(|t| t.code.as_str()).collect::<Vec<_>>().join(", ")
}
