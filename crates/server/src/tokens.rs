//! wxlogin's own access tokens: JWTs over [`wxlogin_core::Claims`].
//!
//! Verification pins the configured algorithm, the issuer and the expiry, and looks the key up
//! by `kid`, so a token with `alg: none`, an algorithm swapped for another (an HS256 token
//! "signed" with our public key), a forged signature or a stale `exp` never authenticates anyone.
//! A token whose header lists critical extensions (`crit`, RFC 7515 §4.1.11: none of which
//! wxlogin implements) or whose `nbf` lies in the future is refused too.

use std::time::Duration;

use jsonwebtoken::{Header, Validation};
use uuid::Uuid;
use wxlogin_core::{Claims, ISSUER};

use crate::keys::SigningKeys;
use crate::signed_claims::{Audience, SignedClaims};

/// Clock skew tolerated between the server that signed and the one that verifies.
const LEEWAY_SECONDS: i64 = 30;

/// Signs and verifies access tokens.
pub struct AccessTokens {
    keys: SigningKeys,
    validation: Validation,
    ttl: Duration,
    /// Written into every token, and required of every token, when set.
    audience: Option<Audience>,
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

/// A verified token: whom it speaks for, and all it says.
#[derive(Debug)]
pub struct VerifiedToken {
    pub subject: TokenSubject,
    pub claims: SignedClaims,
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
    #[error("token header lists critical extensions")]
    CriticalExtensions,
}

impl TokenError {
    /// Why, in the words of the `reason` label of `wxlogin_token_rejections_total`.
    pub fn reason(&self) -> &'static str {
        use jsonwebtoken::errors::ErrorKind;

        match self {
            Self::Rejected(err) => match err.kind() {
                ErrorKind::InvalidSignature => "bad_signature",
                ErrorKind::ExpiredSignature => "expired",
                ErrorKind::ImmatureSignature => "not_yet_valid",
                ErrorKind::InvalidIssuer => "wrong_issuer",
                ErrorKind::InvalidAudience => "wrong_audience",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "wrong_algorithm",
                _ => "malformed",
            },
            Self::UnknownKey => "unknown_key",
            Self::Expired => "expired",
            Self::BadIds | Self::CriticalExtensions => "malformed",
        }
    }
}

impl AccessTokens {
    pub fn new(keys: SigningKeys, ttl: Duration) -> Self {
        let mut validation = Validation::new(keys.algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Expiry is decided below by wxlogin-core's rule, the one the mini program runs too, so
        // the server and the client never disagree about a token at the boundary second.
        validation.validate_exp = false;
        // A token not valid yet is refused, with the same skew allowed as at expiry.
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        Self {
            keys,
            validation,
            ttl,
            audience: None,
        }
    }

    /// Tokens name `names` as their audience, and a token that names none of them is refused
    /// (RFC 7519 §4.1.3), among them any token signed before the audience was configured. No
    /// names leaves tokens without `aud`, and then any token with one is refused.
    pub fn with_audience(mut self, names: &[String]) -> Self {
        self.audience = Audience::of(names);
        if self.audience.is_some() {
            self.validation.set_audience(names);
            self.validation
                .set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        }
        self
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
        // Configuration bounds the TTL; should it ever not, no token that expires at a wrapped
        // or saturated time is signed.
        let ttl_seconds = i64::try_from(ttl)
            .ok()
            .filter(|&seconds| now.checked_add(seconds).is_some())
            .ok_or(jsonwebtoken::errors::ErrorKind::ExpiredSignature)?;
        let claims = SignedClaims {
            claims: Claims::new(
                subject.user_id.to_string(),
                subject.session_id.to_string(),
                now,
                ttl_seconds,
            ),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(self.keys.algorithm);
        header.kid = Some(self.keys.current_kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.keys.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
        })
    }

    /// Checks key, algorithm, signature, issuer, audience and expiry at `now` (Unix seconds), and
    /// returns whom the token is for.
    pub fn verify(&self, token: &str, now: i64) -> Result<TokenSubject, TokenError> {
        self.verify_claims(token, now)
            .map(|verified| verified.subject)
    }

    /// [`Self::verify`], keeping every claim of the token.
    pub fn verify_claims(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        refuse_critical_extensions(token)?;
        let header = jsonwebtoken::decode_header(token)?;
        let key = match header.kid.as_deref() {
            Some(kid) => self.keys.verifying_key(kid).ok_or(TokenError::UnknownKey)?,
            None => self
                .keys
                .verifying_key(&self.keys.current_kid)
                .ok_or(TokenError::UnknownKey)?,
        };
        let data = jsonwebtoken::decode::<SignedClaims>(token, key, &self.validation)?;
        let claims = data.claims;
        if wxlogin_core::is_expired(claims.claims.exp, now, LEEWAY_SECONDS) {
            return Err(TokenError::Expired);
        }
        let parse = |id: &str| Uuid::parse_str(id).map_err(|_| TokenError::BadIds);
        Ok(VerifiedToken {
            subject: TokenSubject {
                user_id: parse(&claims.claims.sub)?,
                session_id: parse(&claims.claims.sid)?,
            },
            claims,
        })
    }
}

/// Refuses a token whose header has a `crit` member at all. `jsonwebtoken` reads the header into
/// fields it knows and drops the rest, so the header is read here as the JSON it is.
fn refuse_critical_extensions(token: &str) -> Result<(), TokenError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    let encoded = token.split('.').next().unwrap_or_default();
    // A header that does not decode is refused by `jsonwebtoken` right after this.
    let Ok(json) = URL_SAFE_NO_PAD.decode(encoded) else {
        return Ok(());
    };
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json) {
        Ok(header) if header.contains_key("crit") => Err(TokenError::CriticalExtensions),
        _ => Ok(()),
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

    #[test]
    fn a_lifetime_that_overflows_signs_nothing() {
        let keys = || {
            SigningKeys::from_config(&SigningConfig::Hs256 {
                secret: "0123456789abcdef0123456789abcdef".to_owned().into(),
            })
        };
        let subject = TokenSubject {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
        };
        let now = 1_800_000_000;
        for seconds in [u64::MAX, i64::MAX as u64, (i64::MAX - now + 1) as u64] {
            let tokens = AccessTokens::new(keys(), Duration::from_secs(seconds));
            assert!(tokens.issue(subject, now).is_err(), "{seconds}");
        }
    }
}
