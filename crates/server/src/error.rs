//! The one error type every handler returns, how it reaches the client, and every conversion
//! into it: the layers below report their own errors and never see this type.
//!
//! Each client-facing variant has a stable snake_case `code` the mini program switches on; the
//! message is for humans and may change. Internal failures become an opaque 500 whose cause is
//! logged here and never sent. `docs/error-codes.json` lists every code with its status; a test
//! keeps it in step with this file, and the mini program's tests check it has text for each.

use std::time::Duration;

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{BytesRejection, FormRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::connections::is_body_timeout;
use crate::domain::{NicknameError, WechatCodeError};
use crate::services::access_token::{PlatformError, LOCK_TIMEOUT};
use crate::services::content_checks::CheckUnavailable;
use crate::services::push_events::PushEventError;
use crate::services::qr_login::QrLoginError;
use crate::services::signup_risk::RiskError;
use crate::wechat::crypto::CryptoError;
use crate::wechat::{wxacode, WechatError};

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
    /// The same code as [`Self::InvalidToken`], so clients handle both alike; the message says
    /// which token, since a refresh token travels in the body and not in a header.
    #[error("the refresh token is unknown, expired, already replaced or of an ended session; log in again")]
    InvalidRefreshToken,
    #[error("this refresh token was already used; the session has been ended, log in again")]
    TokenReused,
    /// A service asking about a token did not prove it is one of `INTROSPECTION_CLIENTS`.
    #[error("the client id or secret is missing or wrong")]
    InvalidClient,
    #[error("the service is temporarily unavailable")]
    Unavailable,
    #[error("no such resource")]
    NotFound,
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request body did not arrive in time")]
    RequestTimeout,
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
    /// WeChat's content check judged what the user wrote risky; `label` is its category.
    #[error("WeChat's content check refused this text (label {label}); ask the user for another")]
    ContentRejected { label: i64 },
    /// A WeChat push whose signature is wrong or whose timestamp is too far from ours.
    #[error("the signature is wrong or the timestamp is not within five minutes")]
    InvalidSignature,
    #[error("another WeChat user already scanned this login code")]
    TicketTaken,
    #[error("the login code has not been scanned yet; scan it first")]
    TicketNotScanned,
    #[error("the login code has expired; ask for a new one")]
    TicketExpired,
    #[error("the login code was already used")]
    TicketUsed,
    /// WeChat's 41030: the chosen version of the mini program has no such page.
    #[error("WeChat has no page pages/qr-login/index in the mini-program version WECHAT_ENV_VERSION names: publish a version with it, or set WECHAT_ENV_VERSION to trial or develop")]
    QrPageUnpublished,
    /// WeChat's 40169: the scene is one WeChat does not accept.
    #[error("WeChat refused the ticket as the code's scene (errcode 40169)")]
    QrSceneInvalid,
    #[error("this session was opened by scanning a login code in a browser; call this from the mini program")]
    MiniProgramSessionRequired,
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
            Self::SessionKeyStale | Self::TicketTaken | Self::TicketNotScanned => {
                StatusCode::CONFLICT
            }
            Self::TicketExpired | Self::TicketUsed => StatusCode::GONE,
            Self::QrPageUnpublished | Self::QrSceneInvalid => StatusCode::BAD_GATEWAY,
            Self::MiniProgramSessionRequired => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ContentRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidSignature => StatusCode::UNAUTHORIZED,
            Self::WechatTokenUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InvalidCode
            | Self::InvalidToken
            | Self::InvalidRefreshToken
            | Self::TokenReused
            | Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::UserBlocked => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
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
            Self::InvalidToken | Self::InvalidRefreshToken => "invalid_token",
            Self::TokenReused => "token_reused",
            Self::InvalidClient => "invalid_client",
            Self::Unavailable => "unavailable",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidPhoneCode => "invalid_phone_code",
            Self::WechatTokenUnavailable => "wechat_token_unavailable",
            Self::SessionKeyStale => "session_key_stale",
            Self::InvalidEncryptedData(_) => "invalid_encrypted_data",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::ContentRejected { .. } => "content_rejected",
            Self::InvalidSignature => "invalid_signature",
            Self::TicketTaken => "ticket_taken",
            Self::TicketNotScanned => "ticket_not_scanned",
            Self::TicketExpired => "ticket_expired",
            Self::TicketUsed => "ticket_used",
            Self::QrPageUnpublished => "qr_page_unpublished",
            Self::QrSceneInvalid => "qr_scene_invalid",
            Self::MiniProgramSessionRequired => "mini_program_session_required",
            Self::Internal(_) => "internal",
        }
    }
}

