//! Configuration: a TOML file (optional) overlaid by environment variables
//! (`ZORGPOORT_*`, `DATABASE_URL`). No file and no variables: SQLite in
//! `./data`, listening on 127.0.0.1:8080.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::fhir::TenantCode;

/// The gateway's configuration, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    /// The origin clients use to reach the gateway (behind a reverse proxy,
    /// the proxy's), without trailing slash; links and, later, the OAuth
    /// issuer are built from it.
    pub public_base_url: String,
    pub database_url: String,
    pub tenants: Vec<Tenant>,
    /// Browser origins allowed by CORS (`*` allows any).
    pub cors_origins: Vec<String>,
    pub log: LogConfig,
    pub limits: Limits,
    /// A folder of the operator's with mapping folders (`pluriform/`, ...):
    /// each replaces the shipped mapping of its vendor, or adds a vendor.
    pub mappings_dir: Option<PathBuf>,
    /// Where deliveries received over HTTP are kept while they are read
    /// (two passes: framing first); each is removed when its ingest ends.
    pub spool_dir: PathBuf,
}

/// A care organisation served by this gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub code: TenantCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `zorgpoort=debug,info`.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Limits that protect the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest FHIR request body (413 above it).
    pub max_body_bytes: usize,
    /// The largest delivery `POST /{tenant}/ingest/{vendor}` takes (413
    /// above it); deliveries of hundreds of megabytes are normal.
    pub max_delivery_bytes: u64,
    /// How long receiving and ingesting one delivery over HTTP may take.
    pub ingest_timeout: Duration,
    /// The longest query string accepted (414 above it).
    pub max_query_bytes: usize,
    pub request_timeout: Duration,
    pub default_page_size: u32,
    pub max_page_size: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_delivery_bytes: 4 * 1024 * 1024 * 1024,
            ingest_timeout: Duration::from_secs(2 * 3600),
            max_query_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(30),
            default_page_size: 50,
            max_page_size: 1000,
        }
    }
}

/// A configuration that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("{name}: {message}")]
    Value { name: String, message: String },
}

/// The file as written; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_base_url: Option<String>,
    database_url: Option<String>,
    cors_origins: Option<Vec<String>>,
    #[serde(default)]
    tenants: Vec<FileTenant>,
    log: Option<FileLog>,
    limits: Option<FileLimits>,
    mappings_dir: Option<PathBuf>,
    spool_dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTenant {
    code: String,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<String>,
    filter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_body_bytes: Option<usize>,
    max_delivery_bytes: Option<u64>,
    ingest_timeout_secs: Option<u64>,
    max_query_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    default_page_size: Option<u32>,
    max_page_size: Option<u32>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/zorgpoort.db";

impl Config {
    /// Loads the file (if any) and applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_with(path, &|name| std::env::var(name).ok())
    }

    /// Loads with an explicit environment (for tests).
    pub fn load_with(path: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match path {
            None => FileConfig::default(),
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse { path: shown, message: e.to_string() })?
            }
        };
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let value_error = |name: &str, message: String| ConfigError::Value { name: name.to_owned(), message };

        let listen_text = var("ZORGPOORT_LISTEN").or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| value_error("listen", format!("'{listen_text}' is not an address like 127.0.0.1:8080")))?;

        let public_base_url =
            var("ZORGPOORT_PUBLIC_BASE_URL").or(file.public_base_url).unwrap_or_else(|| format!("http://{listen}"));
        let public_base_url = check_base_url(&public_base_url).map_err(|m| value_error("public_base_url", m))?;

        let database_url = var("DATABASE_URL")
            .or_else(|| var("ZORGPOORT_DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|p| database_url.starts_with(p)) {
            return Err(value_error(
                "database_url",
                format!("'{}' is neither sqlite:PATH nor postgres://...", crate::store::redact_url(&database_url)),
            ));
        }

        let tenants = match var("ZORGPOORT_TENANTS") {
            Some(list) => list.split(',').map(|c| FileTenant { code: c.trim().to_owned(), name: None }).collect(),
            None => file.tenants,
        };
        let mut checked: Vec<Tenant> = Vec::new();
        for tenant in tenants {
            let code = TenantCode::parse(&tenant.code).map_err(|e| value_error("tenants", e.to_string()))?;
            if checked.iter().any(|t| t.code == code) {
                return Err(value_error("tenants", format!("tenant '{code}' is listed twice")));
            }
            let name = tenant.name.unwrap_or_else(|| code.to_string());
            checked.push(Tenant { code, name });
        }

        let cors_origins = match var("ZORGPOORT_CORS_ORIGINS") {
            Some(list) => list.split(',').map(|o| o.trim().to_owned()).collect(),
            None => file.cors_origins.unwrap_or_default(),
        };
        for origin in &cors_origins {
            if origin != "*" {
                check_base_url(origin).map_err(|m| value_error("cors_origins", m))?;
            }
        }

        let file_log = file.log.unwrap_or_default();
        let format = match var("ZORGPOORT_LOG_FORMAT").or(file_log.format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(value_error("log.format", format!("'{other}' is not 'text' or 'json'"))),
        };
        let filter = var("ZORGPOORT_LOG").or(file_log.filter).unwrap_or_else(|| "info".into());

        let file_limits = file.limits.unwrap_or_default();
        let defaults = Limits::default();
        let number = |name: &str, fallback: Option<u64>, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                Some(v) => v.trim().parse().map_err(|_| value_error(name, format!("'{v}' is not a whole number"))),
                None => Ok(fallback.unwrap_or(default)),
            }
        };
        let limits = Limits {
            max_body_bytes: number(
                "ZORGPOORT_MAX_BODY_BYTES",
                file_limits.max_body_bytes.map(|v| v as u64),
                defaults.max_body_bytes as u64,
            )? as usize,
            max_delivery_bytes: number(
                "ZORGPOORT_MAX_DELIVERY_BYTES",
                file_limits.max_delivery_bytes,
                defaults.max_delivery_bytes,
            )?,
            ingest_timeout: Duration::from_secs(number(
                "ZORGPOORT_INGEST_TIMEOUT_SECS",
                file_limits.ingest_timeout_secs,
                defaults.ingest_timeout.as_secs(),
            )?),
            max_query_bytes: file_limits.max_query_bytes.unwrap_or(defaults.max_query_bytes),
            request_timeout: Duration::from_secs(number(
                "ZORGPOORT_REQUEST_TIMEOUT_SECS",
                file_limits.request_timeout_secs,
                defaults.request_timeout.as_secs(),
            )?),
            default_page_size: file_limits.default_page_size.unwrap_or(defaults.default_page_size),
            max_page_size: file_limits.max_page_size.unwrap_or(defaults.max_page_size),
        };
        if limits.max_page_size == 0 || limits.default_page_size > limits.max_page_size {
            return Err(value_error("limits", "need 0 < default_page_size <= max_page_size".into()));
        }
        if limits.request_timeout.is_zero() || limits.max_body_bytes == 0 {
            return Err(value_error("limits", "request timeout and body size must be above 0".into()));
        }
        if limits.ingest_timeout.is_zero() || limits.max_delivery_bytes == 0 {
            return Err(value_error("limits", "ingest timeout and delivery size must be above 0".into()));
        }

        let mappings_dir = var("ZORGPOORT_MAPPINGS").map(PathBuf::from).or(file.mappings_dir);
        let spool_dir = var("ZORGPOORT_SPOOL_DIR")
            .map(PathBuf::from)
            .or(file.spool_dir)
            .unwrap_or_else(|| std::env::temp_dir().join("zorgpoort-spool"));

        Ok(Config {
            listen,
            public_base_url,
            database_url,
            tenants: checked,
            cors_origins,
            log: LogConfig { format, filter },
            limits,
            mappings_dir,
            spool_dir,
        })
    }

    pub fn tenant(&self, code: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.code.as_str() == code)
    }
}

