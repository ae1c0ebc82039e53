//! Profile fill-in: nickname, avatar upload and serving. Refused nicknames and uploads are in
//! the fast tier (`router_validation`, `router_uploads`).

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::uploads::png;

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
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["nickname"], longest.as_str());
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
    let id: uuid::Uuid = url
        .strip_prefix("/avatars/")
        .expect("served by us")
        .parse()
        .expect("named by a uuid");
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], url.as_str());

    // Served without a token: <image src> cannot send one.
    let served = app.get(&url).await;
    assert_eq!(served.status(), 200);
    let headers = served.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // What is served under one URL never changes, so it may be cached for a year as it is.
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = format!("\"{id}\"");
    assert_eq!(headers["etag"], etag.as_str());
    assert_eq!(served.bytes().await.unwrap().as_ref(), image.as_slice());

    let revalidate = || {
        app.http
            .get(app.url(&url))
            .header("if-none-match", &etag)
            .send()
    };
    assert_eq!(revalidate().await.unwrap().status(), 304);

    // Revalidation asks only whether the avatar still exists, without reading the image: once
    // the row is gone, a client holding that image hears 404, as a fresh fetch does.
    sqlx::query("DELETE FROM avatars")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(revalidate().await.unwrap(), 404, "not_found").await;
    let fetched = app.get(&url).await;
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
    let served = app.get(&first_url).await;
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    let second: Value = app
        .upload_avatar(&token, "b", &webp)
        .await
        .json()
        .await
        .unwrap();
    let second_url = second["avatar_url"].as_str().unwrap();
    assert_ne!(second_url, first_url);
    let served = app.get(second_url).await;
    assert_eq!(served.headers()["content-type"], "image/webp");
    let gone = app.get(&first_url).await;
    assert_error(gone, 404, "not_found").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM avatars")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
