//! Unpadded base64url, decode only: the one encoding a JWT segment uses.

use super::TokenError;

/// Decode unpadded base64url (RFC 4648 §5), as JWTs use it (RFC 7515 §2).
///
/// Strict: padding, the standard alphabet's `+` and `/`, whitespace and non-zero trailing bits
/// are all rejected, so that one payload has exactly one spelling.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, TokenError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode(b"").unwrap(), b"");
        assert_eq!(decode(b"Zg").unwrap(), b"f");
        assert_eq!(decode(b"Zm8").unwrap(), b"fo");
        assert_eq!(decode(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode(b"-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode(b"Zh"), Err(TokenError::Base64), "trailing bits");
        assert_eq!(decode(b"Zm9"), Err(TokenError::Base64), "trailing bits");
        assert_eq!(decode(b"Zm9vY"), Err(TokenError::Base64), "lone char");
        assert_eq!(decode(b"Zg=="), Err(TokenError::Base64), "padding");
    }
}
