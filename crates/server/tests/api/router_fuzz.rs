//! Fast tier, fuzzed: hostile login and refresh bodies, bearer headers and multipart uploads get
//! a documented error in the standard shape (never a 500), and write nothing they should not.
//!
//! Cases per property: 256, or `PROPTEST_CASES`.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderValue;
use proptest::prelude::*;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::fuzz::draws;
use crate::helpers::router::{request, RequestExt, TestRouter};
use crate::helpers::uploads::{multipart_content_type, multipart_file, png};

/// Any JSON value, numbers past 64 bits written out as text included.
fn any_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| json!(n).to_string()),
        "-?[1-9][0-9]{19,40}",
        ".{0,200}".prop_map(|text| json!(text).to_string()),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(("[a-z_]{1,14}", inner), 0..4).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", json!(k)))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Bodies for an endpoint that takes `{"<field>": "..."}`: the field with any value, among other
/// fields, cut short, or bytes that are not JSON at all.
fn bodies_for(field: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let with_field = || {
        (
            any_json(),
            prop::collection::vec(("[a-z]{1,6}", any_json()), 0..3),
        )
            .prop_map(move |(value, extra)| {
                let mut fields = vec![format!("\"{field}\":{value}")];
                fields.extend(extra.iter().map(|(k, v)| format!("\"{k}\":{v}")));
                format!("{{{}}}", fields.join(",")).into_bytes()
            })
    };
    let truncated = (with_field(), any::<prop::sample::Index>())
        .prop_map(|(body, cut)| body[..cut.index(body.len() + 1).min(body.len())].to_vec());
    prop_oneof![
        4 => with_field(),
        2 => truncated,
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => any_json().prop_map(String::into_bytes),
        // Just over the 16 KiB body limit.
        1 => Just(format!("{{\"{field}\":\"{}\"}}", "a".repeat(16 * 1024)).into_bytes()),
    ]
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn any_login_body_gets_a_documented_error_and_writes_nothing(db: PgPool) {
    let app = TestRouter::new(db);
    for body in draws(bodies_for("code")) {
        let reply = app
            .send(request("POST", "/api/auth/login").json(body))
            .await;
        match reply.status.as_u16() {
            400 => reply.assert_error(400, "invalid_request"),
            413 => reply.assert_error(413, "payload_too_large"),
            // A well-formed code goes on to WeChat, which the fast tier cannot reach.
            502 => reply.assert_error(502, "upstream_error"),
            _ => panic!("{} answered {}", reply.request, reply.text()),
        };
    }
    assert_eq!(app.count("users").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn any_refresh_body_gets_a_documented_error_and_writes_nothing(db: PgPool) {
    let app = TestRouter::new(db);
    for body in draws(bodies_for("refresh_token")) {
        let reply = app
            .send(request("POST", "/api/auth/refresh").json(body))
            .await;
        match reply.status.as_u16() {
            400 => reply.assert_error(400, "invalid_request"),
            401 => reply.assert_error(401, "invalid_token"),
            413 => reply.assert_error(413, "payload_too_large"),
            _ => panic!("{} answered {}", reply.request, reply.text()),
        };
    }
    assert_eq!(app.count("refresh_tokens").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn any_authorization_header_that_is_not_our_token_is_refused_as_invalid(db: PgPool) {
    let app = TestRouter::new(db);
    let signed_in = app.sign_in("openid-fuzzed-bearer").await;
    let real = signed_in.token.clone();
    let headers = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..120),
        "(?i:bearer)[ \t]{0,3}[A-Za-z0-9._~+/=-]{0,200}".prop_map(String::into_bytes),
        // Our own token, damaged in one place.
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(move |(at, byte)| {
            let mut bytes = format!("Bearer {real}").into_bytes();
            let at = 7 + at.index(bytes.len() - 7);
            bytes[at] = if bytes[at] == byte { byte ^ 1 } else { byte };
            bytes
        }),
    ];
    for header in draws(headers) {
        let Ok(value) = HeaderValue::from_bytes(&header) else {
            continue;
        };
        let reply = app
            .send(
                request("GET", "/api/me")
                    .header(AUTHORIZATION, value)
                    .empty(),
            )
            .await;
        // Flipping a base64url character's padding bits can leave the token as it was.
        if reply.status == 200 {
            assert!(String::from_utf8_lossy(&header).contains(&signed_in.token[..20]));
            continue;
        }
        reply.assert_error(401, "invalid_token");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn any_multipart_upload_is_stored_or_refused_with_a_documented_error(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-fuzzed-upload").await;
    let file = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (0usize..256).prop_map(|len| png(16 + len)),
    ];
    let bodies = prop_oneof![
        // A well-formed form with any file, field and file name.
        (file.clone(), "[a-z]{0,6}", ".{0,30}").prop_map(|(bytes, field, name)| {
            multipart_file(&field, &name.replace(['"', '\r', '\n'], ""), &bytes)
        }),
        // The same cut short anywhere.
        (file, any::<prop::sample::Index>()).prop_map(|(bytes, cut)| {
            let body = multipart_file("file", "a.png", &bytes);
            body[..cut.index(body.len())].to_vec()
        }),
        prop::collection::vec(any::<u8>(), 0..256),
    ];
    let content_types = prop_oneof![
        3 => Just(multipart_content_type()),
        1 => Just("multipart/form-data".to_owned()),
        1 => "[ -~]{0,60}",
    ];
    for (content_type, body) in draws((content_types, bodies)) {
        let Ok(content_type) = HeaderValue::from_str(&content_type) else {
            continue;
        };
        let reply = app
            .send(
                request("POST", "/api/me/avatar")
                    .bearer(&user.token)
                    .header("content-type", content_type)
                    .body(body.into())
                    .unwrap(),
            )
            .await;
        match reply.status.as_u16() {
            200 => assert!(reply.json()["avatar_url"].is_string()),
            400 => _ = reply.assert_error(400, "invalid_request"),
            413 => _ = reply.assert_error(413, "payload_too_large"),
            415 => _ = reply.assert_error(415, "unsupported_media_type"),
            _ => panic!("{} answered {}", reply.request, reply.text()),
        }
    }
}
