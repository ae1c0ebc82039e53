//! Pruning: ended sessions and spent refresh tokens go, everything a request may still need
//! stays, and several instances pruning at once neither block nor trip over one another.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;
use wxlogin_server::{prune_once, Pruned};

/// How long a used refresh token is kept: the access-token lifetime the server would pass.
const KEPT_FOR: Duration = Duration::from_secs(7_200);

async fn user(db: &PgPool) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO users (appid, openid) VALUES ('wxprune', gen_random_uuid()::text) RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// A session of `user_id` with `state` spliced into its row: its expiry and revocation.
async fn session(db: &PgPool, user_id: Uuid, expires_at: &str, revoked_at: &str) -> Uuid {
    sqlx::query_scalar(&format!(
        "INSERT INTO sessions (id, user_id, expires_at, revoked_at)
         VALUES (gen_random_uuid(), $1, {expires_at}, {revoked_at}) RETURNING id"
    ))
    .bind(user_id)
    .fetch_one(db)
    .await
    .unwrap()
}

/// A refresh token of `session_id` with this expiry and use; returns its hash.
async fn refresh_token(db: &PgPool, session_id: Uuid, expires_at: &str, used_at: &str) -> Vec<u8> {
    sqlx::query_scalar(&format!(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at)
         VALUES (gen_random_uuid()::text::bytea, $1, {expires_at}, {used_at})
         RETURNING token_hash"
    ))
    .bind(session_id)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn sessions_left(db: &PgPool) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT id FROM sessions ORDER BY id")
        .fetch_all(db)
        .await
        .unwrap()
}

async fn tokens_left(db: &PgPool) -> Vec<Vec<u8>> {
    sqlx::query_scalar("SELECT token_hash FROM refresh_tokens ORDER BY token_hash")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn ended_sessions_and_spent_tokens_go_and_the_rest_stays(db: PgPool) {
    let user_id = user(&db).await;
    let later = "now() + interval '30 days'";
    let live = session(&db, user_id, later, "NULL").await;
    let revoked = session(&db, user_id, later, "now() - interval '1 minute'").await;
    let lapsed = session(&db, user_id, "now() - interval '1 second'", "NULL").await;

    let current = refresh_token(&db, live, later, "NULL").await;
    // Used a minute ago: a replay of it must still end the session.
    let just_used = refresh_token(&db, live, later, "now() - interval '1 minute'").await;
    let long_used = refresh_token(&db, live, later, "now() - interval '3 hours'").await;
    let expired = refresh_token(&db, live, "now() - interval '1 second'", "NULL").await;
    let of_revoked = refresh_token(&db, revoked, later, "NULL").await;
    let of_lapsed = refresh_token(&db, lapsed, later, "NULL").await;

    let pruned = prune_once(&db, KEPT_FOR).await.unwrap();

    assert_eq!(sessions_left(&db).await, vec![live]);
    let mut kept = vec![current, just_used];
    kept.sort();
    assert_eq!(tokens_left(&db).await, kept);
    // The tokens of ended sessions went with their sessions.
    assert_eq!(
        pruned,
        Pruned {
            sessions: 2,
            refresh_tokens: 2,
            qr_login_tickets: 0,
        }
    );
    for gone in [long_used, expired, of_revoked, of_lapsed] {
        assert!(!tokens_left(&db).await.contains(&gone));
    }
    assert_eq!(prune_once(&db, KEPT_FOR).await.unwrap(), Pruned::default());
}

/// Instances prune side by side: between them they delete everything there is to delete, each row
/// once, in batches, and nobody waits on anyone's locks.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn instances_pruning_at_once_share_the_work(db: PgPool) {
    let user_id = user(&db).await;
    let live = session(&db, user_id, "now() + interval '30 days'", "NULL").await;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at)
         SELECT ('spent-' || n)::bytea, $1, now() + interval '30 days', now() - interval '1 day'
         FROM generate_series(1, 2500) AS n",
    )
    .bind(live)
    .execute(&db)
    .await
    .unwrap();

    let (first, second) = tokio::join!(prune_once(&db, KEPT_FOR), prune_once(&db, KEPT_FOR));

    let deleted = first.unwrap().refresh_tokens + second.unwrap().refresh_tokens;
    assert_eq!(deleted, 2500);
    assert!(tokens_left(&db).await.is_empty());
    assert_eq!(sessions_left(&db).await, vec![live]);
}
