//! The claims carried by a wxlogin access token.

/// The `iss` claim of every token wxlogin issues; verifiers reject any other.
pub const ISSUER: &str = "wxlogin";

/// The payload of a wxlogin access token.
///
/// A JWT is signed, not encrypted: anyone holding the token can read these fields. Nothing
/// secret (no session_key, no openid) may ever be added here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Claims {
    /// The user id, as the server's `users.id` in text form.
    pub sub: String,
    /// The session (one login on one device) the token belongs to. Ending the session ends the
    /// token before its `exp`.
    pub sid: String,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
}

impl Claims {
    /// Claims for `user_id` in `session_id`, issued at `now` and valid for `ttl_seconds`.
    pub fn new(
        user_id: impl Into<String>,
        session_id: impl Into<String>,
        now: i64,
        ttl_seconds: i64,
    ) -> Self {
        Self {
            sub: user_id.into(),
            sid: session_id.into(),
            iat: now,
            exp: now.saturating_add(ttl_seconds),
            iss: ISSUER.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_claims_expire_ttl_after_issue() {
        let claims = Claims::new("42", "s1", 1_000, 7_200);
        assert_eq!(claims.iat, 1_000);
        assert_eq!(claims.exp, 8_200);
        assert_eq!(claims.iss, "wxlogin");
        assert_eq!(claims.sub, "42");
        assert_eq!(claims.sid, "s1");
    }

    #[test]
    fn expiry_saturates_instead_of_overflowing() {
        let claims = Claims::new("1", "s", i64::MAX - 1, 7_200);
        assert_eq!(claims.exp, i64::MAX);
    }
}
