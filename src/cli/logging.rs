//! Structured logs with `tracing`, as text or JSON, on standard error.
//! What is logged never includes tokens, passwords or BSNs: requests are
//! logged by method, path and status only (see `http::guard`).

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

pub(super) fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
