//! Profile fill-in: nickname, avatar upload and serving, and validation of both.

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{assert_error, TestApp};
use crate::platform_helpers::{multipart_file, BOUNDARY};

const MAX_AVATAR: usize = 1024 * 1024;

fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(len, 7);
    bytes
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_nickname_is_trimmed_stored_and_returned(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-nick").await;

    let response = app
        .patch_me(&token, json!({ "nickname": "  微信用户 小明\t" }))
        .await;

    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["nickname"], "微信用户 小明");
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me, user);
    // 32 characters, counted as characters rather than bytes.
    let longest = "名".repeat(32);
    let response = app.patch_me(&token, json!({ "nickname": longest })).await;
    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn bad_nicknames_are_refused_and_change_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-bad-nick").await;
    assert_eq!(
        app.patch_me(&token, json!({ "nickname": "Kept" }))
            .await
            .status(),
        200
    );
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
        let response = app.patch_me(&token, body.clone()).await;
        assert_error(response, 400, "invalid_request").await;
    }
    let empty_body = app
        .http
        .patch(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(empty_body, 400, "invalid_request").await;
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me["nickname"], "Kept");
    assert_eq!(me["phone"], Value::Null);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_avatar_is_stored_and_served_with_its_type_and_cache_headers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-avatar").await;
    let image = png(2048);

    // The name says JPEG; the bytes say PNG, and the bytes win.
    let response = app.upload_avatar(&token, "tmp_avatar.jpg", &image).await;

    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    let url = user["avatar_url"].as_str().unwrap().to_owned();
    let id = url.strip_prefix("/avatars/").expect("served by us");
    assert!(id.parse::<uuid::Uuid>().is_ok());
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], url.as_str());

    // Served without a token: <image src> cannot send one.
    let served = app.http.get(app.url(&url)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    let headers = served.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let cache = headers["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("immutable") && cache.contains("max-age=31536000"),
        "{cache}"
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), image.as_slice());

    let etag = headers["etag"].to_str().unwrap();
    let revalidate = || {
        app.http
            .get(app.url(&url))
            .header("if-none-match", etag)
            .send()
    };
    assert_eq!(revalidate().await.unwrap().status(), 304);

    // Revalidation is answered from the id alone, without reading the image: even once the row
    // is gone, a client holding that image hears 304, while a fresh fetch finds nothing.
    sqlx::query("DELETE FROM avatars")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(revalidate().await.unwrap().status(), 304);
    let fetched = app.http.get(app.url(&url)).send().await.unwrap();
    assert_error(fetched, 404, "not_found").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn jpeg_and_webp_are_accepted_and_a_new_avatar_replaces_the_old(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-formats").await;
    let mut jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec();
    jpeg.resize(500, 1);
    let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
    webp.resize(500, 1);

    let first: Value = app
        .upload_avatar(&token, "a.png", &jpeg)
        .await
        .json()
        .await
        .unwrap();
    let first_url = first["avatar_url"].as_str().unwrap().to_owned();
    let served = app.http.get(app.url(&first_url)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    let second: Value = app
        .upload_avatar(&token, "b", &webp)
        .await
        .json()
        .await
        .unwrap();
    let second_url = second["avatar_url"].as_str().unwrap();
    assert_ne!(second_url, first_url);
    let served = app.http.get(app.url(second_url)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/webp");
    let gone = app.http.get(app.url(&first_url)).send().await.unwrap();
    assert_error(gone, 404, "not_found").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM avatars")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wrong_types_oversized_and_empty_uploads_are_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-bad-upload").await;

    for (name, bytes) in [
        ("avatar.png", b"GIF89a\x01\0\x01\0".to_vec()),
        (
            "avatar.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        ),
        ("avatar.webp", b"RIFF\0\0\0\0WAVEfmt ".to_vec()),
        ("avatar.jpg", b"hello, world".to_vec()),
    ] {
        let response = app.upload_avatar(&token, name, &bytes).await;
        assert_error(response, 415, "unsupported_media_type").await;
    }

    // Exactly the limit is fine; one byte more, or far more, is not.
    assert_eq!(
        app.upload_avatar(&token, "max.png", &png(MAX_AVATAR))
            .await
            .status(),
        200
    );
    let response = app
        .upload_avatar(&token, "big.png", &png(MAX_AVATAR + 1))
        .await;
    assert_error(response, 413, "payload_too_large").await;
    let response = app
        .upload_avatar(&token, "huge.png", &png(3 * MAX_AVATAR))
        .await;
    assert_error(response, 413, "payload_too_large").await;

    let response = app.upload_avatar(&token, "empty.png", b"").await;
    assert_error(response, 400, "invalid_request").await;

    // No file part at all, only a text field.
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\navatar\r\n--{BOUNDARY}--\r\n"
    );
    let response = app
        .http
        .post(app.url("/api/me/avatar"))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;

    // Not multipart at all, and an empty body.
    for (content_type, body) in [("application/json", "{}"), ("multipart/form-data", "")] {
        let response = app
            .http
            .post(app.url("/api/me/avatar"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM avatars")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the upload at the limit was kept");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn uploads_need_a_token_and_unknown_avatars_are_not_found(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (content_type, body) = multipart_file("file", "a.png", &png(100));
    let anonymous = app
        .http
        .post(app.url("/api/me/avatar"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "invalid_token").await;
    for path in [
        "/avatars/00000000-0000-4000-8000-000000000000",
        "/avatars/not-a-uuid",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
    }
}
