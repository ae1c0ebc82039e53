//! Verifies wxlogin access tokens in a team's own Rust service.
//!
//! Give [`Verifier`] wxlogin's public URL and, if wxlogin sets `TOKEN_AUDIENCE`, this service's
//! audience name. The public keys come from wxlogin's `/.well-known/jwks.json` and are cached
//! (see [`jwks`]); no secret is needed. A token is accepted under the rules wxlogin applies to it:
//! EdDSA and nothing else, a key of the published set, issuer `wxlogin`, this service's audience,
//! and expiry by wxlogin-core's rule with the server's leeway ([`LEEWAY_SECONDS`]).
//!
//! Verification is local, so a token stays valid until it expires even if its session has been
//! logged out. A route that must honour a logout at once takes [`Introspected`] instead of
//! [`Verified`]: it also asks wxlogin (RFC 7662), which needs a client id and secret from
//! wxlogin's `INTROSPECTION_CLIENTS` and costs a request to wxlogin each time.
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::Router;
//! use wxlogin_verify::{Introspected, Verified, Verifier};
//!
//! async fn list_orders(Verified(claims): Verified) -> String {
//!     format!("the orders of user {}", claims.sub)
//! }
//!
//! async fn pay(Introspected(claims): Introspected) -> String {
//!     format!("paid by user {} in live session {}", claims.sub, claims.sid)
//! }
//!
//! # fn router() -> Result<Router, wxlogin_verify::BuildError> {
//! let verifier = Verifier::builder("https://login.example.com")
//!     .audience("orders")
//!     .introspection("orders", std::env::var("WXLOGIN_INTROSPECTION_SECRET").unwrap())
//!     .build()?;
//! // Any state works that gives a `Verifier` through `axum::extract::FromRef`.
//! Ok(Router::new()
//!     .route("/orders", get(list_orders))
//!     .route("/pay", get(pay))
//!     .with_state(verifier))
//! # }
//! ```

mod extract;
mod introspect;
pub mod jwks;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Validation};
use reqwest::Url;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

pub use extract::{Introspected, Rejection, Verified};
use introspect::Introspection;
use jwks::JwksCache;

/// Clock skew tolerated past a token's `exp`: the leeway wxlogin's server applies, so that this
/// service and wxlogin agree about every token to the second.
pub const LEEWAY_SECONDS: i64 = 30;

/// How long a request to wxlogin (JWKS or introspection) may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Verifies wxlogin access tokens. Cheap to clone: clones share one key cache.
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

struct Inner {
    keys: JwksCache,
    validation: Validation,
    introspection: Option<Introspection>,
}

/// What a verified wxlogin access token says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerifiedClaims {
    /// The user id, the same for every login of that user.
    pub sub: String,
    /// The session (one login on one device) the token belongs to.
    pub sid: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    /// Always `wxlogin`.
    pub iss: String,
    /// The services the token is meant for; empty when wxlogin sets no `TOKEN_AUDIENCE`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a live wxlogin token for this service: answer 401.
    #[error("token refused: {0}")]
    Refused(#[from] Refusal),
    /// wxlogin's public keys could not be fetched, and none are cached yet: answer 503. The
    /// fetch's failure is logged.
    #[error("wxlogin's public keys could not be fetched")]
    KeysUnavailable,
    /// wxlogin could not be asked whether the token is live: answer 503.
    #[error("wxlogin's introspection could not be reached")]
    IntrospectionFailed(#[source] reqwest::Error),
    /// [`Verifier::introspect`] on a verifier built without [`Builder::introspection`]: a bug in
    /// this service.
    #[error("introspection was asked for, but no client credentials were configured")]
    IntrospectionNotConfigured,
}

/// What was wrong with a refused token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error("not an EdDSA JWT with a key id")]
    NotEddsa,
    #[error("signed with a key wxlogin does not publish")]
    UnknownKey,
    /// Signature, issuer, audience or a claim's shape.
    #[error("{0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("expired")]
    Expired,
    /// wxlogin says the token is not active: its session has ended.
    #[error("wxlogin reports it inactive")]
    Inactive,
}

/// Why a [`Verifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("wxlogin's URL must be an http(s) URL, got {0:?}")]
    InvalidUrl(String),
    #[error("the HTTP client could not be built")]
    Http(#[from] reqwest::Error),
}

/// Configures a [`Verifier`].
pub struct Builder {
    wxlogin_url: String,
    audience: Option<String>,
    introspection: Option<(String, SecretString)>,
}

