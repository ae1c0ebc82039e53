//! Token introspection as the team's services use it: a client of `INTROSPECTION_CLIENTS`
//! asking about a token, in either tier.

use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::Request;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::router::{request, RequestExt};
use super::server::TestApp;

pub const CLIENT_ID: &str = "orders";
pub const CLIENT_SECRET: &str = "orders-introspection-secret-for-tests-0123";
/// A second client, so that a right secret of the wrong client can be tried.
pub const OTHER_CLIENT_ID: &str = "pay";
pub const OTHER_CLIENT_SECRET: &str = "pay-introspection-secret-for-tests-456789";

/// Server configuration that lets both test clients introspect.
pub fn introspection_env() -> Vec<(&'static str, String)> {
    vec![(
        "INTROSPECTION_CLIENTS",
        format!("{CLIENT_ID}:{CLIENT_SECRET},{OTHER_CLIENT_ID}:{OTHER_CLIENT_SECRET}"),
    )]
}

/// `Authorization: Basic` for `id` and `secret` (RFC 7617).
pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// The form body asking about `token`, encoded as RFC 7662 §2.1 says.
pub fn token_form(token: &str) -> String {
    format!("token={}", urlencode(token))
}

/// `POST /api/auth/introspect` about `token` with this `Authorization`, if any (fast tier).
pub fn introspect_request(token: &str, authorization: Option<&str>) -> Request<Body> {
    let mut builder = request("POST", "/api/auth/introspect");
    if let Some(authorization) = authorization {
        builder = builder.header(AUTHORIZATION, authorization);
    }
    builder.body_as("application/x-www-form-urlencoded", token_form(token))
}

impl TestApp {
    /// Asks, as the test client, about `token`.
    pub async fn introspect(&self, token: &str) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/auth/introspect"))
                .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
                .form(&[("token", token)]),
        )
        .await
    }
}

/// Form encoding of a JWT, whose characters need escaping only in a made-up token.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
