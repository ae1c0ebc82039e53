//! The HTTP surface: one module per path prefix owns its routes; this one merges them and adds
//! the layers every request goes through.

mod auth;
mod avatars;
mod extract;
mod health;
mod jwks;
mod me;
mod user_view;
mod wechat;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

pub use extract::{ApiJson, AuthUser};

/// Request bodies here are small JSON objects; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES: usize = 16 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(avatars::router())
        .merge(wechat::router())
        .merge(jwks::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("handler panicked").into_response()
        }))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Names the user a request is for on its span, so that every line it logs says whom it was
/// for. The one place that does: the bearer-token extractor, and login and refresh, which learn
/// the user from WeChat or the refresh token instead.
pub(crate) fn record_user(user_id: uuid::Uuid) {
    tracing::Span::current().record("user.id", tracing::field::display(user_id));
}

/// One span per request, named by the route pattern rather than the raw path, and without any
/// header: the Authorization header must never reach a log.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        user.id = tracing::field::Empty,
    )
}
