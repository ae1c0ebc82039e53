//! What `JWT_SECRET` and `SESSION_KEY_SECRET` must be to be accepted.
//!
//! A guessable secret lets anyone sign tokens as any user, or open every stored session_key from
//! a copy of the database, and the guess can be checked offline against any token. So a secret
//! is refused when it is short, made of few different characters, padded with white space, or one
//! of the values published in `.env.example`. An accepted secret is used as its exact bytes, never
//! trimmed or rewritten, so that deployments with good secrets keep every token and sealed key.
//!
//! No message here contains the secret, or any part of it.

use super::ConfigError;

/// RFC 7518 §3.2 asks HS256 keys for at least 256 bits; the same goes for the sealing secret.
const MIN_BYTES: usize = 32;
/// `aaaa…` or `abab…` of any length is one guess away. Random base64 of 32 bytes has 30 or more
/// different characters.
const MIN_DISTINCT_CHARS: usize = 16;
/// The values `.env.example` shows. A deployment that copied one signs tokens that anyone who has
/// read the repository can forge.
const PUBLISHED: &[&str] = &[
    "replace-with-at-least-32-random-bytes-xxxxxxxxxxxx",
    "replace-with-at-least-32-random-bytes-yyyyyyyyyyyy",
];
const HOW_TO_GENERATE: &str = "generate one with `openssl rand -base64 48`";

/// `secret` as given, if it is strong enough to sign or seal with.
pub(super) fn strong(variable: &'static str, secret: String) -> Result<String, ConfigError> {
    let refuse = |problem: String| ConfigError { variable, problem };
    if secret.trim() != secret {
        return Err(refuse(format!(
            "must not begin or end with white space (it would be part of the key); {HOW_TO_GENERATE}"
        )));
    }
    if secret.len() < MIN_BYTES {
        return Err(refuse(format!(
            "must be at least {MIN_BYTES} bytes long; {HOW_TO_GENERATE}"
        )));
    }
    if PUBLISHED.contains(&secret.as_str()) {
        return Err(refuse(format!(
            "is the example value from .env.example, which anyone can read; {HOW_TO_GENERATE}"
        )));
    }
    let mut distinct: Vec<char> = secret.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(refuse(format!(
            "must have at least {MIN_DISTINCT_CHARS} different characters; {HOW_TO_GENERATE}"
        )));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets_are_refused_without_being_echoed() {
        let weak = [
            "a".repeat(32),
            "ab".repeat(32),
            "0123456789abcde".repeat(3),
            format!("{}{}", "k3y", " ".repeat(29)),
            format!(" {}", "0123456789abcdef0123456789abcdef"),
            format!("{}\n", "0123456789abcdef0123456789abcdef"),
            "short-but-varied-0123456789".to_owned(),
        ];
        for secret in weak {
            let err = strong("JWT_SECRET", secret.clone()).unwrap_err();
            assert_eq!(err.variable, "JWT_SECRET");
            assert!(!err.to_string().contains(secret.trim()), "{err}");
        }
        for published in PUBLISHED {
            assert!(strong("SESSION_KEY_SECRET", published.to_string()).is_err());
        }
    }

    #[test]
    fn a_good_secret_is_kept_byte_for_byte() {
        let secret = "q9Zt+Vb2/xKd0LmR7wYc3uNe5HgPa8Js1FoT4iWk6Ez=";
        assert_eq!(strong("JWT_SECRET", secret.to_owned()).unwrap(), secret);
    }
}
