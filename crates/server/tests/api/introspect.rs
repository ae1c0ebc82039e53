//! Introspection of tokens from real logins: what a business service learns, and how soon it
//! learns of a logout made on another instance. The endpoint's rules are in the fast tier
//! (`router_introspect`).

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::introspection::introspection_env;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{payload, token};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_logout_on_one_instance_reaches_introspection_on_another_within_the_cache_ttl(
    db: PgPool,
) {
    let mut env = introspection_env();
    env.push(("TOKEN_AUDIENCE", "orders".to_owned()));
    env.push(("SESSION_CACHE_TTL", "1".to_owned()));
    let first = TestApp::spawn_with_env(db, env.clone()).await;
    let second = first.another_instance(&env).await;
    let login = first.login_as("openid-introspected").await;
    let access = token(&login, "access_token");
    let claims = payload(access);
    assert_eq!(claims["aud"], "orders", "one name is written as a string");

    let answer = introspection(&second, access).await;
    assert_eq!(
        answer,
        json!({
            "active": true,
            "sub": login["user"]["id"],
            "sid": claims["sid"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "iss": "wxlogin",
            "aud": "orders",
            "token_type": "Bearer",
        })
    );

    let logout = first.post_bearer("/api/auth/logout", access).await;
    assert_eq!(logout.status(), 204);
    let logged_out = std::time::Instant::now();
    let inactive = json!({ "active": false });
    assert_eq!(
        introspection(&first, access).await,
        inactive,
        "at once where it happened"
    );
    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(logged_out.elapsed())).await;
    assert_eq!(
        introspection(&second, access).await,
        inactive,
        "within SESSION_CACHE_TTL elsewhere"
    );
}

async fn introspection(app: &TestApp, token: &str) -> Value {
    app.introspect(token).await.json().await.unwrap()
}
