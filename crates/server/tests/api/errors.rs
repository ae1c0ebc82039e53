//! Every way WeChat can refuse or fail a login: the status, the stable code, and that nothing
//! was written and no token was issued. Requests refused before WeChat is asked are in the fast
//! tier (`router_validation`).

use std::time::Duration;

use fake_wechat::{FakeWechatConfig, Fault};
use sqlx::PgPool;

use crate::helpers::config::{unreachable_database, APPID, WECHAT_SECRET};
use crate::helpers::logs::captured_logs;
use crate::helpers::reply::assert_error;
use crate::helpers::server::{Options, TestApp};

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
    // WeChat's quotas are per minute and it gives no better hint.
    assert_eq!(headers["retry-after"], "60");
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
    let elapsed = started.elapsed();
    assert_error(response, 502, "upstream_error").await;
    // Cut off by the 300 ms timeout: no sooner, and without waiting on the fake, which never
    // answers.
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "took {elapsed:?}"
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
    let app = TestApp::spawn(unreachable_database()).await;

    let response = app.login(&app.fake.issue_code("openid-downtime")).await;

    assert_error(response, 503, "unavailable").await;
}
