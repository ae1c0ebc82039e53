//! `POST /api/auth/introspect`: token introspection (RFC 7662) for the team's services that must
//! learn at once that a session has ended.
//!
//! Only a client of `INTROSPECTION_CLIENTS` may ask, with HTTP Basic; with none configured the
//! path answers 404 like any unknown one. A token is active only when it passes every check a
//! bearer token passes here (key, algorithm, signature, issuer, audience, expiry) and its session
//! is live, read as `/api/me` reads it: this instance's cache, then Postgres. A revocation made on
//! another instance therefore reaches this answer within `SESSION_CACHE_TTL`.
//!
//! Any other token, whatever is wrong with it, gets `{"active": false}` and nothing else, so the
//! answer never helps anyone probe tokens.

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::{Form, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::extract::live_token;
use crate::http::openapi::{errors, ApiRouter};
use crate::signed_claims::{Audience, SignedClaims};
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(introspect))
}

/// The form RFC 7662 §2.1 defines. Its optional `token_type_hint` is ignored, as the RFC allows:
/// wxlogin introspects access tokens only.
#[derive(Deserialize, ToSchema)]
struct IntrospectionRequest {
    /// An access token.
    token: String,
}

/// RFC 7662 §2.2: `active`, and for an active token what it says.
#[derive(Serialize)]
struct Introspection {
    active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    claims: Option<SignedClaims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
}

// `Introspection` as the document shows it: its claims come from wxlogin-core, which knows
// nothing of OpenAPI.
/// RFC 7662's answer: whether the token is active and, only for an active one, its claims.
#[derive(ToSchema)]
#[schema(as = Introspection)]
#[allow(dead_code)]
struct IntrospectionSchema {
    /// Whether the token passes every check a bearer token passes here and its session is live.
    active: bool,
    /// The user id.
    #[schema(required = false)]
    sub: String,
    /// The session id.
    #[schema(required = false)]
    sid: String,
    /// Issued at, in seconds since the Unix epoch.
    #[schema(required = false)]
    iat: i64,
    /// Expiry, in seconds since the Unix epoch.
    #[schema(required = false)]
    exp: i64,
    #[schema(required = false, example = "wxlogin")]
    iss: String,
    /// `TOKEN_AUDIENCE`, when it is set.
    #[schema(required = false)]
    aud: Audience,
    #[schema(required = false, example = "Bearer")]
    token_type: String,
}

errors!(IntrospectErrors:
    "not_found", "invalid_client", "unsupported_media_type", "invalid_request",
    "payload_too_large", "request_timeout", "unavailable");

/// Token introspection (RFC 7662), for services that must learn at once that a session ended.
///
/// Only a client of `INTROSPECTION_CLIENTS` may ask; with none configured, the path answers 404
/// `not_found`.
#[utoipa::path(post, path = "/api/auth/introspect", tag = "auth", security(("basic" = [])),
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Whether the token is active, and for an active one \
        its claims", body = IntrospectionSchema), IntrospectErrors))]
async fn introspect(
    State(state): State<AppState>,
    _client: IntrospectionClient,
    form: Result<Form<IntrospectionRequest>, FormRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Form(request) = form?;
    let claims = live_token(&state, &request.token)
        .await?
        .map(|verified| verified.claims);
    let answer = Introspection {
        active: claims.is_some(),
        token_type: claims.as_ref().map(|_| "Bearer"),
        claims,
    };
    // What a token says about a user is not for any cache along the way.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answer)))
}

/// A service that proved, with HTTP Basic, that it is one of `INTROSPECTION_CLIENTS`.
struct IntrospectionClient;

impl FromRequestParts<AppState> for IntrospectionClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let clients = &state.introspection_clients;
        if !clients.any() {
            return Err(ApiError::NotFound);
        }
        match basic_credentials(parts) {
            Some((id, secret)) if clients.authenticate(&id, &secret) => Ok(Self),
            _ => Err(ApiError::InvalidClient),
        }
    }
}

/// The user id and password of an `Authorization: Basic` header (RFC 7617); the scheme is
/// case-insensitive.
fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}
