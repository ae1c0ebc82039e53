//! Logging set-up.
//!
//! Nothing secret is ever passed to a log macro in this crate; this module only decides where
//! lines go and how much is kept (`RUST_LOG`, default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
