//! wxlogin-verify, the crate a team adds to its own axum service, against a real wxlogin: the
//! tokens it accepts and refuses agree with wxlogin's own, and introspection sees a logout.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use wxlogin_verify::{
    Introspected, Refusal, Verified, VerifiedClaims, Verifier, VerifyError, LEEWAY_SECONDS,
};

use crate::helpers::introspection::{introspection_env, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::reply::{Reply, BEARER_CHALLENGE};
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{
    eddsa_env, header as jwt_header, new_ed25519_key, now, payload, sign_eddsa, sign_with, tamper,
    token, unsigned,
};

/// A wxlogin signing with EdDSA under `private` for the audiences `orders` and `pay`, with the
/// test clients allowed to introspect.
async fn wxlogin(db: PgPool, private: &str) -> TestApp {
    let mut env = eddsa_env(private, &[]);
    env.extend(introspection_env());
    env.push(("TOKEN_AUDIENCE", "orders,pay".to_owned()));
    TestApp::spawn_with_env(db, env).await
}

/// The `orders` service's verifier of `app`'s tokens.
fn orders_verifier(app: &TestApp) -> Verifier {
    Verifier::builder(&app.base_url)
        .audience("orders")
        .introspection(CLIENT_ID, CLIENT_SECRET)
        .build()
        .unwrap()
}

/// The `orders` service itself: one route per extractor, each answering the user id.
fn orders_service(verifier: Verifier) -> Router {
    Router::new()
        .route(
            "/orders",
            get(|Verified(claims): Verified| async move { claims.sub }),
        )
        .route(
            "/pay",
            get(|Introspected(claims): Introspected| async move { claims.sub }),
        )
        .with_state(verifier)
}

async fn call(service: &Router, path: &str, token: Option<&str>) -> Reply {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = service
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Reply {
        request: format!("GET {path}"),
        status: parts.status,
        headers: parts.headers,
        body: to_bytes(body, usize::MAX).await.unwrap(),
    }
}

/// A refusal's variant, to compare.
fn kind(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::NotEddsa => "not_eddsa",
        Refusal::UnknownKey => "unknown_key",
        Refusal::Invalid(_) => "invalid",
        Refusal::Expired => "expired",
        Refusal::Inactive => "inactive",
        _ => "other",
    }
}

