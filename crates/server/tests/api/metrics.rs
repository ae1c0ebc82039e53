//! `GET /metrics` on its own listener: the counters a login, a failed login, a refresh and
//! refused tokens move, by exactly how much; route labels that are templates; nothing secret.

use sqlx::PgPool;

use crate::helpers::config::{JWT_SECRET, SESSION_KEY_SECRET, WECHAT_SECRET};
use crate::helpers::metrics::Scrape;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::token;

const LOGINS: &str = "wxlogin_logins_total";
const REFRESHES: &str = "wxlogin_refreshes_total";
const REQUESTS: &str = "wxlogin_http_requests_total";
const WECHAT_CALLS: &str = "wxlogin_wechat_calls_total";
const REJECTIONS: &str = "wxlogin_token_rejections_total";

/// How much the sample `name` with `labels` moved from `before` to `after`.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_login_and_a_failed_login_move_their_counters_by_one_each(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let before = app.scrape().await;

    let pair = app.login_as("openid-counted").await;
    let failed = app.login("a-code-wechat-never-issued").await;
    assert_eq!(failed.status(), 401);

    let after = app.scrape().await;
    let moved = |name, labels: &[(&str, &str)]| delta(&before, &after, name, labels);
    assert_eq!(moved(LOGINS, &[("outcome", "ok")]), 1.0);
    assert_eq!(moved(LOGINS, &[("outcome", "invalid_code")]), 1.0);
    assert_eq!(after.series(LOGINS).len(), 2, "{}", after.text);
    let login = [("method", "POST"), ("route", "/api/auth/login")];
    let with_status = |status| [login[0], login[1], ("status", status)];
    assert_eq!(moved(REQUESTS, &with_status("200")), 1.0);
    assert_eq!(moved(REQUESTS, &with_status("401")), 1.0);
    assert_eq!(
        moved("wxlogin_http_request_duration_seconds_count", &login),
        2.0
    );
    let jscode2session = |result| [("api", "jscode2session"), ("result", result)];
    assert_eq!(moved(WECHAT_CALLS, &jscode2session("ok")), 1.0);
    assert_eq!(moved(WECHAT_CALLS, &jscode2session("40029")), 1.0);
    assert_eq!(
        moved(
            "wxlogin_wechat_call_duration_seconds_count",
            &[("api", "jscode2session")]
        ),
        2.0
    );
    assert_eq!(
        after.value(
            "wxlogin_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    let pool: f64 = after
        .series("wxlogin_db_pool_connections")
        .iter()
        .map(|(labels, count)| {
            assert!(["idle", "in_use"].contains(&labels["state"].as_str()));
            count
        })
        .sum();
    assert!(pool >= 1.0, "the logins used the pool: {}", after.text);

    let secrets = [
        WECHAT_SECRET,
        JWT_SECRET,
        SESSION_KEY_SECRET,
        token(&pair, "access_token"),
        token(&pair, "refresh_token"),
        "a-code-wechat-never-issued",
    ];
    for secret in secrets {
        assert!(!after.text.contains(secret), "{secret} in the metrics");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn refreshes_and_refused_tokens_are_counted_by_outcome_and_reason(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let pair = app.login_as("openid-refreshing").await;
    let before = app.scrape().await;

    let renewed = app.refresh(token(&pair, "refresh_token")).await;
    assert_eq!(renewed.status(), 200);
    let renewed: serde_json::Value = renewed.json().await.unwrap();
    assert_eq!(app.refresh("not-a-refresh-token").await.status(), 401);
    assert_eq!(app.get_me("not.a.jwt").await.status(), 401);
    assert_eq!(app.get("/api/me").await.status(), 401);
    let access = token(&renewed, "access_token");
    assert_eq!(
        app.post_bearer("/api/auth/logout", access).await.status(),
        204
    );
    assert_eq!(app.get_me(access).await.status(), 401);

    let after = app.scrape().await;
    let moved = |name, labels: &[(&str, &str)]| delta(&before, &after, name, labels);
    assert_eq!(moved(REFRESHES, &[("outcome", "ok")]), 1.0);
    assert_eq!(moved(REFRESHES, &[("outcome", "invalid_token")]), 1.0);
    assert_eq!(moved(LOGINS, &[("outcome", "ok")]), 0.0);
    assert_eq!(moved(REJECTIONS, &[("reason", "malformed")]), 1.0);
    assert_eq!(moved(REJECTIONS, &[("reason", "missing")]), 1.0);
    assert_eq!(moved(REJECTIONS, &[("reason", "revoked")]), 1.0);
    let rejected: f64 = after.series(REJECTIONS).iter().map(|(_, n)| n).sum();
    assert_eq!(rejected, 3.0, "{}", after.text);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn routes_are_labelled_by_template_and_odd_methods_share_one_label(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let id = uuid::Uuid::new_v4();
    assert_eq!(app.get(&format!("/avatars/{id}")).await.status(), 404);
    assert_eq!(app.get(&format!("/no/such/{id}")).await.status(), 404);
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    let teapot = app.send(app.http.request(brew, app.url("/healthz"))).await;
    assert_eq!(teapot.status(), 405);

    let scrape = app.scrape().await;
    let requests = |method, route, status| {
        scrape.value(
            REQUESTS,
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/avatars/{id}", "404"), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    assert_eq!(requests("OTHER", "/healthz", "405"), 1.0);
    assert!(!scrape.text.contains(&id.to_string()), "{}", scrape.text);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_public_port_does_not_serve_metrics(db: PgPool) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    assert_eq!(
        reqwest::get(app.metrics_url.replace("/metrics", "/healthz"))
            .await
            .unwrap()
            .status(),
        404
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_login_refused_before_its_handler_runs_is_counted_by_its_code(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("RATE_LIMIT_LOGIN", "1/60".into())]).await;
    let first = app.login("not a code!").await;
    assert_eq!(first.status(), 400);
    assert_eq!(app.login("any-code").await.status(), 429);

    let scrape = app.scrape().await;
    assert_eq!(scrape.value(LOGINS, &[("outcome", "invalid_request")]), 1.0);
    assert_eq!(scrape.value(LOGINS, &[("outcome", "rate_limited")]), 1.0);
    assert_eq!(scrape.value(LOGINS, &[("outcome", "ok")]), 0.0);
    assert!(scrape.series(WECHAT_CALLS).is_empty(), "{}", scrape.text);
}
