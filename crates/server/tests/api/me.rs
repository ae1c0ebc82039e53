//! `GET /api/me` and every way a bearer token can be wrong.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::helpers::{assert_error, TestApp, JWT_SECRET};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn me_returns_the_logged_in_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-me").await;

    let response = app.get_me(login["access_token"].as_str().unwrap()).await;

    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me, login["user"]);
    let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avatar_url",
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
    let claims = payload(login["access_token"].as_str().unwrap());
    let mut keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["exp", "iat", "iss", "sid", "sub"]);
    assert_eq!(claims["iss"], "wxlogin");
    assert_eq!(claims["sub"], login["user"]["id"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn bad_tokens_are_rejected_with_a_bearer_challenge(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-victim").await;
    let good = login["access_token"].as_str().unwrap();
    let user_id = login["user"]["id"].as_str().unwrap();
    let sid = payload(good)["sid"].as_str().unwrap().to_owned();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = |iat: i64, exp: i64, iss: &str| json!({ "sub": user_id, "sid": sid, "iat": iat, "exp": exp, "iss": iss });
    // The forgeries below differ from a good token in one respect each; this one differs in none,
    // which shows that the rest are refused for the respect named.
    let control = sign(&claims(now, now + 3600, "wxlogin"), JWT_SECRET);
    assert_eq!(app.get_me(&control).await.status(), 200);

    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", tamper(good)),
        (
            "expired",
            sign(&claims(now - 7300, now - 100, "wxlogin"), JWT_SECRET),
        ),
        (
            "another key",
            sign(
                &claims(now, now + 3600, "wxlogin"),
                "some-other-key-of-enough-length-0123456789",
            ),
        ),
        (
            "another issuer",
            sign(&claims(now, now + 3600, "evil"), JWT_SECRET),
        ),
        ("alg none", unsigned(&claims(now, now + 3600, "wxlogin"))),
        (
            "HS512",
            sign_with(
                Algorithm::HS512,
                &claims(now, now + 3600, "wxlogin"),
                JWT_SECRET,
            ),
        ),
        (
            "not a user id",
            sign(
                &json!({ "sub": "admin", "iat": now, "exp": now + 60, "iss": "wxlogin" }),
                JWT_SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &json!({ "sub": user_id, "iat": now, "iss": "wxlogin" }),
                JWT_SECRET,
            ),
        ),
        ("garbage", "not.a.jwt".into()),
        ("truncated", good[..good.len() - 5].into()),
    ];
    for (case, token) in cases {
        let headers = assert_error(app.get_me(&token).await, 401, "invalid_token").await;
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{case}"
        );
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn missing_or_malformed_authorization_headers_are_rejected(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.login_as("openid-header").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let no_header = app.http.get(app.url("/api/me")).send().await.unwrap();
    assert_error(no_header, 401, "invalid_token").await;
    for value in [
        "Bearer",
        "Bearer ",
        &format!("Basic {token}"),
        &token,
        "Bearer  ",
    ] {
        let response = app
            .http
            .get(app.url("/api/me"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_error(response, 401, "invalid_token").await;
    }
    // The scheme is case-insensitive.
    let lower = app
        .http
        .get(app.url("/api/me"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_for_a_deleted_user_is_rejected(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-gone").await;
    sqlx::query("DELETE FROM users")
        .execute(&app.db)
        .await
        .unwrap();
    let response = app.get_me(login["access_token"].as_str().unwrap()).await;
    assert_error(response, 401, "invalid_token").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn unknown_routes_and_methods_use_the_error_shape(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let missing = app.http.get(app.url("/api/nope")).send().await.unwrap();
    assert_error(missing, 404, "not_found").await;
    let wrong_method = app
        .http
        .get(app.url("/api/auth/login"))
        .send()
        .await
        .unwrap();
    assert_error(wrong_method, 405, "method_not_allowed").await;
}

pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn sign(claims: &Value, key: &str) -> String {
    sign_with(Algorithm::HS256, claims, key)
}

fn sign_with(alg: Algorithm, claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn unsigned(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// The same signature over a payload whose `sub` names someone else.
fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = payload(token);
    claims["sub"] = json!("00000000-0000-4000-8000-000000000000");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    parts.join(".")
}
