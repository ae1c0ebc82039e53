//! wxlogin's own access tokens: JWTs over [`wxlogin_core::Claims`].
//!
//! Verification pins the configured algorithm, the issuer and the expiry, and looks the key up
//! by `kid`, so a token with `alg: none`, an algorithm swapped for another (an HS256 token
//! "signed" with our public key), a forged signature or a stale `exp` never authenticates anyone.

use std::time::Duration;

use jsonwebtoken::{Header, Validation};
use uuid::Uuid;
use wxlogin_core::{Claims, ISSUER};

use crate::keys::SigningKeys;

/// Clock skew tolerated between the server that signed and the one that verifies.
const LEEWAY_SECONDS: i64 = 30;

/// Signs and verifies access tokens.
pub struct AccessTokens {
    keys: SigningKeys,
    validation: Validation,
    ttl: Duration,
}

/// A freshly signed token and how long it lives.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// Why a token was refused. Deliberately coarse: the client is told only `invalid_token`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    #[error("token names a key we do not have")]
    UnknownKey,
    #[error("token subject or session is not an id")]
    BadIds,
    #[error("token expired")]
    Expired,
}

impl AccessTokens {
    pub fn new(keys: SigningKeys, ttl: Duration) -> Self {
        let mut validation = Validation::new(keys.algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is decided below by wxlogin-core's rule, the one the mini program runs too, so
        // the server and the client never disagree about a token at the boundary second.
        validation.validate_exp = false;
        Self {
            keys,
            validation,
            ttl,
        }
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Signs a token for `subject`, issued at `now` (Unix seconds).
    pub fn issue(
        &self,
        subject: TokenSubject,
        now: i64,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let ttl = self.ttl.as_secs();
        let claims = Claims::new(
            subject.user_id.to_string(),
            subject.session_id.to_string(),
            now,
            ttl as i64,
        );
        let mut header = Header::new(self.keys.algorithm);
        header.kid = Some(self.keys.current_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.keys.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
        })
    }

    /// Checks key, algorithm, signature, issuer and expiry at `now` (Unix seconds), and returns
    /// whom the token is for.
    pub fn verify(&self, token: &str, now: i64) -> Result<TokenSubject, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        let key = match header.kid.as_deref() {
            Some(kid) => self.keys.verifying_key(kid).ok_or(TokenError::UnknownKey)?,
            None => self
                .keys
                .verifying_key(&self.keys.current_kid)
                .ok_or(TokenError::UnknownKey)?,
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?;
        if wxlogin_core::is_expired(data.claims.exp, now, LEEWAY_SECONDS) {
            return Err(TokenError::Expired);
        }
        let parse = |id: &str| Uuid::parse_str(id).map_err(|_| TokenError::BadIds);
        Ok(TokenSubject {
            user_id: parse(&data.claims.sub)?,
            session_id: parse(&data.claims.sid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigningConfig;

    fn tokens() -> AccessTokens {
        let config = SigningConfig::Hs256 {
            secret: "0123456789abcdef0123456789abcdef".to_owned().into(),
        };
        AccessTokens::new(SigningKeys::from_config(&config), Duration::from_secs(100))
    }

    #[test]
    fn expiry_follows_the_core_rule_to_the_second() {
        let tokens = tokens();
        let subject = TokenSubject {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
        };
        let issued = tokens.issue(subject, 1_000).unwrap();
        let exp = 1_100;
        // Usable until the leeway runs out, refused from exactly `exp + leeway` on, as
        // `wxlogin_core::is_expired` (and so the mini program) says.
        assert_eq!(
            tokens
                .verify(&issued.token, exp + LEEWAY_SECONDS - 1)
                .unwrap(),
            subject
        );
        assert!(matches!(
            tokens.verify(&issued.token, exp + LEEWAY_SECONDS),
            Err(TokenError::Expired)
        ));
        assert!(!wxlogin_core::is_expired(
            exp,
            exp + LEEWAY_SECONDS - 1,
            LEEWAY_SECONDS
        ));
    }
}
