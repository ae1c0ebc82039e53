//! The client for WeChat's server API.
//!
//! WeChat reports errors inside HTTP 200 answers, often labelled `text/plain`; this module reads
//! every body as JSON whatever its headers say and turns `errcode`s into [`WechatError`]s. A 200
//! is never taken for a success on its own.
//!
//! The app secret travels in WeChat's query strings, so no URL built here may reach a log line or
//! an error message: transport errors are stripped of their URL before they leave this module.

pub mod crypto;
mod jscode2session;
mod platform;
mod retry;

use std::time::Duration;

use secrecy::SecretString;

use crate::config::WechatConfig;

pub use platform::{session_signature, PhoneInfo, StableToken};
pub use retry::RetryPolicy;

/// What WeChat says about a login code.
pub struct WechatSession {
    pub openid: String,
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
#[derive(Debug, thiserror::Error)]
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
    Transport(reqwest::Error),
}

impl From<reqwest::Error> for WechatError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            // The URL carries the app secret.
            Self::Transport(err.without_url())
        }
    }
}

#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    config: WechatConfig,
    retry: RetryPolicy,
    /// Lets one request of this process at a time refresh the access token, so that the others
    /// wait here instead of each holding a database connection while waiting for the
    /// cross-instance lock. It guards when this process's last refresh failed, so that callers
    /// queued behind a failure fail fast instead of each waiting for WeChat in turn (see
    /// [`crate::platform_token`]).
    refresh_gate: std::sync::Arc<tokio::sync::Mutex<Option<std::time::Instant>>>,
}

impl WechatClient {
    pub fn new(config: WechatConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self {
            http,
            config,
            retry: RetryPolicy::default(),
            refresh_gate: Default::default(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn appid(&self) -> &str {
        &self.config.appid
    }

    /// Held while this process refreshes the access token; holds when the last refresh failed.
    pub(crate) async fn refresh_gate(
        &self,
    ) -> tokio::sync::MutexGuard<'_, Option<std::time::Instant>> {
        self.refresh_gate.lock().await
    }
}

/// Classifies a WeChat `errcode` that is not 0.
fn classify(errcode: i64, errmsg: String) -> WechatError {
    match errcode {
        40029 | 40163 => WechatError::InvalidCode(errcode),
        40226 => WechatError::UserBlocked,
        45011 => WechatError::RateLimited,
        -1 => WechatError::Busy { attempts: 1 },
        40013 | 40125 | 41002 | 41004 => WechatError::BadCredentials { errcode, errmsg },
        _ => WechatError::Other { errcode, errmsg },
    }
}
