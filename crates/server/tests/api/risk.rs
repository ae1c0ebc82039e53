//! The risk check at sign-up (getuserriskrank): asked for new users only, blocking at
//! `RISK_BLOCK_RANK` without leaving a row, and following its failure policy.

use fake_wechat::Fault;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::logs::captured_logs;
use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;

fn risk_env(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![("RISK_CHECK", "on".to_owned())];
    env.extend(
        extra
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    env
}

async fn stored_rank(app: &TestApp, openid: &str) -> Option<i16> {
    sqlx::query_scalar("SELECT risk_rank FROM users WHERE openid = $1")
        .bind(openid)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_rank_at_the_block_level_refuses_sign_up_and_leaves_no_row(db: PgPool) {
    let app = TestApp::spawn_with_env(db, risk_env(&[("RISK_BLOCK_RANK", "3")])).await;
    app.fake.set_risk_rank("openid-risky-user", 3);

    let response = app.login(&app.fake.issue_code("openid-risky-user")).await;

    assert_error(response, 403, "user_blocked").await;
    assert_eq!(app.count_rows("users").await, 0);
    assert_eq!(app.count_rows("sessions").await, 0);
    let asked = app.fake.risk_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["scene"], 0);
    assert_eq!(asked[0]["openid"], "openid-risky-user");
    assert_eq!(asked[0]["client_ip"], "127.0.0.1");
    assert_eq!(asked[0]["appid"], app.fake.appid());
    // Blocked again next time: the user was never created, so WeChat is asked again.
    let again = app.login(&app.fake.issue_code("openid-risky-user")).await;
    assert_error(again, 403, "user_blocked").await;
    assert_eq!(app.count_rows("users").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_lower_rank_is_stored_not_shown_and_asked_only_once(db: PgPool) {
    let app = TestApp::spawn_with_env(db, risk_env(&[("RISK_BLOCK_RANK", "3")])).await;
    app.fake.set_risk_rank("openid-rank-two", 2);

    let first = app.login_as("openid-rank-two").await;

    assert_eq!(first["new_user"], true);
    assert!(first["user"].get("risk_rank").is_none(), "{first}");
    assert_eq!(stored_rank(&app, "openid-rank-two").await, Some(2));
    let second = app.login_as("openid-rank-two").await;
    assert_eq!(second["new_user"], false);
    assert_eq!(
        app.fake.risk_requests().len(),
        1,
        "a returning user is not ranked"
    );
    let logs = captured_logs();
    assert!(logs
        .lines()
        .any(|line| line.contains("sign-up risk rank") && line.contains("risk_rank=2")));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn with_the_check_off_wechat_is_never_asked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.set_risk_rank("openid-unchecked", 4);

    let login = app.login_as("openid-unchecked").await;

    assert_eq!(login["new_user"], true);
    assert!(app.fake.risk_requests().is_empty());
    assert_eq!(stored_rank(&app, "openid-unchecked").await, None);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_api_not_enabled_is_logged_once_and_sign_ups_go_on(db: PgPool) {
    let app = TestApp::spawn_with_env(
        db,
        risk_env(&[("RISK_BLOCK_RANK", "1"), ("RISK_CHECK_FAILURE", "reject")]),
    )
    .await;
    app.fake.risk_errcode(Some(48001));

    for openid in ["openid-48001-a", "openid-48001-b", "openid-48001-c"] {
        let login = app.login_as(openid).await;
        assert_eq!(login["new_user"], true);
        assert_eq!(stored_rank(&app, openid).await, None);
    }

    assert_eq!(app.fake.risk_requests().len(), 3);
    let logs = captured_logs();
    let reports: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("getuserriskrank is not enabled for this app"))
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("ERROR"), "{}", reports[0]);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn other_failures_let_sign_up_through_by_default(db: PgPool) {
    let app = TestApp::spawn_with_env(db, risk_env(&[("RISK_BLOCK_RANK", "1")])).await;
    // The user was not seen by WeChat lately, then WeChat is busy on every try.
    app.fake.inject_risk(Fault::Errcode(61010), 1);
    let login = app.login_as("openid-61010").await;
    assert_eq!(login["new_user"], true);
    app.fake.inject_risk(Fault::Errcode(-1), 3);
    let login = app.login_as("openid-busy-risk").await;
    assert_eq!(login["new_user"], true);

    assert_eq!(app.count_rows("users").await, 2);
    assert_eq!(stored_rank(&app, "openid-61010").await, None);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn under_the_reject_policy_a_failed_check_refuses_sign_up_without_a_row(db: PgPool) {
    let app = TestApp::spawn_with_env(db, risk_env(&[("RISK_CHECK_FAILURE", "reject")])).await;
    app.fake.inject_risk(Fault::Errcode(61010), 1);

    let response = app.login(&app.fake.issue_code("openid-reject")).await;

    assert_error(response, 503, "upstream_busy").await;
    assert_eq!(app.count_rows("users").await, 0);
    // Once WeChat answers, the same user signs up, with the rank recorded.
    let login: Value = app.login_as("openid-reject").await;
    assert_eq!(login["new_user"], true);
    assert_eq!(stored_rank(&app, "openid-reject").await, Some(0));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn two_first_logins_at_once_make_one_user(db: PgPool) {
    let app = TestApp::spawn_with_env(db, risk_env(&[("RISK_BLOCK_RANK", "4")])).await;
    app.fake.set_risk_rank("openid-twice", 1);
    let (first, second) = (
        app.fake.issue_code("openid-twice"),
        app.fake.issue_code("openid-twice"),
    );

    let (a, b) = futures::join!(app.login(&first), app.login(&second));

    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["user"]["id"], b["user"]["id"], "{a} {b}");
    let created = [&a, &b]
        .iter()
        .filter(|login| login["new_user"] == true)
        .count();
    assert_eq!(created, 1);
    assert_eq!(app.count_rows("users").await, 1);
    assert_eq!(stored_rank(&app, "openid-twice").await, Some(1));
}
