//! The configuration every test server starts from, in both tiers and for the binary.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use wxlogin_server::config::Config;
use wxlogin_server::state::AppState;

pub const APPID: &str = "wxtestappid000001";
pub const WECHAT_SECRET: &str = "wechat-app-secret-for-tests";
pub const JWT_SECRET: &str = "jwt-signing-secret-for-tests-0123456789";
pub const SESSION_KEY_SECRET: &str = "session-key-sealing-secret-for-tests-9876543210";

/// Port 1 on loopback refuses every connection: a database that is down.
const UNREACHABLE_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:1/wxlogin";

/// A pool for a database that is down, which gives up waiting for a connection quickly.
pub fn unreachable_database() -> PgPool {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy(UNREACHABLE_DATABASE_URL)
        .expect("a valid database URL")
}

/// The variables the server cannot start without. The database URL is never used by the tests
/// that build the state in-process: they hand over a pool of their own.
pub fn required_env() -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", UNREACHABLE_DATABASE_URL.to_owned()),
        ("WECHAT_APPID", APPID.to_owned()),
        ("WECHAT_SECRET", WECHAT_SECRET.to_owned()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("SESSION_KEY_SECRET", SESSION_KEY_SECRET.to_owned()),
    ]
}

/// The server's state on `db`, talking to WeChat at `wechat_api_base`, configured by
/// [`required_env`] with `overrides` on top.
pub fn test_state(
    db: PgPool,
    wechat_api_base: &str,
    overrides: &[(&'static str, String)],
) -> AppState {
    let config = test_config(wechat_api_base, overrides);
    wxlogin_server::build_state(&config, db).expect("state")
}

/// The configuration [`test_state`] builds the server from.
pub fn test_config(wechat_api_base: &str, overrides: &[(&'static str, String)]) -> Config {
    let mut env: HashMap<&str, String> = required_env().into_iter().collect();
    env.insert("WECHAT_API_BASE", wechat_api_base.to_owned());
    env.insert("WECHAT_TIMEOUT_MS", "2000".to_owned());
    // Keep retries of WeChat's "busy" quick so the tests that provoke it stay fast.
    env.insert("WECHAT_BUSY_BACKOFF_MS", "5".to_owned());
    // Every test client is 127.0.0.1, and some log in more often than one phone would; the
    // tests of the limits set their own.
    env.insert("RATE_LIMIT_LOGIN", "off".to_owned());
    env.insert("RATE_LIMIT_REFRESH", "off".to_owned());
    env.extend(overrides.iter().cloned());
    Config::from_lookup(|name| env.get(name).cloned()).expect("test config")
}
