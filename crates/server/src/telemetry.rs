//! Logging set-up.
//!
//! Nothing secret is ever passed to a log macro in this crate; this module only decides where
//! lines go, how much is kept (`RUST_LOG`, default `info`) and how they are written
//! (`LOG_FORMAT`): text for a person at a terminal, one JSON object per line for anything else.
//! Every line a request causes carries its span: method, route template, request id and user.

use std::io::IsTerminal;
use std::time::Duration;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Postgres's NOTICE messages, which sqlx logs at info level. The only ones this server causes
/// are the migrator's "relation \"_sqlx_migrations\" already exists, skipping" at every start.
const NOTICE_TARGET: &str = "sqlx::postgres::notice";

/// Logs to stderr in `format`, or, when none is given, as text on a terminal and JSON otherwise.
///
/// Lines are handed to a writer thread, so that a request's line (one per request) costs it no
/// write to stderr; when that thread falls behind, requests wait rather than lines being lost.
/// Keep the returned guard until the process ends: dropping it flushes what is left.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(format: Option<LogFormat>) -> WorkerGuard {
    let spec = filter_spec(std::env::var("RUST_LOG").ok().as_deref());
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(filter_spec(None)));
    let terminal = std::io::stderr().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format.unwrap_or(default_format(terminal)) {
        // Colour codes are for a person at a terminal; in a file or a log collector they are noise.
        LogFormat::Pretty => lines.with_ansi(terminal).init(),
        LogFormat::Json => lines
            .json()
            .with_ansi(false)
            // The request's span (method, route, request id, user) on every line, without the
            // list of enclosing spans that would repeat it.
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    guard
}

/// A latency as log lines give it: milliseconds, to the microsecond.
pub(crate) fn millis(took: Duration) -> f64 {
    took.as_micros() as f64 / 1000.0
}

fn default_format(terminal: bool) -> LogFormat {
    if terminal {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    }
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
