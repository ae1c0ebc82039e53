//! wxlogin's server: WeChat mini-program login on Postgres, issuing wxlogin tokens.
//!
//! The binary is a thin shell over [`app`] and [`serve`]; tests build the very same router.

pub mod config;
mod domain;
mod error;
mod http;
mod keys;
mod sealing;
mod services;
pub mod state;
mod storage;
pub mod telemetry;
mod tokens;
mod wechat;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::net::TcpListener;

use config::Config;
use keys::SigningKeys;
use services::access_token::PlatformTokens;
use services::session_cache::SessionCache;
use services::session_keys::SessionKeys;
use services::sessions::Sessions;
use state::{AppState, Services};
use tokens::AccessTokens;
use wechat::WechatClient;

pub use sealing::SessionKeySealer;
pub use storage::users::{find_by_unionid, User};

/// The schema, embedded so a deployed binary migrates its database on start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// How long a request waits for a free database connection before answering 503.
const DB_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// Builds the shared services from configuration and a database pool.
pub fn build_state(config: &Config, db: PgPool) -> Result<AppState, reqwest::Error> {
    let session_cache = SessionCache::new(config.session_cache_ttl, Arc::new(Instant::now));
    Ok(AppState::new(Services {
        wechat: WechatClient::new(config.wechat.clone())?,
        tokens: Arc::new(AccessTokens::new(
            SigningKeys::from_config(&config.signing),
            config.access_token_ttl,
        )),
        sessions: Arc::new(Sessions::new(db.clone(), session_cache)),
        platform_tokens: Arc::new(PlatformTokens::new(db.clone())),
        session_keys: SessionKeys::new(
            db.clone(),
            SessionKeySealer::from_secret(&config.seal_secret),
        ),
        refresh_token_ttl: config.refresh_token_ttl,
        db,
    }))
}

/// Pool settings shared by the binary and tests. A request that cannot get a connection within
/// the acquire timeout is answered 503 `unavailable` instead of hanging.
pub fn pool_options(config: &Config) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(DB_ACQUIRE_TIMEOUT)
}

pub fn connect_options(database_url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    database_url.parse()
}

/// Serves `state` on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
