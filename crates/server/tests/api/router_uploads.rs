//! Fast tier: avatar uploads of the wrong type, the wrong size or the wrong form are refused,
//! and only an upload that passes is stored.

use axum::body::Body;
use axum::http::Request;
use sqlx::PgPool;

use crate::helpers::router::{request, RequestExt, SignedIn, TestRouter};
use crate::helpers::uploads::{
    multipart_content_type, multipart_file, multipart_without_file, png, MAX_AVATAR_BYTES,
};

fn upload(user: &SignedIn, content_type: &str, body: Vec<u8>) -> Request<Body> {
    request("POST", "/api/me/avatar")
        .bearer(&user.token)
        .body_as(content_type, body)
}

fn upload_file(user: &SignedIn, name: &str, bytes: &[u8]) -> Request<Body> {
    upload(
        user,
        &multipart_content_type(),
        multipart_file("file", name, bytes),
    )
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn files_that_are_not_png_jpeg_or_webp_are_unsupported_whatever_their_name(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-bad-type").await;
    for (name, bytes) in [
        ("avatar.png", b"GIF89a\x01\0\x01\0".to_vec()),
        (
            "avatar.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        ),
        ("avatar.webp", b"RIFF\0\0\0\0WAVEfmt ".to_vec()),
        ("avatar.jpg", b"hello, world".to_vec()),
        ("avatar.png", b"\x89PNG".to_vec()),
    ] {
        let reply = app.send(upload_file(&user, name, &bytes)).await;
        reply.assert_error(415, "unsupported_media_type");
    }
    assert_eq!(app.count("avatars").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_avatar_of_exactly_the_limit_is_stored_and_one_byte_more_is_too_large(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-big-upload").await;

    let at_limit = app
        .send(upload_file(&user, "max.png", &png(MAX_AVATAR_BYTES)))
        .await;
    assert_eq!(at_limit.status, 200, "{}", at_limit.text());
    for len in [MAX_AVATAR_BYTES + 1, 3 * MAX_AVATAR_BYTES] {
        let reply = app.send(upload_file(&user, "big.png", &png(len))).await;
        reply.assert_error(413, "payload_too_large");
    }

    assert_eq!(
        app.count("avatars").await,
        1,
        "only the upload at the limit"
    );
    let stored: i32 = sqlx::query_scalar("SELECT octet_length(bytes) FROM avatars")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored as usize, MAX_AVATAR_BYTES);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn uploads_without_a_file_or_not_multipart_are_invalid_requests(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-bad-upload").await;
    let cases = [
        // An empty file.
        (
            multipart_content_type(),
            multipart_file("file", "empty.png", b""),
        ),
        // No file part at all, only a text field.
        (multipart_content_type(), multipart_without_file()),
        // Not multipart at all, and multipart without a boundary or a body.
        ("application/json".to_owned(), b"{}".to_vec()),
        ("multipart/form-data".to_owned(), Vec::new()),
    ];
    for (content_type, body) in cases {
        let reply = app.send(upload(&user, &content_type, body)).await;
        reply.assert_error(400, "invalid_request");
    }
    assert_eq!(app.count("avatars").await, 0);
}
