//! `METRICS_ADDR` and `LOG_FORMAT`: where metrics are served and how log lines are written.

use std::net::SocketAddr;

use super::ConfigError;

/// Where Prometheus scrapes by default: loopback only, away from the public port.
const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9090";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event, for a person.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// The metrics listener's address, or `None` for `off`.
pub(super) fn metrics_addr(value: Option<String>) -> Result<Option<SocketAddr>, ConfigError> {
    let value = value.unwrap_or_else(|| DEFAULT_METRICS_ADDR.to_owned());
    match value.trim() {
        "off" => Ok(None),
        addr => addr.parse().map(Some).map_err(|_| ConfigError {
            variable: "METRICS_ADDR",
            problem: "must be a socket address or off".into(),
        }),
    }
}

/// The log format asked for; `None` leaves the choice to whether logs go to a terminal.
pub(super) fn log_format(value: Option<String>) -> Result<Option<LogFormat>, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("pretty") => Ok(Some(LogFormat::Pretty)),
        Some("json") => Ok(Some(LogFormat::Json)),
        Some(_) => Err(ConfigError {
            variable: "LOG_FORMAT",
            problem: "must be pretty or json".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_listen_on_loopback_unless_moved_or_off() {
        assert_eq!(
            metrics_addr(None).unwrap(),
            Some("127.0.0.1:9090".parse().unwrap())
        );
        assert_eq!(
            metrics_addr(Some("0.0.0.0:9100".into())).unwrap(),
            Some("0.0.0.0:9100".parse().unwrap())
        );
        assert_eq!(metrics_addr(Some("off".into())).unwrap(), None);
        let err = metrics_addr(Some("localhost:9090".into())).unwrap_err();
        assert_eq!(err.variable, "METRICS_ADDR");
        assert!(!err.to_string().contains("localhost"));
    }

    #[test]
    fn log_formats_are_pretty_json_or_left_to_the_terminal() {
        assert_eq!(log_format(None).unwrap(), None);
        assert_eq!(
            log_format(Some("pretty".into())).unwrap(),
            Some(LogFormat::Pretty)
        );
        assert_eq!(
            log_format(Some("json".into())).unwrap(),
            Some(LogFormat::Json)
        );
        assert_eq!(
            log_format(Some("JSON-ish".into())).unwrap_err().variable,
            "LOG_FORMAT"
        );
    }
}
