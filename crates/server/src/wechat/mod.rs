//! The client for WeChat's server API: HTTP calls and nothing else.
//!
//! Every answer goes through one reader ([`response`]), which knows WeChat's habit of reporting
//! errors in HTTP 200 answers labelled `text/plain`. Which access token a call carries, and when
//! to get a new one, is decided by [`crate::services::access_token`]; what is stored is decided
//! by the services that call this client.
//!
//! The app secret travels in WeChat's query strings, so no URL built here may reach a log line or
//! an error message: transport errors are stripped of their URL before they leave this module.

mod calls;
pub mod crypto;
#[cfg(test)]
mod fuzz;
mod in_flight;
mod jscode2session;
mod platform;
pub mod push;
mod response;
mod retry;
pub mod security;
mod single_flight;
pub mod wxacode;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::config::WechatConfig;
use crate::domain::Openid;
use crate::metrics::Metrics;

use calls::WechatApi;
use in_flight::Slots;
use retry::RetryPolicy;
use single_flight::SingleFlight;

/// What WeChat says about a login code.
#[derive(Clone)]
pub struct WechatSession {
    pub openid: Openid,
    pub unionid: Option<String>,
    pub session_key: SecretString,
}

impl std::fmt::Debug for WechatSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatSession")
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .finish_non_exhaustive()
    }
}

/// How a WeChat call failed, in the terms the login flow acts on.
///
/// `Clone`, so that requests sharing one call (see [`single_flight`]) each get its answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat refused the login code (errcode {0})")]
    InvalidCode(i64),
    #[error("WeChat blocked the user as high risk (errcode 40226)")]
    UserBlocked,
    #[error("WeChat rate limit reached (errcode 45011)")]
    RateLimited,
    #[error("WeChat stayed busy after {attempts} attempts (errcode -1)")]
    Busy { attempts: u32 },
    #[error("WeChat refused our appid or secret (errcode {errcode}: {errmsg})")]
    BadCredentials { errcode: i64, errmsg: String },
    #[error("WeChat answered errcode {errcode}: {errmsg}")]
    Other { errcode: i64, errmsg: String },
    #[error("WeChat answered HTTP {0}")]
    HttpStatus(u16),
    #[error("WeChat's answer could not be understood: {0}")]
    Malformed(String),
    #[error("WeChat did not answer in time")]
    Timeout,
    #[error("WeChat could not be reached: {0}")]
    Transport(Arc<reqwest::Error>),
    /// Every slot for a WeChat call was taken (`WECHAT_MAX_IN_FLIGHT`); WeChat was not asked.
    #[error("too many WeChat calls in flight; none was made")]
    Saturated,
}

impl From<reqwest::Error> for WechatError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            // The URL carries the app secret.
            Self::Transport(Arc::new(err.without_url()))
        }
    }
}

#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    config: WechatConfig,
    retry: RetryPolicy,
    slots: Slots,
    /// jscode2session calls in flight, by login code.
    logins: Arc<SingleFlight<Result<WechatSession, WechatError>>>,
    metrics: Metrics,
}

impl WechatClient {
    pub fn new(config: WechatConfig, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            retry: RetryPolicy {
                attempts: config.busy_attempts,
                base_delay: config.busy_backoff,
            },
            slots: Slots::new(config.max_in_flight),
            logins: Arc::new(SingleFlight::new()),
            config,
            metrics,
        })
    }

    /// The URL of `api` at the configured base.
    fn url(&self, api: WechatApi) -> String {
        format!("{}{}", self.config.api_base, api.path())
    }

    pub fn appid(&self) -> &str {
        &self.config.appid
    }
}
