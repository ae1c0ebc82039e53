//! WeChat's access token for this app: one per appid, shared by every instance through Postgres.
//!
//! WeChat wants a single token in use per app. Instances that each fetched their own would keep
//! invalidating one another's (the classic 40001), so:
//! - the token is read from `wechat_access_tokens`, and refreshed five minutes before it expires;
//! - a refresh runs under a transaction-scoped advisory lock on the appid, and looks at the row
//!   again once it holds the lock, so N instances that find the token missing together make one
//!   upstream call and the others use its result. Within one process, refreshing requests queue
//!   on a mutex first, so a crowd of them does not tie up the connection pool while it waits,
//!   and when a refresh fails, those queued behind it fail at once for [`FAILURE_HOLD`] instead
//!   of each trying WeChat in turn (a crowd behind a WeChat that times out would otherwise wait
//!   one timeout per request ahead of it);
//! - a call refused with 40001 or 42001 refreshes once and retries once, and the stored token is
//!   replaced only if it is still the one that failed: another instance may have replaced it
//!   already, and that newer token must not be overwritten by an older view;
//! - `force_refresh` is used only when a plain refresh hands back the very token WeChat just
//!   refused, and never more often than WeChat allows (20 a day, 30 seconds apart), counted in
//!   the database across instances.
//!
//! The token is a credential: it is never logged and never leaves the server.

use std::future::Future;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::error::ApiError;
use crate::wechat::{WechatClient, WechatError};

/// Refresh this long before WeChat's expiry. WeChat hands out a new stable token in the last five
/// minutes of the old one and keeps both working meanwhile, so nothing ever runs on a token in
/// its final seconds.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// WeChat's rations for forced refreshes.
const FORCES_PER_DAY: i32 = 20;
const FORCE_SPACING_SECONDS: f64 = 30.0;

/// How long a request waits for another instance's refresh before giving up.
const LOCK_TIMEOUT: &str = "15s";
/// How long a request waits for this process's refresh before giving up.
const GATE_TIMEOUT: Duration = Duration::from_secs(15);
/// After a failed refresh, how long further refreshes in this process fail without trying.
pub const FAILURE_HOLD: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Wechat(#[from] WechatError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("WeChat keeps refusing the access token and no forced refresh is allowed yet")]
    TokenUnusable,
    #[error("a token refresh failed moments ago or is taking too long")]
    RefreshStalled,
}

/// Gives out the shared token for the configured appid.
pub struct PlatformTokens<'a> {
    db: &'a PgPool,
    wechat: &'a WechatClient,
}

struct Stored {
    token: String,
    fresh: bool,
    may_force: bool,
}

impl<'a> PlatformTokens<'a> {
    pub fn new(db: &'a PgPool, wechat: &'a WechatClient) -> Self {
        Self { db, wechat }
    }

    /// Runs `call` with the current token; if WeChat refuses the token, refreshes it once and
    /// runs `call` once more.
    pub async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, PlatformError>
    where
        F: FnMut(SecretString) -> Fut,
        Fut: Future<Output = Result<T, WechatError>>,
    {
        let token = self.token().await?;
        match call(token.clone()).await {
            Err(err) if err.is_token_rejected() => {
                tracing::warn!(error = %err, "WeChat refused the access token; refreshing");
                let fresh = self.refresh(Some(&token)).await?;
                match call(fresh).await {
                    Err(err) if err.is_token_rejected() => {
                        tracing::error!(error = %err, "WeChat refused a freshly fetched access token");
                        Err(PlatformError::TokenUnusable)
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// The stored token while it is fresh, otherwise a refreshed one.
    pub async fn token(&self) -> Result<SecretString, PlatformError> {
        if let Some(stored) = self.stored(self.db).await? {
            if stored.fresh {
                return Ok(stored.token.into());
            }
        }
        self.refresh(None).await
    }

    /// Gets a new token unless someone else already did. `failed` is the token WeChat just
    /// refused, if that is why we are here.
    async fn refresh(&self, failed: Option<&SecretString>) -> Result<SecretString, PlatformError> {
        let mut failed_at = tokio::time::timeout(GATE_TIMEOUT, self.wechat.refresh_gate())
            .await
            .map_err(|_| PlatformError::RefreshStalled)?;
        if failed_at.is_some_and(|at| at.elapsed() < FAILURE_HOLD) {
            return Err(PlatformError::RefreshStalled);
        }
        let result = self.refresh_locked(failed).await;
        *failed_at = match &result {
            Err(PlatformError::Wechat(_) | PlatformError::TokenUnusable) => {
                Some(std::time::Instant::now())
            }
            _ => None,
        };
        result
    }

    /// [`Self::refresh`], once this process's gate is held.
    async fn refresh_locked(
        &self,
        failed: Option<&SecretString>,
    ) -> Result<SecretString, PlatformError> {
        let appid = self.wechat.appid();
        let mut tx = self.db.begin().await?;
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
        let stored = self.stored(&mut *tx).await?;
        if let Some(stored) = &stored {
            let replaced = failed.is_some_and(|failed| failed.expose_secret() != stored.token);
            if stored.fresh && (failed.is_none() || replaced) {
                // Someone refreshed while we waited for the lock.
                return Ok(stored.token.clone().into());
            }
        }
        let mut fetched = self.wechat.stable_token(false).await?;
        let mut forced = false;
        if failed.is_some_and(|failed| failed.expose_secret() == fetched.token.expose_secret()) {
            // WeChat hands back the token it refuses: only a forced refresh can help.
            if !stored.as_ref().is_some_and(|s| s.may_force) {
                tracing::error!("access token refused and forced refreshes are used up for now");
                return Err(PlatformError::TokenUnusable);
            }
            tracing::warn!("access token refused by WeChat but still current; forcing a refresh");
            fetched = self
                .wechat
                .stable_token(true)
                .await
                .map_err(|err| match err {
                    WechatError::Other { errcode: 45009, .. } => PlatformError::TokenUnusable,
                    other => other.into(),
                })?;
            forced = true;
        }
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
            fetched.token.expose_secret(),
            fetched.expires_in as f64,
            forced,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            forced,
            expires_in = fetched.expires_in,
            "WeChat access token refreshed"
        );
        Ok(fetched.token)
    }

    async fn stored(&self, db: impl sqlx::PgExecutor<'_>) -> Result<Option<Stored>, sqlx::Error> {
        let row = sqlx::query!(
            r#"
            SELECT access_token,
                   -- Fresh until five minutes before expiry; a token fetched within the last
                   -- minute also counts while it works, so that a token WeChat hands out with
                   -- little time left is not fetched again by every request.
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
            self.wechat.appid(),
            REFRESH_MARGIN.as_secs_f64(),
            FORCE_SPACING_SECONDS,
            FORCES_PER_DAY,
        )
        .fetch_optional(db)
        .await?;
        Ok(row.map(|row| Stored {
            token: row.access_token,
            fresh: row.fresh,
            may_force: row.may_force,
        }))
    }
}

impl From<PlatformError> for ApiError {
    fn from(err: PlatformError) -> Self {
        match err {
            PlatformError::Database(err) => match &err {
                // Another instance held the refresh lock too long: WeChat is slow, not us.
                sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => {
                    tracing::warn!("timed out waiting for another instance's token refresh");
                    ApiError::UpstreamBusy
                }
                _ => err.into(),
            },
            PlatformError::TokenUnusable => ApiError::WechatTokenUnavailable,
            PlatformError::RefreshStalled => ApiError::UpstreamBusy,
            PlatformError::Wechat(err) => err.into(),
        }
    }
}
