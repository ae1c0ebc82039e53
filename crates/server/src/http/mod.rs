//! The HTTP surface: one module per path prefix owns its routes; this one merges them and adds
//! the layers every request goes through.

mod auth;
mod avatars;
mod client_ip;
mod cors;
mod docs;
mod extract;
mod health;
mod jwks;
mod login_page;
mod me;
mod no_store;
mod observe;
mod openapi;
#[cfg(test)]
mod panics;
mod qr_login;
mod rate_limit;
mod request_id;
mod user_view;
mod wechat;
mod wechat_events;

use std::any::Any;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::Router;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;
use openapi::ApiRouter;

pub use extract::{ApiJson, AuthUser};
pub use rate_limit::RateLimits;

/// Request bodies here are small JSON objects; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES: usize = 16 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let (routes, api) = api_routes().split_for_parts();
    // Pages, outside the document: the document and the page that shows it describe the API
    // rather than being part of it, and the scan-to-login page is a web page that uses it.
    let routes = routes.merge(docs::router(&api)).merge(login_page::router());
    let metrics = state.metrics.clone();
    let routes = with_layers(routes, metrics);
    if state.cors_allowed_origins.is_empty() {
        return routes.with_state(state);
    }
    // Outermost, so that it also answers preflights, which no route has a method for; and only
    // when configured, so that the hot paths pay nothing by default.
    let cors = axum::middleware::from_fn_with_state(state.clone(), cors::for_allowed_origins);
    routes.layer(cors).with_state(state)
}

/// Every route of the API, each with its documentation (see `openapi.rs`).
fn api_routes() -> ApiRouter {
    ApiRouter::with_openapi(openapi::base())
        .merge(health::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(avatars::router())
        .merge(wechat::router())
        .merge(wechat_events::router())
        .merge(jwks::router())
        .merge(qr_login::router())
}

/// The OpenAPI document `/openapi.json` serves, as JSON.
pub fn openapi_json() -> String {
    docs::to_json(&api_routes().into_openapi())
}

/// The fallbacks and the layers every request goes through, around `routes`.
fn with_layers(routes: Router<AppState>, metrics: Metrics) -> Router<AppState> {
    routes
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|panic: Box<dyn Any + Send>| {
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("no message");
            ApiError::internal(format!("handler panicked: {message}")).into_response()
        }))
        .layer(axum::middleware::map_response(no_store::unless_declared))
        .layer(observe::ObserveLayer::new(metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // `observe` logs the one line per answer.
                .on_response(())
                // `ApiError` logs each failure once, with its cause, at the level it deserves;
                // a second line per 5xx would double every log line of an outage.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(MapRequestLayer::new(request_id::drop_ill_formed::<Body>))
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
