//! Logout, logout-all, the sessions list, and revocation seen by another instance.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::helpers::reply::{assert_error, keys_of};
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{session_id, token};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn logout_ends_the_session_and_only_that_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let phone = app.login_as("openid-two-devices").await;
    let tablet = app.login_as("openid-two-devices").await;

    let response = app
        .post_bearer("/api/auth/logout", token(&phone, "access_token"))
        .await;
    assert_eq!(response.status(), 204);

    app.assert_pair_dead(&phone).await;
    app.assert_access_live(&tablet).await;
    assert_eq!(
        app.refresh(token(&tablet, "refresh_token")).await.status(),
        200
    );
    // Logging out twice is refused like any other dead token.
    let again = app
        .post_bearer("/api/auth/logout", token(&phone, "access_token"))
        .await;
    assert_error(again, 401, "invalid_token").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn logout_all_ends_every_session_of_the_user_and_no_one_elses(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let devices = [
        app.login_as("openid-everywhere").await,
        app.login_as("openid-everywhere").await,
        app.login_as("openid-everywhere").await,
    ];
    let neighbour = app.login_as("openid-neighbour").await;

    let response = app
        .post_bearer("/api/auth/logout-all", token(&devices[0], "access_token"))
        .await;
    assert_eq!(response.status(), 204);

    for device in &devices {
        app.assert_pair_dead(device).await;
    }
    app.assert_access_live(&neighbour).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn another_instance_rejects_a_revoked_session_within_the_cache_ttl(db: PgPool) {
    let ttl = vec![("SESSION_CACHE_TTL", "1".to_owned())];
    let first = TestApp::spawn_with_env(db, ttl.clone()).await;
    let second = first.another_instance(&ttl).await;
    let login = first.login_as("openid-roaming").await;
    let access = token(&login, "access_token");
    assert_eq!(
        second.get_me(access).await.status(),
        200,
        "the second instance now caches the session as live"
    );

    assert_eq!(
        first.post_bearer("/api/auth/logout", access).await.status(),
        204
    );
    let logged_out = std::time::Instant::now();

    assert_error(first.get_me(access).await, 401, "invalid_token").await;
    // The second instance answers from its cache, without a database round trip, until the
    // TTL runs out; then it must refuse.
    assert_eq!(second.get_me(access).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(logged_out.elapsed())).await;
    assert_error(second.get_me(access).await, 401, "invalid_token").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_sessions_list_shows_live_sessions_and_marks_the_current_one(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mut logins = Vec::new();
    for agent in ["iPhone WeChat/8.0.50", "Android WeChat/8.0.49"] {
        logins.push(app.login_from_device("openid-lister", Some(agent)).await);
    }
    let ended = app.login_as("openid-lister").await;
    let logout = app
        .post_bearer("/api/auth/logout", token(&ended, "access_token"))
        .await;
    assert_eq!(logout.status(), 204);

    let list = app.list_sessions(&logins[0]).await;

    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(
        sessions.len(),
        2,
        "the logged-out session is not listed: {list}"
    );
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "iPhone WeChat/8.0.50");
    assert_eq!(
        current[0]["id"],
        session_id(token(&logins[0], "access_token"))
    );
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "Android WeChat/8.0.49");
    assert_eq!(other["id"], session_id(token(&logins[1], "access_token")));
    for session in sessions {
        assert_eq!(
            keys_of(session),
            ["created_at", "current", "id", "last_used_at", "user_agent"]
        );
        for field in ["created_at", "last_used_at"] {
            let stamp = session[field].as_str().unwrap();
            OffsetDateTime::parse(stamp, &Rfc3339)
                .unwrap_or_else(|err| panic!("{field} {stamp:?} is not RFC 3339: {err}"));
        }
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_session_can_be_ended_by_its_owner_and_never_by_another_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mine = app.login_as("openid-owner").await;
    let my_other = app.login_as("openid-owner").await;
    let theirs = app.login_as("openid-intruder").await;
    let session_of = |body: &Value| session_id(token(body, "access_token"));

    // Another user's session id is a 404, exactly like an unknown or malformed one.
    let attempt = app.end_session(&session_of(&mine), &theirs).await;
    assert_error(attempt, 404, "not_found").await;
    app.assert_access_live(&mine).await;
    let unknown = app
        .end_session("00000000-0000-4000-8000-000000000000", &theirs)
        .await;
    assert_error(unknown, 404, "not_found").await;
    let malformed = app.end_session("not-a-uuid", &theirs).await;
    assert_error(malformed, 404, "not_found").await;
    let theirs_list = app.list_sessions(&theirs).await;
    let listed: Vec<&Value> = theirs_list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| &session["id"])
        .collect();
    assert_eq!(listed, [&session_of(&theirs)], "only their own session");

    let ended = app.end_session(&session_of(&my_other), &mine).await;
    assert_eq!(ended.status(), 204);
    app.assert_pair_dead(&my_other).await;
    app.assert_access_live(&mine).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_long_user_agent_is_cut_and_a_missing_one_is_null(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // reqwest sends no User-Agent unless told to.
    let without = app.login_from_device("openid-agent", None).await;
    let long = app
        .login_from_device("openid-agent", Some(&"码".repeat(300)))
        .await;

    let list = app.list_sessions(&long).await;
    let agent_of = |current: bool| {
        list["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == current)
            .unwrap()["user_agent"]
            .clone()
    };
    assert_eq!(agent_of(true), Value::String("码".repeat(256)));
    assert_eq!(agent_of(false), Value::Null);
    app.assert_access_live(&without).await;
}
