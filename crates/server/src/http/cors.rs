//! Cross-origin calls from the web frontends listed in `CORS_ALLOWED_ORIGINS`, to the endpoints
//! a browser that logs in by scanning needs, and to no other.
//!
//! Narrow on purpose: the ticket calls (`/api/qr-login*`), and what the page does with the tokens
//! afterwards (`/api/me`, `/api/auth/refresh`, `/api/auth/logout`). An `Origin` is compared
//! exactly with the list; credentials (cookies) are never allowed, since tokens travel in the
//! `Authorization` header and the body. Without the list no response carries CORS headers, and
//! browsers keep other sites' pages from reading any answer.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

/// Whether `path` is one of the endpoints other origins may call.
fn is_browser_endpoint(path: &str) -> bool {
    matches!(
        path,
        "/api/qr-login" | "/api/me" | "/api/auth/refresh" | "/api/auth/logout"
    ) || path.starts_with("/api/qr-login/")
}

/// Answers preflights from allowed origins, and marks answers to them readable.
pub async fn for_allowed_origins(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !is_browser_endpoint(request.uri().path()) {
        return next.run(request).await;
    }
    let origin = request
        .headers()
        .get(ORIGIN)
        .filter(|origin| {
            state
                .cors_allowed_origins
                .iter()
                .any(|allowed| origin.as_bytes() == allowed.as_bytes())
        })
        .cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match (&origin, preflight) {
        (Some(_), true) => preflight_answer(),
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    // The answer differs by origin, so no cache may hand one origin's answer to another.
    headers.append(VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-request-id"),
        );
    }
    response
}

fn preflight_answer() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
            (ACCESS_CONTROL_ALLOW_HEADERS, "authorization, content-type"),
            (ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_browser_endpoints_are_open() {
        for open in [
            "/api/qr-login",
            "/api/qr-login/abc/events",
            "/api/me",
            "/api/auth/refresh",
            "/api/auth/logout",
        ] {
            assert!(is_browser_endpoint(open), "{open}");
        }
        for closed in [
            "/api/me/phone",
            "/api/me/avatar",
            "/api/auth/login",
            "/api/auth/logout-all",
            "/api/auth/sessions",
            "/api/qr-loginx",
            "/api/wechat/decrypt",
        ] {
            assert!(!is_browser_endpoint(closed), "{closed}");
        }
    }
}
