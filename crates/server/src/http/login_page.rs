//! `GET /login` and its script and style under `/login/`: the web page that signs a browser in by
//! scanning a code with the mini program (the flow itself is the `/api/qr-login` API).
//!
//! The files live in `crates/server/web/` and are compiled into the binary, so the page needs no
//! build step, no file system and no CDN. Every response carries a content security policy that
//! lets the page load only its own script, style and images and talk only to this origin, and
//! forbids framing: a login page inside someone else's frame is a clickjacking kit.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const PAGE: &str = include_str!("../../web/login.html");
const SCRIPT: &str = include_str!("../../web/login.js");
const STYLE: &str = include_str!("../../web/login.css");

/// Same origin only, for everything; no inline script or style, no plugins, no frames, no forms
/// posting elsewhere, no `<base>` rewriting relative URLs.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/login",
            get(|| async { asset(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/login/login.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/login/login.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
}

/// One of the page's files with the headers every one of them carries. No `Cache-Control` here:
/// the default `no-store` (see `no_store.rs`) means a new binary's page is never mixed with an
/// old script from a cache.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            // The page's URL carries nothing secret, but nothing it links to needs to know it.
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str) -> Response {
        router::<()>()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response.headers()[name].to_str().unwrap()
    }

    #[tokio::test]
    async fn the_page_and_its_files_are_served_as_utf8_under_the_policy() {
        for (path, content_type, expected) in [
            ("/login", "text/html; charset=utf-8", PAGE),
            ("/login/login.js", "text/javascript; charset=utf-8", SCRIPT),
            ("/login/login.css", "text/css; charset=utf-8", STYLE),
        ] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), content_type);
            assert_eq!(header_of(&response, header::CONTENT_SECURITY_POLICY), CSP);
            assert_eq!(header_of(&response, header::X_FRAME_OPTIONS), "DENY");
            assert_eq!(
                header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
                "nosniff"
            );
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert_eq!(body, expected.as_bytes(), "{path}");
        }
    }

    #[test]
    fn the_page_loads_only_its_own_files_and_runs_no_inline_code() {
        assert!(PAGE.contains(r#"<meta charset="utf-8">"#));
        assert!(PAGE.contains(r#"<script src="/login/login.js" defer></script>"#));
        assert!(PAGE.contains(r#"<link rel="stylesheet" href="/login/login.css">"#));
        // The policy would block these; the page must not rely on them.
        for forbidden in [
            "<script>",
            "<style",
            " style=",
            " onclick=",
            "http://",
            "https://",
        ] {
            assert!(!PAGE.contains(forbidden), "the page contains {forbidden}");
        }
        for forbidden in ["http://", "https://", "innerHTML", "eval(", "localStorage"] {
            assert!(
                !SCRIPT.contains(forbidden),
                "the script contains {forbidden}"
            );
        }
    }
}
