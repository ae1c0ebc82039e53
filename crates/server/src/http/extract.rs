//! Extractors that fail with wxlogin's error shape instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;
use crate::services::session_keys::HeldKey;
use crate::state::AppState;

/// A JSON body. The content type is not checked: WeChat's `wx.request` and many HTTP clients
/// label JSON loosely, and the body's syntax is what matters.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(ApiError::from)?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|err| ApiError::InvalidRequest(format!("invalid JSON body: {err}")))
    }
}

/// The user a valid bearer token speaks for, and the session it belongs to.
///
/// A request with a malformed or bad token, or a token of an ended session, is rejected, never
/// treated as anonymous.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

impl AuthUser {
    /// The caller's openid and the session_key the server holds for them, for the handlers that
    /// use it. A valid token for a user who no longer exists is as good as no token; a browser's
    /// session from scan-to-login is refused, since the key is the mini program's.
    pub async fn held_session_key(&self, state: &AppState) -> Result<HeldKey, ApiError> {
        let held = state
            .session_keys
            .held(self.user_id, self.session_id)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        if !held.from_mini_program {
            return Err(ApiError::MiniProgramSessionRequired);
        }
        Ok(held)
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::InvalidToken)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let subject = state.tokens.verify(token, now).map_err(|err| {
            tracing::debug!(error = %err, "bearer token refused");
            ApiError::InvalidToken
        })?;
        if !state
            .sessions
            .is_live(subject.session_id, subject.user_id)
            .await?
        {
            return Err(ApiError::InvalidToken);
        }
        super::record_user(subject.user_id);
        Ok(Self {
            user_id: subject.user_id,
            session_id: subject.session_id,
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 7235).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
