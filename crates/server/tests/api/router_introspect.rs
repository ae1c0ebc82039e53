//! Fast tier: `POST /api/auth/introspect` (RFC 7662) and `TOKEN_AUDIENCE`. Who may ask, what a
//! live token's answer holds, and that every other token gets the same bare `{"active": false}`.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::config::JWT_SECRET;
use crate::helpers::introspection::{
    basic, introspect_request, introspection_env, CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_SECRET,
};
use crate::helpers::reply::{keys_of, Reply};
use crate::helpers::router::{request, RequestExt, TestRouter};
use crate::helpers::tokens::{claims, now, sign, tamper, unsigned};

fn with_introspection(db: PgPool) -> TestRouter {
    TestRouter::with_env(db, &introspection_env())
}

async fn introspect(app: &TestRouter, token: &str) -> Reply {
    let authorization = basic(CLIENT_ID, CLIENT_SECRET);
    app.send(introspect_request(token, Some(&authorization)))
        .await
}

/// Asserts the answer for an inactive token: 200 and exactly `{"active":false}`, byte for byte,
/// so that no two inactive tokens can be told apart.
fn assert_inactive(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text());
    assert_eq!(reply.text(), r#"{"active":false}"#, "{what}");
    assert_eq!(reply.header("cache-control"), "no-store", "{what}");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn without_clients_introspection_does_not_exist(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-nobody-asks").await;
    let authorization = basic(CLIENT_ID, CLIENT_SECRET);
    app.send(introspect_request(&user.token, Some(&authorization)))
        .await
        .assert_error(404, "not_found");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn only_a_configured_client_with_its_own_secret_may_ask(db: PgPool) {
    let app = with_introspection(db);
    let user = app.sign_in("openid-asked-about").await;
    assert_eq!(introspect(&app, &user.token).await.json()["active"], true);

    let malformed = format!("Basic {}", "%%%");
    let no_colon = format!("Basic {}", "b3JkZXJz");
    let cases = [
        ("no Authorization", None),
        (
            "the user's own bearer token",
            Some(format!("Bearer {}", user.token)),
        ),
        (
            "a wrong secret",
            Some(basic(CLIENT_ID, "not-the-secret-but-just-as-long-0123")),
        ),
        (
            "another client's secret",
            Some(basic(CLIENT_ID, OTHER_CLIENT_SECRET)),
        ),
        ("an unknown client", Some(basic("billing", CLIENT_SECRET))),
        (
            "the secret with a character cut",
            Some(basic(CLIENT_ID, &CLIENT_SECRET[1..])),
        ),
        ("not base64", Some(malformed)),
        ("no colon", Some(no_colon)),
    ];
    for (what, authorization) in cases {
        let reply = app
            .send(introspect_request(&user.token, authorization.as_deref()))
            .await;
        reply.assert_error(401, "invalid_client");
        assert!(!reply.text().contains("active"), "{what}: {}", reply.text());
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_live_token_is_active_with_what_it_says(db: PgPool) {
    let app = with_introspection(db);
    let user = app.sign_in("openid-live").await;
    let signed = claims(user.user_id, user.session_id);

    let reply = introspect(&app, &user.token).await;

    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.header("cache-control"), "no-store");
    let answer = reply.json();
    assert_eq!(
        keys_of(&answer),
        ["active", "exp", "iat", "iss", "sid", "sub", "token_type"]
    );
    assert_eq!(
        answer,
        json!({
            "active": true,
            "sub": user.user_id.to_string(),
            "sid": user.session_id.to_string(),
            "exp": signed["exp"],
            "iat": signed["iat"],
            "iss": "wxlogin",
            "token_type": "Bearer",
        })
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn every_other_token_is_only_inactive(db: PgPool) {
    let app = with_introspection(db);
    let user = app.sign_in("openid-many-ways-wrong").await;
    let logged_out = app.sign_in("openid-logged-out").await;
    let logout = app
        .send(
            request("POST", "/api/auth/logout")
                .bearer(&logged_out.token)
                .empty(),
        )
        .await;
    assert_eq!(logout.status, 204, "{}", logout.text());
    let good = claims(user.user_id, user.session_id);
    let with = |name: &str, value: Value| {
        let mut claims = good.clone();
        claims[name] = value;
        sign(&claims, JWT_SECRET)
    };

    let cases = [
        ("a logged-out session", logged_out.token.clone()),
        ("tampered", tamper(&user.token)),
        (
            "another key",
            sign(&good, "another-key-of-quite-enough-length-0123"),
        ),
        ("expired", with("exp", json!(now() - 31))),
        ("another issuer", with("iss", json!("someone-else"))),
        ("an aud nobody set", with("aud", json!("orders"))),
        ("a subject that is no id", with("sub", json!("42"))),
        ("alg none", unsigned(&json!({ "alg": "none" }), &good)),
        ("garbage", "not a token at all".to_owned()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        assert_inactive(&introspect(&app, &token).await, what);
    }
    // The same checks let the good one through.
    assert_eq!(introspect(&app, &user.token).await.json()["active"], true);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_request_must_be_the_form_the_rfc_defines(db: PgPool) {
    let app = with_introspection(db);
    let user = app.sign_in("openid-bad-request").await;
    let ask = |content_type: &str, body: String| {
        request("POST", "/api/auth/introspect")
            .header("authorization", basic(CLIENT_ID, CLIENT_SECRET))
            .body_as(content_type, body)
    };

    let hint = format!("token={}&token_type_hint=access_token", user.token);
    let reply = app
        .send(ask("application/x-www-form-urlencoded", hint))
        .await;
    assert_eq!(reply.json()["active"], true, "the hint is ignored");
    app.send(ask("application/x-www-form-urlencoded", "tok=x".into()))
        .await
        .assert_error(400, "invalid_request");
    let json = json!({ "token": user.token }).to_string();
    app.send(ask("application/json", json))
        .await
        .assert_error(415, "unsupported_media_type");
    app.send(
        request("GET", "/api/auth/introspect")
            .header("authorization", basic(CLIENT_ID, CLIENT_SECRET))
            .empty(),
    )
    .await
    .assert_error(405, "method_not_allowed");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn with_an_audience_wxlogin_accepts_only_tokens_that_name_it(db: PgPool) {
    let mut env = introspection_env();
    env.push(("TOKEN_AUDIENCE", "orders, pay".to_owned()));
    let app = TestRouter::with_env(db, &env);
    let user = app.sign_in("openid-audience").await;
    let with_aud = |aud: Option<Value>| {
        let mut claims = claims(user.user_id, user.session_id);
        if let Some(aud) = aud {
            claims["aud"] = aud;
        }
        sign(&claims, JWT_SECRET)
    };

    for aud in [json!("orders"), json!("pay"), json!(["billing", "pay"])] {
        let token = with_aud(Some(aud.clone()));
        assert_eq!(get_me(&app, &token).await.status, 200, "{aud}");
        let answer = introspect(&app, &token).await.json();
        assert_eq!(answer["active"], true, "{aud}");
        assert_eq!(answer["aud"], aud, "introspection says whom it is for");
    }
    for (what, aud) in [
        ("no aud: signed before the audience was set", None),
        ("another service's", Some(json!("billing"))),
        ("an empty list", Some(json!([]))),
        ("not a string", Some(json!(7))),
    ] {
        let token = with_aud(aud);
        get_me(&app, &token)
            .await
            .assert_error(401, "invalid_token");
        assert_inactive(&introspect(&app, &token).await, what);
    }
}

async fn get_me(app: &TestRouter, token: &str) -> Reply {
    app.send(request("GET", "/api/me").bearer(token).empty())
        .await
}
