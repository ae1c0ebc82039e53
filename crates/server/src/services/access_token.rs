//! WeChat's access token for this app: one per appid, shared by every instance through Postgres.
//!
//! WeChat wants a single token in use per app. Instances that each fetched their own would keep
//! invalidating one another's (the classic 40001), so:
//! - the token is read from `wechat_access_tokens` ([`crate::storage::access_tokens`]), and
//!   refreshed five minutes before it expires;
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
use std::time::{Duration, Instant};

use crate::db::Db;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::storage::access_tokens;
use crate::wechat::{WechatClient, WechatError};

/// Refresh this long before WeChat's expiry. WeChat hands out a new stable token in the last five
/// minutes of the old one and keeps both working meanwhile, so nothing ever runs on a token in
/// its final seconds.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// WeChat's answer when a forced refresh is asked for more often than it allows.
const ERR_FORCE_REFRESH_LIMIT: i64 = 45009;

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

impl PlatformError {
    /// Whether our own database failed, rather than WeChat or the wait for another instance's
    /// token refresh: such a failure is ours to report, never a reason to skip a WeChat check.
    pub fn is_database_failure(&self) -> bool {
        match self {
            PlatformError::Database(sqlx::Error::Database(db)) => {
                db.code().as_deref() != Some(LOCK_TIMEOUT)
            }
            PlatformError::Database(_) => true,
            _ => false,
        }
    }

    /// Whether WeChat could not answer for now (busy, slow, unreachable, garbled), as opposed to
    /// answering an error that says something is wrong with the call or the app.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlatformError::RefreshStalled
                | PlatformError::Database(_)
                | PlatformError::Wechat(
                    WechatError::Busy { .. }
                        | WechatError::Saturated
                        | WechatError::Timeout
                        | WechatError::Transport(_)
                        | WechatError::HttpStatus(_)
                        | WechatError::Malformed(_)
                )
        )
    }
}

/// Postgres's lock_not_available: another instance held the token refresh lock too long.
pub const LOCK_TIMEOUT: &str = "55P03";

/// Gives out the shared token for the configured appid.
pub struct PlatformTokens {
    db: Db,
    /// Lets one request of this process at a time refresh the token, so that the others wait
    /// here instead of each holding a database connection while waiting for the cross-instance
    /// lock. It guards when this process's last refresh failed, so that callers queued behind a
    /// failure fail fast instead of each waiting for WeChat in turn.
    refresh_gate: Mutex<Option<Instant>>,
}

impl PlatformTokens {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            refresh_gate: Mutex::new(None),
        }
    }

    /// Runs `call` with the current token; if WeChat refuses the token, refreshes it once and
    /// runs `call` once more.
    pub async fn call<T, F, Fut>(
        &self,
        wechat: &WechatClient,
        mut call: F,
    ) -> Result<T, PlatformError>
    where
        F: FnMut(SecretString) -> Fut,
        Fut: Future<Output = Result<T, WechatError>>,
    {
        let token = self.token(wechat).await?;
        match call(token.clone()).await {
            Err(err) if err.is_token_rejected() => {
                tracing::warn!(error = %err, "WeChat refused the access token; refreshing");
                let fresh = self.refresh(wechat, Some(&token)).await?;
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
    async fn token(&self, wechat: &WechatClient) -> Result<SecretString, PlatformError> {
        let stored = access_tokens::stored(&self.db, wechat.appid(), REFRESH_MARGIN).await?;
        match stored {
            Some(stored) if stored.fresh => Ok(stored.token.into()),
            _ => self.refresh(wechat, None).await,
        }
    }

    /// Gets a new token unless someone else already did. `failed` is the token WeChat just
    /// refused, if that is why we are here.
    async fn refresh(
        &self,
        wechat: &WechatClient,
        failed: Option<&SecretString>,
    ) -> Result<SecretString, PlatformError> {
        let mut failed_at = tokio::time::timeout(GATE_TIMEOUT, self.refresh_gate.lock())
            .await
            .map_err(|_| PlatformError::RefreshStalled)?;
        if failed_at.is_some_and(|at| at.elapsed() < FAILURE_HOLD) {
            return Err(PlatformError::RefreshStalled);
        }
        let result = self.refresh_locked(wechat, failed).await;
        *failed_at = match &result {
            Err(PlatformError::Wechat(_) | PlatformError::TokenUnusable) => Some(Instant::now()),
            _ => None,
        };
        result
    }

    /// [`Self::refresh`], once this process's gate is held.
    async fn refresh_locked(
        &self,
        wechat: &WechatClient,
        failed: Option<&SecretString>,
    ) -> Result<SecretString, PlatformError> {
        let appid = wechat.appid();
        let mut tx = self.db.begin().await?;
        access_tokens::lock_for_refresh(&mut tx, appid).await?;
        let stored = access_tokens::stored(&mut *tx, appid, REFRESH_MARGIN).await?;
        if let Some(stored) = &stored {
            let replaced = failed.is_some_and(|failed| failed.expose_secret() != stored.token);
            if stored.fresh && (failed.is_none() || replaced) {
                // Someone refreshed while we waited for the lock.
                return Ok(stored.token.clone().into());
            }
        }
        let mut fetched = wechat.stable_token(false).await?;
        let mut forced = false;
        if failed.is_some_and(|failed| failed.expose_secret() == fetched.token.expose_secret()) {
            // WeChat hands back the token it refuses: only a forced refresh can help.
            if !stored.as_ref().is_some_and(|s| s.may_force) {
                tracing::error!("access token refused and forced refreshes are used up for now");
                return Err(PlatformError::TokenUnusable);
            }
            tracing::warn!("access token refused by WeChat but still current; forcing a refresh");
            fetched = wechat.stable_token(true).await.map_err(|err| match err {
                WechatError::Other {
                    errcode: ERR_FORCE_REFRESH_LIMIT,
                    ..
                } => PlatformError::TokenUnusable,
                other => other.into(),
            })?;
            forced = true;
        }
        access_tokens::save(
            &mut *tx,
            appid,
            fetched.token.expose_secret(),
            Duration::from_secs(fetched.expires_in),
            forced,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            forced,
            expires_in = fetched.expires_in,
            "WeChat access token refreshed"
        );
        Ok(fetched.token)
    }
}
