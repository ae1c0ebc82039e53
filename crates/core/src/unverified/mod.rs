//! Reading a token's claims without checking its signature.
//!
//! The mini program holds only the token, never the key, so it cannot verify a signature. It
//! still needs the expiry to decide when to renew. This module owns that read: split the JWT,
//! base64url-decode the payload and pull the registered claims out of the JSON object.
//!
//! It must never be used to trust a token: a server verifies the signature first (through serde
//! and a JWT library) and only then applies [`crate::rules`]. It must never panic either, whatever
//! the bytes: the WebAssembly build turns a panic into a trap the app cannot catch.
//!
//! Both decoders ([`base64url`], [`json`]) are written by hand on purpose: serde_json alone makes
//! the WebAssembly module several times larger than the mini program's budget allows.

use core::fmt;

mod base64url;
mod json;

pub use base64url::decode as decode_base64url;
use json::Reader;

/// The claims that could be read from a token whose signature was not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedClaims {
    /// Expiry, in seconds since the Unix epoch. Required: a token without it is rejected.
    pub exp: i64,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: Option<i64>,
    /// Subject (the user id).
    pub sub: Option<String>,
    /// Session id, present once tokens belong to a refreshable session.
    pub sid: Option<String>,
    /// Issuer.
    pub iss: Option<String>,
}

/// Why a token could not be read. Each variant has a stable [`code`](TokenError::code) that the
/// mini program switches on, so the codes must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// The token is not `header.payload.signature`.
    Segments,
    /// The payload is not unpadded base64url.
    Base64,
    /// The payload is not UTF-8 JSON whose top level is an object.
    Json,
    /// The payload has no `exp` claim.
    MissingExp,
    /// `exp` is not an integer that fits in 64 bits (a float, a string, `null`, …).
    InvalidExp,
    /// Another registered claim has the wrong type: `iat` not an integer, or `sub`, `sid`, `iss`
    /// not a string.
    InvalidClaim,
    /// A registered claim appears twice; readers that keep the first and readers that keep the
    /// last would disagree about the token.
    DuplicateClaim,
}

impl TokenError {
    /// Every variant, for tests and documentation tables.
    pub const ALL: [TokenError; 7] = [
        TokenError::Segments,
        TokenError::Base64,
        TokenError::Json,
        TokenError::MissingExp,
        TokenError::InvalidExp,
        TokenError::InvalidClaim,
        TokenError::DuplicateClaim,
    ];

    /// The stable snake_case code for this error.
    pub const fn code(self) -> &'static str {
        match self {
            TokenError::Segments => "token_segments",
            TokenError::Base64 => "token_base64",
            TokenError::Json => "token_json",
            TokenError::MissingExp => "token_missing_exp",
            TokenError::InvalidExp => "token_invalid_exp",
            TokenError::InvalidClaim => "token_invalid_claim",
            TokenError::DuplicateClaim => "token_duplicate_claim",
        }
    }

    /// A short human description.
    pub const fn message(self) -> &'static str {
        match self {
            TokenError::Segments => "token is not three dot-separated segments",
            TokenError::Base64 => "token payload is not base64url",
            TokenError::Json => "token payload is not a JSON object",
            TokenError::MissingExp => "token has no exp claim",
            TokenError::InvalidExp => "token exp is not a 64-bit integer",
            TokenError::InvalidClaim => "token claim has the wrong type",
            TokenError::DuplicateClaim => "token claim appears twice",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TokenError {}

/// Read the claims of `token` without verifying its signature.
pub fn read_claims(token: &str) -> Result<UnverifiedClaims, TokenError> {
    let payload = payload_segment(token)?;
    let json = decode_base64url(payload.as_bytes())?;
    parse_claims(&json)
}

/// Read only the expiry of `token`, without verifying its signature.
pub fn read_expiry(token: &str) -> Result<i64, TokenError> {
    read_claims(token).map(|claims| claims.exp)
}

/// The middle segment of a three-segment JWT.
fn payload_segment(token: &str) -> Result<&str, TokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        // The signature may be empty (an unsecured JWT still has three segments); the header
        // and payload may not.
        (Some(header), Some(payload), Some(_signature), None)
            if !header.is_empty() && !payload.is_empty() =>
        {
            Ok(payload)
        }
        _ => Err(TokenError::Segments),
    }
}

