//! `docs/grafana-dashboard.json` is a dashboard Grafana imports as it is, and every metric it
//! queries is one this server exports.

use std::collections::BTreeSet;

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::server::TestApp;

const DASHBOARD: &str = include_str!("../../../../docs/grafana-dashboard.json");

/// The samples a histogram family `name` is exposed as.
const HISTOGRAM_SUFFIXES: [&str; 3] = ["_bucket", "_sum", "_count"];

/// Every `wxlogin_*` name the dashboard's text mentions.
fn metric_names(text: &str) -> BTreeSet<&str> {
    text.match_indices("wxlogin_")
        .map(|(start, _)| {
            let rest = &text[start..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn the_dashboard_is_importable_as_it_is() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 30);
    assert!(dashboard["title"].is_string() && dashboard["uid"].is_string());
    // No `id`: an imported dashboard gets one from the Grafana it lands in.
    assert!(dashboard.get("id").is_none());
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let datasource = variables
        .iter()
        .find(|variable| variable["type"] == "datasource")
        .expect("a datasource variable, so the import asks for nothing");
    assert_eq!(datasource["query"], "prometheus");
    let name = datasource["name"].as_str().unwrap();

    let panels = dashboard["panels"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    let mut queries = 0;
    for panel in panels {
        assert!(ids.insert(panel["id"].as_u64().unwrap()), "{panel}");
        for key in ["h", "w", "x", "y"] {
            assert!(panel["gridPos"][key].is_u64(), "{panel}");
        }
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"],
            format!("${{{name}}}"),
            "{panel}"
        );
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{panel}");
        for target in targets {
            assert!(target["expr"].as_str().unwrap().contains("wxlogin_"));
            queries += 1;
        }
    }
    assert!(queries >= 10);
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Logins by outcome",
        "Request latency percentiles",
        "WeChat errors",
    ] {
        assert!(titles.iter().any(|t| t.starts_with(wanted)), "{titles:?}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn every_metric_the_dashboard_queries_is_exported(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let pair = app.login_as("openid-dashboard").await;
    assert_eq!(app.login("never-issued").await.status(), 401);
    let refresh_token = pair["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(refresh_token).await.status(), 200);
    assert_eq!(app.get_me("not.a.jwt").await.status(), 401);
    let scrape = app.scrape().await;
    let families = scrape.families();

    let names = metric_names(DASHBOARD);
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let family = HISTOGRAM_SUFFIXES
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| families.contains(*base))
            .unwrap_or(name);
        assert!(families.contains(family), "{name} is not exported");
        assert!(!scrape.series(name).is_empty(), "{name} has no sample");
    }
}
