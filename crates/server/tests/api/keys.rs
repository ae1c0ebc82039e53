//! EdDSA tokens: verified by anyone with the JWKS, key rotation without logging anyone out, and
//! algorithm confusion refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::helpers::{assert_error, TestApp};
use crate::me::payload;

const SEAL_SECRET: &str = "session-key-sealing-secret-for-tests-0001";

fn new_key_pem() -> String {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string()
}

fn eddsa(private: &str, previous: &[&str]) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_ALG", "EdDSA".to_owned()),
        ("JWT_PRIVATE_KEY", private.to_owned()),
        ("JWT_PREVIOUS_KEYS", previous.join(",")),
        ("SESSION_KEY_SECRET", SEAL_SECRET.to_owned()),
    ]
}

async fn jwks(app: &TestApp) -> Value {
    let response = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    response.json().await.unwrap()
}

/// A verifier that knows nothing of wxlogin's code: RFC 7515 by hand over ed25519-dalek.
fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Value, String> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not three parts".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string());
    let header_json: Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    if header_json["alg"] != "EdDSA" {
        return Err(format!("alg {}", header_json["alg"]));
    }
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header_json["kid"])
        .ok_or("no key with that kid")?;
    if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" {
        return Err("not an Ed25519 key".into());
    }
    let x: [u8; 32] = decode(jwk["x"].as_str().unwrap())?
        .try_into()
        .map_err(|_| "x length")?;
    let key = VerifyingKey::from_bytes(&x).map_err(|e| e.to_string())?;
    let signature = Signature::from_slice(&decode(signature)?).map_err(|e| e.to_string())?;
    key.verify_strict(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    if claims["iss"] != "wxlogin"
        || claims["exp"].as_i64() <= Some(OffsetDateTime::now_utc().unix_timestamp())
    {
        return Err("wrong issuer or expired".into());
    }
    Ok(claims)
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn eddsa_tokens_verify_with_nothing_but_the_published_jwks(db: PgPool) {
    let app = TestApp::spawn_with_env(db, eddsa(&new_key_pem(), &[])).await;
    let login = app.login_as("openid-eddsa").await;
    let access = login["access_token"].as_str().unwrap();
    let keys = jwks(&app).await;

    let claims = verify_with_jwks(access, &keys).unwrap();
    assert_eq!(claims["sub"], login["user"]["id"]);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    assert!(
        keys["keys"][0].get("d").is_none(),
        "the private part is never published"
    );
    assert_eq!(app.get_me(access).await.status(), 200);

    // The same verifier refuses a token whose payload was altered.
    let mut parts: Vec<&str> = access.split('.').collect();
    let forged = URL_SAFE_NO_PAD
        .encode(json!({ "sub": "someone", "iss": "wxlogin", "exp": i64::MAX }).to_string());
    parts[1] = &forged;
    assert!(verify_with_jwks(&parts.join("."), &keys).is_err());
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_rotated_key_keeps_old_tokens_valid_while_new_ones_use_the_new_key(db: PgPool) {
    let old_key = new_key_pem();
    let new_key = new_key_pem();
    let before = TestApp::spawn_with_env(db, eddsa(&old_key, &[])).await;
    let old_login = before.login_as("openid-rotation").await;
    let old_access = old_login["access_token"].as_str().unwrap();

    // The key file form, as an operator would deploy it.
    let old_key_file =
        std::env::temp_dir().join(format!("wxlogin-old-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&old_key_file, &old_key).unwrap();
    let retired = format!("@{}", old_key_file.display());
    let after = before.another_instance(&eddsa(&new_key, &[&retired])).await;

    assert_eq!(
        after.get_me(old_access).await.status(),
        200,
        "old tokens still verify"
    );
    let new_login = after.login_as("openid-rotation").await;
    let new_access = new_login["access_token"].as_str().unwrap();
    let kid = |token: &str| {
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    assert_ne!(
        kid(new_access),
        kid(old_access),
        "new tokens use the new key"
    );
    let keys = jwks(&after).await;
    assert_eq!(
        keys["keys"].as_array().unwrap().len(),
        2,
        "both keys are published"
    );
    verify_with_jwks(old_access, &keys).unwrap();
    verify_with_jwks(new_access, &keys).unwrap();
    // The instance that still knows only the old key refuses tokens of the new one.
    assert_error(before.get_me(new_access).await, 401, "invalid_token").await;
    // Once the old key is dropped from JWT_PREVIOUS_KEYS, its tokens stop working.
    let dropped = before.another_instance(&eddsa(&new_key, &[])).await;
    assert_error(dropped.get_me(old_access).await, 401, "invalid_token").await;
    assert_eq!(dropped.get_me(new_access).await.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn algorithm_confusion_and_alg_none_are_refused_under_eddsa(db: PgPool) {
    let app = TestApp::spawn_with_env(db, eddsa(&new_key_pem(), &[])).await;
    let login = app.login_as("openid-confused").await;
    let good = login["access_token"].as_str().unwrap();
    let claims = payload(good);
    let keys = jwks(&app).await;
    let jwk = &keys["keys"][0];
    let kid = jwk["kid"].as_str().unwrap();
    let public_raw = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();

    // HS256 "signed" with what an attacker has: the public key, raw and in its JWK text form.
    for secret in [public_raw.as_slice(), jwk["x"].as_str().unwrap().as_bytes()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        let forged = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert_error(app.get_me(&forged).await, 401, "invalid_token").await;
    }
    let none_header = URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "kid": kid }).to_string());
    let none = format!("{none_header}.{}.", good.split('.').nth(1).unwrap());
    assert_error(app.get_me(&none).await, 401, "invalid_token").await;
    let unknown_kid_header =
        URL_SAFE_NO_PAD.encode(json!({ "alg": "EdDSA", "kid": "nope" }).to_string());
    let parts: Vec<&str> = good.split('.').collect();
    let unknown_kid = format!("{unknown_kid_header}.{}.{}", parts[1], parts[2]);
    assert_error(app.get_me(&unknown_kid).await, 401, "invalid_token").await;
    // A token signed by a key we never had, with our kid.
    let stranger = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let stranger_pem = stranger.to_pkcs8_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let foreign = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(stranger_pem.as_bytes()),
    )
    .unwrap();
    assert_error(app.get_me(&foreign).await, 401, "invalid_token").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn hs256_publishes_no_keys(db: PgPool) {
    let app = TestApp::spawn(db).await;
    assert_eq!(jwks(&app).await, json!({ "keys": [] }));
}
