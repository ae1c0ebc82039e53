//! Opaque refresh tokens: 256 random bits, shown to the client once, stored only as a hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

const TOKEN_BYTES: usize = 32;
/// Unpadded base64url of 32 bytes.
const TOKEN_CHARS: usize = 43;

/// A refresh token in the form the client holds it.
pub struct RefreshToken(String);

/// What the database keeps: SHA-256 of the token text.
pub type RefreshTokenHash = [u8; 32];

impl RefreshToken {
    pub fn generate() -> Self {
        let bytes: [u8; TOKEN_BYTES] = rand::random();
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only what [`RefreshToken::generate`] can produce; anything else cannot be ours,
    /// so it is refused without asking the database.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = raw.len() == TOKEN_CHARS
            && URL_SAFE_NO_PAD
                .decode(raw)
                .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
        well_formed.then(|| Self(raw.to_owned()))
    }

    pub fn hash(&self) -> RefreshTokenHash {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The token text, for the one response that hands it to the client.
    pub fn reveal(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let first = RefreshToken::generate();
        let second = RefreshToken::generate();
        assert_ne!(first.hash(), second.hash());
        let hash = first.hash();
        let text = first.reveal();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert_eq!(RefreshToken::parse(&text).unwrap().hash(), hash);
        assert_eq!(
            format!("{:?}", RefreshToken::parse(&text).unwrap()),
            "RefreshToken(..)"
        );
    }

    #[test]
    fn foreign_shapes_are_refused() {
        for raw in ["", "abc", &"A".repeat(44), &"!".repeat(43), &"A".repeat(42)] {
            assert!(RefreshToken::parse(raw).is_none(), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = RefreshToken::parse(&raw);
        }
    }
}
