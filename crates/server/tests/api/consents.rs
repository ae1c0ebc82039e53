//! Consent to the privacy policy: recorded with who, when and from where, and told by
//! `consent_required` until the version in force is accepted.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::token;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn accepting_the_version_in_force_is_recorded_and_ends_consent_required(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("PRIVACY_POLICY_VERSION", "2024-05".into())]).await;
    let login = app.login_as("openid-consent").await;
    assert_eq!(login["user"]["consent_required"], true);
    let access = token(&login, "access_token");

    let response = app
        .post_consent(access, json!({ "version": "2024-05" }))
        .await;

    assert_eq!(response.status(), 201);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["consent_required"], false);
    let me: Value = app.get_me(access).await.json().await.unwrap();
    assert_eq!(me["consent_required"], false);
    assert_eq!(me, user);
    let (version, ip, agent, recent): (String, String, Option<String>, bool) = sqlx::query_as(
        "SELECT c.version, c.client_ip, c.user_agent, c.accepted_at > now() - interval '1 minute'
         FROM privacy_consents c JOIN users u ON u.id = c.user_id WHERE u.openid = $1",
    )
    .bind("openid-consent")
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(version, "2024-05");
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(agent.as_deref(), Some("WeChat/8.0.50 MiniProgram"));
    assert!(recent);

    // Accepting again is recorded again: the log keeps every consent.
    let again = app
        .post_consent(access, json!({ "version": "2024-05" }))
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(app.count_rows("privacy_consents").await, 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_unknown_version_is_refused_and_records_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let access = app.token_for("openid-consent-bad").await;

    for body in [
        json!({ "version": "2" }),
        json!({ "version": "" }),
        json!({ "version": 1 }),
        json!({}),
        json!({ "version": "1", "scope": "all" }),
    ] {
        assert_error(
            app.post_consent(&access, body).await,
            400,
            "invalid_request",
        )
        .await;
    }

    assert_eq!(app.count_rows("privacy_consents").await, 0);
    let me: Value = app.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["consent_required"], true);
    assert_error(
        app.post_consent("not-a-token", json!({ "version": "1" }))
            .await,
        401,
        "invalid_token",
    )
    .await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_new_policy_version_asks_for_consent_again(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let access = app.token_for("openid-consent-v2").await;
    assert_eq!(
        app.post_consent(&access, json!({ "version": "1" }))
            .await
            .status(),
        201
    );

    let next = app
        .another_instance(&[("PRIVACY_POLICY_VERSION", "2".into())])
        .await;

    let me: Value = next.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["consent_required"], true);
    assert_error(
        next.post_consent(&access, json!({ "version": "1" })).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(
        next.post_consent(&access, json!({ "version": "2" }))
            .await
            .status(),
        201
    );
    let me: Value = next.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["consent_required"], false);
}
