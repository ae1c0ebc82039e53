//! Asking wxlogin whether a token is still live (`POST /api/auth/introspect`, RFC 7662).
//!
//! One request per call and no cache: a route asks because it must see a logout at once, and
//! wxlogin's own answer is at most `SESSION_CACHE_TTL` old.

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::VerifyError;

pub(crate) struct Introspection {
    url: Url,
    client_id: String,
    client_secret: SecretString,
    http: reqwest::Client,
}

/// Of the answer, only `active` matters: the claims were already verified locally.
#[derive(Deserialize)]
struct Answer {
    active: bool,
}

impl Introspection {
    pub(crate) fn new(
        url: Url,
        client_id: String,
        client_secret: SecretString,
        http: reqwest::Client,
    ) -> Self {
        Self {
            url,
            client_id,
            client_secret,
            http,
        }
    }

    pub(crate) async fn is_active(&self, token: &str) -> Result<bool, VerifyError> {
        let response = self
            .http
            .post(self.url.clone())
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .form(&[("token", token)])
            .send()
            .await
            .map_err(VerifyError::IntrospectionFailed)?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            tracing::error!(
                client_id = %self.client_id,
                "wxlogin refused this service's introspection credentials"
            );
        }
        let answer: Answer = response
            .error_for_status()
            .map_err(VerifyError::IntrospectionFailed)?
            .json()
            .await
            .map_err(VerifyError::IntrospectionFailed)?;
        Ok(answer.active)
    }
}
