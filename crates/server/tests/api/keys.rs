//! EdDSA tokens the server issues: verified by anyone with the JWKS, and key rotation without
//! logging anyone out. What the JWKS holds and algorithm confusion are in the fast tier
//! (`router_keys`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Value};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{eddsa_env, header, new_ed25519_key, token};

async fn jwks(app: &TestApp) -> Value {
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Why [`verify_with_jwks`] refused a token.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Malformed,
    NotEddsa,
    UnknownKey,
    BadSignature,
    WrongIssuerOrExpired,
}

/// A verifier that knows nothing of wxlogin's code: RFC 7515 by hand over ed25519-dalek.
fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Value, Refusal> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| Refusal::Malformed);
    let json = |bytes: Vec<u8>| -> Result<Value, Refusal> {
        serde_json::from_slice(&bytes).map_err(|_| Refusal::Malformed)
    };
    let header_json = json(decode(header)?)?;
    if header_json["alg"] != "EdDSA" {
        return Err(Refusal::NotEddsa);
    }
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header_json["kid"])
        .ok_or(Refusal::UnknownKey)?;
    if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" {
        return Err(Refusal::NotEddsa);
    }
    let x: [u8; 32] = decode(jwk["x"].as_str().unwrap())?
        .try_into()
        .map_err(|_| Refusal::Malformed)?;
    let key = VerifyingKey::from_bytes(&x).map_err(|_| Refusal::Malformed)?;
    let signature = Signature::from_slice(&decode(signature)?).map_err(|_| Refusal::Malformed)?;
    key.verify_strict(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| Refusal::BadSignature)?;
    let claims = json(decode(claims)?)?;
    if claims["iss"] != "wxlogin"
        || claims["exp"].as_i64() <= Some(OffsetDateTime::now_utc().unix_timestamp())
    {
        return Err(Refusal::WrongIssuerOrExpired);
    }
    Ok(claims)
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn eddsa_tokens_verify_with_nothing_but_the_published_jwks(db: PgPool) {
    let (private, _) = new_ed25519_key();
    let app = TestApp::spawn_with_env(db, eddsa_env(&private, &[])).await;
    let login = app.login_as("openid-eddsa").await;
    let access = token(&login, "access_token");
    let keys = jwks(&app).await;

    let claims = verify_with_jwks(access, &keys).unwrap();
    assert_eq!(claims["sub"], login["user"]["id"]);
    assert_eq!(app.get_me(access).await.status(), 200);

    // The same verifier refuses a token whose payload was altered.
    let mut parts: Vec<&str> = access.split('.').collect();
    let forged = URL_SAFE_NO_PAD
        .encode(json!({ "sub": "someone", "iss": "wxlogin", "exp": i64::MAX }).to_string());
    parts[1] = &forged;
    assert_eq!(
        verify_with_jwks(&parts.join("."), &keys),
        Err(Refusal::BadSignature)
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_rotated_key_keeps_old_tokens_valid_while_new_ones_use_the_new_key(db: PgPool) {
    let (old_key, _) = new_ed25519_key();
    let (new_key, _) = new_ed25519_key();
    let before = TestApp::spawn_with_env(db, eddsa_env(&old_key, &[])).await;
    let old_login = before.login_as("openid-rotation").await;
    let old_access = token(&old_login, "access_token");

    // The key file form, as an operator would deploy it.
    let old_key_file =
        std::env::temp_dir().join(format!("wxlogin-old-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&old_key_file, &old_key).unwrap();
    let retired = format!("@{}", old_key_file.display());
    let after = before
        .another_instance(&eddsa_env(&new_key, &[&retired]))
        .await;

    assert_eq!(
        after.get_me(old_access).await.status(),
        200,
        "old tokens still verify"
    );
    let new_login = after.login_as("openid-rotation").await;
    let new_access = token(&new_login, "access_token");
    let kid = |token: &str| header(token)["kid"].as_str().unwrap().to_owned();
    assert_ne!(
        kid(new_access),
        kid(old_access),
        "new tokens use the new key"
    );
    let keys = jwks(&after).await;
    let mut published: Vec<String> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect();
    published.sort_unstable();
    let mut expected = [kid(new_access), kid(old_access)];
    expected.sort_unstable();
    assert_eq!(
        published, expected,
        "both keys are published, and only they"
    );
    verify_with_jwks(old_access, &keys).unwrap();
    verify_with_jwks(new_access, &keys).unwrap();
    // The instance that still knows only the old key refuses tokens of the new one.
    assert_error(before.get_me(new_access).await, 401, "invalid_token").await;
    // Once the old key is dropped from JWT_PREVIOUS_KEYS, its tokens stop working.
    let dropped = before.another_instance(&eddsa_env(&new_key, &[])).await;
    assert_error(dropped.get_me(old_access).await, 401, "invalid_token").await;
    assert_eq!(dropped.get_me(new_access).await.status(), 200);
}
