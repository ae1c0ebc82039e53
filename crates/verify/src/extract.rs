//! The axum extractors: [`Verified`] and [`Introspected`], and what a refused request gets.
//!
//! A refusal has wxlogin's own error shape (`{"error": {"code", "message"}}`, 401
//! `invalid_token` with a Bearer challenge), so the mini program handles a token refused by this
//! service exactly as one refused by wxlogin: it renews the token or logs in again.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::{VerifiedClaims, Verifier, VerifyError};

/// The claims of a valid bearer token, verified locally. A logged-out session's token is
/// accepted until it expires; use [`Introspected`] where that matters.
#[derive(Debug, Clone)]
pub struct Verified(pub VerifiedClaims);

/// The claims of a valid bearer token whose session wxlogin reports live.
#[derive(Debug, Clone)]
pub struct Introspected(pub VerifiedClaims);

/// Why a request was refused. Take `Result<Verified, Rejection>` to answer in a shape of your own.
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("no bearer token")]
    MissingToken,
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl<S> FromRequestParts<S> for Verified
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        bearer_claims(parts, state, Ask::Nobody).await.map(Self)
    }
}

impl<S> FromRequestParts<S> for Introspected
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        bearer_claims(parts, state, Ask::Wxlogin).await.map(Self)
    }
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::Verify(VerifyError::Refused(_)) => StatusCode::UNAUTHORIZED,
            Self::Verify(VerifyError::KeysUnavailable | VerifyError::IntrospectionFailed(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Verify(VerifyError::IntrospectionNotConfigured) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, message) = match status {
            StatusCode::UNAUTHORIZED => {
                tracing::debug!(error = %self, "bearer token refused");
                (
                    "invalid_token",
                    "the bearer token is missing, malformed, expired or not valid here",
                )
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "could not verify a bearer token");
                ("unavailable", "the service is temporarily unavailable")
            }
            _ => {
                tracing::error!(error = %self, "could not verify a bearer token");
                ("internal", "internal error")
            }
        };
        let body = Json(json!({ "error": { "code": code, "message": message } }));
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        response
    }
}

/// Whether a verified token's session is also checked with wxlogin.
enum Ask {
    Nobody,
    Wxlogin,
}

async fn bearer_claims<S>(parts: &Parts, state: &S, ask: Ask) -> Result<VerifiedClaims, Rejection>
where
    Verifier: FromRef<S>,
{
    let token = bearer_token(parts).ok_or(Rejection::MissingToken)?;
    let verifier = Verifier::from_ref(state);
    let claims = match ask {
        Ask::Nobody => verifier.verify(token).await?,
        Ask::Wxlogin => verifier.introspect(token).await?,
    };
    Ok(claims)
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 7235).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
