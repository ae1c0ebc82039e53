//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::services::access_token::PlatformTokens;
use crate::services::session_keys::SessionKeys;
use crate::services::sessions::Sessions;
use crate::tokens::AccessTokens;
use crate::wechat::WechatClient;

/// Cheap to clone: axum clones the state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    /// For the tables no service owns more than a single query of (users, avatars, quotas).
    pub db: PgPool,
    pub wechat: WechatClient,
    /// wxlogin's own access tokens (JWTs).
    pub tokens: Arc<AccessTokens>,
    /// Sessions and their refresh tokens, with this instance's cache of them.
    pub sessions: Arc<Sessions>,
    /// WeChat's access token for this app, shared with every other instance.
    pub platform_tokens: Arc<PlatformTokens>,
    /// Users' WeChat session_keys, sealed at rest.
    pub session_keys: SessionKeys,
    pub refresh_token_ttl: Duration,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
