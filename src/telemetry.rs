//! Structured logs. Personal data never goes into a log line: handlers log ids, not names or numbers.

use tracing_subscriber::EnvFilter;

/// Logs to stderr; `HOCVUSO_LOG_FORMAT=json` for machines, `RUST_LOG` to choose what.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
