//! `/.well-known/jwks.json`: the public keys that verify our access tokens (RFC 7517).
//!
//! Any service can check a wxlogin token with these and no secret. Under HS256 the set is
//! empty: a shared secret is never published.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::http::openapi::{errors, ApiRouter};
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(jwks))
}

// The key set's shape, for the document; `keys.rs` builds the set itself.
/// A JSON Web Key Set (RFC 7517).
#[derive(ToSchema)]
#[allow(dead_code)]
struct JwkSet {
    /// Empty under HS256.
    keys: Vec<Jwk>,
}

/// An Ed25519 public key (RFC 8037).
#[derive(ToSchema)]
#[allow(dead_code)]
struct Jwk {
    #[schema(example = "OKP")]
    kty: String,
    #[schema(example = "Ed25519")]
    crv: String,
    /// The public key, base64url.
    x: String,
    /// What a token's header names the key by.
    kid: String,
    #[schema(example = "EdDSA")]
    alg: String,
    #[schema(example = "sig")]
    r#use: String,
}

errors!(JwksErrors:);

/// The public keys that verify access tokens (RFC 7517).
///
/// Verifiers may cache them for five minutes: a new key is published well before it signs.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "public", security(()),
    responses((status = 200, description = "The key set", body = JwkSet), JwksErrors))]
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        // Verifiers may cache briefly; a rotation adds the new key well before it signs.
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keys().jwks().clone()),
    )
}
