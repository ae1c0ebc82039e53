//! What users fill in after login, and the WeChat data kept for them: nickname, avatar, verified
//! phone number, the sealed session_key, and lookups by unionid.
//!
//! Data functions only; the HTTP handlers decide what is allowed. Functions that change a user
//! return the whole updated [`User`], so a handler answers with it without a second read.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::Nickname;
use crate::users::User;

pub async fn set_nickname(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    nickname: &Nickname,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"
        UPDATE users SET nickname = $2, updated_at = now()
        WHERE id = $1
        RETURNING id, openid, unionid, nickname, avatar_url, phone, phone_country_code,
                  created_at, last_login_at
        "#,
        user_id,
        nickname.as_str(),
    )
    .fetch_optional(db)
    .await
}

/// Stores a number WeChat has just vouched for.
pub async fn set_phone(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    pure_phone_number: &str,
    country_code: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"
        UPDATE users
        SET phone = $2, phone_country_code = $3, phone_verified_at = now(), updated_at = now()
        WHERE id = $1
        RETURNING id, openid, unionid, nickname, avatar_url, phone, phone_country_code,
                  created_at, last_login_at
        "#,
        user_id,
        pure_phone_number,
        country_code,
    )
    .fetch_optional(db)
    .await
}

/// Counts one phone number lookup against `user_id`'s quota of `limit` per `window`.
///
/// `Err(retry_after)` when the quota is spent. One statement: the row lock of the upsert
/// serialises concurrent requests of one user, on any instance.
pub async fn take_phone_lookup(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i32,
    window: Duration,
) -> Result<Result<(), Duration>, sqlx::Error> {
    let row = sqlx::query!(
        r#"
        INSERT INTO phone_lookup_quota AS q (user_id, window_started_at, calls)
        VALUES ($1, now(), 1)
        ON CONFLICT (user_id) DO UPDATE SET
            window_started_at = CASE
                WHEN q.window_started_at <= now() - make_interval(secs => $2) THEN now()
                ELSE q.window_started_at END,
            calls = CASE
                WHEN q.window_started_at <= now() - make_interval(secs => $2) THEN 1
                ELSE q.calls + 1 END
        RETURNING calls,
                  EXTRACT(EPOCH FROM window_started_at + make_interval(secs => $2) - now())::float8
                      AS "retry_after_seconds!"
        "#,
        user_id,
        window.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    if row.calls <= limit {
        Ok(Ok(()))
    } else {
        Ok(Err(Duration::from_secs_f64(
            row.retry_after_seconds.max(1.0),
        )))
    }
}

/// Stores a new avatar and points the user at it, replacing any older one.
pub async fn replace_avatar(
    db: &PgPool,
    user_id: Uuid,
    content_type: &str,
    bytes: &[u8],
) -> Result<Option<User>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let avatar_id = sqlx::query_scalar!(
        "INSERT INTO avatars (user_id, content_type, bytes) VALUES ($1, $2, $3) RETURNING id",
        user_id,
        content_type,
        bytes,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM avatars WHERE user_id = $1 AND id <> $2",
        user_id,
        avatar_id
    )
    .execute(&mut *tx)
    .await?;
    let user = sqlx::query_as!(
        User,
        r#"
        UPDATE users SET avatar_url = $2, updated_at = now()
        WHERE id = $1
        RETURNING id, openid, unionid, nickname, avatar_url, phone, phone_country_code,
                  created_at, last_login_at
        "#,
        user_id,
        avatar_path(avatar_id),
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Where an avatar is served, relative to the server's base URL.
pub fn avatar_path(avatar_id: Uuid) -> String {
    format!("/avatars/{avatar_id}")
}

pub struct Avatar {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub async fn find_avatar(
    db: impl PgExecutor<'_>,
    avatar_id: Uuid,
) -> Result<Option<Avatar>, sqlx::Error> {
    sqlx::query_as!(
        Avatar,
        "SELECT content_type, bytes FROM avatars WHERE id = $1",
        avatar_id
    )
    .fetch_optional(db)
    .await
}

/// What WeChat calls require about a user: who they are to WeChat, and their sealed session_key
/// (which only [`crate::sealing`] can open).
pub struct WechatIdentity {
    pub appid: String,
    pub openid: String,
    pub session_key_sealed: Option<Vec<u8>>,
}

pub async fn wechat_identity(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<WechatIdentity>, sqlx::Error> {
    sqlx::query_as!(
        WechatIdentity,
        r#"
        SELECT u.appid, u.openid, s.session_key_sealed AS "session_key_sealed?"
        FROM users u LEFT JOIN wechat_sessions s ON s.user_id = u.id
        WHERE u.id = $1
        "#,
        user_id
    )
    .fetch_optional(db)
    .await
}

/// Replaces the stored session_key with one WeChat has just handed out.
pub async fn store_session_key(
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

/// Every user, in any app of this database, who is the same person as `unionid`.
///
/// A unionid is issued per WeChat Open Platform account: the same person has one unionid across
/// every mini program, official account and app bound to that account, while their openid
/// differs in each. Two mini programs bound to one Open Platform account and sharing this
/// database therefore find each other's users here. A user has a unionid only once some login
/// brought one (see [`crate::users::record_login`]), so an app must not assume every user has one.
pub async fn find_by_unionid(
    db: impl PgExecutor<'_>,
    unionid: &str,
) -> Result<Vec<(String, User)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        SELECT appid, id, openid, unionid, nickname, avatar_url, phone, phone_country_code,
               created_at, last_login_at
        FROM users
        WHERE unionid = $1
        ORDER BY created_at
        "#,
        unionid
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.appid,
                User {
                    id: row.id,
                    openid: row.openid,
                    unionid: row.unionid,
                    nickname: row.nickname,
                    avatar_url: row.avatar_url,
                    phone: row.phone,
                    phone_country_code: row.phone_country_code,
                    created_at: row.created_at,
                    last_login_at: row.last_login_at,
                },
            )
        })
        .collect())
}
