//! Fast tier: the published keys, and algorithm confusion refused when tokens are EdDSA.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::reply::{keys_of, Reply};
use crate::helpers::router::{request, RequestExt, TestRouter};
use crate::helpers::tokens::{
    claims, ed25519_jwk, eddsa_env, new_ed25519_key, reheader, sign_eddsa, sign_with, unsigned,
};

async fn jwks(app: &TestRouter) -> Reply {
    let reply = app
        .send(request("GET", "/.well-known/jwks.json").empty())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), "public, max-age=300");
    assert_eq!(reply.header("content-type"), "application/json");
    reply
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn hs256_publishes_no_keys(db: PgPool) {
    let app = TestRouter::new(db);
    assert_eq!(jwks(&app).await.json(), json!({ "keys": [] }));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn eddsa_publishes_exactly_the_public_key(db: PgPool) {
    let (private, public) = new_ed25519_key();
    let app = TestRouter::with_env(db, &eddsa_env(&private, &[]));

    let keys = jwks(&app).await.json();

    assert_eq!(keys_of(&keys), ["keys"]);
    let kid = keys["keys"][0]["kid"].as_str().expect("a kid");
    assert_eq!(keys["keys"], json!([ed25519_jwk(&public, kid)]));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn algorithm_confusion_and_alg_none_are_refused_under_eddsa(db: PgPool) {
    let (private, _) = new_ed25519_key();
    let app = TestRouter::with_env(db, &eddsa_env(&private, &[]));
    let keys = jwks(&app).await.json();
    let jwk: &Value = &keys["keys"][0];
    let kid = jwk["kid"].as_str().unwrap();
    let x = jwk["x"].as_str().unwrap();
    let public_raw = URL_SAFE_NO_PAD.decode(x).unwrap();
    let (user_id, session_id) = app.seed_session("openid-confused").await;
    let claims = claims(user_id, session_id);
    let get_me = |token: &str| request("GET", "/api/me").bearer(token).empty();

    // Signed as the server signs, with its key: accepted, so the refusals below are for the
    // respect in which each token differs.
    let good = sign_eddsa(&claims, kid, &private);
    let accepted = app.send(get_me(&good)).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());

    let hs256_with_our_kid = || {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        header
    };
    let (stranger, _) = new_ed25519_key();
    let cases = [
        // HS256 "signed" with what an attacker has: the public key, raw and in its JWK text form.
        (
            "HS256 keyed with the raw public key",
            sign_with(hs256_with_our_kid(), &claims, &public_raw),
        ),
        (
            "HS256 keyed with the JWK's x",
            sign_with(hs256_with_our_kid(), &claims, x.as_bytes()),
        ),
        (
            "alg none",
            unsigned(&json!({ "alg": "none", "kid": kid }), &claims),
        ),
        (
            "a key id we do not have",
            reheader(&good, &json!({ "alg": "EdDSA", "kid": "nope" })),
        ),
        (
            "a key we never had, under our key id",
            sign_eddsa(&claims, kid, &stranger),
        ),
    ];
    for (case, token) in cases {
        let reply = app.send(get_me(&token)).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text());
        reply.assert_error(401, "invalid_token");
    }
}
