//! Fast tier: request bodies that are malformed, out of bounds or too large are refused before
//! WeChat is asked or a row is written.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::router::{request, RequestExt, TestRouter};

/// Every table a request can write to.
const WRITTEN_BY_REQUESTS: [&str; 6] = [
    "users",
    "wechat_sessions",
    "sessions",
    "refresh_tokens",
    "phone_lookup_quota",
    "avatars",
];

async fn assert_nothing_written(app: &TestRouter) {
    for table in WRITTEN_BY_REQUESTS {
        assert_eq!(app.count(table).await, 0, "rows in {table}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn malformed_login_bodies_are_invalid_requests_and_never_reach_wechat(db: PgPool) {
    let app = TestRouter::new(db);
    let too_long = format!(r#"{{"code":"{}"}}"#, "a".repeat(129));
    let bodies = [
        "not json",
        "",
        "[]",
        "null",
        r#"{"code":"abc""#,
        r#"{}"#,
        r#"{"code":null}"#,
        r#"{"code":42}"#,
        r#"{"code":["abc"]}"#,
        r#"{"code":{"value":"abc"}}"#,
        r#"{"code":""}"#,
        &too_long,
        r#"{"code":"abc\u0000def"}"#,
        r#"{"code":"abc\ndef"}"#,
        r#"{"code":"abc\u001bdef"}"#,
        r#"{"code":" "}"#,
        r#"{"code":"abc def"}"#,
        r#"{"code":" abc"}"#,
        r#"{"code":"abc\t"}"#,
        r#"{"code":"abc\u3000def"}"#,
    ];
    for body in bodies {
        app.send_json("POST", "/api/auth/login", None, body)
            .await
            .assert_error(400, "invalid_request");
    }
    assert_nothing_written(&app).await;
}

/// The other side of the bounds above: these pass validation and go on to WeChat, which here is
/// unreachable, so they come back as 502 rather than 400.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn codes_within_the_bounds_are_passed_to_wechat(db: PgPool) {
    let app = TestRouter::new(db);
    for code in ["a".repeat(128), "码".repeat(128), "0a3Xyz-_9bcd".to_owned()] {
        let body = json!({ "code": code }).to_string();
        app.send_json("POST", "/api/auth/login", None, body)
            .await
            .assert_error(502, "upstream_error");
    }
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_oversized_body_is_refused_before_parsing(db: PgPool) {
    let app = TestRouter::new(db);
    let padding = "x".repeat(64 * 1024);
    // Valid JSON with a valid code, and something that is not JSON at all: the size alone decides.
    for body in [
        format!(r#"{{"code":"abc","pad":"{padding}"}}"#),
        format!("not json {padding}"),
    ] {
        app.send_json("POST", "/api/auth/login", None, body)
            .await
            .assert_error(413, "payload_too_large");
    }
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn malformed_refresh_bodies_are_invalid_requests(db: PgPool) {
    let app = TestRouter::new(db);
    for body in [
        "",
        "not json",
        "{}",
        r#"{"refresh_token":null}"#,
        r#"{"refresh_token":7}"#,
        r#"{"refresh_token":""}"#,
    ] {
        app.send_json("POST", "/api/auth/refresh", None, body)
            .await
            .assert_error(400, "invalid_request");
    }
    assert_nothing_written(&app).await;
}

/// A well-formed request with a refresh token that was never issued, or that could never have
/// been, is an authentication failure rather than a malformed request.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn unknown_and_impossible_refresh_tokens_are_invalid_tokens(db: PgPool) {
    let app = TestRouter::new(db);
    for refresh_token in ["A".repeat(43), "not-a-token".to_owned(), "A".repeat(44)] {
        let body = json!({ "refresh_token": refresh_token }).to_string();
        app.send_json("POST", "/api/auth/refresh", None, body)
            .await
            .assert_error(401, "invalid_token");
    }
    assert_nothing_written(&app).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn malformed_phone_requests_are_refused_before_any_lookup_is_counted(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-form").await;
    for body in [
        json!({}),
        json!({ "code": "" }),
        json!({ "code": 5 }),
        json!({ "code": "a b" }),
        json!({ "code": "x".repeat(129) }),
        json!({ "code": "abc", "change": "yes" }),
    ] {
        app.send_json("POST", "/api/me/phone", Some(&user.token), body.to_string())
            .await
            .assert_error(400, "invalid_request");
    }
    assert_eq!(app.count("phone_lookup_quota").await, 0);
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(phone, None);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn bad_nicknames_are_refused_and_change_nothing(db: PgPool) {
    // This tier has no WeChat to check the good names with: they are saved unchecked.
    let app = TestRouter::with_env(db, &[("CONTENT_CHECK_FAILURE", "accept".into())]);
    let user = app.sign_in("openid-bad-nick").await;
    let patch =
        |body: Value| app.send_json("PATCH", "/api/me", Some(&user.token), body.to_string());
    let kept = patch(json!({ "nickname": "Kept" })).await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert_eq!(kept.json()["nickname"], "Kept");

    let too_long = "x".repeat(33);
    for body in [
        json!({ "nickname": "" }),
        json!({ "nickname": "   " }),
        json!({ "nickname": too_long }),
        json!({ "nickname": "bell\u{7}" }),
        json!({ "nickname": "two\nlines" }),
        json!({ "nickname": "\u{202E}gnp.exe" }),
        json!({ "nickname": 42 }),
        json!({}),
        json!({ "nickname": "ok", "phone": "13800000000" }),
    ] {
        patch(body).await.assert_error(400, "invalid_request");
    }
    let empty_body = app
        .send(request("PATCH", "/api/me").bearer(&user.token).empty())
        .await;
    empty_body.assert_error(400, "invalid_request");

    let (nickname, phone): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT nickname, phone FROM users")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(nickname.as_deref(), Some("Kept"));
    assert_eq!(phone, None);
}

/// The body is checked before the session_key is looked for: this user has none, which a
/// well-formed request hears as 409 `session_key_stale`.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn decrypt_requests_without_both_fields_are_invalid_requests(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-decrypt-form").await;
    let decrypt =
        |body: &'static str| app.send_json("POST", "/api/wechat/decrypt", Some(&user.token), body);
    for body in [
        r#"{"encrypted_data":"AAAA"}"#,
        r#"{"iv":"AAAA"}"#,
        r#"{"encrypted_data":7,"iv":"AAAA"}"#,
        "not json",
    ] {
        decrypt(body).await.assert_error(400, "invalid_request");
    }
    let well_formed = decrypt(r#"{"encrypted_data":"AAAA","iv":"AAAA"}"#).await;
    well_formed.assert_error(409, "session_key_stale");
}
