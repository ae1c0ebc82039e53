//! Per-client rate limits on login and refresh: 429 `rate_limited` with `Retry-After`, before
//! WeChat is asked, keyed by the peer unless a trusted proxy names the client.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::reply::{assert_error, Reply};
use crate::helpers::server::TestApp;
use crate::helpers::tokens::token;

async fn spawn(db: PgPool, env: &[(&'static str, &str)]) -> TestApp {
    let env = env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    TestApp::spawn_with_env(db, env).await
}

/// A login with a fresh code for `openid`, sent with `X-Forwarded-For: forwarded` if given.
async fn login_via(app: &TestApp, openid: &str, forwarded: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({ "code": app.fake.issue_code(openid) }));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    app.send(request).await
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn logins_past_the_limit_get_429_with_retry_after_and_never_reach_wechat(db: PgPool) {
    let app = spawn(db, &[("RATE_LIMIT_LOGIN", "3/60")]).await;
    for n in 0..3 {
        assert_eq!(login_via(&app, &format!("o-{n}"), None).await.status(), 200);
    }

    let headers = assert_error(login_via(&app, "o-late", None).await, 429, "rate_limited").await;

    // One login comes back every 20 s; the wait is said in whole seconds.
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (19..=20).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_eq!(
        app.fake.jscode2session_calls(),
        3,
        "the refused login cost no WeChat call"
    );
    assert_eq!(app.user_count().await, 3);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn refreshes_are_limited_on_their_own_allowance(db: PgPool) {
    let app = spawn(
        db,
        &[("RATE_LIMIT_LOGIN", "1/60"), ("RATE_LIMIT_REFRESH", "2/60")],
    )
    .await;
    let mut pair = app.login_as("o-refresher").await;
    for _ in 0..2 {
        let reply = Reply::read(app.refresh(token(&pair, "refresh_token")).await).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        pair = reply.json();
    }

    let refused = app.refresh(token(&pair, "refresh_token")).await;

    assert_error(refused, 429, "rate_limited").await;
    // The refused refresh did not use the token up: it works once the client may send again.
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, 1);
    // And the login allowance, spent by the one login, is another matter.
    assert_error(login_via(&app, "o-other", None).await, 429, "rate_limited").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_forwarded_for_header_from_an_untrusted_peer_changes_nothing(db: PgPool) {
    let app = spawn(db, &[("RATE_LIMIT_LOGIN", "1/60")]).await;
    assert_eq!(
        login_via(&app, "o-1", Some("198.51.100.1")).await.status(),
        200
    );

    let spoofed = login_via(&app, "o-2", Some("198.51.100.2")).await;

    assert_error(spoofed, 429, "rate_limited").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(db: PgPool) {
    let app = spawn(
        db,
        &[
            ("RATE_LIMIT_LOGIN", "1/60"),
            ("TRUSTED_PROXIES", "127.0.0.0/8"),
        ],
    )
    .await;
    assert_eq!(
        login_via(&app, "o-1", Some("198.51.100.1")).await.status(),
        200
    );
    assert_eq!(
        login_via(&app, "o-2", Some("198.51.100.2")).await.status(),
        200
    );

    assert_error(
        login_via(&app, "o-3", Some("198.51.100.1")).await,
        429,
        "rate_limited",
    )
    .await;
    // A client that writes its own header is still the address our proxy appended after it.
    assert_error(
        login_via(&app, "o-4", Some("203.0.113.50, 198.51.100.2")).await,
        429,
        "rate_limited",
    )
    .await;
    assert_eq!(
        login_via(&app, "o-5", Some("198.51.100.2, 198.51.100.3"))
            .await
            .status(),
        200
    );
}
