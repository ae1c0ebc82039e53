//! Fast tier: what an adversarial review found and this server now refuses: tokens with critical
//! extensions or not valid yet, a token that pairs another user's session with its own user, a
//! session refreshing in a loop, invisible nicknames, and avatars that could become pages,
//! revalidate after deletion, pile up under concurrent uploads or starve the database pool.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::join_all;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::helpers::config::JWT_SECRET;
use crate::helpers::reply::Reply;
use crate::helpers::router::{request, RequestExt, SignedIn, TestRouter};
use crate::helpers::tokens::{claims, now, sign, sign_raw_hs256, token};
use crate::helpers::uploads::{multipart_content_type, multipart_file, png};

async fn get_me(app: &TestRouter, token: &str) -> Reply {
    app.send(request("GET", "/api/me").bearer(token).empty())
        .await
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_whose_header_lists_critical_extensions_is_refused(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-crit").await;
    let claims = claims(user.user_id, user.session_id);
    let signed = |header: Value| sign_raw_hs256(&header, &claims, JWT_SECRET.as_bytes());

    // Signed the same way without `crit`: accepted, so each refusal below is for the `crit`.
    let plain = get_me(&app, &signed(json!({ "alg": "HS256", "typ": "JWT" }))).await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    for crit in [json!(["unknown"]), json!(["exp"]), json!([]), json!("b64")] {
        let token = signed(json!({ "alg": "HS256", "typ": "JWT", "crit": crit, "unknown": 1 }));
        get_me(&app, &token)
            .await
            .assert_error(401, "invalid_token");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_not_valid_yet_is_refused(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-nbf").await;
    let with_nbf = |nbf: i64| {
        let mut claims = claims(user.user_id, user.session_id);
        claims["nbf"] = json!(nbf);
        sign(&claims, JWT_SECRET)
    };
    let now = now();

    for nbf in [now - 60, now, now + 10] {
        let reply = get_me(&app, &with_nbf(nbf)).await;
        assert_eq!(reply.status, 200, "nbf {} s from now", nbf - now);
    }
    for nbf in [now + 120, now + 3600, i64::from(i32::MAX) * 4] {
        get_me(&app, &with_nbf(nbf))
            .await
            .assert_error(401, "invalid_token");
    }
}

/// A token pairing user B with user A's session can only be made with the signing key; even so it
/// must neither ride on A's live session in the cache nor mark it revoked there.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_token_naming_another_users_session_is_refused_and_revokes_nothing(db: PgPool) {
    let app = TestRouter::new(db);
    let alice = app.sign_in("openid-alice").await;
    let bob = app.sign_in("openid-bob").await;
    let bob_on_alices_session = sign(&claims(bob.user_id, alice.session_id), JWT_SECRET);

    // Asked first, with nothing cached: refused, and Alice is not locked out by it.
    get_me(&app, &bob_on_alices_session)
        .await
        .assert_error(401, "invalid_token");
    assert_eq!(get_me(&app, &alice.token).await.status, 200);

    // Asked while Alice's session is cached live: still refused.
    get_me(&app, &bob_on_alices_session)
        .await
        .assert_error(401, "invalid_token");
    let logout = app
        .send(
            request("POST", "/api/auth/logout")
                .bearer(&bob_on_alices_session)
                .empty(),
        )
        .await;
    logout.assert_error(401, "invalid_token");
    assert_eq!(get_me(&app, &alice.token).await.status, 200);
    assert_eq!(get_me(&app, &bob.token).await.status, 200);
}

/// A refresh token for `session_id`, written straight to the database as a login would.
async fn seed_refresh_token(app: &TestRouter, session_id: Uuid) -> String {
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
         VALUES ($1, $2, now() + interval '30 days')",
    )
    .bind(Sha256::digest(token.as_bytes()).to_vec())
    .bind(session_id)
    .execute(&app.db)
    .await
    .unwrap();
    token
}

async fn refresh(app: &TestRouter, refresh_token: &str) -> Reply {
    app.send_json(
        "POST",
        "/api/auth/refresh",
        None,
        json!({ "refresh_token": refresh_token }).to_string(),
    )
    .await
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_session_refreshes_at_most_its_budget_per_minute(db: PgPool) {
    let app = TestRouter::with_env(db, &[("SESSION_REFRESHES_PER_MINUTE", "3".into())]);
    let (_, session_id) = app.seed_session("openid-refresh-loop").await;
    let mut current = seed_refresh_token(&app, session_id).await;
    for _ in 0..3 {
        let reply = refresh(&app, &current).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        current = token(&reply.json(), "refresh_token").to_owned();
    }

    let refused = refresh(&app, &current).await;
    let headers = refused.assert_error(429, "rate_limited");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(app.count("refresh_tokens").await, 4, "nothing was written");

    // Once the window has passed the same token, never used up, refreshes again.
    sqlx::query("UPDATE sessions SET refresh_window_started_at = now() - interval '61 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(refresh(&app, &current).await.status, 200);
    // Another session has a budget of its own.
    let (_, other) = app.seed_session("openid-refresh-other").await;
    let other_token = seed_refresh_token(&app, other).await;
    assert_eq!(refresh(&app, &other_token).await.status, 200);
}

async fn patch_nickname(app: &TestRouter, user: &SignedIn, nickname: &str) -> Reply {
    app.send_json(
        "PATCH",
        "/api/me",
        Some(&user.token),
        json!({ "nickname": nickname }).to_string(),
    )
    .await
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn invisible_nicknames_are_refused_and_names_are_stored_in_nfc(db: PgPool) {
    // This tier has no WeChat to check the good names with: they are saved unchecked.
    let app = TestRouter::with_env(db, &[("CONTENT_CHECK_FAILURE", "accept".into())]);
    let user = app.sign_in("openid-nickname").await;
    let invisible = [
        "\u{200B}",
        "\u{2060}",
        "\u{FEFF}",
        "\u{3164}",
        "\u{2800}",
        "\u{200B}\u{2800}\u{3164}",
        "a\u{061C}b",
        "a\u{2028}b",
        "a\u{2029}b",
        "\u{E0041}\u{E0042}",
        &format!("a{}", "\u{0301}".repeat(31)),
    ];
    for nickname in invisible {
        patch_nickname(&app, &user, nickname)
            .await
            .assert_error(400, "invalid_request");
    }

    let stored = patch_nickname(&app, &user, "  Jose\u{0301} 小明 ").await;
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json()["nickname"], "Jos\u{E9} 小明");
}

fn upload(user: &SignedIn, bytes: &[u8]) -> axum::http::Request<axum::body::Body> {
    request("POST", "/api/me/avatar")
        .bearer(&user.token)
        .body_as(
            &multipart_content_type(),
            multipart_file("file", "a.png", bytes),
        )
}

/// The id of the avatar a user answer points at.
fn avatar_id(user: &Value) -> String {
    user["avatar_url"]
        .as_str()
        .and_then(|url| url.strip_prefix("/avatars/"))
        .unwrap_or_else(|| panic!("an avatar url in {user}"))
        .to_owned()
}

fn revalidate(id: &str, etag: &str) -> axum::http::Request<axum::body::Body> {
    request("GET", &format!("/avatars/{id}"))
        .header("if-none-match", etag)
        .empty()
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn avatars_run_nothing_and_revalidate_only_while_they_exist(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-avatar-headers").await;
    // A PNG with a page appended: served as an image, and a page that can do nothing.
    let mut polyglot = png(64);
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let first = app.send(upload(&user, &polyglot)).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let first_id = avatar_id(&first.json());

    let served = app
        .send(request("GET", &format!("/avatars/{first_id}")).empty())
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), "image/png");
    assert_eq!(
        served.header("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(served.header("x-content-type-options"), "nosniff");
    let etag = served.header("etag").to_owned();
    assert_eq!(app.send(revalidate(&first_id, &etag)).await.status, 304);

    // Replaced: the old id is gone, revalidated or not.
    let second = app.send(upload(&user, &png(64))).await;
    assert_ne!(avatar_id(&second.json()), first_id);
    app.send(revalidate(&first_id, &etag))
        .await
        .assert_error(404, "not_found");
    // An id that never was, however its ETag is guessed.
    let unknown = Uuid::new_v4().to_string();
    app.send(revalidate(&unknown, &format!("\"{unknown}\"")))
        .await
        .assert_error(404, "not_found");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn concurrent_uploads_by_one_user_leave_exactly_one_image(db: PgPool) {
    let app = TestRouter::new(db);
    let user = app.sign_in("openid-avatar-race").await;

    let replies = join_all((0..10).map(|n| app.send(upload(&user, &png(1000 + n))))).await;

    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let stored: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM avatars")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let pointed_at: String = sqlx::query_scalar("SELECT avatar_url FROM users WHERE id = $1")
        .bind(user.user_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "orphaned images: {stored:?}");
    assert_eq!(pointed_at, format!("/avatars/{}", stored[0]));
}

/// While avatar reads are stuck in the database, a request that needs a connection of its own is
/// still served: avatars get a few of the pool's connections, never all of them.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn avatar_downloads_cannot_take_the_whole_pool(db: PgPool) {
    // The server gets the test's pool of 5 connections and is told of 4, so avatars get one;
    // the lock and the watching below use connections of their own.
    let app = Arc::new(TestRouter::with_env(
        db,
        &[("DATABASE_MAX_CONNECTIONS", "4".into())],
    ));
    let user = app.sign_in("openid-avatar-crowd").await;
    let mut lock = own_connection(&app.db).await;
    for statement in ["BEGIN", "LOCK TABLE avatars IN ACCESS EXCLUSIVE MODE"] {
        sqlx::query(statement).execute(&mut lock).await.unwrap();
    }
    let mut watcher = own_connection(&app.db).await;

    let downloads: Vec<_> = (0..5)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let path = format!("/avatars/{}", Uuid::new_v4());
                app.send(request("GET", &path).empty()).await.status
            })
        })
        .collect();
    // Until at least one download waits on the lock, and a moment for the rest to queue.
    while waiting_on_locks(&mut watcher).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let me = tokio::time::timeout(Duration::from_secs(2), get_me(&app, &user.token))
        .await
        .expect("served while avatar reads are stuck");
    assert_eq!(me.status, 200, "{}", me.text());

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    for download in downloads {
        let status = download.await.unwrap();
        assert!([404, 503].contains(&status.as_u16()), "{status}");
    }
}

/// A connection to the test's database outside its pool.
async fn own_connection(db: &PgPool) -> PgConnection {
    PgConnection::connect_with(&db.connect_options())
        .await
        .unwrap()
}

async fn waiting_on_locks(watcher: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(watcher)
    .await
    .unwrap()
}
