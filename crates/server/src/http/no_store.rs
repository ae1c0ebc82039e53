//! Responses are not to be stored by any cache unless their handler says otherwise.
//!
//! Login and refresh answers carry tokens, and most others personal data; RFC 6749 section 5.1
//! asks for `Cache-Control: no-store` and `Pragma: no-cache` on the former. Declaring it here
//! for every answer without a `Cache-Control` of its own means no later endpoint can forget it,
//! while avatars and the key set keep the caching they declare.

use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::http::HeaderValue;
use axum::response::Response;

pub async fn unless_declared(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}
