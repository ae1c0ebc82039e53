//! Refresh tokens: rotation, reuse detection, races and expiry. Malformed requests and tokens
//! that were never issued are in the fast tier (`router_validation`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::join_all;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{session_id, token};

async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let response = app.refresh(refresh_token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn login_returns_a_refresh_token_that_is_stored_only_as_a_hash(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-refresh").await;
    let refresh_token = token(&login, "refresh_token");
    assert_eq!(login["refresh_expires_in"], 30 * 24 * 3600);
    assert_eq!(refresh_token.len(), 43, "256 bits in unpadded base64url");
    assert_eq!(URL_SAFE_NO_PAD.decode(refresh_token).unwrap().len(), 32);

    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM refresh_tokens")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, [Sha256::digest(refresh_token.as_bytes()).to_vec()]);
    let dump: String = sqlx::query_scalar("SELECT string_agg(t::text, ' ') FROM refresh_tokens t")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!dump.contains(refresh_token));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_rotation_chain_keeps_one_session_and_uses_each_token_up(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-chain").await;
    let session_of = |body: &Value| session_id(token(body, "access_token"));
    let sid = session_of(&login);

    let mut current = login;
    for _ in 0..5 {
        let next = refreshed(&app, token(&current, "refresh_token")).await;
        assert_ne!(
            token(&next, "refresh_token"),
            token(&current, "refresh_token")
        );
        assert_eq!(next["token_type"], "Bearer");
        assert_eq!(next["expires_in"], 7200);
        assert_eq!(
            session_of(&next),
            sid,
            "refreshing stays in the login's session"
        );
        app.assert_access_live(&next).await;
        current = next;
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE used_at IS NULL")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1, "only the newest token of the chain is live");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_reused_refresh_token_revokes_the_whole_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-stolen").await;
    let first = token(&login, "refresh_token").to_owned();
    let second = refreshed(&app, &first).await;
    let third = refreshed(&app, token(&second, "refresh_token")).await;
    // Past the grace period, a replay of the first token is a theft.
    sqlx::query("UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();

    assert_error(app.refresh(&first).await, 401, "token_reused").await;

    // Everything descended from that login is dead: the newest refresh and access tokens too.
    assert_error(
        app.refresh(token(&third, "refresh_token")).await,
        401,
        "invalid_token",
    )
    .await;
    assert_error(
        app.get_me(token(&third, "access_token")).await,
        401,
        "invalid_token",
    )
    .await;
    assert_error(
        app.get_me(token(&login, "access_token")).await,
        401,
        "invalid_token",
    )
    .await;
    // Another login of the same user is another session and unharmed.
    let other = app.login_as("openid-stolen").await;
    app.assert_access_live(&other).await;
}

/// The instance that detects a replay must refuse the session's access tokens at once, even when
/// it has just cached that session as live; a long cache TTL makes a stale answer visible.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn reuse_revocation_takes_effect_at_once_on_the_instance_that_detected_it(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("SESSION_CACHE_TTL", "3600".to_owned())]).await;
    let login = app.login_as("openid-replayed").await;
    let first = token(&login, "refresh_token").to_owned();
    let second = refreshed(&app, &first).await;
    let access = token(&second, "access_token");
    app.assert_access_live(&second).await; // the session is now cached as live
    sqlx::query("UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();

    assert_error(app.refresh(&first).await, 401, "token_reused").await;

    assert_error(app.get_me(access).await, 401, "invalid_token").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn racing_refreshes_of_one_token_have_exactly_one_winner(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for round in 0..5 {
        let login = app.login_as(&format!("openid-race-{round}")).await;
        let refresh_token = token(&login, "refresh_token");

        let responses = join_all((0..4).map(|_| app.refresh(refresh_token))).await;

        let mut winners = Vec::new();
        for response in responses {
            match response.status().as_u16() {
                200 => winners.push(response.json::<Value>().await.unwrap()),
                // The losers are refused without ending the session.
                _ => {
                    assert_error(response, 401, "invalid_token").await;
                }
            }
        }
        assert_eq!(winners.len(), 1, "exactly one refresh wins");
        let winner = &winners[0];
        app.assert_access_live(winner).await;
        refreshed(&app, token(winner, "refresh_token")).await;
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_expired_refresh_token_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let login = app.login_as("openid-expiring").await;
    sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_error(
        app.refresh(token(&login, "refresh_token")).await,
        401,
        "invalid_token",
    )
    .await;
}
