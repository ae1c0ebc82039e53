//! Logging set-up.
//!
//! Nothing secret is ever passed to a log macro in this crate; this module only decides where
//! lines go and how much is kept (`RUST_LOG`, default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Postgres's NOTICE messages, which sqlx logs at info level. The only ones this server causes
/// are the migrator's "relation \"_sqlx_migrations\" already exists, skipping" at every start.
const NOTICE_TARGET: &str = "sqlx::postgres::notice";

pub fn init() {
    let spec = filter_spec(std::env::var("RUST_LOG").ok().as_deref());
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(filter_spec(None)));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes are for a person at a terminal; in a file or a log collector they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The filter for a `RUST_LOG` value: as given, or `info`, with Postgres notices held to warnings
/// unless the value names their target itself.
fn filter_spec(rust_log: Option<&str>) -> String {
    let spec = rust_log.unwrap_or("info");
    if spec.contains(NOTICE_TARGET) {
        spec.to_owned()
    } else {
        format!("{spec},{NOTICE_TARGET}=warn")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_notices_are_quiet_unless_asked_for() {
        assert_eq!(filter_spec(None), "info,sqlx::postgres::notice=warn");
        assert_eq!(
            filter_spec(Some("debug,wxlogin_server=trace")),
            "debug,wxlogin_server=trace,sqlx::postgres::notice=warn"
        );
        assert_eq!(
            filter_spec(Some("info,sqlx::postgres::notice=info")),
            "info,sqlx::postgres::notice=info"
        );
        for spec in [None, Some("warn,sqlx=debug")] {
            assert!(EnvFilter::try_new(filter_spec(spec)).is_ok());
        }
    }
}