/// WeChat's per-API quotas are per minute; it gives no better hint.
const WECHAT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// WeChat busy, or this instance's WeChat calls all in flight: either clears in seconds.
const UPSTREAM_BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

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
            WechatError::Busy { .. } | WechatError::Saturated => {
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

impl From<PlatformError> for ApiError {
    fn from(err: PlatformError) -> Self {
        match err {
            PlatformError::Database(err) => match &err {
                // Another instance held the refresh lock too long: WeChat is slow, not us.
                sqlx::Error::Database(db) if db.code().as_deref() == Some(LOCK_TIMEOUT) => {
                    tracing::warn!("timed out waiting for another instance's token refresh");
                    Self::UpstreamBusy
                }
                _ => err.into(),
            },
            PlatformError::TokenUnusable => Self::WechatTokenUnavailable,
            PlatformError::RefreshStalled => Self::UpstreamBusy,
            PlatformError::Wechat(err) => err.into(),
        }
    }
}

impl ApiError {
    /// A failed phone number lookup: WeChat's "invalid code" is about the phone button's code
    /// here, which the user gets again by tapping the button, not by logging in.
    pub fn from_phone_lookup(err: PlatformError) -> Self {
        match err {
            PlatformError::Wechat(WechatError::InvalidCode(_)) => Self::InvalidPhoneCode,
            other => other.into(),
        }
    }
}

/// A nickname WeChat could not check under `CONTENT_CHECK_FAILURE=reject`: whatever WeChat's
/// trouble, the client's move is to retry later (the cause was logged where it happened).
impl From<CheckUnavailable> for ApiError {
    fn from(CheckUnavailable(err): CheckUnavailable) -> Self {
        match err {
            PlatformError::Database(err) if err_is_ours(&err) => err.into(),
            _ => Self::UpstreamBusy,
        }
    }
}

impl From<RiskError> for ApiError {
    fn from(err: RiskError) -> Self {
        match err {
            RiskError::Blocked { .. } => Self::UserBlocked,
            RiskError::Unavailable(PlatformError::Database(err)) if err_is_ours(&err) => err.into(),
            RiskError::Unavailable(_) => Self::UpstreamBusy,
        }
    }
}

/// Whether a database error is our database failing, not a wait for another instance's lock.
fn err_is_ours(err: &sqlx::Error) -> bool {
    !matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some(LOCK_TIMEOUT))
}

impl From<PushEventError> for ApiError {
    fn from(err: PushEventError) -> Self {
        match err {
            PushEventError::Database(err) => err.into(),
            other => {
                tracing::warn!(error = %other, "WeChat push message refused");
                Self::InvalidRequest(other.to_string())
            }
        }
    }
}

/// A scan-to-login step that was refused. WeChat's complaints about the code name the setting
/// to fix, loudly: every ticket fails until an operator acts.
impl From<QrLoginError> for ApiError {
    fn from(err: QrLoginError) -> Self {
        match err {
            QrLoginError::NotFound => Self::NotFound,
            QrLoginError::Expired => Self::TicketExpired,
            QrLoginError::Used => Self::TicketUsed,
            QrLoginError::Taken => Self::TicketTaken,
            QrLoginError::NotScanned => Self::TicketNotScanned,
            QrLoginError::NotMiniProgram => Self::MiniProgramSessionRequired,
            QrLoginError::DrawInProgress => Self::UpstreamBusy,
            QrLoginError::Platform(PlatformError::Wechat(WechatError::Other {
                errcode: wxacode::ERR_PAGE_NOT_PUBLISHED,
                ..
            })) => {
                tracing::error!(
                    "WeChat has no scan-to-login page in the configured WECHAT_ENV_VERSION"
                );
                Self::QrPageUnpublished
            }
            QrLoginError::Platform(PlatformError::Wechat(WechatError::Other {
                errcode: wxacode::ERR_SCENE_INVALID,
                ..
            })) => {
                tracing::error!("WeChat refused a ticket as a scene");
                Self::QrSceneInvalid
            }
            QrLoginError::Platform(err) => err.into(),
            QrLoginError::Database(err) => err.into(),
            err @ (QrLoginError::Signing(_) | QrLoginError::TtlOverflow) => Self::internal(err),
        }
    }
}

