//! `/openapi.json`, the API's OpenAPI document, and `/docs`, an interactive reference that shows
//! it (Swagger UI).
//!
//! Swagger UI's files are embedded at build time from npm's `swagger-ui-dist` (see `build.rs`),
//! so the page loads nothing from anywhere but this server. Its content security policy says so:
//! scripts, styles and requests from this origin only, and `data:` images, which Swagger UI's
//! stylesheet draws its icons with.
//!
//! Neither route is in the document: they describe the API rather than being part of it.

use axum::body::Bytes;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::OpenApi;

use crate::state::AppState;

const PAGE: &str = include_str!("docs/index.html");
const INIT_JS: &str = include_str!("docs/init.js");
const SWAGGER_UI_JS: &[u8] =
    include_bytes!(concat!(env!("SWAGGER_UI_DIST"), "/swagger-ui-bundle.js"));
const SWAGGER_UI_CSS: &[u8] = include_bytes!(concat!(env!("SWAGGER_UI_DIST"), "/swagger-ui.css"));

/// Nothing but this origin, for a page that runs a large script bundle next to a user's tokens.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The assets change only with the binary; an hour keeps a reload quick and an upgrade prompt.
const ASSET_CACHE_CONTROL: &str = "public, max-age=3600";

pub fn router(api: &OpenApi) -> Router<AppState> {
    let document = Bytes::from(to_json(api));
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move { ([(CONTENT_TYPE, "application/json")], document) }),
        )
        .route("/docs", get(page))
        .route(
            "/docs/init.js",
            get(|| async { asset("text/javascript; charset=utf-8", INIT_JS.as_bytes()) }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", SWAGGER_UI_JS) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset("text/css; charset=utf-8", SWAGGER_UI_CSS) }),
        )
}

/// The document as `/openapi.json` serves it.
pub fn to_json(api: &OpenApi) -> String {
    api.to_pretty_json()
        .expect("the OpenAPI document serializes to JSON")
}

async fn page() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, PAGE_CSP),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, ASSET_CACHE_CONTROL),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
}