/// Parse a JSON object and keep the registered claims.
fn parse_claims(json: &[u8]) -> Result<UnverifiedClaims, TokenError> {
    let mut reader = Reader::new(json);
    let mut exp = None;
    let mut iat = None;
    let mut sub = None;
    let mut sid = None;
    let mut iss = None;

    reader.skip_ws();
    reader.expect(b'{')?;
    reader.skip_ws();
    if reader.peek() == Some(b'}') {
        reader.next();
    } else {
        loop {
            reader.skip_ws();
            let key = reader.string()?;
            reader.skip_ws();
            reader.expect(b':')?;
            reader.skip_ws();
            match key.as_ref() {
                "exp" => set_once(&mut exp, reader.integer_claim(TokenError::InvalidExp)?)?,
                "iat" => set_once(&mut iat, reader.integer_claim(TokenError::InvalidClaim)?)?,
                "sub" => set_once(&mut sub, reader.string_claim()?)?,
                "sid" => set_once(&mut sid, reader.string_claim()?)?,
                "iss" => set_once(&mut iss, reader.string_claim()?)?,
                _ => reader.skip_value(0)?,
            }
            reader.skip_ws();
            match reader.next() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(TokenError::Json),
            }
        }
    }
    reader.skip_ws();
    if !reader.at_end() {
        return Err(TokenError::Json);
    }

    Ok(UnverifiedClaims {
        exp: exp.ok_or(TokenError::MissingExp)?,
        iat,
        sub,
        sid,
        iss,
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), TokenError> {
    if slot.is_some() {
        return Err(TokenError::DuplicateClaim);
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64url-encode without padding (test helper; the crate itself only decodes).
    fn b64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut bits = 0u32;
            for (i, &b) in chunk.iter().enumerate() {
                bits |= u32::from(b) << (16 - 8 * i);
            }
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(bits >> (18 - 6 * i)) as usize & 63]));
            }
        }
        out
    }

    fn token(payload: &str) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", b64(payload.as_bytes()))
    }

    #[test]
    fn reads_all_registered_claims() {
        let claims = read_claims(&token(
            r#"{"sub":"42","iat":100,"exp":7300,"iss":"wxlogin","sid":"s1"}"#,
        ))
        .unwrap();
        assert_eq!(
            claims,
            UnverifiedClaims {
                exp: 7300,
                iat: Some(100),
                sub: Some("42".into()),
                sid: Some("s1".into()),
                iss: Some("wxlogin".into()),
            }
        );
    }

    #[test]
    fn skips_unknown_claims_of_any_shape() {
        let payload = r#" { "a" : [1, -2.5e3, {"b": [true, false, null]}, "x\"y"], "exp" : 5 } "#;
        assert_eq!(read_expiry(&token(payload)), Ok(5));
    }

    #[test]
    fn exp_must_be_an_integer() {
        for (payload, expected) in [
            (r#"{"exp":1.0}"#, TokenError::InvalidExp),
            (r#"{"exp":1e3}"#, TokenError::InvalidExp),
            (r#"{"exp":"1"}"#, TokenError::InvalidExp),
            (r#"{"exp":null}"#, TokenError::InvalidExp),
            (r#"{"exp":9223372036854775808}"#, TokenError::InvalidExp),
            (r#"{"exp":01}"#, TokenError::Json),
            (r#"{"iat":1}"#, TokenError::MissingExp),
        ] {
            assert_eq!(read_expiry(&token(payload)), Err(expected), "{payload}");
        }
        assert_eq!(
            read_expiry(&token(r#"{"exp":-9223372036854775808}"#)),
            Ok(i64::MIN)
        );
        assert_eq!(
            read_expiry(&token(r#"{"exp":9223372036854775807}"#)),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn other_claims_are_type_checked() {
        assert_eq!(
            read_claims(&token(r#"{"exp":1,"sub":42}"#)),
            Err(TokenError::InvalidClaim)
        );
        assert_eq!(
            read_claims(&token(r#"{"exp":1,"iat":"x"}"#)),
            Err(TokenError::InvalidClaim)
        );
        assert_eq!(
            read_claims(&token(r#"{"exp":1,"exp":2}"#)),
            Err(TokenError::DuplicateClaim)
        );
    }

    #[test]
    fn escaped_keys_and_values_are_unescaped() {
        let claims = read_claims(&token(
            r#"{"e\u0078p":3,"sub":"\u5fae\u4fe1 \ud83d\ude00 \n"}"#,
        ))
        .unwrap();
        assert_eq!(claims.exp, 3);
        assert_eq!(claims.sub.as_deref(), Some("微信 😀 \n"));
        let claims =
            read_claims(&token(r#"{"exp":1,"iss":"wx\"lo\\gin\/ok","sid":"plain"}"#)).unwrap();
        assert_eq!(claims.iss.as_deref(), Some(r#"wx"lo\gin/ok"#));
        assert_eq!(claims.sid.as_deref(), Some("plain"));
        assert_eq!(
            read_claims(&token(r#"{"exp":1,"sub":"\ud83d"}"#)),
            Err(TokenError::Json)
        );
    }

    #[test]
    fn rejects_malformed_envelopes() {
        assert_eq!(read_expiry("abc"), Err(TokenError::Segments));
        assert_eq!(read_expiry("a.b"), Err(TokenError::Segments));
        assert_eq!(read_expiry("a.b.c.d"), Err(TokenError::Segments));
        assert_eq!(read_expiry("a..c"), Err(TokenError::Segments));
        assert_eq!(read_expiry("a.e30=.c"), Err(TokenError::Base64));
        assert_eq!(read_expiry("a.e3+.c"), Err(TokenError::Base64));
        assert_eq!(read_expiry("a.e30.c"), Err(TokenError::MissingExp));
        assert_eq!(read_expiry(&token("[]")), Err(TokenError::Json));
        assert_eq!(read_expiry(&token(r#"{"exp":1} x"#)), Err(TokenError::Json));
    }

    #[test]
    fn codes_are_distinct_snake_case() {
        let codes: Vec<_> = TokenError::ALL.iter().map(|e| e.code()).collect();
        for (i, code) in codes.iter().enumerate() {
            assert!(code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            assert!(!codes[..i].contains(code), "duplicate {code}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let payload = format!(
            r#"{{"x":{}1{},"exp":1}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(read_expiry(&token(&payload)), Err(TokenError::Json));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_on_any_string(s in ".*") {
                let _ = read_claims(&s);
            }

            #[test]
            fn never_panics_on_any_payload_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = parse_claims(&bytes);
                let _ = read_claims(&format!("h.{}.s", b64(&bytes)));
            }

            #[test]
            fn never_panics_on_json_like_payloads(s in r#"[\{\}\[\]":,0-9eE.+\-a-z\\ ]{0,64}"#) {
                let _ = read_claims(&format!("h.{}.s", b64(s.as_bytes())));
            }

            #[test]
            fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
                prop_assert_eq!(decode_base64url(b64(&bytes).as_bytes()).unwrap(), bytes);
            }

            #[test]
            fn any_integer_exp_is_read_back(exp in any::<i64>(), iat in any::<i64>()) {
                let t = token(&format!(r#"{{"iat":{iat},"exp":{exp}}}"#));
                let claims = read_claims(&t).unwrap();
                prop_assert_eq!(claims.exp, exp);
                prop_assert_eq!(claims.iat, Some(iat));
            }
        }
    }
}
