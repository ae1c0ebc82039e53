//! Changes to a user's profile that span tables.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::db::Db;
use crate::storage::avatar_checks::PendingCheck;
use crate::storage::avatars;
use crate::storage::users::{self, User};

/// Where an avatar is served, relative to the server's base URL.
pub fn avatar_path(avatar_id: Uuid) -> String {
    format!("/avatars/{avatar_id}")
}

/// Stores a new avatar, points the user at it and deletes the older ones, in one transaction:
/// a failure leaves the old avatar in place and served.
///
/// The user's row is locked first, so that concurrent uploads of one user take turns: each
/// deletes what the one before it stored, and exactly one image remains, the one the user points
/// at. Without the lock each would delete only what was committed before it began.
///
/// Returns the user and the new avatar's id.
pub async fn replace_avatar(
    db: &Db,
    user_id: Uuid,
    content_type: &str,
    bytes: &[u8],
) -> Result<Option<(User, Uuid)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    if !users::lock(&mut *tx, user_id).await? {
        return Ok(None);
    }
    let avatar_id = avatars::insert(&mut *tx, user_id, content_type, bytes).await?;
    avatars::delete_others(&mut *tx, user_id, avatar_id).await?;
    let user = users::set_avatar_url(&mut *tx, user_id, &avatar_path(avatar_id)).await?;
    tx.commit().await?;
    Ok(user.map(|user| (user, avatar_id)))
}

/// Takes a checked avatar away from its user (their `avatar_url` goes back to null if it still
/// points at it) and deletes the image, within the caller's transaction.
pub async fn remove_avatar(
    tx: &mut Transaction<'_, Postgres>,
    check: &PendingCheck,
) -> Result<(), sqlx::Error> {
    // The same order as an upload's, so that the two never wait on each other in a cycle.
    users::lock(&mut **tx, check.user_id).await?;
    users::clear_avatar_url(&mut **tx, check.user_id, &avatar_path(check.avatar_id)).await?;
    avatars::delete(&mut **tx, check.avatar_id).await?;
    Ok(())
}
