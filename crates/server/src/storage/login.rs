//! The one statement a login writes: the user, their newest session_key, the new session and its
//! first refresh token, in a single round trip.
//!
//! This is the only place outside their owners that writes `wechat_sessions`, `sessions` and
//! `refresh_tokens`, and it only inserts: the rows' later life belongs to
//! [`super::wechat_sessions`] and [`super::sessions`]. A login is the hottest write path, and one
//! statement is atomic without a transaction and costs one round trip instead of four.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::users::{query_with_user_columns, user_from_record, User};
use crate::domain::{Openid, RefreshTokenHash};

/// Who logged in, as WeChat vouched for them, and the session the login opens.
pub struct LoginIdentity<'a> {
    pub appid: &'a str,
    pub openid: &'a Openid,
    pub unionid: Option<&'a str>,
    /// The newest session_key, already sealed by [`crate::sealing`].
    pub sealed_session_key: &'a [u8],
    /// WeChat's risk rank, for a user created by this login (see `RISK_CHECK`).
    pub risk_rank: Option<i16>,
    pub session: NewSession<'a>,
}

/// The session a login opens, with its first refresh token.
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_agent: Option<&'a str>,
    pub refresh_token_hash: &'a RefreshTokenHash,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug)]
pub struct LoginRecord {
    pub user: User,
    pub new_user: bool,
}

/// Creates the user on first login or stamps a returning one, stores the newest session_key, and
/// opens the login's session with its first refresh token.
///
/// A failure leaves no user without a session, and no session without its user. Concurrent first
/// logins of one person meet on the (appid, openid) unique key: one inserts, the others turn into
/// updates of that row, and all of them succeed. `xmax = 0` holds only for a row this statement
/// inserted, which is how `new_user` is told apart.
pub async fn record(
    db: impl PgExecutor<'_>,
    login: &LoginIdentity<'_>,
) -> Result<LoginRecord, sqlx::Error> {
    let row = query_with_user_columns!(
        r#"
        WITH upserted AS (
            INSERT INTO users (appid, openid, unionid, risk_rank)
            VALUES ($1, $2, $3, $9)
            ON CONFLICT (appid, openid) DO UPDATE
                SET last_login_at = now(),
                    updated_at = now(),
                    -- A unionid appears once the app is bound to an Open Platform account.
                    unionid = COALESCE(EXCLUDED.unionid, users.unionid)
            RETURNING *, (xmax = 0) AS inserted
        ), stored_key AS (
            INSERT INTO wechat_sessions (user_id, session_key_sealed)
            SELECT id, $4 FROM upserted
            ON CONFLICT (user_id) DO UPDATE
                SET session_key_sealed = EXCLUDED.session_key_sealed,
                    updated_at = now()
        ), new_session AS (
            INSERT INTO sessions (id, user_id, user_agent, expires_at)
            SELECT $5, id, $6, $7 FROM upserted
            RETURNING id
        ), first_refresh_token AS (
            INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
            SELECT $8, id, $7 FROM new_session
        )
        SELECT inserted AS "inserted!","#,
        "FROM upserted",
        login.appid,
        login.openid.as_str(),
        login.unionid,
        login.sealed_session_key,
        login.session.id,
        login.session.user_agent,
        login.session.expires_at,
        login.session.refresh_token_hash.as_slice(),
        login.risk_rank,
    )
    .fetch_one(db)
    .await?;
    Ok(LoginRecord {
        new_user: row.inserted,
        user: user_from_record!(row),
    })
}
