//! Just enough JSON to read claims: a cursor that checks the grammar of everything it passes over
//! and materialises only strings and integers. Written by hand because serde_json would make the
//! WebAssembly module several times larger than the mini program's budget.

use std::borrow::Cow;

use super::TokenError;

/// How deep arrays and objects may nest inside a claim value we skip. Real tokens nest one or two
/// levels; the limit keeps hostile input from exhausting the (small) WebAssembly stack.
const MAX_DEPTH: u32 = 32;

/// A cursor over JSON bytes. Only what claims need: it validates the grammar of everything it
/// passes over but materialises strings and integers only.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    pub(super) fn expect(&mut self, wanted: u8) -> Result<(), TokenError> {
        match self.next() {
            Some(byte) if byte == wanted => Ok(()),
            _ => Err(TokenError::Json),
        }
    }

    pub(super) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// A claim that must be an integer. A value of another JSON type is `wrong_type`; a value that
    /// is not JSON at all is a JSON error.
    pub(super) fn integer_claim(&mut self, wrong_type: TokenError) -> Result<i64, TokenError> {
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
    pub(super) fn string_claim(&mut self) -> Result<String, TokenError> {
        if self.peek() == Some(b'"') {
            self.string().map(Cow::into_owned)
        } else {
            self.skip_value(0)?;
            Err(TokenError::InvalidClaim)
        }
    }

    /// Skip any JSON value, checking its grammar.
    pub(super) fn skip_value(&mut self, depth: u32) -> Result<(), TokenError> {
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

    /// A JSON string, unescaped. Borrowed from the input when it has no escapes, which is every
    /// key and almost every value in practice: no allocation on the common path.
    pub(super) fn string(&mut self) -> Result<Cow<'a, str>, TokenError> {
        self.expect(b'"')?;
        let start = self.pos;
        loop {
            match self.next().ok_or(TokenError::Json)? {
                b'"' => {
                    let raw = &self.bytes[start..self.pos - 1];
                    return core::str::from_utf8(raw)
                        .map(Cow::Borrowed)
                        .map_err(|_| TokenError::Json);
                }
                b'\\' => {
                    let prefix = self.bytes[start..self.pos - 1].to_vec();
                    return self.escaped_string(prefix).map(Cow::Owned);
                }
                // Control characters must be escaped inside JSON strings.
                0x00..=0x1f => return Err(TokenError::Json),
                _ => {}
            }
        }
    }

    /// The rest of a string that has escapes: its backslash was just read, and `out` holds what
    /// came before it.
    fn escaped_string(&mut self, mut out: Vec<u8>) -> Result<String, TokenError> {
        self.escape_into(&mut out)?;
        loop {
            match self.next().ok_or(TokenError::Json)? {
                b'"' => break,
                b'\\' => self.escape_into(&mut out)?,
                0x00..=0x1f => return Err(TokenError::Json),
                byte => out.push(byte),
            }
        }
        String::from_utf8(out).map_err(|_| TokenError::Json)
    }

    /// Decode one escape (its backslash already read) onto `out`.
    fn escape_into(&mut self, out: &mut Vec<u8>) -> Result<(), TokenError> {
        match self.next().ok_or(TokenError::Json)? {
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
        }
        Ok(())
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
pub(super) fn parse_i64(text: &[u8]) -> Option<i64> {
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
