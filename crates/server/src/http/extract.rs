//! Extractors that fail with wxlogin's error shape instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;
use crate::services::session_keys::HeldKey;
use crate::state::AppState;
use crate::tokens::VerifiedToken;

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

/// A query string. A malformed one (a parameter given twice, say) is 400 `invalid_request`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::from_request_parts(parts, state)
            .await
            .map(|Query(query)| ApiQuery(query))
            .map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))
    }
}

/// A raw body, whose failures (too large, too slow) get the same error shape as any other.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(request, state)
            .await
            .map(ApiBytes)
            .map_err(ApiError::from)
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
        let Some(token) = bearer_token(parts) else {
            state.metrics.token_rejected("missing");
            return Err(ApiError::InvalidToken);
        };
        let subject = live_token(state, token)
            .await?
            .ok_or(ApiError::InvalidToken)?
            .subject;
        super::record_user(subject.user_id);
        Ok(Self {
            user_id: subject.user_id,
            session_id: subject.session_id,
        })
    }
}

/// The token, when it passes every check (key, algorithm, signature, issuer, audience, expiry)
/// and its session is live: the one place an access token is judged, for a bearer token and for
/// introspection alike, so also the one that counts refusals by reason.
pub(super) async fn live_token(
    state: &AppState,
    token: &str,
) -> Result<Option<VerifiedToken>, ApiError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let verified = match state.tokens.verify_claims(token, now) {
        Ok(verified) => verified,
        Err(err) => {
            tracing::debug!(error = %err, "access token refused");
            state.metrics.token_rejected(err.reason());
            return Ok(None);
        }
    };
    let subject = verified.subject;
    if state
        .sessions
        .is_live(subject.session_id, subject.user_id)
        .await?
    {
        Ok(Some(verified))
    } else {
        state.metrics.token_rejected("revoked");
        Ok(None)
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
