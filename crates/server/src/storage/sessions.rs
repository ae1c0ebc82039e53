//! The `sessions` and `refresh_tokens` tables: rotation, reuse detection, revocation.
//!
//! A login inserts a session and its first refresh token in its one statement
//! ([`super::login::record`]); a confirmed scan-to-login opens one with [`open_from_qr_login`];
//! everything after that is done here. Only [`crate::services::sessions`] calls this module,
//! so that every revocation also reaches this instance's session cache, and
//! [`crate::services::qr_login`], which only opens sessions, in the transaction that hands out
//! their tokens, and asks where a scanning session began.
//!
//! A session is one login on one device. Its refresh tokens form a chain: each refresh uses up
//! the presented token and adds its successor. A used token that comes back after the grace
//! period is a replay, by a thief or by a client that lost track, and ends the session so
//! that every token descended from that login stops working.

use std::time::Duration;

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::login::NewSession;
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

/// Uses up `presented` and stores `successor` within the session's refresh `budget`, or revokes
/// the session when `presented` is a replay: one statement, so one round trip, and atomic as
/// any statement is.
///
/// The row lock on the presented token serialises racing refreshes: the first rotates, and the
/// second, once the first commits, reads the token as used within the grace period and is refused
/// without harm. A session has one live token at a time, so that lock also serialises the
/// session's budget count. The writes below are each guarded by the one verdict, so at most one
/// of them touches the session row.
pub async fn rotate(
    db: &Db,
    presented: &RefreshTokenHash,
    successor: Successor<'_>,
    budget: RefreshBudget,
) -> Result<Rotation, sqlx::Error> {
    let grace_seconds = REUSE_GRACE.as_secs_f64();
    let window_seconds = budget.window.as_secs_f64();
    let per_window = i32::try_from(budget.per_window).unwrap_or(i32::MAX);
    let Some(token) = sqlx::query!(
        r#"
        WITH token AS (
            SELECT rt.session_id, s.user_id,
                   s.revoked_at IS NOT NULL OR s.expires_at <= now() OR rt.expires_at <= now()
                       OR COALESCE(rt.used_at > now() - make_interval(secs => $2), false)
                       AS refused,
                   rt.used_at IS NOT NULL AS used,
                   (s.refresh_window_started_at > now() - make_interval(secs => $3)
                       AND s.refreshes_in_window >= $4) AS over_budget,
                   EXTRACT(EPOCH FROM s.refresh_window_started_at + make_interval(secs => $3)
                       - now())::float8 AS window_ends_in
            FROM refresh_tokens rt
            JOIN sessions s ON s.id = rt.session_id
            WHERE rt.token_hash = $1
            FOR UPDATE OF rt
        ), verdict AS (
            SELECT session_id, user_id, window_ends_in,
                   CASE WHEN refused THEN 'refused'
                        WHEN used THEN 'reused'
                        WHEN over_budget THEN 'over_budget'
                        ELSE 'rotated' END AS outcome
            FROM token
        ), used_up AS (
            UPDATE refresh_tokens rt SET used_at = now()
            FROM verdict v
            WHERE rt.token_hash = $1 AND v.outcome = 'rotated'
        ), successor AS (
            INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
            SELECT $5, session_id, $6 FROM verdict WHERE outcome = 'rotated'
        ), rotated AS (
            UPDATE sessions s SET
                last_used_at = now(),
                expires_at = $6,
                -- Every expression here reads the row as it was: a window that has ended starts
                -- anew.
                refreshes_in_window = CASE
                    WHEN s.refresh_window_started_at > now() - make_interval(secs => $3)
                    THEN s.refreshes_in_window + 1 ELSE 1 END,
                refresh_window_started_at = CASE
                    WHEN s.refresh_window_started_at > now() - make_interval(secs => $3)
                    THEN s.refresh_window_started_at ELSE now() END
            FROM verdict v
            WHERE s.id = v.session_id AND v.outcome = 'rotated'
        ), revoked AS (
            UPDATE sessions s SET revoked_at = now(), revoked_why = 'refresh token reused'
            FROM verdict v
            WHERE s.id = v.session_id AND v.outcome = 'reused'
              AND s.revoked_at IS NULL AND s.expires_at > now()
        )
        SELECT session_id AS "session_id!", user_id AS "user_id!", outcome AS "outcome!",
               window_ends_in AS "window_ends_in!"
        FROM verdict
        "#,
        presented.as_slice(),
        grace_seconds,
        window_seconds,
        per_window,
        successor.hash.as_slice(),
        successor.expires_at,
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(Rotation::Refused);
    };
    Ok(match token.outcome.as_str() {
        "rotated" => Rotation::Rotated {
            user_id: token.user_id,
            session_id: token.session_id,
        },
        "reused" => Rotation::Reused {
            session_id: token.session_id,
            user_id: token.user_id,
        },
        "over_budget" => Rotation::OverBudget {
            retry_after: Duration::from_secs_f64(token.window_ends_in.max(1.0)),
        },
        _ => Rotation::Refused,
    })
}

/// Opens a session of `user_id` for a browser whose scan-to-login ticket was confirmed, with its
/// first refresh token, in one statement. It is marked as such: it holds no WeChat session_key.
pub async fn open_from_qr_login(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        WITH new_session AS (
            INSERT INTO sessions (id, user_id, user_agent, expires_at, origin)
            VALUES ($1, $2, $3, $4, 'qr_login')
            RETURNING id
        )
        INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
        SELECT $5, id, $4 FROM new_session
        "#,
        session.id,
        user_id,
        session.user_agent,
        session.expires_at,
        session.refresh_token_hash.as_slice(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `session_id` began with a login in the mini program, rather than in a browser by
/// scan-to-login.
pub async fn is_from_mini_program(
    db: impl PgExecutor<'_>,
    session_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let origin = sqlx::query_scalar!("SELECT origin FROM sessions WHERE id = $1", session_id)
        .fetch_optional(db)
        .await?;
    Ok(origin.as_deref() == Some("mini_program"))
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
