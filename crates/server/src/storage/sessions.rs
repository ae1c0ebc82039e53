//! The `sessions` and `refresh_tokens` tables: rotation, reuse detection, revocation.
//!
//! A login inserts a session and its first refresh token in its one statement
//! ([`super::login::record`]); everything after that is done here. Only
//! [`crate::services::sessions`] calls this module, so that every revocation also reaches this
//! instance's session cache.
//!
//! A session is one login on one device. Its refresh tokens form a chain: each refresh uses up
//! the presented token and adds its successor. A used token that comes back after the grace
//! period is a replay, by a thief or by a client that lost track, and ends the session so
//! that every token descended from that login stops working.

use std::time::Duration;

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Db;
use crate::domain::RefreshTokenHash;

/// How long after a rotation a second use of the same token counts as a lost race rather than
/// a replay. Two requests a client fired together must not cost it its session.
pub const REUSE_GRACE: Duration = Duration::from_secs(5);

/// How many refreshes one session may make per window; past it a refresh is refused until the
/// window ends, and the presented token stays usable.
#[derive(Debug, Clone, Copy)]
pub struct RefreshBudget {
    pub per_window: u32,
    pub window: Duration,
}

/// A live session, as the sessions list shows it.
#[derive(Debug)]
pub struct SessionRow {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub last_used_at: OffsetDateTime,
    pub user_agent: Option<String>,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live; it is now used up and the successor stands in its place.
    Rotated { user_id: Uuid, session_id: Uuid },
    /// Unknown, expired, of an ended session, or used moments ago by a request that won a race.
    Refused,
    /// Used before, outside the grace period: the session has just been revoked.
    Reused { session_id: Uuid, user_id: Uuid },
    /// Live, but its session has used up its refreshes for now; nothing was changed.
    OverBudget { retry_after: Duration },
}

/// The successor a rotation stores.
pub struct Successor<'a> {
    pub hash: &'a RefreshTokenHash,
    pub expires_at: OffsetDateTime,
}

/// Uses up `presented` and stores `successor`, all in one transaction, within the session's
/// refresh `budget`.
///
/// The row lock on the presented token serialises racing refreshes: the first rotates, and the
/// second then sees the token used within the grace period and is refused without harm. A session
/// has one live token at a time, so that lock also serialises the session's budget count.
pub async fn rotate(
    db: &Db,
    presented: &RefreshTokenHash,
    successor: Successor<'_>,
    budget: RefreshBudget,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = db.begin().await?;
    let grace_seconds = REUSE_GRACE.as_secs_f64();
    let window_seconds = budget.window.as_secs_f64();
    let per_window = i32::try_from(budget.per_window).unwrap_or(i32::MAX);
    let Some(token) = sqlx::query!(
        r#"
        SELECT rt.session_id, s.user_id,
               s.revoked_at IS NOT NULL OR s.expires_at <= now() AS "session_over!",
               rt.expires_at <= now() AS "expired!",
               rt.used_at IS NOT NULL AS "used!",
               COALESCE(rt.used_at > now() - make_interval(secs => $2), false) AS "used_in_grace!",
               (s.refresh_window_started_at > now() - make_interval(secs => $3)
                   AND s.refreshes_in_window >= $4) AS "over_budget!",
               EXTRACT(EPOCH FROM s.refresh_window_started_at + make_interval(secs => $3) - now())
                   ::float8 AS "window_ends_in!"
        FROM refresh_tokens rt
        JOIN sessions s ON s.id = rt.session_id
        WHERE rt.token_hash = $1
        FOR UPDATE OF rt
        "#,
        presented.as_slice(),
        grace_seconds,
        window_seconds,
        per_window,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Rotation::Refused);
    };
    if token.session_over || token.expired || token.used_in_grace {
        tx.rollback().await?;
        return Ok(Rotation::Refused);
    }
    if token.used {
        revoke(
            &mut *tx,
            token.session_id,
            token.user_id,
            "refresh token reused",
        )
        .await?;
        tx.commit().await?;
        return Ok(Rotation::Reused {
            session_id: token.session_id,
            user_id: token.user_id,
        });
    }
    if token.over_budget {
        tx.rollback().await?;
        return Ok(Rotation::OverBudget {
            retry_after: Duration::from_secs_f64(token.window_ends_in.max(1.0)),
        });
    }
    sqlx::query!(
        r#"
        WITH used AS (
            UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1
        ), successor AS (
            INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($2, $3, $4)
        )
        UPDATE sessions SET
            last_used_at = now(),
            expires_at = $4,
            -- Every expression here reads the row as it was: a window that has ended starts anew.
            refreshes_in_window = CASE
                WHEN refresh_window_started_at > now() - make_interval(secs => $5)
                THEN refreshes_in_window + 1 ELSE 1 END,
            refresh_window_started_at = CASE
                WHEN refresh_window_started_at > now() - make_interval(secs => $5)
                THEN refresh_window_started_at ELSE now() END
        WHERE id = $3
        "#,
        presented.as_slice(),
        successor.hash.as_slice(),
        token.session_id,
        successor.expires_at,
        window_seconds,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        user_id: token.user_id,
        session_id: token.session_id,
    })
}

/// Ends one session of `user_id`; false when there is no such live session of theirs.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
    user_id: Uuid,
    why: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        UPDATE sessions SET revoked_at = now(), revoked_why = $3
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
        "#,
        session_id,
        user_id,
        why,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Ends every live session of `user_id` and returns their ids.
pub async fn revoke_all(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    why: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        UPDATE sessions SET revoked_at = now(), revoked_why = $2
        WHERE user_id = $1 AND revoked_at IS NULL
        RETURNING id
        "#,
        user_id,
        why,
    )
    .fetch_all(db)
    .await
}

/// Whether `session_id` belongs to `user_id` and is neither revoked nor expired.
pub async fn is_live(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let live = sqlx::query_scalar!(
        r#"
        SELECT revoked_at IS NULL AND expires_at > now() AS "live!"
        FROM sessions WHERE id = $1 AND user_id = $2
        "#,
        session_id,
        user_id,
    )
    .fetch_optional(db)
    .await?;
    Ok(live.unwrap_or(false))
}

/// The live sessions of `user_id`, newest first.
pub async fn list_live(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as!(
        SessionRow,
        r#"
        SELECT id, created_at, last_used_at, user_agent
        FROM sessions
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
        ORDER BY created_at DESC
        "#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// Deletes up to `batch` sessions that have ended (revoked or past their expiry), with their
/// refresh tokens; returns how many. Rows another instance is deleting at the same moment are
/// skipped rather than waited for, so any number of instances may prune at once.
pub async fn delete_ended(db: impl PgExecutor<'_>, batch: i64) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        DELETE FROM sessions WHERE id IN (
            SELECT id FROM sessions
            WHERE revoked_at IS NOT NULL OR expires_at <= now()
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        "#,
        batch,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes up to `batch` refresh tokens that can no longer do anything: past their expiry, or
/// used more than `used_for` ago; returns how many. Skips rows locked by a rotation or by
/// another instance's prune.
pub async fn delete_spent_refresh_tokens(
    db: impl PgExecutor<'_>,
    used_for: Duration,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        DELETE FROM refresh_tokens WHERE token_hash IN (
            SELECT token_hash FROM refresh_tokens
            WHERE expires_at <= now() OR used_at <= now() - make_interval(secs => $1)
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        )
        "#,
        used_for.as_secs_f64(),
        batch,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
