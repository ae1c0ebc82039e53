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

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::RefreshTokenHash;

/// How long after a rotation a second use of the same token counts as a lost race rather than
/// a replay. Two requests a client fired together must not cost it its session.
pub const REUSE_GRACE: Duration = Duration::from_secs(5);

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
    Reused { session_id: Uuid },
}

/// The successor a rotation stores.
pub struct Successor<'a> {
    pub hash: &'a RefreshTokenHash,
    pub expires_at: OffsetDateTime,
}

/// Uses up `presented` and stores `successor`, all in one transaction.
///
/// The row lock on the presented token serialises racing refreshes: the first rotates, and the
/// second then sees the token used within the grace period and is refused without harm.
pub async fn rotate(
    db: &PgPool,
    presented: &RefreshTokenHash,
    successor: Successor<'_>,
) -> Result<Rotation, sqlx::Error> {
    let mut tx = db.begin().await?;
    let grace_seconds = REUSE_GRACE.as_secs_f64();
    let Some(token) = sqlx::query!(
        r#"
        SELECT rt.session_id, s.user_id,
               s.revoked_at IS NOT NULL OR s.expires_at <= now() AS "session_over!",
               rt.expires_at <= now() AS "expired!",
               rt.used_at IS NOT NULL AS "used!",
               COALESCE(rt.used_at > now() - make_interval(secs => $2), false) AS "used_in_grace!"
        FROM refresh_tokens rt
        JOIN sessions s ON s.id = rt.session_id
        WHERE rt.token_hash = $1
        FOR UPDATE OF rt
        "#,
        presented.as_slice(),
        grace_seconds,
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
        });
    }
    sqlx::query!(
        r#"
        WITH used AS (
            UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1
        ), successor AS (
            INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($2, $3, $4)
        )
        UPDATE sessions SET last_used_at = now(), expires_at = $4 WHERE id = $3
        "#,
        presented.as_slice(),
        successor.hash.as_slice(),
        token.session_id,
        successor.expires_at,
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
