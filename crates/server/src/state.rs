//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::config::PushConfig;
use crate::db::Db;
use crate::http::RateLimits;
use crate::introspection_clients::IntrospectionClients;
use crate::metrics::Metrics;
use crate::services::access_token::PlatformTokens;
use crate::services::avatar_reads::AvatarReads;
use crate::services::content_checks::ContentChecks;
use crate::services::qr_login::QrLogin;
use crate::services::session_keys::SessionKeys;
use crate::services::sessions::Sessions;
use crate::services::signup_risk::SignupRisk;
use crate::services::user_budget::UserBudget;
use crate::tokens::AccessTokens;
use crate::wechat::WechatClient;

/// Cheap to clone: axum clones the state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    /// For the tables no service owns more than a single query of (users, avatars, quotas).
    pub db: Db,
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
    /// Avatar downloads, on a few of the pool's connections only.
    pub avatar_reads: AvatarReads,
    /// Per user: session_key checks and resets, each a WeChat call.
    pub session_key_checks: UserBudget,
    pub session_key_resets: UserBudget,
    /// The team's services that may ask whether a token is live.
    pub introspection_clients: IntrospectionClients,
    /// Per-client limits on login and refresh, for this instance.
    pub rate_limits: RateLimits,
    /// The privacy policy version users must have accepted (`PRIVACY_POLICY_VERSION`).
    pub privacy_policy_version: String,
    /// WeChat's checks of nicknames and avatars.
    pub content_checks: ContentChecks,
    /// WeChat's risk rank of new users.
    pub signup_risk: SignupRisk,
    /// How WeChat's message push is verified; `None` when it is not configured.
    pub push: Option<PushConfig>,
    /// Scan-to-login tickets.
    pub qr_login: QrLogin,
    /// Web origins allowed to call the endpoints a browser uses (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: Vec<String>,
    /// This instance's Prometheus metrics, served on `METRICS_ADDR`.
    pub metrics: Metrics,
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
