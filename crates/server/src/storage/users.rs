//! The `users` table: who has logged in, and what they filled in.
//!
//! Rows are created by the one-statement login ([`super::login::record`]), which splices in
//! this module's column list; every other change to a user is made here. Functions take any
//! executor, so the caller decides what runs in one transaction.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Nickname, PhoneNumber};

/// A user as the server knows them. The session_key is not here: it lives in
/// [`super::wechat_sessions`] and is never read next to user data.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub appid: String,
    pub openid: String,
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    pub phone: Option<String>,
    pub phone_country_code: Option<String>,
    /// The privacy policy version the user last accepted, if any.
    pub privacy_consent_version: Option<String>,
    /// WeChat's risk rank (0 to 4) at sign-up, when `RISK_CHECK` was on; never sent to the client.
    pub risk_rank: Option<i16>,
    pub created_at: OffsetDateTime,
    pub last_login_at: OffsetDateTime,
}

/// `sqlx::query!` with [`User`]'s columns spliced between `$before` and `$after`: the one column
/// list of a user. The `"!"` overrides make it valid over `users` and over a CTE's RETURNING
/// alike, where Postgres cannot tell sqlx that a column is never null.
///
/// Adding a column to [`User`] means adding it here, in [`user_from_record!`] and in the
/// migration.
macro_rules! query_with_user_columns {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            $before
                + r#" id AS "id!", appid AS "appid!", openid AS "openid!", unionid, nickname,
                      avatar_url, phone, phone_country_code, privacy_consent_version,
                      risk_rank, created_at AS "created_at!",
                      last_login_at AS "last_login_at!" "#
                + $after
            $(, $arg)*
        )
    };
}

/// The one conversion of a row of [`query_with_user_columns!`] into a [`User`].
macro_rules! user_from_record {
    ($row:expr) => {{
        let row = $row;
        $crate::storage::users::User {
            id: row.id,
            appid: row.appid,
            openid: row.openid,
            unionid: row.unionid,
            nickname: row.nickname,
            avatar_url: row.avatar_url,
            phone: row.phone,
            phone_country_code: row.phone_country_code,
            privacy_consent_version: row.privacy_consent_version,
            risk_rank: row.risk_rank,
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        }
    }};
}

pub(crate) use {query_with_user_columns, user_from_record};

pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let row = query_with_user_columns!("SELECT", "FROM users WHERE id = $1", id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|row| user_from_record!(row)))
}

/// Every user, in any app of this database, who is the same person as `unionid`, oldest first.
///
/// A unionid is issued per WeChat Open Platform account: the same person has one unionid across
/// every mini program, official account and app bound to that account, while their openid
/// differs in each. Two mini programs bound to one Open Platform account and sharing this
/// database therefore find each other's users here. A user has a unionid only once some login
/// brought one, so an app must not assume every user has one.
pub async fn find_by_unionid(
    db: impl PgExecutor<'_>,
    unionid: &str,
) -> Result<Vec<User>, sqlx::Error> {
    let rows = query_with_user_columns!(
        "SELECT",
        "FROM users WHERE unionid = $1 ORDER BY created_at",
        unionid
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| user_from_record!(row)).collect())
}

pub async fn set_nickname(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    nickname: &Nickname,
) -> Result<Option<User>, sqlx::Error> {
    let row = query_with_user_columns!(
        "UPDATE users SET nickname = $2, updated_at = now() WHERE id = $1 RETURNING",
        "",
        user_id,
        nickname.as_str(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| user_from_record!(row)))
}

/// Stores a number WeChat has just vouched for.
pub async fn set_phone(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    phone: &PhoneNumber,
) -> Result<Option<User>, sqlx::Error> {
    let row = query_with_user_columns!(
        r#"
        UPDATE users
        SET phone = $2, phone_country_code = $3, phone_verified_at = now(), updated_at = now()
        WHERE id = $1
        RETURNING"#,
        "",
        user_id,
        phone.national(),
        phone.country_code(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| user_from_record!(row)))
}

/// Locks `user_id`'s row until the transaction ends, so that changes to the user that span
/// several statements (replacing an avatar) run one at a time; false when there is no such user.
pub async fn lock(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query_scalar!(
        "SELECT 1 AS \"one!\" FROM users WHERE id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(db)
    .await?;
    Ok(locked.is_some())
}

/// Points the user at the avatar served under `avatar_url`.
pub async fn set_avatar_url(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    avatar_url: &str,
) -> Result<Option<User>, sqlx::Error> {
    let row = query_with_user_columns!(
        "UPDATE users SET avatar_url = $2, updated_at = now() WHERE id = $1 RETURNING",
        "",
        user_id,
        avatar_url,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| user_from_record!(row)))
}

/// Whether `openid` already has a user in `appid`: the risk check asks WeChat about new users only.
pub async fn exists(
    db: impl PgExecutor<'_>,
    appid: &str,
    openid: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE appid = $1 AND openid = $2) AS "exists!""#,
        appid,
        openid
    )
    .fetch_one(db)
    .await
}

/// Records that the user accepted privacy policy `version`; the audit row is written by
/// [`super::privacy_consents`] in the same transaction.
pub async fn set_privacy_consent(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    version: &str,
) -> Result<Option<User>, sqlx::Error> {
    let row = query_with_user_columns!(
        "UPDATE users SET privacy_consent_version = $2, updated_at = now() WHERE id = $1 RETURNING",
        "",
        user_id,
        version,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| user_from_record!(row)))
}

/// Takes the avatar served under `avatar_url` away from the user, if it is still theirs.
pub async fn clear_avatar_url(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    avatar_url: &str,
) -> Result<bool, sqlx::Error> {
    let cleared = sqlx::query!(
        "UPDATE users SET avatar_url = NULL, updated_at = now() WHERE id = $1 AND avatar_url = $2",
        user_id,
        avatar_url
    )
    .execute(db)
    .await?;
    Ok(cleared.rows_affected() > 0)
}
