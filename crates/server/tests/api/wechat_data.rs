//! Encrypted user data and session_key health, with data encrypted here under the key the fake
//! WeChat handed out. Requests without both fields are in the fast tier (`router_validation`).

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::config::APPID;
use crate::helpers::reply::{assert_error, Reply};
use crate::helpers::server::TestApp;
use crate::helpers::wechat::encrypt;

const IV: [u8; 16] = *b"0123456789abcdef";

fn iv() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(IV)
}

fn werun(appid: &str) -> Value {
    json!({
        "stepInfoList": [
            { "timestamp": 1_445_866_601, "step": 100 },
            { "timestamp": 1_445_953_001, "step": 120 }
        ],
        "watermark": { "appid": appid, "timestamp": 1_477_314_187 }
    })
}

fn encrypt_json(key: &str, value: &Value) -> String {
    encrypt(key, &IV, value.to_string().as_bytes())
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn data_encrypted_under_the_session_key_round_trips(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-werun").await;
    let key = app.fake.session_key_of("openid-werun").unwrap();

    let response = app
        .decrypt(&token, &encrypt_json(&key, &werun(APPID)), &iv())
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, werun(APPID));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn data_under_a_newer_session_key_is_a_stale_key_until_the_next_login(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-stale").await;
    // The user logged in on another device: WeChat now encrypts under a key we do not hold.
    let newer = app.fake.rotate_session_key("openid-stale");
    let encrypted = encrypt_json(&newer, &werun(APPID));

    let response = app.decrypt(&token, &encrypted, &iv()).await;

    assert_error(response, 409, "session_key_stale").await;
    // Logging in again brings the server the newest key; data encrypted under it decrypts.
    let token = app.token_for("openid-stale").await;
    let key = app.fake.session_key_of("openid-stale").unwrap();
    let response = app
        .decrypt(&token, &encrypt_json(&key, &werun(APPID)), &iv())
        .await;
    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_watermark_for_another_app_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-foreign").await;
    let key = app.fake.session_key_of("openid-foreign").unwrap();

    let response = app
        .decrypt(
            &token,
            &encrypt_json(&key, &werun("wxanotherapp000000")),
            &iv(),
        )
        .await;

    assert_error(response, 400, "invalid_encrypted_data").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn damaged_base64_is_refused_and_plus_turned_space_is_named(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-damaged").await;
    let key = app.fake.session_key_of("openid-damaged").unwrap();
    // Try payloads until one's base64 has a '+', as real ones usually do.
    let encrypted = (0..100)
        .map(|n| {
            let mut data = werun(APPID);
            data["n"] = json!(n);
            encrypt_json(&key, &data)
        })
        .find(|text| text.contains('+'))
        .expect("some ciphertext has a '+'");

    // What a form-encoded body or a query string does to '+'.
    let mangled = encrypted.replace('+', " ");
    let reply = Reply::read(app.decrypt(&token, &mangled, &iv()).await).await;
    reply.assert_error(400, "invalid_encrypted_data");
    let body = reply.json();
    let message = body["error"]["message"].as_str().unwrap();
    // The message is for humans; it must name the likely cause, in whatever words.
    assert!(
        message.contains("'+'") && message.contains("space"),
        "{message}"
    );

    let truncated = &encrypted[..encrypted.len() - 8];
    let response = app.decrypt(&token, truncated, &iv()).await;
    assert_error(response, 400, "invalid_encrypted_data").await;
    let response = app.decrypt(&token, "%%%not base64%%%", &iv()).await;
    assert_error(response, 400, "invalid_encrypted_data").await;
    let response = app.decrypt(&token, &encrypted, "AAAA").await;
    assert_error(response, 400, "invalid_encrypted_data").await;
    // The intact data still decrypts.
    assert_eq!(app.decrypt(&token, &encrypted, &iv()).await.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn checksession_reports_valid_and_invalid_keys(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-check").await;

    let valid: Value = app
        .get_bearer("/api/auth/session-key", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(valid, json!({ "valid": true }));
    assert_eq!(app.fake.checksession_calls(), 1);

    app.fake.rotate_session_key("openid-check");
    let response = app.get_bearer("/api/auth/session-key", &token).await;
    assert_eq!(response.status(), 200);
    let invalid: Value = response.json().await.unwrap();
    assert_eq!(invalid, json!({ "valid": false }));
    assert_eq!(app.fake.checksession_calls(), 2);

    // Only one access token was ever fetched for both calls.
    assert_eq!(app.fake.stable_token_calls(), 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn checksession_survives_an_expired_access_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-check-expired").await;
    assert_eq!(
        app.get_bearer("/api/auth/session-key", &token)
            .await
            .status(),
        200
    );

    app.fake.expire_access_token();
    let response: Value = app
        .get_bearer("/api/auth/session-key", &token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(response, json!({ "valid": true }));
    assert_eq!(app.fake.stable_token_calls(), 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_reset_replaces_the_key_on_both_sides(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-reset").await;
    let before = app.fake.session_key_of("openid-reset").unwrap();

    let response = app.post_bearer("/api/auth/session-key/reset", &token).await;

    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert_eq!(body, r#"{"reset":true}"#);
    let after = app.fake.session_key_of("openid-reset").unwrap();
    assert_ne!(after, before);
    assert!(!body.contains(&after));
    // The server holds the new key: WeChat accepts it, and data under it decrypts.
    let check: Value = app
        .get_bearer("/api/auth/session-key", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check, json!({ "valid": true }));
    let response = app
        .decrypt(&token, &encrypt_json(&after, &werun(APPID)), &iv())
        .await;
    assert_eq!(response.status(), 200);

    // A key that has already gone stale cannot sign its own reset.
    app.fake.rotate_session_key("openid-reset");
    let response = app.post_bearer("/api/auth/session-key/reset", &token).await;
    assert_error(response, 409, "session_key_stale").await;
}
