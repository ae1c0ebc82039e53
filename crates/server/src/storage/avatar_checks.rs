//! The `avatar_media_checks` table: avatars WeChat is checking, by the trace_id its verdict will
//! carry. Written when [`crate::services::content_checks`] submits an avatar, taken when the
//! `wxa_media_check` event arrives ([`crate::services::push_events`]).

use sqlx::PgExecutor;
use uuid::Uuid;

/// An avatar waiting for WeChat's verdict.
pub struct PendingCheck {
    pub avatar_id: Uuid,
    pub user_id: Uuid,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    trace_id: &str,
    avatar_id: Uuid,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO avatar_media_checks (trace_id, avatar_id, user_id)
        VALUES ($1, $2, $3)
        ON CONFLICT (trace_id) DO NOTHING
        "#,
        trace_id,
        avatar_id,
        user_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes and returns the check filed under `trace_id`: a verdict is acted on once. `None` when
/// no such check is waiting (the avatar was replaced since, or the trace_id is not ours).
pub async fn take(
    db: impl PgExecutor<'_>,
    trace_id: &str,
) -> Result<Option<PendingCheck>, sqlx::Error> {
    sqlx::query_as!(
        PendingCheck,
        "DELETE FROM avatar_media_checks WHERE trace_id = $1 RETURNING avatar_id, user_id",
        trace_id
    )
    .fetch_optional(db)
    .await
}