impl From<WechatCodeError> for ApiError {
    fn from(err: WechatCodeError) -> Self {
        Self::InvalidRequest(err.to_string())
    }
}

impl From<NicknameError> for ApiError {
    fn from(err: NicknameError) -> Self {
        Self::InvalidRequest(err.to_string())
    }
}

/// Data the client sent that does not decrypt: the client's mistake, unless the server's
/// session_key is to blame, which a new login cures.
impl From<CryptoError> for ApiError {
    fn from(err: CryptoError) -> Self {
        tracing::debug!(error = %err, "encrypted data refused");
        if err.means_stale_key() {
            Self::SessionKeyStale
        } else {
            Self::InvalidEncryptedData(err.to_string())
        }
    }
}

/// A body that could not be read whole: too large, stalled past `HTTP_BODY_TIMEOUT_MS`, or cut off.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let text = rejection.body_text();
        Self::unreadable_body(&rejection, rejection.status(), text)
    }
}

/// A multipart upload that could not be read: the same causes, or a body that is not multipart as
/// it claims.
impl From<MultipartError> for ApiError {
    fn from(err: MultipartError) -> Self {
        let text = format!("malformed multipart upload: {}", err.body_text());
        Self::unreadable_body(&err, err.status(), text)
    }
}

impl ApiError {
    /// A body axum could not read, from the `cause` and `status` it reports: a deadline that
    /// passed shows only among the causes.
    fn unreadable_body(
        cause: &(dyn std::error::Error + 'static),
        status: StatusCode,
        text: String,
    ) -> Self {
        if is_body_timeout(cause) {
            Self::RequestTimeout
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::InvalidRequest(text)
        }
    }
}

/// A form body that is not one: the client's mistake, told like a malformed JSON body.
impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        match rejection {
            FormRejection::InvalidFormContentType(_) => Self::UnsupportedMediaType(
                "the body must be application/x-www-form-urlencoded".into(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            other => Self::InvalidRequest(other.body_text()),
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

/// The code of an error answer, kept on the response for the layer that counts answers by what
/// the client got (`http/observe.rs`).
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %ErrorChain(cause.as_ref()), "internal error");
        }
        let body = Json(ErrorBody::of(&self));
        let mut response = (self.status(), body).into_response();
        response.extensions_mut().insert(ErrorCode(self.code()));
        let headers = response.headers_mut();
        match &self {
            Self::InvalidToken | Self::InvalidRefreshToken | Self::TokenReused => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            // RFC 6749 §5.2: a client that tried HTTP Basic is challenged with it.
            Self::InvalidClient => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Basic realm="wxlogin""#),
                );
            }
            Self::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, retry_after.as_secs().max(1).into());
            }
            Self::UpstreamBusy => {
                headers.insert(
                    header::RETRY_AFTER,
                    UPSTREAM_BUSY_RETRY_AFTER.as_secs().into(),
                );
            }
            _ => {}
        }
        response
    }
}

/// What every error answers: `{"error": {"code", "message"}}`, and nothing else.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(inline)]
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail {
    /// The stable snake_case code clients switch on (`docs/error-codes.json` lists them all).
    #[schema(example = "invalid_token")]
    code: &'static str,
    /// For humans; it may change, so never switch on it.
    message: String,
}

