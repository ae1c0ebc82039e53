//! wxlogin's server: WeChat mini-program login on Postgres, issuing wxlogin tokens.
//!
//! The binary is a thin shell over [`app`] and [`serve`]; tests build the very same router.

pub mod config;
mod connections;
pub mod db;
mod domain;
mod error;
mod http;
mod introspection_clients;
mod keys;
mod metrics;
mod sealing;
mod services;
mod signed_claims;
pub mod state;
mod storage;
pub mod telemetry;
mod tokens;
mod wechat;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::net::TcpListener;

use config::{Config, ConnectionLimits};
use db::Db;
use introspection_clients::IntrospectionClients;
use keys::SigningKeys;
use metrics::Metrics;
use services::access_token::PlatformTokens;
use services::avatar_reads::AvatarReads;
use services::content_checks::ContentChecks;
use services::qr_login::QrLogin;
use services::session_cache::SessionCache;
use services::session_keys::{self, SessionKeys};
use services::sessions::Sessions;
use services::signup_risk::SignupRisk;
use services::user_budget::UserBudget;
use state::{AppState, Services};
use storage::sessions::RefreshBudget;
use tokens::AccessTokens;
use wechat::WechatClient;

pub use sealing::SessionKeySealer;
pub use services::pruning::{prune_once, Pruned};
pub use storage::users::{find_by_unionid, User};

/// The schema, embedded so a deployed binary migrates its database on start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    http::router(state)
}

/// The OpenAPI 3.1 document of the API, as `GET /openapi.json` serves it. Needs no configuration
/// and no database: `wxlogin-server openapi` prints it.
pub fn openapi_json() -> String {
    http::openapi_json()
}

/// Builds the shared services from configuration and a database pool.
pub fn build_state(config: &Config, db: PgPool) -> Result<AppState, reqwest::Error> {
    let metrics = Metrics::new(db.clone());
    let db = Db::new(db, config.database_pooler);
    let session_cache = SessionCache::new(config.session_cache_ttl, Arc::new(Instant::now));
    let wechat = WechatClient::new(config.wechat.clone(), metrics.clone())?;
    let tokens = Arc::new(
        AccessTokens::new(
            SigningKeys::from_config(&config.signing),
            config.access_token_ttl,
        )
        .with_audience(&config.token_audience),
    );
    let platform_tokens = Arc::new(PlatformTokens::new(db.clone()));
    let sessions = Arc::new(Sessions::new(
        db.clone(),
        session_cache,
        RefreshBudget {
            per_window: config.session_refreshes_per_minute,
            window: Duration::from_secs(60),
        },
    ));
    Ok(AppState::new(Services {
        qr_login: QrLogin::new(
            db.clone(),
            config.qr_login.clone(),
            wechat.clone(),
            platform_tokens.clone(),
            sessions.clone(),
            tokens.clone(),
            config.refresh_token_ttl,
        ),
        cors_allowed_origins: config.cors_allowed_origins.clone(),
        wechat,
        tokens,
        sessions,
        platform_tokens,
        session_keys: SessionKeys::new(
            db.clone(),
            SessionKeySealer::from_secret(&config.seal_secret),
        ),
        refresh_token_ttl: config.refresh_token_ttl,
        avatar_reads: AvatarReads::new(
            db.clone(),
            config.database_max_connections,
            config.database_acquire_timeout,
        ),
        session_key_checks: UserBudget::new(session_keys::CHECKS, Arc::new(Instant::now)),
        session_key_resets: UserBudget::new(session_keys::RESETS, Arc::new(Instant::now)),
        introspection_clients: IntrospectionClients::new(&config.introspection_clients),
        rate_limits: http::RateLimits::new(
            config.rate_limit_login,
            config.rate_limit_refresh,
            config.trusted_proxies.clone(),
        ),
        privacy_policy_version: config.compliance.privacy_policy_version.clone(),
        content_checks: ContentChecks::new(&config.compliance),
        signup_risk: SignupRisk::new(config.compliance.risk),
        push: config.compliance.push.clone(),
        metrics,
        db,
    }))
}

/// Pool settings shared by the binary and tests. A request that cannot get a connection within
/// `DATABASE_ACQUIRE_TIMEOUT` is answered 503 `unavailable` instead of hanging; while Postgres is
/// down every request that needs it waits that long at most, since connecting is part of acquiring.
pub fn pool_options(config: &Config) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(config.database_acquire_timeout)
        // sqlx pings a connection, a round trip each time, when it comes back to the pool and
        // again before lending it out. Under load it goes out again within microseconds of the
        // first ping, so the second is skipped; one that sat idle, through a database restart
        // perhaps, is still pinged before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// A pooled connection idle this long is pinged before use; one back from a request sooner is not.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

pub fn connect_options(database_url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    database_url.parse()
}

/// Serves `state` on `listener` within the connection `limits` until `shutdown` completes, then
/// lets in-flight requests finish. Each request carries its peer's address as
/// `ConnectInfo<SocketAddr>`, which rate limits key on (see `http/client_ip.rs`). Scan-to-login
/// event streams end at shutdown instead of keeping it waiting until their tickets expire.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let streams = state.clone();
    let shutdown = async move {
        shutdown.await;
        streams.qr_login.close_streams();
    };
    connections::serve(listener, app(state), limits, shutdown).await
}

/// Serves `GET /metrics`, `state`'s metrics in Prometheus's text format, on `listener`: a
/// listener of its own (`METRICS_ADDR`), so that the public port never exposes them. Anything
/// else there answers 404. The connection `limits` hold as on the public port; it serves for as
/// long as the runtime runs.
pub fn serve_metrics(
    listener: TcpListener,
    state: &AppState,
    limits: ConnectionLimits,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    let registry = state.metrics.clone();
    let exposition = Router::new().route(
        "/metrics",
        get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                registry.render(),
            )
        }),
    );
    connections::serve(listener, exposition, limits, std::future::pending())
}

/// Deletes ended sessions, spent refresh tokens and expired tickets every `PRUNE_INTERVAL`, in the background,
/// for as long as the runtime runs. Safe on any number of instances at once.
pub fn spawn_pruning(config: &Config, db: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(services::pruning::run(
        Db::new(db, config.database_pooler),
        config.prune_interval,
        config.access_token_ttl,
    ))
}
