//! wxlogin's own access tokens: JWTs over [`wxlogin_core::Claims`], signed with HS256.
//!
//! Verification pins the algorithm, the issuer and the expiry, so a token with `alg: none`, a
//! forged signature or a stale `exp` never authenticates anyone.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use wxlogin_core::{Claims, ISSUER};

/// Clock skew tolerated between the server that signed and the one that verifies.
const LEEWAY_SECONDS: u64 = 30;

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

/// A freshly signed token and how long it lives.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Why a token was refused. Deliberately coarse: the client is told only `invalid_token`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    #[error("token subject is not a user id")]
    BadSubject,
}

impl AccessTokens {
    pub fn hs256(secret: &SecretString, ttl: Duration) -> Self {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl,
        }
    }

    /// Signs a token for `user_id`, issued at `now` (Unix seconds).
    pub fn issue(
        &self,
        user_id: Uuid,
        now: i64,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let ttl = self.ttl.as_secs();
        let claims = Claims::new(user_id.to_string(), now, ttl as i64);
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
        })
    }

    /// Checks signature, algorithm, issuer and expiry, and returns the user the token is for.
    pub fn verify(&self, token: &str) -> Result<Uuid, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        Uuid::parse_str(&data.claims.sub).map_err(|_| TokenError::BadSubject)
    }
}