fn refusal(result: Result<VerifiedClaims, VerifyError>) -> Refusal {
    match result {
        Err(VerifyError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_login_token_verifies_with_nothing_but_the_published_keys(db: PgPool) {
    let (private, _) = new_ed25519_key();
    let app = wxlogin(db, &private).await;
    let login = app.login_as("openid-orders-customer").await;
    let access = token(&login, "access_token");
    let signed = payload(access);
    assert_eq!(signed["aud"], json!(["orders", "pay"]));

    let claims = orders_verifier(&app).verify(access).await.unwrap();

    assert_eq!(
        claims,
        VerifiedClaims {
            sub: login["user"]["id"].as_str().unwrap().to_owned(),
            sid: signed["sid"].as_str().unwrap().to_owned(),
            iat: signed["iat"].as_i64().unwrap(),
            exp: signed["exp"].as_i64().unwrap(),
            iss: "wxlogin".to_owned(),
            aud: vec!["orders".to_owned(), "pay".to_owned()],
        }
    );
    // The extractor, as a team's route uses it.
    let service = orders_service(orders_verifier(&app));
    let reply = call(&service, "/orders", Some(access)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), claims.sub);
    for token in [None, Some(tamper(access))] {
        let reply = call(&service, "/orders", token.as_deref()).await;
        // The mini program handles this exactly like wxlogin's own refusal.
        reply.assert_error(401, "invalid_token");
        assert_eq!(reply.header("www-authenticate"), BEARER_CHALLENGE);
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_of_a_rotated_key_still_verifies_through_the_previous_keys(db: PgPool) {
    let (old_key, _) = new_ed25519_key();
    let (new_key, _) = new_ed25519_key();
    let before = wxlogin(db, &old_key).await;
    let old_access = token(&before.login_as("openid-rotation").await, "access_token").to_owned();

    let mut env = eddsa_env(&new_key, &[&old_key]);
    env.push(("TOKEN_AUDIENCE", "orders,pay".to_owned()));
    let after = before.another_instance(&env).await;
    let new_access = token(&after.login_as("openid-rotation").await, "access_token").to_owned();
    assert_ne!(
        jwt_header(&old_access)["kid"],
        jwt_header(&new_access)["kid"]
    );

    let verifier = orders_verifier(&after);
    verifier.verify(&old_access).await.unwrap();
    verifier.verify(&new_access).await.unwrap();
    // A verifier of the instance that knows only the old key refuses the new key's tokens.
    assert!(matches!(
        refusal(orders_verifier(&before).verify(&new_access).await),
        Refusal::UnknownKey
    ));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn forged_expired_wrong_audience_and_unsigned_tokens_are_refused_as_wxlogin_refuses_them(
    db: PgPool,
) {
    let (private, public) = new_ed25519_key();
    let (stranger, _) = new_ed25519_key();
    let app = wxlogin(db, &private).await;
    let access = token(&app.login_as("openid-target").await, "access_token").to_owned();
    let kid = jwt_header(&access)["kid"].as_str().unwrap().to_owned();
    let verifier = orders_verifier(&app);
    let good = payload(&access);
    let with = |name: &str, value: Option<Value>| {
        let mut claims = good.clone();
        match value {
            Some(value) => claims[name] = value,
            None => {
                claims.as_object_mut().unwrap().remove(name);
            }
        }
        sign_eddsa(&claims, &kid, &private)
    };
    let now = now();

    // At the boundary of the leeway, wxlogin and the verifier give the same answer.
    let within_leeway = with("exp", Some(json!(now - LEEWAY_SECONDS + 5)));
    verifier.verify(&within_leeway).await.unwrap();
    assert_eq!(app.get_me(&within_leeway).await.status(), 200);

    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(kid.clone());
    let no_kid = {
        let key = jsonwebtoken::EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &good, &key).unwrap()
    };
    let cases = [
        ("tampered payload", tamper(&access), "invalid"),
        (
            "another key under our kid",
            sign_eddsa(&good, &kid, &stranger),
            "invalid",
        ),
        (
            "expired past the leeway",
            with("exp", Some(json!(now - LEEWAY_SECONDS - 1))),
            "expired",
        ),
        (
            "another service's audience",
            with("aud", Some(json!("billing"))),
            "invalid",
        ),
        ("no audience", with("aud", None), "invalid"),
        (
            "another issuer",
            with("iss", Some(json!("evil"))),
            "invalid",
        ),
        // "none" is no algorithm the header parser knows.
        (
            "alg none",
            unsigned(&json!({ "alg": "none", "kid": kid }), &good),
            "invalid",
        ),
        (
            "HS256 keyed with the public key",
            sign_with(hs256, &good, &public),
            "not_eddsa",
        ),
        ("no kid", no_kid, "not_eddsa"),
    ];
    for (what, forged, expected) in cases {
        let refused = refusal(verifier.verify(&forged).await);
        assert_eq!(kind(&refused), expected, "{what}: refused as {refused:?}");
        if what != "no kid" {
            // wxlogin looks a kid-less token up under its current key; the verifier cannot.
            assert_eq!(
                app.get_me(&forged).await.status(),
                401,
                "wxlogin refuses {what}"
            );
        }
    }

    // A service whose name the token does not carry refuses it.
    let billing = Verifier::builder(&app.base_url)
        .audience("billing")
        .build()
        .unwrap();
    assert!(matches!(
        refusal(billing.verify(&access).await),
        Refusal::Invalid(_)
    ));
    // And so does one that names no audience at all, while wxlogin sets one (RFC 7519 §4.1.3).
    let unnamed = Verifier::builder(&app.base_url).build().unwrap();
    assert!(matches!(
        refusal(unnamed.verify(&access).await),
        Refusal::Invalid(_)
    ));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn introspection_refuses_the_token_of_a_logged_out_session(db: PgPool) {
    let (private, _) = new_ed25519_key();
    let app = wxlogin(db, &private).await;
    let access = token(&app.login_as("openid-pays").await, "access_token").to_owned();
    let verifier = orders_verifier(&app);
    let service = orders_service(verifier.clone());
    verifier.introspect(&access).await.unwrap();
    assert_eq!(call(&service, "/pay", Some(&access)).await.status, 200);

    let logout = app.post_bearer("/api/auth/logout", &access).await;
    assert_eq!(logout.status(), 204);

    // Local verification cannot know: the token is sound until it expires.
    verifier.verify(&access).await.unwrap();
    assert_eq!(call(&service, "/orders", Some(&access)).await.status, 200);
    // Introspection does.
    assert!(matches!(
        refusal(verifier.introspect(&access).await),
        Refusal::Inactive
    ));
    call(&service, "/pay", Some(&access))
        .await
        .assert_error(401, "invalid_token");

    // A service with the wrong secret is told nothing, and cannot serve the route.
    let wrong = Verifier::builder(&app.base_url)
        .audience("orders")
        .introspection(CLIENT_ID, "not-the-secret-but-just-as-long-0123")
        .build()
        .unwrap();
    let reply = call(&orders_service(wrong), "/pay", Some(&access)).await;
    reply.assert_error(503, "unavailable");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_hs256_wxlogin_publishes_nothing_to_verify_with(db: PgPool) {
    let app = TestApp::spawn_with_env(db, Vec::new()).await;
    let login = app.login_as("openid-hs256").await;
    let access = token(&login, "access_token");
    let verifier = Verifier::builder(&app.base_url).build().unwrap();
    assert!(matches!(
        refusal(verifier.verify(access).await),
        Refusal::NotEddsa
    ));
    // Even a well-formed EdDSA token finds no key: the JWKS is empty under HS256.
    let (private, _) = new_ed25519_key();
    let eddsa = sign_eddsa(&payload(access), "some-kid", &private);
    assert!(matches!(
        refusal(verifier.verify(&eddsa).await),
        Refusal::UnknownKey
    ));
}
