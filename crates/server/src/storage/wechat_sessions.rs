//! The `wechat_sessions` table: each user's newest WeChat session_key, sealed.
//!
//! A login stores the key in its one statement ([`super::login::record`]); a reset replaces it
//! here. The sealed bytes only ever leave this module for [`crate::sealing`], which alone can
//! open them.

use sqlx::PgExecutor;
use uuid::Uuid;

/// What WeChat calls about a user need: who they are to WeChat, and their sealed session_key.
pub struct WechatIdentity {
    pub appid: String,
    pub openid: String,
    pub session_key_sealed: Option<Vec<u8>>,
    /// Whether the asking session began in the mini program, rather than in a browser by
    /// scan-to-login: only the mini program's sessions may use the key.
    pub from_mini_program: bool,
}

/// The identity of `user_id`, as their session `session_id` may use it.
pub async fn wechat_identity(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<Option<WechatIdentity>, sqlx::Error> {
    sqlx::query_as!(
        WechatIdentity,
        r#"
        SELECT u.appid, u.openid, s.session_key_sealed AS "session_key_sealed?",
               NOT EXISTS (
                   SELECT 1 FROM sessions se
                   WHERE se.id = $2 AND se.user_id = u.id AND se.origin <> 'mini_program'
               ) AS "from_mini_program!"
        FROM users u LEFT JOIN wechat_sessions s ON s.user_id = u.id
        WHERE u.id = $1
        "#,
        user_id,
        session_id,
    )
    .fetch_optional(db)
    .await
}

/// Replaces the stored session_key with one WeChat has just handed out.
pub async fn store(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    sealed: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO wechat_sessions (user_id, session_key_sealed) VALUES ($1, $2)
        ON CONFLICT (user_id) DO UPDATE
            SET session_key_sealed = EXCLUDED.session_key_sealed, updated_at = now()
        "#,
        user_id,
        sealed
    )
    .execute(db)
    .await?;
    Ok(())
}