impl Verifier {
    /// Starts a verifier of the tokens issued by the wxlogin at `wxlogin_url` (its base URL, the
    /// one the mini program calls).
    pub fn builder(wxlogin_url: impl Into<String>) -> Builder {
        Builder {
            wxlogin_url: wxlogin_url.into(),
            audience: None,
            introspection: None,
        }
    }

    /// Verifies `token` locally, with wxlogin's published keys.
    pub async fn verify(&self, token: &str) -> Result<VerifiedClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(Refusal::Invalid)?;
        // Checked before the key is looked up, so that tokens of another kind never make this
        // verifier fetch the JWKS.
        let kid = match (header.alg, header.kid) {
            (Algorithm::EdDSA, Some(kid)) => kid,
            _ => return Err(Refusal::NotEddsa.into()),
        };
        let key = self.0.keys.key(&kid).await?.ok_or(Refusal::UnknownKey)?;
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, &key, &self.0.validation)
            .map_err(Refusal::Invalid)?;
        if wxlogin_core::is_expired(data.claims.exp, unix_now(), LEEWAY_SECONDS) {
            return Err(Refusal::Expired.into());
        }
        Ok(data.claims)
    }

    /// Verifies `token` locally, then asks wxlogin whether its session is still live.
    pub async fn introspect(&self, token: &str) -> Result<VerifiedClaims, VerifyError> {
        let introspection = self
            .0
            .introspection
            .as_ref()
            .ok_or(VerifyError::IntrospectionNotConfigured)?;
        let claims = self.verify(token).await?;
        if introspection.is_active(token).await? {
            Ok(claims)
        } else {
            Err(Refusal::Inactive.into())
        }
    }
}

impl Builder {
    /// This service's name in wxlogin's `TOKEN_AUDIENCE`: tokens that do not name it are refused.
    /// Without it, tokens that name any audience are refused, as RFC 7519 §4.1.3 asks.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// This service's client id and secret in wxlogin's `INTROSPECTION_CLIENTS`, for
    /// [`Verifier::introspect`] and [`Introspected`].
    pub fn introspection(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.introspection = Some((client_id.into(), client_secret.into().into()));
        self
    }

    pub fn build(self) -> Result<Verifier, BuildError> {
        let base = Url::parse(self.wxlogin_url.trim_end_matches('/'))
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| BuildError::InvalidUrl(self.wxlogin_url.clone()))?;
        let http = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?;

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[wxlogin_core::ISSUER]);
        // Expiry is decided by wxlogin-core's rule, as wxlogin decides it.
        validation.validate_exp = false;
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            }
            None => validation.set_required_spec_claims(&["exp", "iss", "sub"]),
        }

        Ok(Verifier(Arc::new(Inner {
            keys: JwksCache::new(endpoint(&base, "/.well-known/jwks.json"), http.clone()),
            validation,
            introspection: self.introspection.map(|(client_id, secret)| {
                let url = endpoint(&base, "/api/auth/introspect");
                Introspection::new(url, client_id, secret, http)
            }),
        })))
    }
}

/// `path` under wxlogin's base URL, which may have a path of its own (behind a proxy).
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// `aud` as RFC 7519 writes it: one string, or an array of them.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_a_path_prefix_and_refuse_other_schemes() {
        for (base, jwks) in [
            (
                "https://login.example.com",
                "https://login.example.com/.well-known/jwks.json",
            ),
            (
                "https://example.com/login/",
                "https://example.com/login/.well-known/jwks.json",
            ),
        ] {
            Verifier::builder(base).build().unwrap();
            let base = Url::parse(base).unwrap();
            assert_eq!(endpoint(&base, "/.well-known/jwks.json").as_str(), jwks);
        }
        assert!(matches!(
            Verifier::builder("ftp://login.example.com").build(),
            Err(BuildError::InvalidUrl(_))
        ));
        assert!(matches!(
            Verifier::builder("not a url").build(),
            Err(BuildError::InvalidUrl(_))
        ));
    }

    #[test]
    fn aud_is_read_as_a_string_or_an_array() {
        let claims = |aud: &str| {
            let json = format!(r#"{{"sub":"u","sid":"s","iat":1,"exp":2,"iss":"wxlogin"{aud}}}"#);
            serde_json::from_str::<VerifiedClaims>(&json).unwrap().aud
        };
        assert!(claims("").is_empty());
        assert_eq!(claims(r#","aud":"orders""#), ["orders"]);
        assert_eq!(claims(r#","aud":["orders","pay"]"#), ["orders", "pay"]);
    }
}
