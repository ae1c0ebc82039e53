//! The one error type every handler returns, and how it reaches the client.
//!
//! Each client-facing variant has a stable snake_case `code` the mini program switches on; the
//! message is for humans and may change. Internal failures become an opaque 500 whose cause is
//! logged here and never sent.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::wechat::WechatError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the login code is invalid, expired or already used; call wx.login again")]
    InvalidCode,
    #[error("WeChat blocked this user's login as high risk")]
    UserBlocked,
    /// Too many calls, ours or WeChat's; `reason` says whose.
    #[error("{reason}")]
    RateLimited {
        retry_after: Duration,
        reason: &'static str,
    },
    #[error("WeChat is busy; retry shortly")]
    UpstreamBusy,
    #[error("WeChat could not be reached or answered unexpectedly")]
    UpstreamError,
    #[error("the server's WeChat credentials are wrong")]
    ServerMisconfigured,
    #[error("the bearer token is missing, malformed, expired or not ours")]
    InvalidToken,
    #[error("this refresh token was already used; the session has been ended, log in again")]
    TokenReused,
    #[error("the service is temporarily unavailable")]
    Unavailable,
    #[error("no such resource")]
    NotFound,
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the phone number code is invalid, expired or already used; ask the user to tap the button again")]
    InvalidPhoneCode,
    #[error("WeChat refuses the server's access token for now; retry later")]
    WechatTokenUnavailable,
    #[error("the server's session_key for this user is stale; call wx.login, then ask WeChat for the data again")]
    SessionKeyStale,
    #[error("{0}")]
    InvalidEncryptedData(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) | Self::InvalidPhoneCode | Self::InvalidEncryptedData(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::SessionKeyStale => StatusCode::CONFLICT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::WechatTokenUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidCode | Self::InvalidToken | Self::TokenReused => StatusCode::UNAUTHORIZED,
            Self::UserBlocked => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamError => StatusCode::BAD_GATEWAY,
            Self::UpstreamBusy | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ServerMisconfigured | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidCode => "invalid_code",
            Self::UserBlocked => "user_blocked",
            Self::RateLimited { .. } => "rate_limited",
            Self::UpstreamBusy => "upstream_busy",
            Self::UpstreamError => "upstream_error",
            Self::ServerMisconfigured => "server_misconfigured",
            Self::InvalidToken => "invalid_token",
            Self::TokenReused => "token_reused",
            Self::Unavailable => "unavailable",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidPhoneCode => "invalid_phone_code",
            Self::WechatTokenUnavailable => "wechat_token_unavailable",
            Self::SessionKeyStale => "session_key_stale",
            Self::InvalidEncryptedData(_) => "invalid_encrypted_data",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Internal(_) => "internal",
        }
    }
}

/// WeChat's per-API quotas are per minute; it gives no better hint.
const WECHAT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What a WeChat failure means to the client. A handler maps the failures particular to its call
/// first (a phone code is not a login code); everything else lands here.
impl From<WechatError> for ApiError {
    fn from(err: WechatError) -> Self {
        match err {
            WechatError::InvalidCode(_) => Self::InvalidCode,
            WechatError::UserBlocked => Self::UserBlocked,
            WechatError::RateLimited => Self::RateLimited {
                retry_after: WECHAT_RETRY_AFTER,
                reason: "WeChat is rate limiting this call; retry later",
            },
            WechatError::Busy { .. } => {
                tracing::warn!(error = %err, "WeChat busy");
                Self::UpstreamBusy
            }
            WechatError::BadCredentials { .. } => {
                // Every call fails until an operator fixes WECHAT_APPID / WECHAT_SECRET.
                tracing::error!(error = %err, "WeChat rejected the configured credentials");
                Self::ServerMisconfigured
            }
            _ => {
                tracing::warn!(error = %err, "WeChat call failed");
                Self::UpstreamError
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            // The database is down or saturated: the client may retry, and it is not our bug.
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(error = %err, "database unavailable");
                Self::Unavailable
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %ErrorChain(cause.as_ref()), "internal error");
        }
        let body = Json(json!({ "error": { "code": self.code(), "message": self.to_string() } }));
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::InvalidToken | Self::TokenReused => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            Self::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, retry_after.as_secs().max(1).into());
            }
            _ => {}
        }
        response
    }
}

/// Prints an error with every cause after it, so one log line tells the whole story.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
