//! Fast tier: every way a bearer token can be wrong, refused with 401 `invalid_token` and a
//! Bearer challenge. Each test first shows that a correct token of the same make is accepted, so
//! each refusal is for the one respect in which its token differs.

use jsonwebtoken::{Algorithm, Header};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::config::JWT_SECRET;
use crate::helpers::reply::Reply;
use crate::helpers::router::{request, RequestExt, SignedIn, TestRouter};
use crate::helpers::tokens::{claims, now, sign, sign_with, tamper, unsigned};

async fn get_me(app: &TestRouter, token: &str) -> Reply {
    app.send(request("GET", "/api/me").bearer(token).empty())
        .await
}

async fn assert_accepted(app: &TestRouter, user: &SignedIn) {
    let reply = get_me(app, &user.token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["id"], user.user_id.to_string());
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn forged_and_malformed_tokens_are_refused(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-victim").await;
    assert_accepted(&app, &user).await;
    let good = claims(user.user_id, user.session_id);
    let with = |changes: serde_json::Value| {
        let mut claims = good.clone();
        for (name, value) in changes.as_object().unwrap() {
            match value {
                serde_json::Value::Null => claims.as_object_mut().unwrap().remove(name),
                _ => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        sign(&claims, JWT_SECRET)
    };
    let now = now();
    let mut unknown_kid = Header::new(Algorithm::HS256);
    unknown_kid.kid = Some("not-a-key-of-ours".to_owned());

    let cases: Vec<(&str, String)> = vec![
        ("tampered payload", tamper(&user.token)),
        (
            "another key",
            sign(&good, "some-other-key-of-enough-length-0123456789"),
        ),
        (
            "alg none",
            unsigned(&json!({ "alg": "none", "typ": "JWT" }), &good),
        ),
        (
            "HS512 with our secret",
            sign_with(Header::new(Algorithm::HS512), &good, JWT_SECRET.as_bytes()),
        ),
        (
            "a key id we do not have",
            sign_with(unknown_kid, &good, JWT_SECRET.as_bytes()),
        ),
        (
            "expired",
            with(json!({ "iat": now - 7300, "exp": now - 100 })),
        ),
        ("another issuer", with(json!({ "iss": "evil" }))),
        ("no issuer", with(json!({ "iss": null }))),
        ("no exp", with(json!({ "exp": null }))),
        ("no sub", with(json!({ "sub": null }))),
        ("no sid", with(json!({ "sid": null }))),
        ("sub not a user id", with(json!({ "sub": "admin" }))),
        ("sid not a session id", with(json!({ "sid": "session-1" }))),
        (
            "an unknown user",
            with(json!({ "sub": "00000000-0000-4000-8000-000000000000" })),
        ),
        (
            "an unknown session",
            with(json!({ "sid": "00000000-0000-4000-8000-000000000000" })),
        ),
        ("garbage", "not.a.jwt".to_owned()),
        ("two parts", "abc.def".to_owned()),
        ("truncated", user.token[..user.token.len() - 5].to_owned()),
    ];
    for (case, token) in cases {
        let reply = get_me(&app, &token).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text());
        reply.assert_error(401, "invalid_token");
    }
}

/// A correctly signed token still speaks only for its own session: naming another user's
/// session, or a session that has ended or run out, does not authenticate. Each is asked of a
/// router with nothing cached, so that the database decides.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_signed_token_is_refused_unless_its_session_is_live_and_its_users(db: PgPool) {
    let uncached = || TestRouter::new(db.clone());
    let app = uncached();
    let user = app.sign_in("openid-holder").await;
    let other = app.sign_in("openid-other").await;
    let ended = app.sign_in("openid-holder").await;
    let lapsed = app.sign_in("openid-holder").await;
    for signed_in in [&user, &other, &ended, &lapsed] {
        assert_accepted(&uncached(), signed_in).await;
    }

    let borrowed = sign(&claims(user.user_id, other.session_id), JWT_SECRET);
    get_me(&uncached(), &borrowed)
        .await
        .assert_error(401, "invalid_token");

    for (session, change) in [
        (&ended, "revoked_at = now(), revoked_why = 'test'"),
        (&lapsed, "expires_at = now() - interval '1 second'"),
    ] {
        sqlx::query(&format!("UPDATE sessions SET {change} WHERE id = $1"))
            .bind(session.session_id)
            .execute(&app.db)
            .await
            .unwrap();
        let reply = get_me(&uncached(), &session.token).await;
        assert_eq!(reply.status, 401, "after {change}");
        reply.assert_error(401, "invalid_token");
    }

    assert_accepted(&uncached(), &user).await;
    assert_accepted(&uncached(), &other).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn missing_or_malformed_authorization_headers_are_refused(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-header").await;
    let token = &user.token;
    let no_header = app.send(request("GET", "/api/me").empty()).await;
    no_header.assert_error(401, "invalid_token");
    for value in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer  ".to_owned(),
        format!("Basic {token}"),
        format!("Bearer{token}"),
        token.clone(),
    ] {
        let reply = app
            .send(
                request("GET", "/api/me")
                    .header("authorization", &value)
                    .empty(),
            )
            .await;
        assert_eq!(reply.status, 401, "{value:?}");
        reply.assert_error(401, "invalid_token");
    }
    // The scheme is case-insensitive (RFC 7235).
    for scheme in ["bearer", "BEARER"] {
        let reply = app
            .send(
                request("GET", "/api/me")
                    .header("authorization", format!("{scheme} {token}"))
                    .empty(),
            )
            .await;
        assert_eq!(reply.status, 200, "{scheme}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_for_a_deleted_user_is_refused(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-gone").await;
    assert_accepted(&app, &user).await;
    sqlx::query("DELETE FROM users")
        .execute(&app.db)
        .await
        .unwrap();

    get_me(&app, &user.token)
        .await
        .assert_error(401, "invalid_token");
}
