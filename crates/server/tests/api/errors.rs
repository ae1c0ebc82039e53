//! Every row of the login error table: the status, the stable code, and that nothing was
//! written and no token was issued.

use std::time::Duration;

use fake_wechat::{FakeWechatConfig, Fault};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::helpers::{assert_error, captured_logs, Options, TestApp, APPID, WECHAT_SECRET};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn malformed_bodies_are_invalid_requests_and_never_reach_wechat(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let too_long = format!(r#"{{"code":"{}"}}"#, "a".repeat(129));
    let bodies = [
        "not json",
        "",
        "[]",
        r#"{"code":"abc""#,
        r#"{}"#,
        r#"{"code":null}"#,
        r#"{"code":42}"#,
        r#"{"code":["abc"]}"#,
        r#"{"code":""}"#,
        &too_long,
        r#"{"code":"abc\u0000def"}"#,
        r#"{"code":"abc\ndef"}"#,
        r#"{"code":"abc\u001bdef"}"#,
    ];
    for body in bodies {
        let response = app.login_raw(body.to_owned()).await;
        assert_error(response, 400, "invalid_request").await;
    }
    assert_eq!(app.fake.jscode2session_calls(), 0);
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_code_of_exactly_128_characters_is_passed_to_wechat(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = app.login(&"a".repeat(128)).await;
    // The fake does not know the code, so WeChat (not our validation) refuses it.
    assert_error(response, 401, "invalid_code").await;
    assert_eq!(app.fake.jscode2session_calls(), 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_oversized_body_is_refused_before_parsing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let body = format!(r#"{{"code":"abc","pad":"{}"}}"#, "x".repeat(64 * 1024));
    assert_error(app.login_raw(body).await, 413, "payload_too_large").await;
    assert_eq!(app.fake.jscode2session_calls(), 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn unknown_expired_and_reused_codes_are_invalid_codes(db: PgPool) {
    let app = TestApp::spawn_with(
        db,
        Options {
            fake: FakeWechatConfig::new(APPID, WECHAT_SECRET).code_ttl(Duration::from_millis(200)),
            ..Options::default()
        },
    )
    .await;

    // 40029: a code WeChat never issued.
    assert_error(app.login("never-issued").await, 401, "invalid_code").await;

    // 40163: a code already spent.
    let code = app.fake.issue_code("openid-reuse");
    assert_eq!(app.login(&code).await.status(), 200);
    assert_error(app.login(&code).await, 401, "invalid_code").await;

    // 40029 again: a code past its lifetime. Sleeping ages the code; nothing waits on a server.
    let stale = app.fake.issue_code("openid-stale");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(app.login(&stale).await, 401, "invalid_code").await;

    assert_eq!(
        app.user_count().await,
        1,
        "only the one good login made a user"
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_blocked_user_is_forbidden(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.inject(Fault::Errcode(40226), 1);
    let response = app.login(&app.fake.issue_code("openid-risky")).await;
    assert_error(response, 403, "user_blocked").await;
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wechat_rate_limiting_is_passed_on_with_retry_after(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.inject(Fault::Errcode(45011), 1);
    let response = app.login(&app.fake.issue_code("openid-hasty")).await;
    let headers = assert_error(response, 429, "rate_limited").await;
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        app.fake.jscode2session_calls(),
        1,
        "a rate limit is not retried"
    );
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wechat_busy_three_times_is_upstream_busy(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.inject(Fault::Errcode(-1), 3);
    let response = app.login(&app.fake.issue_code("openid-busy")).await;
    assert_error(response, 503, "upstream_busy").await;
    assert_eq!(app.fake.jscode2session_calls(), 3);
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wechat_busy_twice_then_fine_logs_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.inject(Fault::Errcode(-1), 2);
    let response = app.login(&app.fake.issue_code("openid-patient")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.fake.jscode2session_calls(), 3);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_wechat_500_or_garbage_is_an_upstream_error(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for fault in [Fault::ServerError, Fault::Garbage] {
        app.fake.inject(fault, 1);
        let response = app.login(&app.fake.issue_code("openid-unlucky")).await;
        assert_error(response, 502, "upstream_error").await;
    }
    assert_eq!(app.fake.jscode2session_calls(), 2, "neither is retried");
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_hanging_wechat_is_cut_off_at_the_timeout(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("WECHAT_TIMEOUT_MS", "300".into())]).await;
    app.fake.inject(Fault::Hang, 1);
    let started = std::time::Instant::now();
    let response = app.login(&app.fake.issue_code("openid-waiting")).await;
    assert_error(response, 502, "upstream_error").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(app.user_count().await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wrong_appid_or_secret_is_a_loud_server_misconfiguration(db: PgPool) {
    for (variable, value, errcode) in [
        ("WECHAT_APPID", "wxsomeoneelse0000", 40013),
        ("WECHAT_SECRET", "not-the-secret", 40125),
    ] {
        let app = TestApp::spawn_with_env(db.clone(), vec![(variable, value.to_owned())]).await;
        let response = app.login(&app.fake.issue_code("openid-any")).await;
        assert_error(response, 500, "server_misconfigured").await;
        let logs = captured_logs();
        assert!(
            logs.lines().any(|line| line.contains("ERROR")
                && line.contains("WeChat rejected the configured credentials")
                && line.contains(&format!("errcode {errcode}"))),
            "an error-level line names the problem"
        );
        assert_eq!(app.user_count().await, 0);
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_unreachable_database_is_unavailable(db: PgPool) {
    drop(db);
    // Port 1 on loopback refuses connections: a database that is down.
    let dead = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/wxlogin")
        .unwrap();
    let app = TestApp::spawn(dead).await;

    let response = app.login(&app.fake.issue_code("openid-downtime")).await;

    assert_error(response, 503, "unavailable").await;
}
