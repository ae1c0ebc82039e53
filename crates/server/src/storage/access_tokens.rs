//! The `wechat_access_tokens` table: WeChat's access token for each appid, shared by every
//! instance, with the count of forced refreshes WeChat rations.
//!
//! Only [`crate::services::access_token`] calls this module; it decides when a token is fetched.

use std::time::Duration;

use sqlx::{PgConnection, PgExecutor};

/// WeChat's rations for forced refreshes.
const FORCES_PER_DAY: i32 = 20;
const FORCE_SPACING_SECONDS: f64 = 30.0;

/// How long a transaction waits for another instance's refresh lock before giving up.
const LOCK_TIMEOUT: &str = "15s";

/// The stored token and what may be done with it now.
pub struct StoredToken {
    pub token: String,
    /// Good to use: not within `refresh_margin` of its expiry (see [`stored`]).
    pub fresh: bool,
    /// A forced refresh is allowed by WeChat's rations right now.
    pub may_force: bool,
}

pub async fn stored(
    db: impl PgExecutor<'_>,
    appid: &str,
    refresh_margin: Duration,
) -> Result<Option<StoredToken>, sqlx::Error> {
    let row = sqlx::query!(
        r#"
        SELECT access_token,
               -- Fresh until the margin before expiry; a token fetched within the last minute
               -- also counts while it works, so that a token WeChat hands out with little time
               -- left is not fetched again by every request.
               (expires_at > now() + make_interval(secs => $2)
                OR (refreshed_at > now() - interval '1 minute'
                    AND expires_at > now() + interval '30 seconds')) AS "fresh!",
               (last_force_refresh_at IS NULL
                OR last_force_refresh_at < now() - make_interval(secs => $3))
               AND (force_refresh_day IS DISTINCT FROM (now() AT TIME ZONE 'Asia/Shanghai')::date
                    OR force_refresh_count < $4) AS "may_force!"
        FROM wechat_access_tokens
        WHERE appid = $1
        "#,
        appid,
        refresh_margin.as_secs_f64(),
        FORCE_SPACING_SECONDS,
        FORCES_PER_DAY,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| StoredToken {
        token: row.access_token,
        fresh: row.fresh,
        may_force: row.may_force,
    }))
}

/// Takes the cross-instance refresh lock for `appid`, held until `tx` ends. Fails with
/// Postgres' `55P03` (lock_not_available) after [`LOCK_TIMEOUT`].
pub async fn lock_for_refresh(tx: &mut PgConnection, appid: &str) -> Result<(), sqlx::Error> {
    // set_config(.., true) is SET LOCAL with the value as a bound parameter.
    sqlx::query!("SELECT set_config('lock_timeout', $1, true)", LOCK_TIMEOUT)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('wxlogin.wechat_access_token:' || $1, 0))",
        appid
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Stores a freshly fetched token; `forced` counts it against today's forced refreshes (days are
/// China Standard Time days, as WeChat counts them).
pub async fn save(
    db: impl PgExecutor<'_>,
    appid: &str,
    token: &str,
    expires_in: Duration,
    forced: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO wechat_access_tokens AS t
            (appid, access_token, expires_at, force_refresh_day, force_refresh_count,
             last_force_refresh_at)
        VALUES ($1, $2, now() + make_interval(secs => $3),
                CASE WHEN $4 THEN (now() AT TIME ZONE 'Asia/Shanghai')::date END,
                CASE WHEN $4 THEN 1 ELSE 0 END,
                CASE WHEN $4 THEN now() END)
        ON CONFLICT (appid) DO UPDATE SET
            access_token = EXCLUDED.access_token,
            expires_at = EXCLUDED.expires_at,
            refreshed_at = now(),
            force_refresh_count = CASE
                WHEN NOT $4 THEN t.force_refresh_count
                WHEN t.force_refresh_day = (now() AT TIME ZONE 'Asia/Shanghai')::date
                    THEN t.force_refresh_count + 1
                ELSE 1 END,
            force_refresh_day = CASE WHEN $4
                THEN (now() AT TIME ZONE 'Asia/Shanghai')::date
                ELSE t.force_refresh_day END,
            last_force_refresh_at = CASE WHEN $4 THEN now() ELSE t.last_force_refresh_at END
        "#,
        appid,
        token,
        expires_in.as_secs_f64(),
        forced,
    )
    .execute(db)
    .await?;
    Ok(())
}
