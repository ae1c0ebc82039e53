//! The binary itself: refusing bad configuration in one line, and shutting down gracefully.

use std::process::{Command, Stdio};
use std::time::Duration;

use fake_wechat::{FakeWechatConfig, Fault};
use sqlx::PgPool;

use crate::helpers::binary::{database_url_of, env_with, run_with, start_listening};
use crate::helpers::config::{APPID, WECHAT_SECRET};
use crate::helpers::reply::assert_error;

#[test]
fn bad_configuration_exits_with_one_line_naming_the_variable() {
    let short_secret = "short-secret-value";
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("DATABASE_URL", None),
        ("WECHAT_APPID", None),
        ("WECHAT_SECRET", None),
        ("JWT_SECRET", None),
        ("JWT_SECRET", Some(short_secret)),
        ("LISTEN_ADDR", Some("not-an-address")),
        ("WECHAT_TIMEOUT_MS", Some("soon")),
        ("ACCESS_TOKEN_TTL", Some("0")),
        ("WECHAT_API_BASE", Some("api.weixin.qq.com")),
    ];
    for (variable, value) in cases {
        let (exit_code, stderr) = run_with(&env_with(variable, value));
        assert_eq!(exit_code, Some(1), "{variable}={value:?} must not start");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
        let expected_start = format!("wxlogin-server: configuration error: {variable} ");
        assert!(
            stderr.starts_with(&expected_start),
            "{stderr:?} names {variable} first"
        );
        assert!(!stderr.contains(short_secret) && !stderr.contains(WECHAT_SECRET));
    }
}

#[test]
fn an_unreachable_database_at_start_is_one_line_without_the_password() {
    let env = env_with(
        "DATABASE_URL",
        Some("postgres://postgres:hunter2-db-password@127.0.0.1:1/none"),
    );
    let (exit_code, stderr) = run_with(&env);
    assert_eq!(exit_code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.starts_with("wxlogin-server: cannot connect to the database at DATABASE_URL: "),
        "{stderr:?}"
    );
    assert!(!stderr.contains("hunter2-db-password"));
}

#[sqlx::test(migrations = false)]
async fn an_unreachable_migration_database_is_one_line_without_the_password(db: PgPool) {
    let mut env = env_with("DATABASE_URL", Some(&database_url_of(&db)));
    env.push((
        "DATABASE_MIGRATION_URL",
        "postgres://postgres:hunter2-db-password@127.0.0.1:1/none".into(),
    ));
    let (exit_code, stderr) = run_with(&env);
    assert_eq!(exit_code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.starts_with(
            "wxlogin-server: cannot connect to the database at DATABASE_MIGRATION_URL: "
        ),
        "{stderr:?}"
    );
    assert!(!stderr.contains("hunter2-db-password"));
    // Nothing was migrated over DATABASE_URL instead.
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('users') IS NOT NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!migrated);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn sigterm_lets_the_in_flight_login_finish_then_exits_cleanly(db: PgPool) {
    let fake = fake_wechat::FakeWechat::start(FakeWechatConfig::new(APPID, WECHAT_SECRET)).await;
    let mut env = env_with("DATABASE_URL", Some(&database_url_of(&db)));
    env.extend([
        ("LISTEN_ADDR", "127.0.0.1:0".into()),
        ("METRICS_ADDR", "off".into()),
        ("WECHAT_API_BASE", fake.base_url()),
        ("WECHAT_TIMEOUT_MS", "1000".into()),
        ("RUST_LOG", "warn".into()),
    ]);
    let (mut server, base_url) = start_listening(&env, Stdio::null());

    // A login that WeChat keeps waiting, in flight when the signal arrives.
    fake.inject(Fault::Hang, 1);
    let code = fake.issue_code("openid-shutdown");
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base_url}/api/auth/login"))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
    });
    while fake.jscode2session_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request got an answer");
    assert_error(response, 502, "upstream_error").await;
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exited with {status}");
}
