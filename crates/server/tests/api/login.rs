//! Logging in: users are created once, found again, and told apart per openid.

use fake_wechat::Identity;
use futures::future::join_all;
use secrecy::ExposeSecret;
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;
use wxlogin_server::SessionKeySealer;

use crate::helpers::config::{APPID, SESSION_KEY_SECRET};
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{payload, token};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_first_login_creates_the_user_and_returns_a_bearer_token(db: PgPool) {
    let app = TestApp::spawn(db).await;

    let response = app.login(&app.fake.issue_code("openid-first")).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 7200);
    assert_eq!(body["new_user"], true);
    let access_token = token(&body, "access_token");
    assert_eq!(access_token.split('.').count(), 3, "a JWT: {access_token}");
    assert_eq!(payload(access_token)["sub"], body["user"]["id"]);
    let user = &body["user"];
    assert_eq!(user["openid"], "openid-first");
    assert_eq!(user["unionid"], Value::Null);
    assert_eq!(user["nickname"], Value::Null);
    let id: Uuid = user["id"].as_str().unwrap().parse().unwrap();
    let (openid, appid): (String, String) =
        sqlx::query_as("SELECT openid, appid FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((openid.as_str(), appid.as_str()), ("openid-first", APPID));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_returning_user_keeps_their_id_and_gets_a_newer_last_login(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let first = app.login_as("openid-again").await;
    let first_login_at = last_login_at(&app, &first).await;

    let second = app.login_as("openid-again").await;

    assert_eq!(second["user"]["id"], first["user"]["id"]);
    assert_eq!(second["new_user"], false);
    assert_eq!(second["user"]["created_at"], first["user"]["created_at"]);
    assert!(last_login_at(&app, &second).await > first_login_at);
    assert_eq!(app.user_count().await, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn twenty_concurrent_first_logins_of_one_person_make_one_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let codes: Vec<String> = (0..20)
        .map(|_| app.fake.issue_code("openid-race"))
        .collect();

    let responses = join_all(codes.iter().map(|code| app.login(code))).await;

    let mut ids = Vec::new();
    let mut new_users = 0;
    for response in responses {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        ids.push(body["user"]["id"].as_str().unwrap().to_owned());
        new_users += usize::from(body["new_user"] == true);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every login names the same user");
    assert_eq!(new_users, 1, "exactly one login created the user");
    assert_eq!(app.user_count().await, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn different_openids_are_different_users(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let alice = app.login_as("openid-alice").await;
    let bob = app.login_as("openid-bob").await;
    assert_ne!(alice["user"]["id"], bob["user"]["id"]);
    assert_eq!(app.user_count().await, 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_unionid_is_stored_and_filled_in_when_it_first_appears(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let before = app.login_as("openid-union").await;
    assert_eq!(before["user"]["unionid"], Value::Null);

    let code = app
        .fake
        .issue_code_for(Identity::new("openid-union", Some("union-123".into())));
    let after: Value = app.login(&code).await.json().await.unwrap();

    assert_eq!(after["user"]["id"], before["user"]["id"]);
    assert_eq!(after["user"]["unionid"], "union-123");
    // A later login without a unionid does not erase it.
    let again = app.login_as("openid-union").await;
    assert_eq!(again["user"]["unionid"], "union-123");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_newest_session_key_is_kept_sealed_on_the_server(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let sealer = SessionKeySealer::from_secret(&SESSION_KEY_SECRET.to_owned().into());
    for _ in 0..2 {
        let body = app.login_as("openid-key").await;
        let id: Uuid = body["user"]["id"].as_str().unwrap().parse().unwrap();
        let sealed: Vec<u8> =
            sqlx::query_scalar("SELECT session_key_sealed FROM wechat_sessions WHERE user_id = $1")
                .bind(id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        let latest = app.fake.session_key_of("openid-key").unwrap();
        assert!(!sealed.windows(latest.len()).any(|w| w == latest.as_bytes()));
        let opened = sealer.open(&sealed, APPID, "openid-key").unwrap();
        assert_eq!(opened.expose_secret(), latest);
    }
}

async fn last_login_at(app: &TestApp, login: &Value) -> OffsetDateTime {
    let id: Uuid = login["user"]["id"].as_str().unwrap().parse().unwrap();
    sqlx::query_scalar("SELECT last_login_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}
