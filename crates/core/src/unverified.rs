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
//! Both decoders are written by hand on purpose. serde_json alone makes the WebAssembly module
//! several times larger than the mini program's budget allows.

use core::fmt;

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

/// Decode unpadded base64url (RFC 4648 §5), as JWTs use it (RFC 7515 §2).
///
/// Strict: padding, the standard alphabet's `+` and `/`, whitespace and non-zero trailing bits
/// are all rejected, so that one payload has exactly one spelling.
pub fn decode_base64url(input: &[u8]) -> Result<Vec<u8>, TokenError> {
    fn sextet(byte: u8) -> Result<u32, TokenError> {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Err(TokenError::Base64),
        };
        Ok(u32::from(value))
    }

    // A single leftover character carries only 6 bits: no byte can end there.
    if input.len() % 4 == 1 {
        return Err(TokenError::Base64);
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    for chunk in input.chunks(4) {
        let mut bits = 0u32;
        for &byte in chunk {
            bits = (bits << 6) | sextet(byte)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]),
            3 => {
                // 18 bits hold two bytes; the low 2 bits must be zero.
                if bits & 0b11 != 0 {
                    return Err(TokenError::Base64);
                }
                out.extend_from_slice(&[(bits >> 10) as u8, (bits >> 2) as u8]);
            }
            _ => {
                // 12 bits hold one byte; the low 4 bits must be zero.
                if bits & 0b1111 != 0 {
                    return Err(TokenError::Base64);
                }
                out.push((bits >> 4) as u8);
            }
        }
    }
    Ok(out)
}

/// How deep arrays and objects may nest inside a claim value we skip. Real tokens nest one or two
/// levels; the limit keeps hostile input from exhausting the (small) WebAssembly stack.
const MAX_DEPTH: u32 = 32;

/// Parse a JSON object and keep the registered claims.
fn parse_claims(json: &[u8]) -> Result<UnverifiedClaims, TokenError> {
    let mut reader = Reader {
        bytes: json,
        pos: 0,
    };
    let mut exp = None;
    let mut iat = None;
    let mut sub = None;
    let mut sid = None;
    let mut iss = None;

    reader.skip_ws();
    reader.expect(b'{')?;
    reader.skip_ws();
    if reader.peek() == Some(b'}') {
        reader.pos += 1;
    } else {
        loop {
            reader.skip_ws();
            let key = reader.string()?;
            reader.skip_ws();
            reader.expect(b':')?;
            reader.skip_ws();
            match key.as_str() {
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
    if reader.pos != reader.bytes.len() {
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

/// A cursor over JSON bytes. Only what claims need: it validates the grammar of everything it
/// passes over but materialises strings and integers only.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn expect(&mut self, wanted: u8) -> Result<(), TokenError> {
        match self.next() {
            Some(byte) if byte == wanted => Ok(()),
            _ => Err(TokenError::Json),
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// A claim that must be an integer. A value of another JSON type is `wrong_type`; a value that
    /// is not JSON at all is a JSON error.
    fn integer_claim(&mut self, wrong_type: TokenError) -> Result<i64, TokenError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {
                let (is_integer, text) = self.number()?;
                if !is_integer {
                    return Err(wrong_type);
                }
                parse_i64(text).ok_or(wrong_type)
            }
            _ => {
                self.skip_value(0)?;
                Err(wrong_type)
            }
        }
    }

    /// A claim that must be a string.
    fn string_claim(&mut self) -> Result<String, TokenError> {
        if self.peek() == Some(b'"') {
            self.string()
        } else {
            self.skip_value(0)?;
            Err(TokenError::InvalidClaim)
        }
    }

    /// Skip any JSON value, checking its grammar.
    fn skip_value(&mut self, depth: u32) -> Result<(), TokenError> {
        if depth >= MAX_DEPTH {
            return Err(TokenError::Json);
        }
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_ws();
                    if open == b'{' {
                        self.string()?;
                        self.skip_ws();
                        self.expect(b':')?;
                        self.skip_ws();
                    }
                    self.skip_value(depth + 1)?;
                    self.skip_ws();
                    match self.next() {
                        Some(b',') => continue,
                        Some(byte) if byte == close => return Ok(()),
                        _ => return Err(TokenError::Json),
                    }
                }
            }
            _ => Err(TokenError::Json),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), TokenError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(TokenError::Json)
        }
    }

    /// A JSON number. Returns whether it is written as an integer (no fraction, no exponent) and
    /// its text.
    fn number(&mut self) -> Result<(bool, &[u8]), TokenError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(TokenError::Json),
        }
        let mut is_integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
            is_integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
            is_integer = false;
        }
        Ok((is_integer, &self.bytes[start..self.pos]))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<(), TokenError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(TokenError::Json);
        }
        self.digits();
        Ok(())
    }

    /// A JSON string, unescaped.
    fn string(&mut self) -> Result<String, TokenError> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.next().ok_or(TokenError::Json)? {
                b'"' => break,
                b'\\' => match self.next().ok_or(TokenError::Json)? {
                    b'"' => out.push(b'"'),
                    b'\\' => out.push(b'\\'),
                    b'/' => out.push(b'/'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'u' => {
                        let ch = self.unicode_escape()?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => return Err(TokenError::Json),
                },
                // Control characters must be escaped inside JSON strings.
                0x00..=0x1f => return Err(TokenError::Json),
                byte => out.push(byte),
            }
        }
        String::from_utf8(out).map_err(|_| TokenError::Json)
    }

    /// The character of a `\u` escape (the `\u` already read), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, TokenError> {
        let first = self.hex4()?;
        let code = match first {
            0xd800..=0xdbff => {
                // A high surrogate must be followed by an escaped low surrogate.
                self.expect(b'\\')?;
                self.expect(b'u')?;
                let second = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&second) {
                    return Err(TokenError::Json);
                }
                0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(TokenError::Json),
            _ => first,
        };
        char::from_u32(code).ok_or(TokenError::Json)
    }

    fn hex4(&mut self) -> Result<u32, TokenError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = match self.next().ok_or(TokenError::Json)? {
                byte @ b'0'..=b'9' => byte - b'0',
                byte @ b'a'..=b'f' => byte - b'a' + 10,
                byte @ b'A'..=b'F' => byte - b'A' + 10,
                _ => return Err(TokenError::Json),
            };
            value = (value << 4) | u32::from(digit);
        }
        Ok(value)
    }
}

/// Parse the text of a JSON integer (already grammar-checked) into an `i64`, or `None` when it
/// does not fit.
fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    // Accumulate towards the sign so that i64::MIN, whose magnitude has no positive i64, parses.
    let mut value: i64 = 0;
    for &byte in digits {
        let digit = i64::from(byte - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(digit)?
        } else {
            value.checked_add(digit)?
        };
    }
    Some(value)
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
    fn base64url_is_strict() {
        assert_eq!(decode_base64url(b"").unwrap(), b"");
        assert_eq!(decode_base64url(b"Zg").unwrap(), b"f");
        assert_eq!(decode_base64url(b"Zm8").unwrap(), b"fo");
        assert_eq!(decode_base64url(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64url(b"-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(
            decode_base64url(b"Zh"),
            Err(TokenError::Base64),
            "trailing bits"
        );
        assert_eq!(
            decode_base64url(b"Zm9"),
            Err(TokenError::Base64),
            "trailing bits"
        );
        assert_eq!(
            decode_base64url(b"Zm9vY"),
            Err(TokenError::Base64),
            "lone char"
        );
        assert_eq!(
            decode_base64url(b"Zg=="),
            Err(TokenError::Base64),
            "padding"
        );
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
