//! Reading a server's `GET /metrics`: samples by name and exact label set.

use std::collections::{BTreeMap, BTreeSet};

use super::server::TestApp;

/// One scrape of the Prometheus text format.
pub struct Scrape {
    pub text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    pub fn parse(text: String) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, labels.trim_end_matches('}')),
                    None => (series, ""),
                };
                let labels = labels
                    .split(',')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').expect("label=value");
                        (key.to_owned(), value.trim_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), labels, value)
            })
            .collect();
        Self { text, samples }
    }

    /// The sample `name` with exactly `labels`; 0 when there is none, as for a counter that has
    /// not moved yet.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|(sample, labels, _)| sample == name && *labels == wanted)
            .map_or(0.0, |(_, _, value)| *value)
    }

    /// Every sample of `name`, with its labels.
    pub fn series(&self, name: &str) -> Vec<(&BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|(sample, _, _)| sample == name)
            .map(|(_, labels, value)| (labels, *value))
            .collect()
    }

    /// The names of the metric families declared (`# TYPE name type`).
    pub fn families(&self) -> BTreeSet<String> {
        self.text
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .filter_map(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }
}

/// GETs `url` (a `/metrics` URL) and reads it; asserts the answer is the text format.
pub async fn scrape_url(url: &str) -> Scrape {
    let response = reqwest::get(url).await.expect("a metrics answer");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(response.text().await.unwrap())
}

impl TestApp {
    /// This instance's metrics now.
    pub async fn scrape(&self) -> Scrape {
        scrape_url(&self.metrics_url).await
    }
}