fn check_base_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("'{value}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("'{value}' must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("'{value}' must not have a query or fragment"));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zorgpoort.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        Config::load_with(file.map(|_| path.as_path()), &|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_without_file_or_variables() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite:data/zorgpoort.db");
        assert!(config.tenants.is_empty());
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.limits, Limits::default());
    }

    #[test]
    fn file_then_environment() {
        let file = r#"
            listen = "0.0.0.0:9000"
            public_base_url = "https://fhir.example.nl/"
            database_url = "postgres://u:secret@db/zp"
            cors_origins = ["https://app.example.nl"]
            [[tenants]]
            code = "pameijer"
            name = "Pameijer"
            [log]
            format = "json"
            [limits]
            max_body_bytes = 1000
            max_delivery_bytes = 5000
            ingest_timeout_secs = 60
        "#;
        let config = load(Some(file), &[]).unwrap();
        assert_eq!(config.public_base_url, "https://fhir.example.nl");
        assert_eq!(config.tenants, [Tenant { code: TenantCode::parse("pameijer").unwrap(), name: "Pameijer".into() }]);
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.limits.max_body_bytes, 1000);
        assert_eq!(config.limits.max_delivery_bytes, 5000);
        assert_eq!(config.limits.ingest_timeout, Duration::from_secs(60));

        let config = load(
            Some(file),
            &[("ZORGPOORT_TENANTS", "a,b"), ("DATABASE_URL", "sqlite:x.db"), ("ZORGPOORT_LISTEN", "127.0.0.1:1")],
        )
        .unwrap();
        assert_eq!(config.tenants.len(), 2);
        assert_eq!(config.database_url, "sqlite:x.db");
        assert_eq!(config.listen.port(), 1);
    }

    #[test]
    fn clear_messages_for_bad_configuration() {
        type Case<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (None, &[("ZORGPOORT_LISTEN", "localhost")], "listen: 'localhost' is not an address"),
            (None, &[("DATABASE_URL", "mysql://u:pw@h/db")], "database_url: 'mysql://u:***@h/db' is neither"),
            (None, &[("ZORGPOORT_TENANTS", "Bad Code")], "tenants: 'Bad Code' is not a valid tenant code"),
            (None, &[("ZORGPOORT_TENANTS", "a,a")], "tenant 'a' is listed twice"),
            (None, &[("ZORGPOORT_PUBLIC_BASE_URL", "ftp://x")], "must be an http(s) URL"),
            (None, &[("ZORGPOORT_LOG_FORMAT", "xml")], "'xml' is not 'text' or 'json'"),
            (None, &[("ZORGPOORT_MAX_BODY_BYTES", "lots")], "'lots' is not a whole number"),
            (Some("lissen = 1"), &[], "unknown field `lissen`"),
            (Some("listen = "), &[], "is not valid"),
        ];
        for (file, env, expected) in cases {
            let message = load(*file, env).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} should contain {expected:?}");
            assert!(!message.contains("pw@"), "password leaked: {message}");
        }
    }
}
