//! A response read whole, from either tier, and the wxlogin error shape asserted on it.

use axum::body::Bytes;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::openapi::assert_error_documented;

/// The challenge every refused bearer token is answered with (RFC 6750).
pub const BEARER_CHALLENGE: &str = r#"Bearer error="invalid_token""#;

/// The challenge a service is answered with when its introspection credentials are refused.
pub const BASIC_CHALLENGE: &str = r#"Basic realm="wxlogin""#;

/// A response's status, headers and body.
pub struct Reply {
    /// What was asked, to name it when an assertion fails.
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let path = response.url().path().to_owned();
        let reply = Self {
            request: response.url().to_string(),
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("response body"),
        };
        reply.assert_documented(None, &path);
        reply
    }

    /// When this is a wxlogin error, asserts that the OpenAPI document lists its status and code
    /// for the route that answered, so that every error any test provokes checks the document.
    pub fn assert_documented(&self, method: Option<&str>, path: &str) {
        if !(self.status.is_client_error() || self.status.is_server_error()) {
            return;
        }
        let Ok(json) = serde_json::from_slice::<Value>(&self.body) else {
            return;
        };
        if let Some(code) = json["error"]["code"].as_str() {
            assert_error_documented(method, path, self.status.as_u16(), code);
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("{}: {err} in body {:?}", self.request, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// One header as text, asserting it is present exactly once.
    pub fn header(&self, name: &str) -> &str {
        let mut values = self.headers.get_all(name).iter();
        let value = values.next().unwrap_or_else(|| panic!("no {name} header"));
        assert!(values.next().is_none(), "{name} is sent more than once");
        value.to_str().expect("a text header")
    }

    /// Asserts the wxlogin error shape with this status and code, and returns the headers.
    ///
    /// The shape is exact: `{"error": {"code", "message"}}` as JSON and nothing else, so an error
    /// can never carry a token or any other field. A refused bearer token is challenged with
    /// [`BEARER_CHALLENGE`], and only a rate limit or a busy upstream says when to retry.
    pub fn assert_error(&self, status: u16, code: &str) -> &HeaderMap {
        let exchange = format!("{} answered {}", self.request, self.text());
        assert_eq!(self.status.as_u16(), status, "{exchange}");
        assert_eq!(
            self.header("content-type"),
            "application/json",
            "{exchange}"
        );
        let json = self.json();
        assert_eq!(keys_of(&json), ["error"], "{exchange}");
        assert_eq!(keys_of(&json["error"]), ["code", "message"], "{exchange}");
        assert_eq!(json["error"]["code"], code, "{exchange}");
        let message = json["error"]["message"].as_str().expect("a text message");
        assert_ne!(message.trim(), "", "a human message is present: {exchange}");

        let challenge = match code {
            "invalid_token" | "token_reused" => Some(BEARER_CHALLENGE),
            "invalid_client" => Some(BASIC_CHALLENGE),
            _ => None,
        };
        let sent = self
            .headers
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap());
        assert_eq!(sent, challenge, "WWW-Authenticate of {code}: {exchange}");
        assert_eq!(
            self.headers.contains_key(RETRY_AFTER),
            matches!(code, "rate_limited" | "upstream_busy"),
            "Retry-After of {code}: {exchange}"
        );
        &self.headers
    }
}

/// Reads `response` and asserts the error shape as [`Reply::assert_error`] does.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> HeaderMap {
    let reply = Reply::read(response).await;
    reply.assert_error(status, code);
    reply.headers
}

/// The keys of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<&str> {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}
