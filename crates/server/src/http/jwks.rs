//! `/.well-known/jwks.json`: the public keys that verify our access tokens (RFC 7517).
//!
//! Any service can check a wxlogin token with these and no secret. Under HS256 the set is
//! empty: a shared secret is never published.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        // Verifiers may cache briefly; a rotation adds the new key well before it signs.
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keys().jwks().clone()),
    )
}
