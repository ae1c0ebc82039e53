//! The `avatars` table: each user's uploaded avatar image.
//!
//! [`crate::services::profile`] replaces an avatar and points the user at it in one transaction;
//! this module only stores and reads the images.

use sqlx::PgExecutor;
use uuid::Uuid;

pub struct Avatar {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Stores a new avatar for `user_id` and returns its id.
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    content_type: &str,
    bytes: &[u8],
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO avatars (user_id, content_type, bytes) VALUES ($1, $2, $3) RETURNING id",
        user_id,
        content_type,
        bytes,
    )
    .fetch_one(db)
    .await
}

/// Deletes every avatar of `user_id` but `keep`.
pub async fn delete_others(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM avatars WHERE user_id = $1 AND id <> $2",
        user_id,
        keep
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether an avatar is stored under `avatar_id`, without reading its image.
pub async fn exists(db: impl PgExecutor<'_>, avatar_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM avatars WHERE id = $1) AS "exists!""#,
        avatar_id
    )
    .fetch_one(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, avatar_id: Uuid) -> Result<Option<Avatar>, sqlx::Error> {
    sqlx::query_as!(
        Avatar,
        "SELECT content_type, bytes FROM avatars WHERE id = $1",
        avatar_id
    )
    .fetch_optional(db)
    .await
}

/// Deletes the avatar stored under `avatar_id`; false when there was none.
pub async fn delete(db: impl PgExecutor<'_>, avatar_id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!("DELETE FROM avatars WHERE id = $1", avatar_id)
        .execute(db)
        .await?;
    Ok(deleted.rows_affected() > 0)
}
