//! Fast tier: what the router answers outside its routes, and that every route behind a token
//! refuses a request without one, all in the error shape.

use sqlx::PgPool;

use crate::helpers::router::{request, RequestExt, TestRouter};
use crate::helpers::uploads::{multipart_content_type, multipart_file, png};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn unknown_paths_are_not_found(db: PgPool) {
    let app = TestRouter::new(db);
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/api/nope"),
        ("POST", "/api/auth/nope"),
        ("GET", "/api/me/"),
        ("GET", "/avatars/00000000-0000-4000-8000-000000000000"),
        ("GET", "/avatars/not-a-uuid"),
        // Without WECHAT_PUSH_TOKEN there is no message push endpoint.
        ("GET", "/api/wechat/events"),
        ("POST", "/api/wechat/events"),
    ] {
        let reply = app.send(request(method, path).empty()).await;
        reply.assert_error(404, "not_found");
    }
}

/// A known path asked with a method it does not take is 405, with the methods it does take.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wrong_methods_are_not_allowed_and_name_the_allowed_ones(db: PgPool) {
    let app = TestRouter::new(db);
    for (method, path, allowed) in [
        ("GET", "/api/auth/login", "POST"),
        ("PUT", "/api/auth/refresh", "POST"),
        ("DELETE", "/api/me", "GET,HEAD,PATCH"),
        ("POST", "/healthz", "GET,HEAD"),
        ("DELETE", "/api/wechat/events", "GET,HEAD,POST"),
        ("GET", "/api/me/consents", "POST"),
        (
            "GET",
            "/api/auth/sessions/00000000-0000-4000-8000-000000000000",
            "DELETE",
        ),
    ] {
        let reply = app.send(request(method, path).empty()).await;
        reply.assert_error(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), allowed, "{method} {path}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn every_route_behind_a_token_refuses_a_request_without_one(db: PgPool) {
    let app = TestRouter::new(db);
    let json = r#"{"code":"x","nickname":"x","encrypted_data":"AAAA","iv":"AAAA"}"#;
    let protected = [
        request("GET", "/api/me").empty(),
        request("PATCH", "/api/me").json(json),
        request("POST", "/api/me/phone").json(json),
        request("POST", "/api/me/consents").json(r#"{"version":"1"}"#),
        request("POST", "/api/me/avatar").body_as(
            &multipart_content_type(),
            multipart_file("file", "a.png", &png(100)),
        ),
        request("POST", "/api/wechat/decrypt").json(json),
        request("GET", "/api/auth/session-key").empty(),
        request("POST", "/api/auth/session-key/reset").empty(),
        request("POST", "/api/auth/logout").empty(),
        request("POST", "/api/auth/logout-all").empty(),
        request("GET", "/api/auth/sessions").empty(),
        request(
            "DELETE",
            "/api/auth/sessions/00000000-0000-4000-8000-000000000000",
        )
        .empty(),
    ];
    // The token is checked first: these bodies would be refused too, with another code.
    for anonymous in protected {
        app.send(anonymous).await.assert_error(401, "invalid_token");
    }
}