impl ErrorBody {
    pub fn of(error: &ApiError) -> Self {
        Self {
            error: ErrorDetail {
                code: error.code(),
                message: error.to_string(),
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant. The match has no wildcard, so a new variant does not compile until
    /// it is listed here, and so in `docs/error-codes.json`. Variants that share a code are
    /// listed next to each other.
    fn one_of_each() -> Vec<ApiError> {
        let all = vec![
            ApiError::InvalidRequest(String::new()),
            ApiError::InvalidCode,
            ApiError::UserBlocked,
            ApiError::RateLimited {
                retry_after: Duration::from_secs(1),
                reason: "",
            },
            ApiError::UpstreamBusy,
            ApiError::UpstreamError,
            ApiError::ServerMisconfigured,
            ApiError::InvalidToken,
            ApiError::InvalidRefreshToken,
            ApiError::TokenReused,
            ApiError::InvalidClient,
            ApiError::Unavailable,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::RequestTimeout,
            ApiError::InvalidPhoneCode,
            ApiError::WechatTokenUnavailable,
            ApiError::SessionKeyStale,
            ApiError::InvalidEncryptedData(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::ContentRejected { label: 0 },
            ApiError::InvalidSignature,
            ApiError::TicketTaken,
            ApiError::TicketNotScanned,
            ApiError::TicketExpired,
            ApiError::TicketUsed,
            ApiError::QrPageUnpublished,
            ApiError::QrSceneInvalid,
            ApiError::MiniProgramSessionRequired,
            ApiError::internal("x"),
        ];
        for error in &all {
            match error {
                ApiError::InvalidRequest(_)
                | ApiError::InvalidCode
                | ApiError::UserBlocked
                | ApiError::RateLimited { .. }
                | ApiError::UpstreamBusy
                | ApiError::UpstreamError
                | ApiError::ServerMisconfigured
                | ApiError::InvalidToken
                | ApiError::InvalidRefreshToken
                | ApiError::TokenReused
                | ApiError::InvalidClient
                | ApiError::Unavailable
                | ApiError::NotFound
                | ApiError::MethodNotAllowed
                | ApiError::PayloadTooLarge
                | ApiError::RequestTimeout
                | ApiError::InvalidPhoneCode
                | ApiError::WechatTokenUnavailable
                | ApiError::SessionKeyStale
                | ApiError::InvalidEncryptedData(_)
                | ApiError::UnsupportedMediaType(_)
                | ApiError::ContentRejected { .. }
                | ApiError::InvalidSignature
                | ApiError::TicketTaken
                | ApiError::TicketNotScanned
                | ApiError::TicketExpired
                | ApiError::TicketUsed
                | ApiError::QrPageUnpublished
                | ApiError::QrSceneInvalid
                | ApiError::MiniProgramSessionRequired
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn codes_are_distinct_snake_case_and_listed_with_their_status() {
        let errors = one_of_each();
        let listed: Vec<(String, u16)> = serde_json::from_str::<Vec<serde_json::Value>>(
            include_str!("../../../docs/error-codes.json"),
        )
        .expect("docs/error-codes.json is JSON")
        .into_iter()
        .map(|entry| {
            (
                entry["code"].as_str().expect("code").to_owned(),
                entry["status"].as_u64().expect("status") as u16,
            )
        })
        .collect();
        let mut actual: Vec<(String, u16)> = errors
            .iter()
            .map(|e| (e.code().to_owned(), e.status().as_u16()))
            .collect();
        actual.dedup();
        assert_eq!(
            actual, listed,
            "docs/error-codes.json must list every code, in order"
        );

        let mut codes: Vec<&str> = actual.iter().map(|(code, _)| code.as_str()).collect();
        for code in &codes {
            assert!(
                !code.is_empty()
                    && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !code.starts_with('_')
                    && !code.ends_with('_'),
                "{code} is snake_case"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes.len(),
            actual.len(),
            "codes are distinct, but for variants next to each other with one status"
        );
        for error in &errors {
            let status = error.status().as_u16();
            assert!(
                (400..600).contains(&status),
                "{} has an error status",
                error.code()
            );
        }
    }
}
