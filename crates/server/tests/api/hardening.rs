//! With WeChat in the loop: per-user budgets on the session_key calls, a WeChat answer too large
//! to read, and user agents that would display as something else.

use fake_wechat::Fault;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::token;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn session_key_checks_have_a_per_user_budget(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-check-loop").await;
    for _ in 0..10 {
        let response = app.get_bearer("/api/auth/session-key", &token).await;
        assert_eq!(response.status(), 200);
    }

    let headers = assert_error(
        app.get_bearer("/api/auth/session-key", &token).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(headers.contains_key("retry-after"));
    assert_eq!(
        app.fake.checksession_calls(),
        10,
        "WeChat was not asked again"
    );
    // Another user has a budget of their own.
    let other = app.token_for("openid-check-other").await;
    assert_eq!(
        app.get_bearer("/api/auth/session-key", &other)
            .await
            .status(),
        200
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn session_key_resets_have_a_per_user_budget(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-reset-loop").await;
    for _ in 0..3 {
        let response = app.post_bearer("/api/auth/session-key/reset", &token).await;
        assert_eq!(response.status(), 200);
    }
    let before = app.fake.session_key_of("openid-reset-loop");

    assert_error(
        app.post_bearer("/api/auth/session-key/reset", &token).await,
        429,
        "rate_limited",
    )
    .await;
    assert_eq!(app.fake.session_key_of("openid-reset-loop"), before);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_wechat_answer_too_large_to_be_one_is_not_read_whole(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.inject(Fault::Oversized, 1);

    let response = app.login(&app.fake.issue_code("openid-oversized")).await;

    assert_error(response, 502, "upstream_error").await;
    assert_eq!(app.user_count().await, 0);
    // The next answer, of a normal size, is read as usual.
    app.login_as("openid-oversized").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_sessions_list_shows_user_agents_without_direction_controls(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let spoofing = "Mozilla/5.0 (iPhone) \u{202E}gpj.exe\u{202C} MicroMessenger\u{2066}\u{061C}";
    let pair = app.login_from_device("openid-agent", Some(spoofing)).await;

    let list = app.list_sessions(&pair).await;

    let shown: &Value = &list["sessions"][0]["user_agent"];
    assert_eq!(shown, "Mozilla/5.0 (iPhone) gpj.exe MicroMessenger");
    assert!(token(&pair, "access_token").len() > 10);
}
