//! What the clients saw: every answer by endpoint, status and latency, with when it came.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub struct Sample {
    pub endpoint: &'static str,
    pub status: u16,
    pub error: &'static str,
    /// Since the scenario started.
    pub at: Duration,
    pub latency: Duration,
}

#[derive(Default)]
pub struct Samples(pub Vec<Sample>);

impl Samples {
    pub fn record(
        &mut self,
        started: Instant,
        endpoint: &'static str,
        answer: &crate::client::Answer,
    ) {
        let at = started.elapsed().saturating_sub(answer.latency);
        self.0.push(Sample {
            endpoint,
            status: answer.status,
            error: error_code(answer.error_code()),
            at,
            latency: answer.latency,
        });
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    /// Requests by endpoint and status, with p50, p99 and the slowest, as a table.
    pub fn report(&self, title: &str) -> String {
        let mut by_endpoint: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for sample in &self.0 {
            by_endpoint.entry(sample.endpoint).or_default().push(sample);
        }
        let mut out = format!(
            "{title}\n  {:<22} {:>8} {:>9} {:>9} {:>9}  statuses\n",
            "endpoint", "requests", "p50 ms", "p99 ms", "max ms"
        );
        for (endpoint, samples) in by_endpoint {
            let latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
            let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
            for sample in &samples {
                let key = match (sample.status, sample.error) {
                    (0, _) => "no answer".to_owned(),
                    (status, "") => status.to_string(),
                    (status, code) => format!("{status} {code}"),
                };
                *statuses.entry(key).or_default() += 1;
            }
            let statuses: Vec<String> = statuses.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            out += &format!(
                "  {:<22} {:>8} {:>9.1} {:>9.1} {:>9.1}  {}\n",
                endpoint,
                samples.len(),
                ms(percentile(&latencies, 0.50)),
                ms(percentile(&latencies, 0.99)),
                ms(percentile(&latencies, 1.0)),
                statuses.join(", ")
            );
        }
        out
    }
}

/// The static name of a server error code, so samples stay small.
fn error_code(code: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "rate_limited",
        "upstream_busy",
        "upstream_error",
        "unavailable",
        "invalid_token",
        "token_reused",
        "invalid_code",
        "internal",
        "invalid_request",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == code)
        .unwrap_or(if code.is_empty() { "" } else { "other" })
}

pub fn percentile(latencies: &[Duration], quantile: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len() as f64 * quantile).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
