//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::sealing::SessionKeySealer;
use crate::session_cache::SessionCache;
use crate::tokens::AccessTokens;
use crate::wechat::{RetryPolicy, WechatClient};

/// Cheap to clone: axum clones the state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

#[derive(Clone)]
pub struct Services {
    pub db: PgPool,
    pub wechat: WechatClient,
    pub tokens: Arc<AccessTokens>,
    pub sealer: SessionKeySealer,
    pub sessions: Arc<SessionCache>,
    pub refresh_token_ttl: Duration,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }

    /// The same services with another retry policy for WeChat's "system busy".
    pub fn with_wechat_retry(self, retry: RetryPolicy) -> Self {
        let mut services = Arc::unwrap_or_clone(self.0);
        services.wechat = services.wechat.with_retry(retry);
        Self::new(services)
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
