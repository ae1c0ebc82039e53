//! `GET /api/me` and the claims of the token it takes. Every way a token can be wrong is in the
//! fast tier (`router_tokens`).

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::reply::keys_of;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{payload, token};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn me_returns_the_logged_in_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-me").await;

    let response = app.get_me(token(&login, "access_token")).await;

    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me, login["user"]);
    assert_eq!(
        keys_of(&me),
        [
            "avatar_url",
            "consent_required",
            "created_at",
            "id",
            "nickname",
            "openid",
            "phone",
            "phone_country_code",
            "unionid"
        ]
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_token_carries_only_the_documented_claims(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-claims").await;
    let claims = payload(token(&login, "access_token"));
    assert_eq!(keys_of(&claims), ["exp", "iat", "iss", "sid", "sub"]);
    assert_eq!(claims["iss"], "wxlogin");
    assert_eq!(claims["sub"], login["user"]["id"]);
    // `sid` names the session this login opened, which belongs to `sub`.
    let sid: uuid::Uuid = claims["sid"].as_str().unwrap().parse().unwrap();
    let owner: uuid::Uuid = sqlx::query_scalar("SELECT user_id FROM sessions WHERE id = $1")
        .bind(sid)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(owner.to_string(), claims["sub"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );
}
